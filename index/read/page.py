"""An HTML page -> PageText: its article text and metadata strings, extracted with trafilatura.

Stricter than trafilatura alone: cookie, consent and newsletter banners are pruned before
extraction, a page with almost no text outside them is no article ("no article text
found"), and dates come from the page's metadata, its URL or a dateline at the start of
the text, never from the body at large (a "© 2024" footer is no publication date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.errors import BadInputError
from index.read.lines import drop_boilerplate_lines

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

PAGE_SECONDS = 30.0  # time budget for parsing one HTML page; a slower page is skipped
IN_PROCESS_CHARS = 200_000  # smaller pages parse in well under a second: no worker process needed
MIN_ARTICLE_WORDS = 12  # fewer words of prose is navigation or a banner, not an article
_PROSE_LINE_WORDS = 5  # a line of fewer words is a menu item, a link or a heading

_LOWER = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_BANNER_WORDS = ("cookie", "consent", "gdpr", "newsletter-signup", "subscribe-box", "paywall-prompt")
# elements whose class or id names a banner: removed before extraction
PRUNE_XPATH = (
    "//*["
    + " or ".join(f"contains({_LOWER.format(attr)}, '{word}')" for attr in ("@class", "@id") for word in _BANNER_WORDS)
    + "]"
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
# "March 4, 2026", "4 March 2026", "2026-03-04" near the start of the text (a dateline)
_DATELINE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}},?\s+(?:19|20)\d\d|\d{{1,2}}\s+{_MONTH}\s+(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)\b"
)
_DATELINE_CHARS = 200
# the last " | ", " - ", " – ", " — " or " :: " of a title and what follows it
_TITLE_SUFFIX = re.compile(r"\s+(?P<sep>[|\-–—]|::)\s+(?P<segment>[^|–—]+?)\s*$")


@dataclass(frozen=True)
class PageText:
    """What an HTML page holds: the article text and its metadata as found (strings, "" when none)."""

    text: str
    title: str
    site: str
    hostname: str
    url: str
    date: str
    author: str


def _attr(doc: object, name: str) -> str:
    value = getattr(doc, name, None)
    return value.strip() if isinstance(value, str) else ""


def dateline(text: str) -> str:
    """The date written at the start of an article's text ("PORT ELLIS, March 4, 2026 — ..."), or "".

    Example:
        >>> dateline("PORT ELLIS, March 4, 2026 — Workers finished the wall.")
        'March 4, 2026'
        >>> dateline("Workers finished the wall. © 2024 The Gazette")
        ''
    """
    found = _DATELINE.search(text[:_DATELINE_CHARS])
    return found.group(0) if found else ""


def _name_key(name: str) -> str:
    """A site name compared loosely: lower case, letters and digits only, no leading "the", no TLD."""
    name = re.sub(r"\.(?:com|org|net|co\.uk|co|news|example|[a-z]{2})$", "", name.lower().removeprefix("www."))
    return re.sub(r"[^0-9a-z]", "", name).removeprefix("the")


def site_free_title(title: str, site: str) -> str:
    """``title`` without a trailing site name: a segment after " | " of five words or fewer, or
    one after " - ", " – ", " — ", " :: " that names ``site`` (the site name or the URL's domain).

    Example:
        >>> site_free_title("Lighthouse keeper retires - The Paradigm", "Paradigm")
        'Lighthouse keeper retires'
        >>> site_free_title("Lighthouse keeper retires | The Paradigm - Independent news", "")
        'Lighthouse keeper retires'
        >>> site_free_title("Biden - Trump debate set for June", "Coast Courier")
        'Biden - Trump debate set for June'
    """
    key = _name_key(site)
    while True:
        found = _TITLE_SUFFIX.search(title)
        if found is None:
            return title
        segment, pipe = found.group("segment"), found.group("sep") in "|:"
        names_site = (
            len(key) >= 3 and (key in _name_key(segment) or _name_key(segment) in key) and bool(_name_key(segment))
        )
        if not (names_site or (pipe and len(segment.split()) <= 5)):
            return title
        title = title[: found.start()].rstrip()


def prose_words(text: str) -> int:
    """Words in lines of prose (five words or more): menus and link lists count for nothing.

    Example:
        >>> prose_words("Home\\nNews\\nSport\\nThe council met on Monday to vote.")
        7
    """
    counts = (len(line.split()) for line in text.split("\n"))
    return sum(n for n in counts if n >= _PROSE_LINE_WORDS)


def read_page_in_time(html: str, seconds: float | None = None) -> PageText:
    """:func:`read_page` with a time budget: a page of ``IN_PROCESS_CHARS`` or more is parsed in a
    forked worker process that is killed after ``seconds`` (default ``PAGE_SECONDS``), and the page
    is skipped with the reason (``BadInputError``); the caller goes on with the next file.

    Trafilatura's cost grows much faster than a page's size (a 3.5 MB page of link lists: 88 s;
    20 MB: over 10 minutes), and a thread cannot be stopped, a process can.
    """
    budget = PAGE_SECONDS if seconds is None else seconds
    if len(html) < IN_PROCESS_CHARS:
        return read_page(html)
    import multiprocessing

    # fork: the worker shares the loaded parser and the page (nothing pickled), and starts in ms
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_read_page_worker, args=(html, sender), daemon=True)
    worker.start()
    sender.close()
    try:
        if not receiver.poll(budget):
            raise BadInputError(
                f"skipped: parsing the HTML took over {budget:g} s ({len(html):,} characters; "
                "a page of link lists, not an article?)"
            )
        outcome: PageText | str = receiver.recv()
    except EOFError as exc:
        raise BadInputError(f"skipped: the HTML parser's worker died (exit code {worker.exitcode})") from exc
    finally:
        worker.kill()
        worker.join()
        receiver.close()
    if isinstance(outcome, str):
        raise BadInputError(outcome)
    return outcome


def _read_page_worker(html: str, sender: Connection) -> None:
    """In the worker: send the PageText, or the BadInputError's message."""
    try:
        sender.send(read_page(html))
    except BadInputError as exc:
        sender.send(str(exc))
    finally:
        sender.close()


def read_page(html: str) -> PageText:
    """Extract the article of one HTML page; ``BadInputError`` when it has none or the parser fails."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            prune_xpath=PRUNE_XPATH,
            # metadata, URL and markup only: the "extensive" search reads any year in the page
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # third-party parser on untrusted input: any failure is this file's problem
        raise BadInputError(f"HTML parser failed: {type(exc).__name__}: {exc}") from exc
    text = drop_boilerplate_lines(_attr(doc, "text").replace("\r\n", "\n").replace("\r", "\n"))
    words = prose_words(text)
    if words < MIN_ARTICLE_WORDS:
        extra = f" (only {words} words of prose outside navigation and banners)" if words else ""
        raise BadInputError(f"no article text found in the HTML page{extra}")
    site, hostname = _attr(doc, "sitename"), _attr(doc, "hostname").removeprefix("www.")
    return PageText(
        text=text,
        title=site_free_title(_attr(doc, "title"), site or hostname),
        site=site,
        hostname=hostname,
        url=_attr(doc, "url"),
        date=_attr(doc, "date") or dateline(text),
        author=_attr(doc, "author"),
    )

"""RSS and Atom feeds: feed bytes -> Found articles, one per entry (HTML stripped to text)."""

from __future__ import annotations

import io
import re
from datetime import date

from index.errors import BadInputError
from index.read.formats import Found, normalize_newlines, parse_date, short_title
from index.records import make_article

_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "table"}


def html_to_text(markup: str) -> str:
    """Text of an HTML fragment (a feed entry): scripts and styles dropped, blocks on their own lines."""
    if "<" not in markup:
        import html

        return html.unescape(markup).strip()
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fromstring(f"<div>{markup}</div>")
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter("script", "style", "noscript", "iframe", "object")):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _struct_date(value: object) -> date | None:
    try:
        return date(value.tm_year, value.tm_mon, value.tm_mday)  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return None


def parse_feed(data: bytes, where: str, name: str) -> list[Found]:
    """An RSS or Atom feed: one article per entry (its content, else its summary, HTML stripped)."""
    import feedparser

    try:  # a stream, never a string: feedparser would fetch a string that looks like a URL
        parsed = feedparser.parse(io.BytesIO(data))
    except Exception as exc:  # third-party parser on untrusted input: any failure is this file's problem
        raise BadInputError(f"feed parser failed: {type(exc).__name__}: {exc}") from exc
    if not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise BadInputError("not an RSS/Atom feed (no entries)" + (f": {problem}" if problem else ""))
    source = html_to_text(str(parsed.feed.get("title") or "")) or name
    found = []
    for n, entry in enumerate(parsed.entries, 1):
        here = f"{where}:entry {n}"
        candidates = [str(c.get("value") or "") for c in entry.get("content") or []]
        candidates.append(str(entry.get("summary") or ""))
        text = normalize_newlines(max((html_to_text(c) for c in candidates), key=len))
        if not text:
            found.append(Found(here, None, "entry has no content or summary"))
            continue
        published = _struct_date(entry.get("published_parsed") or entry.get("updated_parsed"))
        note = ""
        if published is None:
            published, note = parse_date(entry.get("published") or entry.get("updated"))
        title = short_title(html_to_text(str(entry.get("title") or ""))) or short_title(text.split("\n", 1)[0])
        article = make_article(
            text,
            title=title,
            source=source,
            url=str(entry.get("link") or ""),
            published=published,
            author=str(entry.get("author") or ""),
        )
        found.append(Found(here, article, note))
    return found

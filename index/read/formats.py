"""Single-document formats and shared helpers: bytes -> text, and text/Markdown/HTML -> Found articles.

Each parser returns a list of ``Found`` (an article, or a record that could not become
one, with the reason) and raises ``BadInputError`` when the whole file is unusable.
JSON, JSONL and CSV live in ``index.read.tabular``, feeds in ``index.read.feed``.
"""

from __future__ import annotations

import codecs
import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from index.errors import BadInputError
from index.read.clean import strip_boilerplate
from index.read.page import read_page_in_time
from index.records import Article, make_article

TITLE_MAX = 200  # characters; a first line longer than this is a paragraph, not a title

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Preferred when charset-normalizer finds several encodings equally plausible: the ones
# news text is most often written in (cp1252 covers Latin-1 for every printable byte).
_PREFERRED = ("cp1252", "latin_1", "cp1256", "cp1251", "cp1250", "cp1253", "cp1254", "cp1255", "iso8859_6")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DECLARED = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_.:-]{2,40})""", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[6-9]|2[0-9])\d\d(?!\d)")


@dataclass(frozen=True)
class Found:
    """An article found in a file (``reason`` is then a note), or a record that could not become one."""

    where: str
    article: Article | None
    reason: str = ""


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML or XML document declares in its first 4 KB, if Python knows it."""
    match = _DECLARED.search(data[:4096])
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def _detect(data: bytes) -> tuple[str, str]:
    """Decode non-UTF-8 bytes with the encoding charset-normalizer finds most plausible: (text, codec)."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise BadInputError("not text: no known encoding decodes it")
    best = matches[0]
    # charset-normalizer ranks by "chaos" first; among near-equal ones, the most coherent
    # language wins, then the encodings news is usually written in (cp1252's curly quotes
    # otherwise come out as DOS code page letters).
    near = [m for m in matches if m.chaos <= best.chaos + 0.05]
    top = max(m.coherence for m in near)
    tied = [m for m in near if m.coherence >= top - 0.05]
    for name in _PREFERRED:
        if any(name in m.could_be_from_charset for m in tied):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                continue
    return data.decode(best.encoding), best.encoding


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return ``(text, note)``: UTF-8 (BOM or not) first, else the declared or detected encoding.

    Newlines become ``\\n``. Raises ``BadInputError`` for binary data (NUL or control bytes)
    and bytes no encoding reads. A mostly-UTF-8 text with a few broken bytes keeps its
    UTF-8 and gets U+FFFD for the broken bytes, with a note saying how many.
    """
    note = ""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise BadInputError(f"bad encoding: starts with a {codec} byte-order mark but is not {codec}") from exc
            break
    else:
        if b"\x00" in data:
            raise BadInputError("not text: binary data (NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            replaced = data.decode("utf-8", errors="replace")
            broken = replaced.count("\ufffd")
            wide = sum(1 for ch in replaced if ord(ch) > 127) - broken
            if wide >= broken:
                text, note = replaced, f"invalid UTF-8: {broken} broken byte sequence(s) replaced with U+FFFD"
            elif declared is not None and _decodes(data, declared):
                text, note = data.decode(declared), f"decoded as {declared} (declared)"
            else:
                text, codec = _detect(data)
                note = f"not UTF-8: decoded as {codec} (detected)"
    controls = len(_CONTROL.findall(text))
    if controls * 100 > len(text):
        raise BadInputError(f"not text: binary data ({controls} control characters)")
    return normalize_newlines(text), note


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


@lru_cache(maxsize=4096)
def _date_from_text(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    if re.match(r"\d{4}-\d\d-\d\d", text):
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    if len(text) > 64 or not _YEAR.search(text):
        return None  # no year: "yesterday" and friends would depend on today's date
    import dateparser

    settings = {"STRICT_PARSING": True, "RETURN_AS_TIMEZONE_AWARE": False}
    for languages in (["en"], None):
        try:
            found: datetime | None = dateparser.parse(text, languages=languages, settings=settings)
        except (ValueError, TypeError, OverflowError, LookupError):
            found = None
        if found is not None:
            return found.date()
    return None


def parse_date(value: object) -> tuple[date | None, str]:
    """Return ``(date or None, note)`` for a published value: ISO string, common date string, epoch, date.

    Example:
        >>> parse_date("2026-03-05T10:00:00Z")
        (datetime.date(2026, 3, 5), '')
        >>> parse_date("soon")
        (None, "published 'soon' is not a date; left empty")
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if isinstance(value, datetime):
        return value.date(), ""
    if isinstance(value, date):
        return value, ""
    found: date | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if 1e11 <= abs(value) < 1e14 else value
        if 1e8 <= seconds < 1e10:
            found = datetime.fromtimestamp(seconds, tz=UTC).date()
    elif isinstance(value, str):
        found = _date_from_text(value.strip())
    if found is None:
        return None, f"published {str(value)[:40]!r} is not a date; left empty"
    return found, ""


def short_title(line: str) -> str:
    """One line of whitespace-collapsed title text, cut at a word before ``TITLE_MAX`` characters."""
    title = " ".join(line.split())
    if len(title) <= TITLE_MAX:
        return title
    return title[:TITLE_MAX].rsplit(" ", 1)[0] + "…"


def _front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Split a Markdown ``---`` front-matter block (simple ``key: value`` lines) from the body."""
    if not text.startswith("---\n"):
        return text, {}
    end = text.find("\n---", 4)
    if end < 0:
        return text, {}
    meta: dict[str, str] = {}
    for line in text[4:end].split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("'\"")
    body = text[end + 4 :]
    return body.split("\n", 1)[1] if "\n" in body else "", meta


def parse_text(text: str, where: str, name: str, markdown: bool = False) -> list[Found]:
    """A plain-text or Markdown article: title from the first line, site navigation cut from the end."""
    meta: dict[str, str] = {}
    if markdown:
        text, meta = _front_matter(text)
    body = strip_boilerplate(text).strip()
    if not body:
        raise BadInputError("empty (whitespace only)")
    notes = []
    cut = len(text.strip()) - len(body)
    if cut > 0:
        notes.append(f"cut {cut} characters of site navigation after the article")
    first = next(line for line in body.split("\n") if line.strip())
    published, note = parse_date(meta.get("published") or meta.get("date"))
    notes += [note] if note else []
    article = make_article(
        body,
        title=meta.get("title") or short_title(first.strip().lstrip("#")),
        source=meta.get("source") or name,
        url=meta.get("url", ""),
        published=published,
        author=meta.get("author", ""),
    )
    return [Found(where, article, "; ".join(notes))]


def parse_html(text: str, where: str, name: str) -> list[Found]:
    """An HTML page: main text and metadata (title, date, author, url, site name); see ``index.read.page``."""
    page = read_page_in_time(text)  # a page that stalls the parser is skipped, not waited for
    body = normalize_newlines(page.text)
    published, note = parse_date(page.date)
    article = make_article(
        body,
        title=short_title(page.title or body.split("\n", 1)[0]),
        source=page.site or page.hostname or name,
        url=page.url,
        published=published,
        author=page.author,
    )
    return [Found(where, article, note)]

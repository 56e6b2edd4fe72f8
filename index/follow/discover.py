"""What a fetched URL is: a feed, a sitemap (index), a home page or an article page -> ``Discovered``.

RSS/Atom go through feedparser (entry link, title, updated stamp, date); sitemaps,
news sitemaps included, through lxml (``loc``, ``lastmod``, ``news:publication_date``,
``news:title``); HTML home pages (the site's root, or a section page whose ``og:type`` is
"website") give their feeds from ``<link rel="alternate">``, and when they name none, the
usual paths (``USUAL_PATHS``) are tried by the caller; any other HTML page is an article.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from index.errors import BadInputError
from index.follow.fetch import HTML_TYPES, Fetched
from index.follow.urls import absolute, is_home
from index.read.formats import parse_date

Kind = Literal["feed", "sitemap", "sitemap_index", "home", "page"]
FEED_LINK_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml"})
# Tried in this order on a home page that names no feed (rules are data); the first that parses wins.
USUAL_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/sitemap_news.xml", "/sitemap.xml")


@dataclass(frozen=True)
class Item:
    """An article a feed or sitemap points to: its URL, date and the stamp that changes when it is updated."""

    url: str
    published: date | None = None
    stamp: str = ""
    title: str = ""


@dataclass(frozen=True)
class Discovered:
    """A source understood: its kind, the article items it lists, and the URLs it leads to
    (a sitemap index's sitemaps, a home page's feeds)."""

    kind: Kind
    items: tuple[Item, ...] = ()
    links: tuple[str, ...] = ()
    title: str = ""


def _is_html(got: Fetched) -> bool:
    head = got.body.lstrip()[:1024].lower()
    return got.content_type in HTML_TYPES or head.startswith((b"<!doctype html", b"<html"))


def discover(got: Fetched, max_items: int, max_bytes: int = 50 * 2**20) -> Discovered:
    """Classify a fetched source and list what it points to (at most ``max_items`` items, in its order).
    A gzipped body (``sitemap.xml.gz``) is decompressed up to ``max_bytes``.

    Raises ``BadInputError`` when it is neither HTML, a sitemap nor a feed.
    """
    base = got.final_url
    if _is_html(got):
        links = feed_links(got.body, base)
        # a front page by its path; a section page (og:type "website") by the feeds it names
        if is_home(base) or (links and _og_type(got.body) == "website"):
            return Discovered("home", links=tuple(links))
        return Discovered("page", items=(Item(base),))
    body = _gunzip(got.body, max_bytes) if got.body.startswith(b"\x1f\x8b") else got.body  # sitemap.xml.gz
    sitemap = _sitemap(body, base, max_items)
    if sitemap is not None:
        return sitemap
    return _feed(body, base, max_items)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """A gzipped sitemap or feed, decompressed up to ``max_bytes``; ``BadInputError`` past it or when broken."""
    import zlib

    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise BadInputError(f"broken gzip data: {exc}") from exc
    if len(out) > max_bytes:
        raise BadInputError(f"over the {max_bytes:,}-byte cap once decompressed")
    return out


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _sitemap(body: bytes, base: str, max_items: int) -> Discovered | None:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return None
    entries = []
    for node in root:
        fields = {_local(child.tag): (child.text or "").strip() for child in node.iter()}
        url = absolute(base, fields.get("loc", ""))
        if url is None:
            continue
        published, _ = parse_date(fields.get("publication_date") or fields.get("lastmod"))
        stamp = fields.get("lastmod") or fields.get("publication_date") or ""
        entries.append(Item(url, published, stamp, fields.get("title", "")))
        if len(entries) >= max_items:
            break
    if _local(root.tag) == "sitemapindex":
        return Discovered("sitemap_index", links=tuple(e.url for e in entries))
    return Discovered("sitemap", items=tuple(entries))


def _feed(body: bytes, base: str, max_items: int) -> Discovered:
    import feedparser

    try:  # a stream, never a string: feedparser would fetch a string that looks like a URL
        parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": base})
    except Exception as exc:  # third-party parser on untrusted input: any failure is this source's problem
        raise BadInputError(f"feed parser failed: {type(exc).__name__}: {exc}") from exc
    if not parsed.entries and not parsed.get("version"):
        raise BadInputError("not a feed, a sitemap or an HTML page")
    items = []
    for entry in parsed.entries[:max_items]:
        url = absolute(base, str(entry.get("link") or ""))
        if url is None:
            continue
        stamp = str(entry.get("updated") or entry.get("published") or "")
        published, _ = parse_date(entry.get("published") or entry.get("updated"))
        items.append(Item(url, published, stamp, str(entry.get("title") or "")))
    return Discovered("feed", items=tuple(items), title=str(parsed.feed.get("title") or ""))


def _root(body: bytes) -> Any:
    from lxml import etree
    from lxml import html as lxml_html

    try:
        return lxml_html.fromstring(body)
    except (etree.ParserError, ValueError):
        return None


def _og_type(body: bytes) -> str:
    root = _root(body)
    found = root.xpath("//meta[@property='og:type']/@content") if root is not None else []
    return str(found[0]).strip().lower() if found else ""


def _html_links(body: bytes) -> list[tuple[str, str, str]]:
    """(rel, type, href) of every ``<link>`` in the page."""
    root = _root(body)
    if root is None:
        return []
    return [
        (str(node.get("rel") or "").lower(), str(node.get("type") or "").lower(), str(node.get("href") or ""))
        for node in root.iter("link")
    ]


def feed_links(body: bytes, base: str) -> list[str]:
    """The feeds a page names in ``<link rel="alternate" type="application/rss+xml" href=...>``."""
    found: list[str] = []
    for rel, kind, href in _html_links(body):
        url = absolute(base, href) if "alternate" in rel.split() and kind in FEED_LINK_TYPES else None
        if url is not None and url not in found:
            found.append(url)
    return found


def canonical_link(body: bytes, base: str) -> str | None:
    """The page's ``<link rel="canonical">``, resolved; None when it has none."""
    for rel, _, href in _html_links(body):
        if "canonical" in rel.split() and href.strip():
            return absolute(base, href)
    return None

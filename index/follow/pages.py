"""Fetching article pages: a ``PageTask`` -> a ``PageOutcome`` (its line, and its Article when new or changed).

A page is known by its canonical URL (its ``<link rel="canonical">``, else the URL
without tracking parameters) and its content hash. A page already seen is not asked
again unless its feed entry's stamp (updated time, sitemap lastmod) changed or it is a
followed URL itself; asked again, it is asked conditionally (ETag / Last-Modified).
Pages are read by the project's ingest (``index.read.ingest.parse_bytes``: trafilatura),
so a fetched page and a saved HTML file become the same Article.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from index.errors import BadInputError
from index.follow.discover import canonical_link
from index.follow.fetch import HTML_TYPES, Fetched, FetchError, host_of
from index.follow.records import FollowLine, PageOutcome, PageTask
from index.follow.sources import Pass
from index.follow.state import PageState
from index.follow.urls import canonical_url
from index.read.ingest import parse_bytes
from index.read.tabular import FieldMap
from index.records import Article, make_article


def fetch_page(run: Pass, task: PageTask) -> PageOutcome:
    """Fetch (unless seen and unchanged), read and identify one article page; never raises for the page's faults."""
    url = task.item.url
    key = canonical_url(url)
    prev = run.state.pages.get(key)
    if task.got is None and prev is not None and prev.stamp == task.item.stamp:
        return PageOutcome(task, FollowLine("skipped", url, "seen before; its feed entry is unchanged", task.source))
    if task.got is None and not run.robots.allowed(url):
        return PageOutcome(task, FollowLine("skipped", url, "disallowed by robots.txt", task.source))
    try:
        validators = (prev.etag, prev.last_modified) if prev else ("", "")
        got = task.got or run.fetcher.get(url, HTML_TYPES, *validators, run.robots.allowed)
    except FetchError as exc:
        return PageOutcome(task, FollowLine("failed", url, exc.reason, task.source), transient=exc.transient)
    stamp = task.item.stamp
    if got.not_modified:
        assert prev is not None  # only a page with validators can answer 304
        line = FollowLine("skipped", url, "unchanged: 304 not modified", task.source, prev.article_id)
        return PageOutcome(task, line, page=replace(prev, stamp=stamp, fetched=run.now))
    try:
        article = read_page(got, task.item.published)
    except BadInputError as exc:
        return PageOutcome(task, FollowLine("failed", url, str(exc), task.source))
    page = PageState(
        url=key,
        fetched_url=got.final_url,
        etag=got.etag,
        last_modified=got.last_modified,
        stamp=stamp,
        content_hash=article.content_hash,
        article_id=article.id,
        fetched=run.now,
    )
    if prev is not None and prev.content_hash == article.content_hash and prev.article_id == article.id:
        line = FollowLine("skipped", url, "fetched; text unchanged", task.source, article.id, article.title)
        return PageOutcome(task, line, page=page)
    reason = "changed: replaces the earlier version" if prev is not None else "new article"
    published = article.published.isoformat() if article.published else ""
    line = FollowLine("fetched", url, reason, task.source, article.id, article.title, published)
    return PageOutcome(task, line, article=article, page=page)


def read_page(got: Fetched, published: date | None) -> Article:
    """An Article from a fetched HTML page: ingest's text and metadata, the canonical URL as its url
    (so its id), the feed's date when the page has none. Raises ``BadInputError``."""
    found, _ = parse_bytes("html", got.body, got.final_url, host_of(got.final_url), FieldMap())
    first = found[0] if found else None
    if first is None or first.article is None:
        raise BadInputError(first.reason if first is not None else "no article in the page")
    page = first.article
    url = canonical_url(canonical_link(got.body, got.final_url) or got.final_url)
    return make_article(
        page.text,
        title=page.title,
        source=page.source,
        url=url,
        published=page.published or published,
        author=page.author,
    )

"""Checking followed URLs: a URL -> its report lines and the pages to fetch (feeds, sitemaps, home pages).

A source is fetched conditionally: an unchanged feed costs one request, answered 304,
and yields no page. A home page leads to its feeds (``<link rel="alternate">``, else the
robots.txt sitemaps and the usual paths); a sitemap index to its sitemaps; each is a
source of its own in the state, with its own validators.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urljoin

from index.errors import BadInputError
from index.follow.discover import USUAL_PATHS, Discovered, Item, discover
from index.follow.fetch import FEED_TYPES, SOURCE_TYPES, Fetcher, FetchError
from index.follow.records import FollowLine, FollowSettings, PageTask
from index.follow.robots import Robots
from index.follow.state import FollowState, SourceState


class Pass:
    """One polling pass: the fetcher, robots, the state, and what to record once the index is written."""

    def __init__(
        self,
        fetcher: Fetcher,
        state: FollowState,
        settings: FollowSettings,
        emit: Callable[[FollowLine], None] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.robots = Robots(fetcher, state)
        self.state = state
        self.settings = settings
        self.now = datetime.now(UTC).isoformat(timespec="seconds")
        self.pending: dict[str, SourceState] = {}  # source states, recorded after the index write
        self.lines: list[FollowLine] = []
        self.lock = threading.Lock()
        self.emit_to = emit
        self.claimed: set[str] = set()

    def claim(self, url: str) -> bool:
        """True the first time ``url`` is claimed in this pass: a feed both followed and linked is asked once."""
        with self.lock:
            first = url not in self.claimed
            self.claimed.add(url)
            return first

    def emit(self, line: FollowLine) -> None:
        with self.lock:
            self.lines.append(line)
            if self.emit_to is not None:
                self.emit_to(line)

    def record(self, source: SourceState) -> None:
        with self.lock:
            self.pending[source.url] = source


def check_source(run: Pass, url: str, top: str, depth: int = 0) -> list[PageTask]:
    """Fetch the source at ``url`` (followed as ``top``) and return the pages it lists; lines go to ``run``."""
    if not run.claim(url):
        return []
    prev = run.state.sources.get(url) or SourceState(url)
    if not run.robots.allowed(url):
        run.emit(FollowLine("skipped", url, "disallowed by robots.txt", top))
        run.record(replace(prev, checked=run.now, error="disallowed by robots.txt"))
        return []
    try:
        got = run.fetcher.get(url, SOURCE_TYPES, prev.etag, prev.last_modified, run.robots.allowed)
        found = None if got.not_modified else discover(got, run.settings.max_items, run.settings.fetch.max_bytes)
    except (FetchError, BadInputError) as exc:
        reason = exc.reason if isinstance(exc, FetchError) else str(exc)
        run.emit(FollowLine("failed", url, reason, top))
        run.record(replace(prev, checked=run.now, error=reason))
        return []
    if found is None:  # 304: nothing new here; a home page's feeds are still asked
        run.emit(FollowLine("checked", url, "not modified: 304", top))
        run.record(replace(prev, checked=run.now, error=""))
        return _follow_links(run, prev.feeds, top, depth)
    if found.kind == "home" and not found.links:
        found = replace(found, links=prev.feeds or tuple(_probe(run, url)))
    if found.kind != "page":  # a page's own line comes when it is read
        run.emit(FollowLine("checked", url, _describe(found), top, title=found.title))
    run.record(
        replace(
            prev,
            kind=found.kind,
            etag=got.etag,
            last_modified=got.last_modified,
            feeds=found.links if found.kind == "home" else (),
            checked=run.now,
            error="",
        )
    )
    if found.kind == "page":
        return [PageTask(Item(url), url, top, got)]  # its line names the URL followed, not where it led
    tasks = [PageTask(item, url, top) for item in found.items]
    return tasks + _follow_links(run, found.links, top, depth)


def _follow_links(run: Pass, links: tuple[str, ...], top: str, depth: int) -> list[PageTask]:
    if depth >= run.settings.max_depth:
        for link in links:
            run.emit(FollowLine("skipped", link, f"deeper than {run.settings.max_depth} links from {top}", top))
        return []
    return [task for link in links for task in check_source(run, link, top, depth + 1)]


def _describe(found: Discovered) -> str:
    match found.kind:
        case "feed":
            return f"feed: {len(found.items)} items"
        case "sitemap":
            return f"sitemap: {len(found.items)} pages"
        case "sitemap_index":
            return f"sitemap index: {len(found.links)} sitemaps"
        case "home":
            return f"home page: {len(found.links)} feeds" if found.links else "home page: no feed or sitemap found"
        case _:
            return "article page"


def _probe(run: Pass, home: str) -> list[str]:
    """A home page that names no feed: its robots.txt sitemaps, then the usual paths; the first that works."""
    for url in [urljoin(home, s) for s in run.robots.sitemaps(home)] + [urljoin(home, p) for p in USUAL_PATHS]:
        if not run.robots.allowed(url):
            continue
        try:
            got = run.fetcher.get(url, FEED_TYPES, allowed=run.robots.allowed)
            found = discover(got, run.settings.max_items, run.settings.fetch.max_bytes)
        except (FetchError, BadInputError):
            continue
        if found.kind in ("feed", "sitemap", "sitemap_index") and (found.items or found.links):
            return [url]
    return []

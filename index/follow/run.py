"""One polling pass and the polling loop: followed URLs + an index folder -> new articles indexed, a ``FollowReport``.

A pass: check every source (hosts in parallel, bounded; each host paced), fetch the pages
they list that are new or changed (the same way), keep each story once, add the articles
with ``index.build.add_articles`` in batches, and after each index write record what was
seen (``index.follow.state``). Sources' validators are recorded last, so a crash before
the end makes the next pass ask the feeds again rather than miss a page; a page whose
fetch may succeed later (5xx, timeout) keeps its feed's old validators for the same reason.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from index.build import add_articles
from index.embed import Embedder
from index.errors import BadInputError
from index.follow.fetch import Fetcher, host_of
from index.follow.pages import fetch_page
from index.follow.records import FollowLine, FollowReport, FollowSettings, PageOutcome, PageTask
from index.follow.sources import Pass, check_source
from index.follow.state import follow_lock, load_state, save_state
from index.follow.urls import canonical_url
from index.records import Article
from index.settings import IndexSettings
from index.store.generations import current_generation, read_manifest

T = TypeVar("T")
R = TypeVar("R")


def by_host(
    items: Iterable[T], url: Callable[[T], str], work: Callable[[T], R], hosts: int, stop: threading.Event
) -> list[R]:
    """``work`` over ``items``: one thread per host (at most ``hosts`` at once), each host's items in order;
    results in the order of ``items``. An interrupt (Ctrl-C) sets ``stop``: each host stops after its
    current request, and the interrupt goes on."""
    groups: dict[str, list[tuple[int, T]]] = defaultdict(list)
    for n, item in enumerate(items):
        groups[host_of(url(item))].append((n, item))
    results: dict[int, R] = {}

    def run_group(group: list[tuple[int, T]]) -> None:
        for n, item in group:
            if stop.is_set():
                return
            results[n] = work(item)

    with ThreadPoolExecutor(max_workers=hosts) as pool:
        try:
            for future in [pool.submit(run_group, group) for group in groups.values()]:
                future.result()
        except BaseException:
            stop.set()
            raise
    return [results[n] for n in sorted(results)]


def _unique(run: Pass, outcomes: list[PageOutcome]) -> list[PageOutcome]:
    """The same story under two URLs (same article id or same text) is kept once: later copies are skipped."""
    first: dict[str, Article] = {}
    kept = []
    for outcome in outcomes:
        article = outcome.article
        if article is not None:
            earlier = first.get(article.id) or first.get(article.content_hash)
            if earlier is not None:
                line = replace(outcome.line, status="skipped", reason=f"same story as {earlier.url}")
                page = replace(outcome.page, article_id=earlier.id) if outcome.page else None
                outcome = replace(outcome, line=line, article=None, page=page)
                run.emit(line)
            else:
                first[article.id] = first[article.content_hash] = article
        kept.append(outcome)
    return kept


def follow_once(
    urls: Sequence[str],
    index_dir: Path | str,
    settings: FollowSettings | None = None,
    index_settings: IndexSettings | None = None,
    embedder: Embedder | None = None,
    on_line: Callable[[FollowLine], None] | None = None,
) -> FollowReport:
    """Poll ``urls`` once (feeds, sitemaps, article or home pages) and add what is new to the index.

    Never raises for a bad URL, host or page: each gets a ``failed`` or ``skipped`` line.
    Raises ``FollowerBusyError`` when another follower holds the index, ``NewsQAError``
    for an index that cannot be read or written.
    """
    started = time.perf_counter()
    settings = settings or FollowSettings()
    root = Path(index_dir)
    with follow_lock(root):
        state = load_state(root)
        fetcher = Fetcher(settings.fetch)
        run = Pass(fetcher, state, settings, on_line)
        try:
            tops = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
            hosts, stop = settings.fetch.hosts, threading.Event()
            nested = by_host(tops, str, lambda u: _source(run, u), hosts, stop)
            tasks: dict[str, PageTask] = {}
            for task in (t for group in nested for t in group):
                tasks.setdefault(canonical_url(task.item.url), task)  # a page listed twice is fetched once
            pages = by_host(list(tasks.values()), lambda t: t.item.url, lambda t: _page(run, t), hosts, stop)
            outcomes = _unique(run, pages)
        finally:
            fetcher.close()
        added, replaced, total, refused = _index(root, run, outcomes, index_settings, embedder)
        _record_sources(run, outcomes, refused)
        save_state(root, state)
    return FollowReport(root, tuple(run.lines), added, replaced, fetcher.requests, total, time.perf_counter() - started)


def _page(run: Pass, task: PageTask) -> PageOutcome:
    try:
        outcome = fetch_page(run, task)
    except Exception as exc:  # a library failing on one untrusted page: that page's problem, not the pass's
        outcome = PageOutcome(task, FollowLine("failed", task.item.url, _unexpected(exc), task.source))
    run.emit(outcome.line)  # as it happens; a copy of a story fetched elsewhere gets a "skipped" line after
    return outcome


def _source(run: Pass, url: str) -> list[PageTask]:
    try:
        return check_source(run, url, url)
    except Exception as exc:  # a library failing on one untrusted source: that source's problem
        run.emit(FollowLine("failed", url, _unexpected(exc), url))
        return []


def _unexpected(exc: Exception) -> str:
    return f"unexpected error: {type(exc).__name__}: {exc}"[:300]


def _index(
    root: Path,
    run: Pass,
    outcomes: list[PageOutcome],
    index_settings: IndexSettings | None,
    embedder: Embedder | None,
) -> tuple[int, int, int, list[PageOutcome]]:
    """Add the new and changed articles in batches; after each write, record their pages. Returns
    (added, replaced, articles in the index, the pages whose article the index refused)."""
    fresh = [o for o in outcomes if o.article is not None]
    fresh_ids = {o.article.id for o in fresh if o.article}
    copies = []  # pages skipped as copies of a story written below: recorded once it is
    for o in outcomes:  # pages skipped as unchanged: their new validators and stamps cost nothing to keep
        if o.article is None and o.page is not None:
            if o.page.article_id in fresh_ids:
                copies.append(o.page)
            else:
                run.state.pages[o.page.url] = o.page
    added = replaced = 0
    refused: list[PageOutcome] = []
    total = _articles_in(root)
    if fresh and embedder is None:
        embedder = _embedder(root, index_settings)
    batches = [fresh[begin : begin + run.settings.batch] for begin in range(0, len(fresh), run.settings.batch)]
    while batches:
        batch = batches.pop(0)
        try:
            report = add_articles(root, [o.article for o in batch if o.article], index_settings, embedder)
        except BadInputError as exc:  # an article the index cannot store: alone, it fails; its batch goes on
            if len(batch) == 1:
                run.emit(replace(batch[0].line, status="failed", reason=str(exc)))
                refused.append(batch[0])
            else:
                batches[:0] = [[o] for o in batch]
            continue
        added, replaced, total = added + report.added, replaced + report.replaced, report.articles_total
        for o in batch:
            if o.page is not None:
                run.state.pages[o.page.url] = o.page
        save_state(root, run.state)
    refused_ids = {o.article.id for o in refused if o.article}
    run.state.pages.update((p.url, p) for p in copies if p.article_id not in refused_ids)
    return added, replaced, total, refused


def _embedder(root: Path, index_settings: IndexSettings | None) -> Embedder:
    """The embedder the index was built with (or will be), made once per pass."""
    from index.embed import make_embedder

    if current_generation(root) is not None:
        _, manifest = read_manifest(root)
        return make_embedder(IndexSettings(**manifest["settings"]).embedder)
    return make_embedder((index_settings or IndexSettings()).embedder)


def _articles_in(root: Path) -> int:
    if current_generation(root) is None:
        return 0
    _, manifest = read_manifest(root)
    return int(manifest["counts"]["articles"])


def _record_sources(run: Pass, outcomes: list[PageOutcome], refused: list[PageOutcome]) -> None:
    """Record each checked source (what it added, when) once its pages are indexed; a source with a
    page that may succeed later (or that the index refused) keeps its old validators, so the next
    pass asks it again."""
    added: dict[str, int] = defaultdict(int)
    retry = {o.task.feed for o in refused}
    for o in outcomes:
        if o.article is not None and o not in refused:
            added[o.task.source] += 1
        if o.transient:
            retry.add(o.task.feed)
    for url, source in run.pending.items():
        old = run.state.sources.get(url)
        if url in retry:
            source = replace(source, etag=old.etag if old else "", last_modified=old.last_modified if old else "")
        if added.get(url):
            source = replace(source, added=added[url], added_at=run.now)
        run.state.sources[url] = source


def follow(
    urls: Sequence[str],
    index_dir: Path | str,
    every_minutes: float = 15.0,
    stop: threading.Event | None = None,
    settings: FollowSettings | None = None,
    index_settings: IndexSettings | None = None,
    embedder: Embedder | None = None,
    on_line: Callable[[FollowLine], None] | None = None,
    on_report: Callable[[FollowReport], None] | None = None,
) -> None:
    """Poll ``urls`` every ``every_minutes`` until ``stop`` is set (a pass in progress finishes first)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        if embedder is None and current_generation(Path(index_dir)) is not None:
            embedder = _embedder(Path(index_dir), index_settings)  # loaded once for every pass
        report = follow_once(urls, index_dir, settings, index_settings, embedder, on_line)
        if on_report is not None:
            on_report(report)
        stop.wait(every_minutes * 60)

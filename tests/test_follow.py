"""Following the news (index.follow, `newsqa follow`), against a local HTTP server on 127.0.0.1
serving tests/fixtures/follow/site (a feed, a news sitemap, a home page, article pages, robots.txt)."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index.build import add_articles
from index.embed import HashingEmbedder
from index.follow import FetchSettings, FollowReport, FollowSettings, follow_once, load_state
from index.follow.fetch import Fetcher, FetchError
from index.follow.urls import canonical_url
from index.records import Article
from index.settings import IndexSettings
from index.store.generations import current_generation, load_index
from ui.cli import main

SITE = Path(__file__).resolve().parent / "fixtures" / "follow" / "site"
TYPES = {".xml": "application/rss+xml", ".html": "text/html; charset=utf-8", ".txt": "text/plain"}
FAST = FollowSettings(fetch=FetchSettings(delay=0, timeout=1.0, retries=1, backoff=0.01), batch=64)


@dataclass
class Site:
    """What the local server serves: the fixture files, overrides by path, and the log of requests."""

    base: str = ""
    overrides: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    log: list[tuple[str, int]] = field(default_factory=list)
    times: list[tuple[str, float]] = field(default_factory=list)  # (Host header, when asked)
    gzipped: list[str] = field(default_factory=list)
    slow_seconds: float = 3.0

    def url(self, path: str) -> str:
        return self.base + path

    def requests_since(self, mark: int) -> list[tuple[str, int]]:
        return self.log[mark:]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = self.path
            site.times.append((self.headers.get("Host", ""), time.monotonic()))
            if path == "/slow":
                time.sleep(site.slow_seconds)
            if path in ("/loop-a", "/loop-b"):
                return self._send(302, {"Location": "/loop-b" if path == "/loop-a" else "/loop-a"}, b"")
            status, headers, body = site.overrides.get(path) or self._file(path)
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if status == 200 and self.headers.get("If-None-Match") == etag:
                return self._send(304, {"ETag": etag}, b"")
            if status == 200:
                headers = {"ETag": etag, **headers}
                if "gzip" in (self.headers.get("Accept-Encoding") or "") and path.endswith(".xml"):
                    body, headers = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
                    site.gzipped.append(path)
            self._send(status, headers, body)

        def _file(self, path: str) -> tuple[int, dict[str, str], bytes]:
            clean = path.split("?", 1)[0].lstrip("/") or "index.html"
            file = SITE / clean
            if ".." in clean or not file.is_file():
                return 404, {"Content-Type": "text/plain"}, b"not found"
            return 200, {"Content-Type": TYPES.get(file.suffix, "application/octet-stream")}, file.read_bytes()

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            site.log.append((self.path, status))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


EMBEDDER = HashingEmbedder(dim=128)
INDEX_SETTINGS = IndexSettings(embedder=EMBEDDER.name, chunk_size=400, chunk_overlap=0)


def poll(site: Site, root: Path, *paths: str, settings: FollowSettings = FAST) -> FollowReport:
    return follow_once([site.url(p) for p in paths], root, settings, INDEX_SETTINGS, EMBEDDER)


def lines_by_url(report: FollowReport) -> dict[str, tuple[str, str]]:
    return {line.url: (line.status, line.reason) for line in report.lines}


def test_a_feed_adds_its_new_items_with_canonical_urls_and_dates(site: Site, tmp_path: Path) -> None:
    report = poll(site, tmp_path / "ix", "/feed.xml")
    assert (report.added, report.replaced, report.count("failed")) == (3, 0, 0)
    articles = {a.url: a for a in load_index(tmp_path / "ix").articles.values()}
    ferry = articles[site.url("/news/ferry.html")]  # the utm_ parameters of the feed's link are gone
    assert ferry.title == "Gull Island ferry to start Saturday"
    assert ferry.published == date(2026, 3, 2)
    assert "six crossings a day" in ferry.text
    assert set(articles) == {site.url(p) for p in ("/news/ferry.html", "/news/drought.html", "/news/bikes.html")}
    assert ("/feed.xml", 200) in site.log and ("/robots.txt", 200) in site.log


def test_a_second_pass_with_nothing_new_costs_one_304_and_adds_nothing(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    poll(site, root, "/feed.xml")
    generation = current_generation(root)
    mark = len(site.log)
    report = poll(site, root, "/feed.xml")
    assert site.requests_since(mark) == [("/feed.xml", 304)]  # no page, no robots.txt: the state remembers
    assert (report.added, report.replaced, report.requests) == (0, 0, 1)
    assert lines_by_url(report) == {site.url("/feed.xml"): ("checked", "not modified: 304")}
    assert current_generation(root) == generation


def test_a_changed_page_replaces_its_article(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    poll(site, root, "/news/drought.html")
    old = (SITE / "news" / "drought.html").read_bytes()
    site.overrides["/news/drought.html"] = (
        200,
        {"Content-Type": "text/html"},
        old.replace(b"within two weeks", b"by the end of the month"),
    )
    report = poll(site, root, "/news/drought.html")
    assert (report.added, report.replaced) == (0, 1)
    assert lines_by_url(report)[site.url("/news/drought.html")] == ("fetched", "changed: replaces the earlier version")
    articles = list(load_index(root).articles.values())
    assert len(articles) == 1
    assert "by the end of the month" in articles[0].text and "within two weeks" not in articles[0].text


def test_the_same_story_under_two_urls_is_stored_once(site: Site, tmp_path: Path) -> None:
    ferry = (SITE / "news" / "ferry.html").read_bytes()
    no_canonical = ferry.replace(b'<link rel="canonical" href="/news/ferry.html">', b"")
    site.overrides["/mirror/ferry.html"] = (200, {"Content-Type": "text/html"}, no_canonical)
    site.overrides["/amp/ferry.html"] = (200, {"Content-Type": "text/html"}, ferry)  # canonical: /news/ferry.html
    root = tmp_path / "ix"
    site.overrides["/old/ferry"] = (301, {"Location": "/news/ferry.html?utm_source=old"}, b"")
    report = poll(site, root, "/feed.xml", "/sitemap.xml", "/mirror/ferry.html", "/amp/ferry.html", "/old/ferry")
    articles = list(load_index(root).articles.values())
    assert sum("six crossings a day" in a.text for a in articles) == 1
    assert len(articles) == 4  # ferry, drought, bikes from the feed; museum from the sitemap
    lines = lines_by_url(report)
    assert lines[site.url("/mirror/ferry.html")][0] == "skipped"
    assert "same story" in lines[site.url("/mirror/ferry.html")][1]
    assert lines[site.url("/amp/ferry.html")][0] == "skipped"
    assert lines[site.url("/old/ferry")][0] == "skipped"  # redirected to the same story
    museum = next(a for a in articles if "Verona" in a.title)
    assert museum.published == date(2026, 2, 27)


def test_a_news_sitemap_gives_the_date_a_page_lacks(site: Site, tmp_path: Path) -> None:
    museum = (SITE / "news" / "museum.html").read_bytes()
    undated = museum.replace(b'<meta property="article:published_time" content="2026-02-27T11:00:00Z">', b"")
    site.overrides["/news/museum.html"] = (200, {"Content-Type": "text/html"}, undated)
    site.overrides["/sitemap.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        (SITE / "sitemap.xml").read_bytes().replace(b"2026-02-27T11:00:00Z", b"2026-01-15T11:00:00Z"),
    )
    root = tmp_path / "ix"
    poll(site, root, "/sitemap.xml")
    museum_article = next(a for a in load_index(root).articles.values() if "Verona" in a.title)
    assert museum_article.published == date(2026, 1, 15)


def test_a_home_page_leads_to_its_feed_then_to_the_usual_paths(site: Site, tmp_path: Path) -> None:
    report = poll(site, tmp_path / "a", "/")
    assert lines_by_url(report)[site.url("/")] == ("checked", "home page: 1 feeds")
    assert report.added == 3
    # a home page that names no feed: robots.txt's Sitemap line is tried first
    bare = (SITE / "index.html").read_bytes().replace(b'type="application/rss+xml"', b'type="text/css"')
    site.overrides["/"] = (200, {"Content-Type": "text/html"}, bare)
    report = poll(site, tmp_path / "b", "/")
    assert lines_by_url(report)[site.url("/sitemap.xml")] == ("checked", "sitemap: 2 pages")
    assert report.added == 2
    # a section page (og:type "website") is followed through its feeds too
    og_website = b'<head><meta property="og:type" content="website">'
    section = (SITE / "index.html").read_bytes().replace(b"<head>", og_website)
    site.overrides["/world/"] = (200, {"Content-Type": "text/html"}, section)
    report = poll(site, tmp_path / "c", "/world/")
    assert lines_by_url(report)[site.url("/world/")] == ("checked", "home page: 1 feeds") and report.added == 3


def test_each_bad_url_gets_a_clear_line_and_stops_nothing(site: Site, tmp_path: Path) -> None:
    site.slow_seconds = 1.5
    site.overrides["/error"] = (500, {"Content-Type": "text/plain"}, b"boom")
    site.overrides["/photo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    site.overrides["/blob.html"] = (200, {"Content-Type": "text/html"}, b"\x00\x01\x02binary" * 50)
    site.overrides["/moved"] = (301, {"Location": "/private/staff.html"}, b"")
    bad = ["/missing.html", "/error", "/slow", "/loop-a", "/photo.png", "/blob.html", "/private/staff.html", "/moved"]
    report = poll(site, tmp_path / "ix", *bad, "/feed.xml")
    lines = lines_by_url(report)
    assert lines[site.url("/moved")] == (
        "failed",
        f"redirected to {site.url('/private/staff.html')}, disallowed by robots.txt",
    )
    assert lines[site.url("/missing.html")] == ("failed", "HTTP 404 Not Found")
    assert lines[site.url("/error")] == ("failed", "HTTP 500 Internal Server Error")
    assert site.log.count(("/error", 500)) == 2  # retried once (FAST: retries=1)
    assert lines[site.url("/slow")][0] == "failed" and "timed out" in lines[site.url("/slow")][1]
    assert lines[site.url("/loop-a")] == ("failed", "redirect loop or more than 5 redirects")
    assert lines[site.url("/photo.png")][0] == "failed" and "content type image/png" in lines[site.url("/photo.png")][1]
    assert lines[site.url("/blob.html")][0] == "failed" and "binary" in lines[site.url("/blob.html")][1]
    assert lines[site.url("/private/staff.html")] == ("skipped", "disallowed by robots.txt")
    assert ("/private/staff.html", 200) not in site.log
    assert report.added == 3  # the feed's articles arrived all the same
    assert len(report.lines) == len(bad) + 1 + 3  # one line per URL: the bad ones, the feed, its pages
    state = load_state(tmp_path / "ix")
    assert state.sources[site.url("/error")].error == "HTTP 500 Internal Server Error"


def test_a_page_that_failed_for_now_is_asked_again_next_pass(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    site.overrides["/news/bikes.html"] = (503, {"Content-Type": "text/plain"}, b"busy")
    assert poll(site, root, "/feed.xml").added == 2
    del site.overrides["/news/bikes.html"]
    mark = len(site.log)
    report = poll(site, root, "/feed.xml")
    assert report.added == 1  # the feed was asked again in full (its validators were not kept)
    assert ("/feed.xml", 200) in site.requests_since(mark)


def test_the_fetcher_paces_each_host_caps_sizes_and_reads_gzip(site: Site) -> None:
    fetcher = Fetcher(FetchSettings(delay=0.2, max_bytes=1024, retries=0))
    try:
        started = time.monotonic()
        got = fetcher.get(site.url("/feed.xml"), frozenset({"application/rss+xml"}))
        assert b"Gull Island" in got.body and site.gzipped == ["/feed.xml"]  # sent compressed, read decompressed
        for _ in range(2):
            fetcher.get(site.url("/robots.txt"), frozenset({"text/plain"}))
        assert time.monotonic() - started >= 0.4
        with pytest.raises(FetchError, match="byte cap"):
            fetcher.get(site.url("/news/ferry.html"))
    finally:
        fetcher.close()
    assert "newsqa" in Fetcher(FetchSettings()).settings.user_agent


def test_canonical_urls_drop_tracking_but_keep_meaningful_parameters() -> None:
    assert canonical_url("http://a.org/x?utm_campaign=z&page=2&gclid=1#c") == "http://a.org/x?page=2"
    assert canonical_url("http://a.org:80") == "http://a.org/"


class Crash(Exception):
    pass


def test_a_crash_before_the_index_write_loses_nothing(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ix"

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr("index.follow.run.add_articles", crash)
    with pytest.raises(Crash):
        poll(site, root, "/feed.xml")
    assert load_state(root).pages == {}  # nothing recorded as seen
    monkeypatch.undo()
    assert poll(site, root, "/feed.xml").added == 3


def test_a_crash_after_the_index_write_repeats_no_embedding(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ix"
    embedded: list[int] = []

    def write_then_crash(*args: object, **kwargs: object) -> None:
        report = add_articles(*args, **kwargs)  # type: ignore[arg-type]
        embedded.append(report.chunks_embedded)
        raise Crash  # killed between the index write and the state write

    monkeypatch.setattr("index.follow.run.add_articles", write_then_crash)
    with pytest.raises(Crash):
        poll(site, root, "/feed.xml")
    assert len(load_index(root).articles) == 3 and embedded[0] > 0

    def counting(*args: object, **kwargs: object) -> object:
        report = add_articles(*args, **kwargs)  # type: ignore[arg-type]
        embedded.append(report.chunks_embedded)
        return report

    monkeypatch.setattr("index.follow.run.add_articles", counting)
    report = poll(site, root, "/feed.xml")
    assert embedded[1:] == [0]  # fetched again, found unchanged, not embedded
    assert len(load_index(root).articles) == 3 and report.articles_total == 3
    assert len(load_state(root).pages) == 3


KILL_SCRIPT = """
import sys, time
from index.embed import HashingEmbedder
from index.follow import FetchSettings, FollowSettings, follow_once
from index.settings import IndexSettings

class Slow(HashingEmbedder):
    calls = 0

    def embed_chunks(self, texts, spans):
        Slow.calls += 1
        time.sleep(0 if Slow.calls == 1 else 10)  # the first batch is quick, the kill lands in the second
        return super().embed_chunks(texts, spans)

slow = Slow(128)
settings = FollowSettings(fetch=FetchSettings(delay=0, timeout=2, retries=0), batch=1)
index_settings = IndexSettings(embedder=slow.name, chunk_size=400, chunk_overlap=0)
follow_once([sys.argv[1]], sys.argv[2], settings, index_settings, slow)
"""


def test_a_kill_mid_run_leaves_the_index_loadable_and_the_next_pass_finishes(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, site.url("/feed.xml"), str(root)], env=env)
    try:
        deadline = time.monotonic() + 30
        while not (root / "follow.json").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (root / "follow.json").exists()
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    kept = load_index(root).articles
    assert len(kept) == 1  # the first batch (one article) was written; the second was being embedded
    seen = load_state(root).pages
    assert {p.article_id for p in seen.values()} <= set(kept)  # the state is never ahead of the index
    report = poll(site, root, "/feed.xml")
    assert len(load_index(root).articles) == 3 and report.added == 3 - len(kept)


def test_cli_follow_once_prints_one_json_object_per_url(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["follow", site.url("/feed.xml"), site.url("/missing.html"), "--index", str(tmp_path / "ix")]
    assert main([*argv, "--once", "--json", "--delay", "0", "--embedder", EMBEDDER.name]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in rows].count("fetched") == 3
    assert {"status": "failed", "url": site.url("/missing.html")}.items() <= next(
        r for r in rows if r["url"].endswith("/missing.html")
    ).items()
    assert rows[-1]["status"] == "summary" and rows[-1]["added"] == 3
    assert main([*argv, "--once", "--delay", "0"]) == 0
    out = capsys.readouterr().out
    assert "checked  " + site.url("/feed.xml") + "  (not modified: 304)" in out
    assert "0 added" in out


def test_the_chat_follows_in_the_background_and_shows_its_sources(site: Site, tmp_path: Path) -> None:
    from qa.assistant import Assistant
    from ui.follow import BackgroundFollower, build_following_app

    root = tmp_path / "ix"
    poll(site, root, "/news/drought.html")
    assistant = Assistant(root, EMBEDDER)
    assert len(assistant.data.articles) == 1
    follower = BackgroundFollower(assistant, [site.url("/feed.xml")], every_minutes=60, settings=FAST)
    assert "not yet" in follower.status_markdown()
    follower.start()
    deadline = time.monotonic() + 30
    while len(assistant.data.articles) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(assistant.data.articles) == 3  # reloaded after the pass: the new articles answer at once
    status = follower.status_markdown()
    assert "2 new articles" in status and site.url("/feed.xml") in status
    follower.stop()
    assert not follower.thread.is_alive()
    page = build_following_app(follower)
    assert any("2 new articles" in str(getattr(block, "value", "")) for block in page.blocks.values())


def test_the_follow_benchmark_measures_a_first_and_an_idle_poll(tmp_path: Path) -> None:
    from eval.follow_bench import SECTION, bench_follow, write_section

    bench = bench_follow(pages=6, embedder="hashing-64")
    assert (bench.added, bench.first_requests, bench.idle_requests) == (6, 8, 1)  # robots, feed, 6 pages; one 304
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\nkept\n", encoding="utf-8")
    write_section(out, bench)
    write_section(out, bench)  # replaced, not appended twice
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nkept\n") and text.count(SECTION) == 1
    assert "6 pages, hashing-64: fetched and indexed per minute" in text


def test_ctrl_c_stops_the_polling_loop_cleanly(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    argv = ["follow", site.url("/feed.xml"), "--index", str(root), "--every", "60", "--delay", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", *argv, "--embedder", EMBEDDER.name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell that runs the tests in the background ignores SIGINT, and a child inherits that:
        # Ctrl-C as a user's terminal sends it must reach the follower
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:  # the pass's summary line (flushed) says the loop now waits for the next pass
        seen.append(line)
        if " added, " in line and " requests " in line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in err and "3 added" in "".join(seen) + out


def test_hosts_are_fetched_at_once_and_each_host_is_paced(site: Site, tmp_path: Path) -> None:
    other = site.base.replace("127.0.0.1", "localhost")  # the same server under a second host name
    settings = FollowSettings(fetch=FetchSettings(delay=0.3, timeout=2.0, retries=0))
    report = follow_once(
        [site.url("/feed.xml"), other + "/feed.xml"], tmp_path / "ix", settings, INDEX_SETTINGS, EMBEDDER
    )
    assert report.added == 3 and report.count("skipped") == 3  # the second host's copies: the same stories
    hosts: dict[str, list[float]] = {}
    for host, moment in site.times:
        hosts.setdefault(host.split(":")[0], []).append(moment)
    a, b = hosts["127.0.0.1"], hosts["localhost"]
    assert len(a) == len(b) == 5  # robots.txt, the feed, three pages
    assert min(b) < max(a) and min(a) < max(b)  # the two hosts overlapped in time
    for times in (a, b):
        # paced at 0.3 s on the client; arrival times jitter on a loaded machine (unpaced: ~0.01 s apart)
        assert all(later - earlier >= 0.15 for earlier, later in itertools.pairwise(times))


def test_an_article_the_index_refuses_fails_alone(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from index.errors import BadInputError

    def picky(root: Path, articles: list[Article], *args: object, **kwargs: object) -> object:
        if any("Drought" in a.title for a in articles):
            raise BadInputError("cannot be stored as UTF-8")
        return add_articles(root, articles, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("index.follow.run.add_articles", picky)
    report = poll(site, tmp_path / "ix", "/feed.xml")
    assert report.added == 2
    assert lines_by_url(report)[site.url("/news/drought.html")] == ("failed", "cannot be stored as UTF-8")
    assert site.url("/news/drought.html") not in load_state(tmp_path / "ix").pages
    monkeypatch.undo()
    assert poll(site, tmp_path / "ix", "/feed.xml").added == 1  # its feed was asked again in full


def test_an_atom_feed_is_followed_too(site: Site, tmp_path: Path) -> None:
    report = poll(site, tmp_path / "ix", "/atom.xml")
    assert lines_by_url(report)[site.url("/atom.xml")] == ("checked", "feed: 1 items")
    titles = [a.title for a in load_index(tmp_path / "ix").articles.values()]
    assert titles == ["Verona museum recovers stolen painting"]


def test_a_feed_entry_updated_brings_the_changed_page(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    poll(site, root, "/feed.xml")
    feed = (SITE / "feed.xml").read_bytes()
    site.overrides["/feed.xml"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        feed.replace(b"Thu, 26 Feb 2026 09:00:00 GMT", b"Fri, 27 Feb 2026 10:00:00 GMT"),
    )
    page = (SITE / "news" / "drought.html").read_bytes()
    site.overrides["/news/drought.html"] = (200, {"Content-Type": "text/html"}, page.replace(b"May", b"April"))
    mark = len(site.log)
    report = poll(site, root, "/feed.xml")
    assert (report.added, report.replaced) == (0, 1)
    assert sorted(site.requests_since(mark)) == [("/feed.xml", 200), ("/news/drought.html", 200)]  # not the others
    drought = next(a for a in load_index(root).articles.values() if "Drought" in a.title)
    assert "since April" in drought.text


def test_a_gzipped_sitemap_index_leads_to_its_sitemaps(site: Site, tmp_path: Path) -> None:
    index = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/sitemap.xml</loc></sitemap></sitemapindex>"
    )
    site.overrides["/sitemap_index.xml.gz"] = (200, {"Content-Type": "application/x-gzip"}, gzip.compress(index))
    report = poll(site, tmp_path / "ix", "/sitemap_index.xml.gz")
    lines = lines_by_url(report)
    assert lines[site.url("/sitemap_index.xml.gz")] == ("checked", "sitemap index: 1 sitemaps")
    assert lines[site.url("/sitemap.xml")] == ("checked", "sitemap: 2 pages")
    assert report.added == 2


def test_a_library_failing_on_one_page_fails_that_page_only(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.follow import pages

    real = pages.read_page

    def flaky(got: object, published: object) -> object:
        if "bikes" in got.final_url:  # type: ignore[attr-defined]
            raise RecursionError("parser blew up")
        return real(got, published)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "read_page", flaky)
    report = poll(site, tmp_path / "ix", "/feed.xml")
    assert report.added == 2
    assert lines_by_url(report)[site.url("/news/bikes.html")] == (
        "failed",
        "unexpected error: RecursionError: parser blew up",
    )


def test_one_follower_per_index_and_a_broken_state_is_named(site: Site, tmp_path: Path) -> None:
    from index.errors import CorruptIndexError
    from index.follow import FollowerBusyError
    from index.follow.state import follow_lock

    root = tmp_path / "ix"
    with follow_lock(root), pytest.raises(FollowerBusyError, match="another `newsqa follow`"):
        poll(site, root, "/feed.xml")
    (root / "follow.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptIndexError, match=r"follow\.json: unreadable follow state"):
        poll(site, root, "/feed.xml")


def test_a_robots_crawl_delay_slows_that_host(site: Site, tmp_path: Path) -> None:
    site.overrides["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 1\n")
    report = poll(site, tmp_path / "ix", "/news/ferry.html", "/news/drought.html")
    assert report.added == 2
    moments = [moment for _, moment in site.times]
    assert len(moments) == 3 and moments[2] - moments[1] >= 0.9  # robots.txt, then one page a second

"""robots.txt: a URL -> may we fetch it? (one robots.txt per host, kept in the follow state for a day).

RFC 9309: a robots.txt that is missing (4xx) allows everything; one the server cannot
give (5xx, timeout) disallows everything until it can.
"""

from __future__ import annotations

import threading
import time
from urllib.robotparser import RobotFileParser

from index.follow.fetch import FEED_TYPES, ROBOTS_AGENT, Fetcher, FetchError, host_of
from index.follow.state import FollowState, RobotsState


class Robots:
    """Answers ``allowed(url)`` from the state's robots.txt files, fetching a missing or stale one."""

    def __init__(self, fetcher: Fetcher, state: FollowState) -> None:
        self.fetcher = fetcher
        self.state = state
        self.parsers: dict[str, RobotFileParser | None] = {}  # None: disallow all
        self.lock = threading.Lock()
        self.host_locks: dict[str, threading.Lock] = {}

    def allowed(self, url: str) -> bool:
        host = host_of(url)
        with self.lock:
            host_lock = self.host_locks.setdefault(host, threading.Lock())
        with host_lock:
            if host not in self.parsers:
                self.parsers[host] = self._parser(url, host)
            parser = self.parsers[host]
        return parser is not None and parser.can_fetch(ROBOTS_AGENT, url)

    def sitemaps(self, url: str) -> list[str]:
        """The ``Sitemap:`` lines of the host's robots.txt."""
        self.allowed(url)
        parser = self.parsers.get(host_of(url))
        return list(parser.site_maps() or []) if parser is not None else []

    def _parser(self, url: str, host: str) -> RobotFileParser | None:
        stored = self.state.robots.get(host)
        if stored is None or time.time() - stored.fetched_at > self.fetcher.settings.robots_ttl:
            stored = self._fetch(url, host)
            if stored.status < 500:  # a server error is asked again next pass, not kept for a day
                with self.lock:
                    self.state.robots[host] = stored
        if stored.status >= 500:
            return None
        parser = RobotFileParser()
        parser.parse(stored.text.splitlines() if stored.status == 200 else [])
        delay = parser.crawl_delay(ROBOTS_AGENT)
        if delay:
            self.fetcher.pacer.set_delay(host, min(float(delay), self.fetcher.settings.max_crawl_delay))
        return parser

    def _fetch(self, url: str, host: str) -> RobotsState:
        scheme = url.split(":", 1)[0]
        try:
            got = self.fetcher.get(f"{scheme}://{host}/robots.txt", accept=FEED_TYPES)
        except FetchError as exc:
            status = 503 if exc.transient else 404  # 4xx, a redirect loop, not text: "unavailable", allow
            return RobotsState(host, status, "", time.time())
        return RobotsState(host, 200, got.body.decode("utf-8", errors="replace"), time.time())

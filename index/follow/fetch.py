"""A polite HTTP fetcher: URL + validators -> ``Fetched`` (a 200 body or a 304), else ``FetchError`` with the reason.

Built on httpx (already installed with the browser chat; a maintained client with
timeouts, connection pooling, gzip/deflate decoding and streaming in one place).
Politeness: a User-Agent that names the tool, robots.txt (see ``index.follow.robots``;
redirects are followed here, at most ``max_redirects``, each hop checked), a minimum delay
between two requests to the same host (shared by every thread), conditional requests
(ETag / Last-Modified), a size cap per response (counted on the decoded bytes, so a gzip
bomb stops at the cap), retries with exponential backoff for what may pass (timeouts,
connection errors, 429, 5xx), none for what will not (404, a redirect loop, a refused
content type).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from index.errors import NewsQAError, SettingsError
from index.follow.urls import absolute

if TYPE_CHECKING:
    import httpx

VERSION = "0.1"
ROBOTS_AGENT = "newsqa"  # the token robots.txt rules name
USER_AGENT = f"newsqa/{VERSION} (news question answering; follows feeds politely; obeys robots.txt)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
        "text/plain",  # some servers label feeds so (and robots.txt is so)
        "application/gzip",  # sitemap.xml.gz
        "application/x-gzip",
    }
)
SOURCE_TYPES = HTML_TYPES | FEED_TYPES
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})


class FetchError(NewsQAError):
    """A URL could not be fetched; ``transient`` when a later poll may succeed (5xx, timeout)."""

    def __init__(self, url: str, reason: str, transient: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True)
class FetchSettings:
    """How politely and how hard to fetch. ``delay`` is the minimum time between two requests
    to one host; ``hosts`` how many hosts are fetched at once; ``max_bytes`` caps one response."""

    user_agent: str = USER_AGENT
    timeout: float = 15.0  # seconds, per connect / read / write
    retries: int = 2  # extra attempts after a transient failure
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    max_backoff: float = 30.0  # also caps a server's Retry-After
    delay: float = 1.0  # seconds between requests to one host
    max_crawl_delay: float = 30.0  # a robots.txt Crawl-delay is honoured up to this
    hosts: int = 4  # hosts fetched concurrently
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    robots_ttl: float = 24 * 3600.0  # seconds a robots.txt is trusted before it is fetched again

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.retries < 0 or self.backoff < 0 or self.delay < 0:
            raise SettingsError("fetch: timeout must be > 0; retries, backoff and delay >= 0")
        if self.hosts < 1 or self.max_bytes < 1024 or self.max_redirects < 0:
            raise SettingsError("fetch: hosts >= 1, max_bytes >= 1024 and max_redirects >= 0")


@dataclass(frozen=True)
class Fetched:
    """A response: ``status`` 200 with ``body``, or 304 (``not_modified``) with no body."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    body: bytes
    content_type: str
    etag: str
    last_modified: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def host_of(url: str) -> str:
    """The ``host[:port]`` a URL names, lower-cased (the unit of rate limits and robots.txt)."""
    return urlsplit(url).netloc.lower()


class Pacer:
    """Spaces requests to each host by at least its delay, across threads."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.delays: dict[str, float] = {}  # per-host delay from robots.txt Crawl-delay
        self.next_slot: dict[str, float] = {}
        self.lock = threading.Lock()

    def set_delay(self, host: str, seconds: float) -> None:
        with self.lock:
            self.delays[host] = max(self.delay, seconds)

    def wait(self, host: str) -> None:
        """Block until ``host`` may be asked again, and book the next slot."""
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot.get(host, now))
            self.next_slot[host] = slot + self.delays.get(host, self.delay)
        if slot > now:
            time.sleep(slot - now)


class Fetcher:
    """GET with politeness and retries; one instance per polling pass (it holds a connection pool)."""

    def __init__(self, settings: FetchSettings, client: httpx.Client | None = None) -> None:
        import httpx

        self.settings = settings
        self.pacer = Pacer(settings.delay)
        self.requests = 0  # counted for reports and benchmarks
        self.count_lock = threading.Lock()
        self.client = client or httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,  # followed here: each hop paced and checked against robots.txt
            limits=httpx.Limits(max_connections=4 * settings.hosts, max_keepalive_connections=2 * settings.hosts),
        )

    def close(self) -> None:
        self.client.close()

    def get(
        self,
        url: str,
        accept: frozenset[str] = HTML_TYPES,
        etag: str = "",
        last_modified: str = "",
        allowed: Callable[[str], bool] | None = None,
    ) -> Fetched:
        """GET ``url`` (conditionally when validators are given), retrying transient failures;
        a redirect is followed only to a URL ``allowed`` accepts (robots.txt).

        Raises ``FetchError`` with the reason: the HTTP status, a timeout, too many
        redirects, a content type outside ``accept``, a body over ``max_bytes``.
        """
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(url, "not an http(s) URL")
        headers = {"If-None-Match": etag} if etag else {}
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                return self._follow(url, accept, headers, allowed)
            except _Retry as retry:
                if attempt >= self.settings.retries:
                    raise FetchError(url, retry.reason, transient=True) from None
                pause = min(self.settings.max_backoff, retry.after or self.settings.backoff * 2**attempt)
                time.sleep(pause)
                attempt += 1

    def _follow(
        self, url: str, accept: frozenset[str], headers: dict[str, str], allowed: Callable[[str], bool] | None
    ) -> Fetched:
        """One attempt: GET ``url``, following at most ``max_redirects`` redirects."""
        current = url
        for _ in range(self.settings.max_redirects + 1):
            try:
                return self._once(url, current, accept, headers)
            except _Redirect as redirect:
                target = absolute(current, redirect.location)
                if target is None:
                    raise FetchError(url, f"redirected to {redirect.location[:100]!r}, not an http(s) URL") from None
                if allowed is not None and not allowed(target):
                    raise FetchError(url, f"redirected to {target}, disallowed by robots.txt") from None
                current = target
        raise FetchError(url, f"redirect loop or more than {self.settings.max_redirects} redirects")

    def _once(self, url: str, current: str, accept: frozenset[str], headers: dict[str, str]) -> Fetched:
        import httpx

        self.pacer.wait(host_of(current))
        with self.count_lock:
            self.requests += 1
        try:
            with self.client.stream("GET", current, headers=headers) as response:
                return self._read(url, response, accept)
        except httpx.TimeoutException as exc:
            raise _Retry(f"timed out after {self.settings.timeout:g} s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed: {type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:  # e.g. a broken gzip stream: the server's fault, not transient
            raise FetchError(url, f"bad response: {type(exc).__name__}: {exc}") from exc

    def _read(self, url: str, response: httpx.Response, accept: frozenset[str]) -> Fetched:
        status = response.status_code
        if status in REDIRECT_STATUS and response.headers.get("location"):
            raise _Redirect(response.headers["location"])
        if status in TRANSIENT_STATUS:
            raise _Retry(f"HTTP {status} {response.reason_phrase}", _retry_after(response))
        if status != 304 and not 200 <= status < 300:
            raise FetchError(url, f"HTTP {status} {response.reason_phrase}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if status != 304 and content_type and content_type not in accept:
            raise FetchError(url, f"refused: content type {content_type} is not {' or '.join(sorted(accept)[:3])}")
        cap = self.settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and "content-encoding" not in response.headers:
            raise FetchError(url, f"refused: {int(declared):,} bytes > the {cap:,}-byte cap")
        body = bytearray()
        for piece in response.iter_bytes():
            body += piece
            if len(body) > cap:
                raise FetchError(url, f"refused: over the {cap:,}-byte cap")
        return Fetched(
            url=url,
            final_url=str(response.url),
            status=status,
            body=bytes(body),
            content_type=content_type,
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
        )


class _Retry(Exception):
    """Internal: a failure worth another attempt (after ``after`` seconds when the server said)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class _Redirect(Exception):
    """Internal: the response redirects to ``location`` (followed by ``Fetcher._follow``)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None

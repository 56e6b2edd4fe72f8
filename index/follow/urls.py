"""URLs as article keys: a URL -> its canonical form (tracking parameters, fragment and default port dropped).

Example:
    >>> canonical_url("HTTPS://News.Example.org:443/a/b?utm_source=rss&id=7&fbclid=x#top")
    'https://news.example.org/a/b?id=7'
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that say how a reader arrived, not which page it is (rules are data).
TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs")
TRACKING_NAMES = frozenset(
    "fbclid gclid dclid gbraid wbraid msclkid yclid twclid igshid mkt_tok ref ref_src ref_url cmpid "
    "ocid ncid smid sr_share at_medium at_campaign at_custom1 at_custom2 rss taid".split()
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_NAMES or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """``url`` with scheme and host lower-cased, the default port, fragment and tracking parameters dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)])
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def absolute(base: str, link: str) -> str | None:
    """``link`` resolved against ``base``; None unless it is an http(s) URL."""
    resolved = urljoin(base, link.strip())
    return resolved if urlsplit(resolved).scheme in ("http", "https") else None


def is_home(url: str) -> bool:
    """A site's front page (``/``, ``/index.html``): followed through its feeds, not read as an article."""
    path = urlsplit(url).path
    return path in ("", "/") or path.lower() in ("/index.html", "/index.htm", "/index.php")

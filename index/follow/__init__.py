"""Following the news: feeds, sitemaps, home and article pages polled into an index, kept fresh.

- ``fetch``: the polite HTTP fetcher (httpx): timeouts, retries, pacing, validators, caps;
- ``robots``: robots.txt per host; ``urls``: canonical URLs;
- ``discover``: what a fetched URL is (feed, sitemap, home page, article page);
- ``sources``: checking followed URLs; ``pages``: fetching article pages into Articles;
- ``state``: what was seen, saved beside the index; ``run``: one pass (``follow_once``) and the loop.
"""

from index.follow.fetch import FetchError, FetchSettings
from index.follow.records import FollowLine, FollowReport, FollowSettings
from index.follow.run import follow, follow_once
from index.follow.state import FollowerBusyError, FollowState, SourceState, load_state

__all__ = [
    "FetchError",
    "FetchSettings",
    "FollowLine",
    "FollowReport",
    "FollowSettings",
    "FollowState",
    "FollowerBusyError",
    "SourceState",
    "follow",
    "follow_once",
    "load_state",
]

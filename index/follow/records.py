"""The follower's records: settings, one report line per URL, the report of a pass, the work in between."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from index.errors import SettingsError
from index.follow.discover import Item
from index.follow.fetch import Fetched, FetchSettings
from index.follow.state import PageState
from index.records import Article

Status = Literal["checked", "fetched", "skipped", "failed"]


@dataclass(frozen=True)
class FollowSettings:
    """A polling pass: how to fetch, how many items to take from one source, how many articles per index write."""

    fetch: FetchSettings = field(default_factory=FetchSettings)
    max_items: int = 200  # per feed or sitemap, in its order (newest first in most feeds)
    batch: int = 64  # articles per index write (and per state write after it)
    max_depth: int = 2  # home page -> feed, sitemap index -> sitemap

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.batch < 1 or self.max_depth < 0:
            raise SettingsError("follow: max_items and batch must be >= 1, max_depth >= 0")


@dataclass(frozen=True)
class FollowLine:
    """One URL's outcome: a source checked, a page fetched (new or changed), skipped or failed, with the reason."""

    status: Status
    url: str
    reason: str = ""
    source: str = ""  # the followed URL it came from
    article_id: str = ""
    title: str = ""
    published: str = ""  # ISO date, or empty

    def to_dict(self) -> dict[str, str]:
        return {
            "status": self.status,
            "url": self.url,
            "reason": self.reason,
            "source": self.source,
            "article_id": self.article_id,
            "title": self.title,
            "published": self.published,
        }

    def text(self) -> str:
        """``fetched  URL  (reason)``: the line the CLI prints."""
        reason = f"{self.reason}: {self.title}" if self.status == "fetched" and self.title else self.reason
        detail = f"  ({reason})" if reason else ""
        return f"{self.status:8} {self.url}{detail}"


@dataclass(frozen=True)
class FollowReport:
    """What one polling pass did."""

    index_dir: Path
    lines: tuple[FollowLine, ...]
    added: int
    replaced: int
    requests: int
    articles_total: int
    seconds: float

    def count(self, status: Status) -> int:
        return sum(1 for line in self.lines if line.status == status)

    def summary(self) -> str:
        return (
            f"{self.index_dir}: {self.added} added, {self.replaced} replaced; {self.count('skipped')} skipped, "
            f"{self.count('failed')} failed; {self.requests} requests in {self.seconds:.1f} s; "
            f"{self.articles_total} articles"
        )


@dataclass(frozen=True)
class PageTask:
    """A page to fetch: the item that names it, the feed it came from and the followed URL above that.
    ``got`` is the response when the page was itself the followed URL (fetched already)."""

    item: Item
    feed: str
    source: str
    got: Fetched | None = None


@dataclass(frozen=True)
class PageOutcome:
    """A page's line, its article when it is new or changed, the state to record once indexed,
    and whether its failure may pass (its feed is then asked again next time)."""

    task: PageTask
    line: FollowLine
    article: Article | None = None
    page: PageState | None = None
    transient: bool = False

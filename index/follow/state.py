"""What a follower has seen, kept beside the index: ``INDEX/follow.json`` <-> ``FollowState``.

Sources (their validators, when each was last checked, what it added), pages (canonical
URL -> validators, content hash, article id) and robots.txt files. Written atomically
(a temporary file, fsync, ``os.replace``, fsync of the folder) and only after the index
write it describes, so a crash at any point leaves a state that is never ahead of the
index: a page the state calls seen is in the index; a page the index holds but the state
forgot is fetched again and found unchanged (``add_articles`` embeds nothing).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.errors import CorruptIndexError, NewsQAError

STATE_FILE = "follow.json"
LOCK_FILE = ".follow.lock"
STATE_VERSION = 1


@dataclass(frozen=True)
class SourceState:
    """A followed URL: its kind, validators, discovered feeds (a home page), last check and yield."""

    url: str
    kind: str = ""  # feed | sitemap | page | home
    etag: str = ""
    last_modified: str = ""
    feeds: tuple[str, ...] = ()  # what a home page led to
    checked: str = ""  # ISO time of the last check
    added: int = 0  # articles added or replaced by the last check that found any
    added_at: str = ""  # when that was
    error: str = ""  # the last check's failure, if it failed


@dataclass(frozen=True)
class PageState:
    """An article page: where it was fetched, its validators, its feed stamp and what it became."""

    url: str  # canonical
    fetched_url: str = ""
    etag: str = ""
    last_modified: str = ""
    stamp: str = ""  # the feed entry's updated time or the sitemap's lastmod when last fetched
    content_hash: str = ""
    article_id: str = ""
    fetched: str = ""


@dataclass(frozen=True)
class RobotsState:
    """A host's robots.txt as last fetched (``status`` 200, 4xx: allow all, 5xx: disallow all)."""

    host: str
    status: int
    text: str = ""
    fetched_at: float = 0.0  # epoch seconds


@dataclass
class FollowState:
    """The whole state; mutated by one polling pass (under the follow lock), then saved."""

    sources: dict[str, SourceState] = field(default_factory=dict)
    pages: dict[str, PageState] = field(default_factory=dict)
    robots: dict[str, RobotsState] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "sources": [asdict(s) for s in self.sources.values()],
            "pages": [asdict(p) for p in self.pages.values()],
            "robots": [asdict(r) for r in self.robots.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FollowState:
        sources = [SourceState(**{**row, "feeds": tuple(row.get("feeds", ()))}) for row in data.get("sources", [])]
        pages = [PageState(**row) for row in data.get("pages", [])]
        robots = [RobotsState(**row) for row in data.get("robots", [])]
        return cls(
            sources={s.url: s for s in sources},
            pages={p.url: p for p in pages},
            robots={r.host: r for r in robots},
        )


def load_state(index_dir: Path) -> FollowState:
    """The state saved in ``index_dir`` (empty when there is none); ``CorruptIndexError`` if unreadable."""
    path = index_dir / STATE_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return FollowState()
    try:
        data = json.loads(raw)
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {STATE_VERSION}")
        return FollowState.from_dict(data)
    except (ValueError, TypeError, AttributeError) as exc:
        raise CorruptIndexError(
            f"{path}: unreadable follow state ({exc}); delete it to fetch every page again (nothing is re-embedded)"
        ) from exc


def save_state(index_dir: Path, state: FollowState) -> None:
    """Write ``state`` atomically: a reader sees the old file or the new one, never half of one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{STATE_FILE}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(state.to_dict(), handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / STATE_FILE)
    fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FollowerBusyError(NewsQAError):
    """Another follower is polling into the same index."""


@contextlib.contextmanager
def follow_lock(index_dir: Path) -> Iterator[None]:
    """One follower per index at a time (the lock dies with its process)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK_FILE).open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise FollowerBusyError(f"{index_dir}: another `newsqa follow` is polling into this index") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

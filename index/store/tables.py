"""A generation's articles and chunks read on demand: articles.jsonl / chunks.jsonl bytes -> Mapping / Sequence.

A million articles as Python records (their text UCS-2 in memory) would take over 10 GB;
these tables keep, per article, its id, content hash, source, publication day, text length
and line offset, and per chunk its article row, number and span (numbers, in NumPy arrays).
An ``Article`` is parsed from its line when asked for (the last few thousand are kept), a
``Chunk``'s text is cut from its article. The bytes are those verified against the manifest
(a memory map when the file is large). A write that only adds rows copies the old lines as
they are and appends the new ones (``with_added`` then ``write``).
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

from index.records import Article, Chunk
from index.store.verify import MMAP_FROM_BYTES, verified_bytes, verified_path

_CACHED = 4096  # articles kept parsed: the passages of a few questions
_COPY_BLOCK = 16 * 2**20


def _parser(raw: Any, spans: np.ndarray, added: Sequence[Article]) -> Callable[[int], Article]:
    """Row -> its Article: parsed from its line of ``raw``, or one of ``added`` after the lines."""

    def parse(row: int) -> Article:
        if row >= len(spans):
            return added[row - len(spans)]
        start, end = spans[row]
        return Article.from_dict(json.loads(bytes(raw[start:end])))

    return parse


def _lines(raw: Any) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-empty line of ``raw`` (bytes or a memory map), end excluding the newline."""
    pos, n, released = 0, len(raw), 0
    while pos < n:
        end = raw.find(b"\n", pos)
        end = n if end < 0 else end
        if end > pos and raw[pos:end].strip():
            yield pos, end
        pos = end + 1
        if pos - released >= _COPY_BLOCK:
            released = _release(raw, released, pos)


def _release(raw: Any, start: int, end: int) -> int:
    """Drop the pages of a memory map before ``end`` from this process (they stay in the page cache):
    reading a large file through the map once does not leave it counted in the process's memory."""
    if isinstance(raw, mmap.mmap):
        done = end // mmap.PAGESIZE * mmap.PAGESIZE
        if done > start:
            raw.madvise(mmap.MADV_DONTNEED, start, done - start)
            return done
    return start


def _copy(raw: Any, handle: Any) -> None:
    for start in range(0, len(raw), _COPY_BLOCK):
        handle.write(raw[start : start + _COPY_BLOCK])
        _release(raw, start, min(start + _COPY_BLOCK, len(raw)))
    if len(raw) and raw[len(raw) - 1 : len(raw)] != b"\n":
        handle.write(b"\n")


class ArticleTable(Mapping[str, Article]):
    """The articles of a generation by id, parsed from their JSONL line when read."""

    def __init__(
        self, raw: Any, spans: np.ndarray, meta: dict[str, Any], added: Sequence[Article] = (), whole: bool = True
    ) -> None:
        self._raw = raw  # articles.jsonl's verified bytes (or memory map); ``spans`` (n, 2) its lines
        self._spans = spans
        self.ids: list[str] = meta["ids"]
        self.hashes: list[str] = meta["hashes"]
        self.sources: list[str] = meta["sources"]
        self.days: np.ndarray = meta["days"]  # publication day as date.toordinal(), -1 when unknown
        self.lengths: np.ndarray = meta["lengths"]  # text length in characters
        self._row: dict[str, int] = meta.get("rows") or {a: i for i, a in enumerate(self.ids)}
        self._added = tuple(added)
        self._whole = whole  # ``spans`` are every line of ``raw``: a write copies it whole
        # a cache over a function of the data, not of ``self``: a bound method would make a cycle (table ->
        # cache -> method -> table) that keeps an old generation's memory map open until the cyclic GC runs
        self.at: Callable[[int], Article] = lru_cache(maxsize=_CACHED)(_parser(raw, self._spans, self._added))

    @classmethod
    def parse(cls, raw: Any) -> ArticleTable:
        """Read every line once, keeping what search, checks and writes need (``ValueError`` when unreadable)."""
        spans: list[tuple[int, int]] = []
        meta: dict[str, Any] = {"ids": [], "hashes": [], "sources": [], "days": [], "lengths": []}
        sources: dict[str, str] = {}
        for start, end in _lines(raw):
            article = Article.from_dict(json.loads(bytes(raw[start:end])))
            spans.append((start, end))
            _note(meta, article, sources)
        meta["rows"] = {a: i for i, a in enumerate(meta["ids"])}
        if len(meta["rows"]) != len(meta["ids"]):
            raise ValueError("two articles share an id")
        return cls(raw, np.asarray(spans, np.int64).reshape(-1, 2), _arrays(meta))

    def __getitem__(self, key: str) -> Article:
        return self.at(self._row[key])

    def __contains__(self, key: object) -> bool:
        return key in self._row

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, article_id: str) -> int:
        return self._row[article_id]

    def source_names(self) -> set[str]:
        """Every article's source (from the column kept at load: no record is parsed)."""
        return set(self.sources)

    def newest(self, count: int) -> list[Article]:
        """At least the ``count`` newest articles by publication day (every one of the oldest day
        they reach, so that ties are all there), parsed; undated ones last."""
        if len(self.ids) <= count:
            return [self.at(i) for i in range(len(self.ids))]
        days = np.asarray(self.days)
        floor = np.partition(days, len(days) - count)[len(days) - count]  # the count-th newest day
        return [self.at(int(i)) for i in np.flatnonzero(days >= floor)]

    def with_added(self, articles: Sequence[Article]) -> ArticleTable:
        """This table followed by ``articles`` (new ids), the old lines left where they are."""
        meta: dict[str, Any] = {"ids": list(self.ids), "hashes": list(self.hashes), "sources": list(self.sources)}
        meta |= {"days": self.days.tolist(), "lengths": self.lengths.tolist(), "rows": dict(self._row)}
        interned = {s: s for s in self.sources}
        for article in articles:
            if article.id in meta["rows"]:
                raise ValueError(f"article {article.id!r} is already in the table")
            meta["rows"][article.id] = len(meta["ids"])
            _note(meta, article, interned)
        return ArticleTable(self._raw, self._spans, _arrays(meta), [*self._added, *articles], self._whole)

    def without(self, drop: set[str]) -> ArticleTable:
        """This table less the articles in ``drop`` (the rest in order; their lines copied on a write)."""
        keep = np.array([a not in drop for a in self.ids], dtype=bool)
        meta: dict[str, Any] = {k: [x for x, kept in zip(getattr(self, k), keep, strict=True) if kept] for k in _LISTS}
        meta |= {"days": self.days[keep], "lengths": self.lengths[keep]}
        base = len(self._spans)
        added = [a for a, kept in zip(self._added, keep[base:], strict=True) if kept]
        return ArticleTable(self._raw, self._spans[keep[:base]], meta, added, whole=False)

    def write(self, path: Path) -> None:
        """articles.jsonl of this table: the old lines copied as bytes, the added ones after them."""
        with path.open("wb") as handle:
            if self._whole and len(self._spans):
                _copy(self._raw, handle)
            else:
                released = 0
                for start, end in self._spans.tolist():
                    handle.write(self._raw[start:end] + b"\n")
                    if end - released >= _COPY_BLOCK:
                        released = _release(self._raw, released, end)
            for article in self._added:
                handle.write(json.dumps(article.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n")


_LISTS = ("ids", "hashes", "sources")


def _note(meta: dict[str, Any], article: Article, interned: dict[str, str]) -> None:
    meta["ids"].append(article.id)
    meta["hashes"].append(article.content_hash)
    meta["sources"].append(interned.setdefault(article.source, article.source))
    meta["days"].append(article.published.toordinal() if article.published else -1)
    meta["lengths"].append(len(article.text))


def _arrays(meta: dict[str, Any]) -> dict[str, Any]:
    return meta | {"days": np.asarray(meta["days"], np.int64), "lengths": np.asarray(meta["lengths"], np.int64)}


class ChunkTable(Sequence[Chunk]):
    """The chunks of a generation, row ``i`` = vector row ``i``; each a span of its article.

    Chunk ids are ``{article_id}:{number}`` (``index/chunk.py``): stored as the article's row and the number.
    """

    def __init__(self, articles: ArticleTable, columns: np.ndarray, raw: Any = b"", base: int = 0) -> None:
        self.articles = articles
        self.columns = columns  # (n, 4) int64: article row, number, start, end
        self._raw = raw  # chunks.jsonl's verified bytes: the first ``base`` rows, copied as they are on a write
        self._base = base
        self._order: np.ndarray | None = None
        self._keys = np.zeros(0, np.int64)

    @classmethod
    def parse(cls, raw: Any, articles: ArticleTable) -> ChunkTable:
        """Read chunks.jsonl (id, article_id, start, end a line); ``ValueError`` for an id of another shape
        and ``KeyError`` for an unknown article."""
        rows: list[tuple[int, int, int, int]] = []
        for start, end in _lines(raw):
            record = json.loads(bytes(raw[start:end]))
            rows.append(_columns(record["id"], record["article_id"], record["start"], record["end"], articles))
        return cls(articles, np.asarray(rows, np.int64).reshape(-1, 4), raw, len(rows))

    @property
    def article_rows(self) -> np.ndarray:
        return self.columns[:, 0]

    def __len__(self) -> int:
        return len(self.columns)

    @overload
    def __getitem__(self, i: int) -> Chunk: ...

    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...

    def __getitem__(self, i: int | slice) -> Chunk | list[Chunk]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        article_row, number, start, end = (int(x) for x in self.columns[i])
        article = self.articles.at(article_row)
        return Chunk(f"{article.id}:{number}", article.id, article.text[start:end], start, end)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same chunks (a list of them, say)."""
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def article_id(self, i: int) -> str:
        return self.articles.ids[int(self.columns[i, 0])]

    def row(self, chunk_id: str) -> int:
        """The row of the chunk with this id (``KeyError`` when there is none)."""
        article_id, _, number = chunk_id.rpartition(":")
        if article_id not in self.articles or not number.isdigit():
            raise KeyError(chunk_id)
        if self._order is None:  # rows sorted by (article row, number), found by bisection
            order = np.lexsort((self.columns[:, 1], self.columns[:, 0]))
            self._keys = _id_keys(self.columns[order])
            self._order = order  # set last: a thread that sees it sees the keys
        keys = self._keys
        wanted = _id_keys(np.array([[self.articles.row(article_id), int(number)]], np.int64))[0]
        at = int(np.searchsorted(keys, wanted))
        if at == len(keys) or keys[at] != wanted:
            raise KeyError(chunk_id)
        return int(self._order[at])

    def texts(self) -> Sequence[str]:
        """Every chunk's text, cut when read."""
        return _Texts(self)

    def with_added(self, articles: ArticleTable, chunks: Sequence[Chunk]) -> ChunkTable:
        """This table followed by ``chunks`` (of articles in ``articles``, which extends this table's)."""
        new = np.asarray([_columns(c.id, c.article_id, c.start, c.end, articles) for c in chunks], np.int64)
        return ChunkTable(articles, np.concatenate([self.columns, new.reshape(-1, 4)]), self._raw, self._base)

    def take(self, rows: np.ndarray, articles: ArticleTable) -> ChunkTable:
        """The chunks at ``rows`` (in order), of ``articles`` (this table's less some articles, in order)."""
        columns = self.columns[rows].copy()
        new_row = np.full(len(self.articles), -1, np.int64)
        new_row[[self.articles.row(a) for a in articles.ids]] = np.arange(len(articles))
        columns[:, 0] = new_row[columns[:, 0]]
        if len(columns) and columns[:, 0].min() < 0:
            raise ValueError("a chunk kept of an article not kept")
        unchanged = len(rows) >= self._base and np.array_equal(rows[: self._base], np.arange(self._base))
        return ChunkTable(articles, columns, self._raw, self._base if unchanged else 0)

    def write(self, path: Path) -> None:
        """chunks.jsonl of this table (no text): the rows read from disk copied as bytes, the rest after."""
        with path.open("wb") as handle:
            _copy(self._raw, handle) if self._base else None
            for i in range(self._base, len(self)):
                article_row, number, start, end = (int(x) for x in self.columns[i])
                article_id = self.articles.ids[article_row]
                row = {"id": f"{article_id}:{number}", "article_id": article_id, "start": start, "end": end}
                handle.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")

    def problem(self) -> str:
        """What is wrong with the chunks against their articles ("" when nothing): spans outside the
        article's text, or two chunks with one id. (Their text is cut from the article: it matches.)"""
        if not len(self):
            return ""
        starts, ends = self.columns[:, 2], self.columns[:, 3]
        bad = np.flatnonzero((starts < 0) | (starts >= ends) | (ends > self.articles.lengths[self.article_rows]))
        if len(bad):
            return f"line {bad[0] + 1} ({self[int(bad[0])].id}) is not a span of its article"
        keys = np.sort(_id_keys(self.columns))
        return "two chunks share an id" if (np.diff(keys) == 0).any() else ""


def _id_keys(columns: np.ndarray) -> np.ndarray:
    """One integer a chunk id: its article's row and its number, (row << 32) + number."""
    return np.asarray(columns[:, 0] * 2**32 + columns[:, 1], np.int64)


def _columns(chunk_id: str, article_id: str, start: int, end: int, articles: ArticleTable) -> tuple[int, int, int, int]:
    prefix, _, number = str(chunk_id).rpartition(":")
    if prefix != article_id or not number.isdigit():
        raise ValueError(f"chunk id {chunk_id!r} is not '{article_id}:<number>'")
    return articles.row(article_id), int(number), int(start), int(end)


class _Texts(Sequence[str]):
    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._chunks = chunks

    def __len__(self) -> int:
        return len(self._chunks)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [c.text for c in self._chunks[i]]
        return self._chunks[i].text


def chunk_texts(chunks: Sequence[Chunk]) -> Sequence[str]:
    """The chunks' texts, each cut when read (a list of Chunks: the same, read on demand)."""
    return chunks.texts() if isinstance(chunks, ChunkTable) else _Texts(chunks)


def chunk_row_of(chunks: Sequence[Chunk]) -> Callable[[str], int]:
    """A function from chunk id to row (``KeyError`` when unknown): the table's own, or a dict's."""
    if isinstance(chunks, ChunkTable):
        return chunks.row
    rows = {c.id: i for i, c in enumerate(chunks)}
    return rows.__getitem__


def chunk_articles(
    chunks: Sequence[Chunk], articles: Mapping[str, Article]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per chunk row: its article's id, source (an object array) and publication day (ordinal, -1 unknown)."""
    if isinstance(chunks, ChunkTable) and isinstance(articles, ArticleTable) and chunks.articles is articles:
        rows = chunks.article_rows
        sources = np.asarray(articles.sources, dtype=object)
        return [articles.ids[r] for r in rows.tolist()], sources[rows], articles.days[rows]
    listed = [articles[c.article_id] for c in chunks]
    days = np.array([a.published.toordinal() if a.published else -1 for a in listed], dtype=np.int64)
    return [c.article_id for c in chunks], np.array([a.source for a in listed], dtype=object), days


def table_bytes(generation: Path, name: str, checksums: dict[str, str], root: Path) -> Any:
    """articles.jsonl or chunks.jsonl, checksum verified: its bytes, or a read-only memory map when large."""
    path = generation / name
    if not (path.exists() and path.stat().st_size >= MMAP_FROM_BYTES):
        return verified_bytes(generation, name, checksums[name], root)
    verified_path(generation, name, checksums[name], root)
    with path.open("rb") as handle:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

"""The next generation's contents from the live one: IndexData less removed articles, plus new rows -> IndexData.

A loaded index's records stay tables (their lines are copied by the write, not parsed into
records again), its memory-mapped sentence codes are chained to the new ones (streamed by the
write), and its BM25 segments are kept (hard-linked) with one counted for the new rows only.
Removing or replacing articles keeps the tables and the mapped codes too (``without``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import Embedder
from index.embed.base import embedder_build
from index.records import Article, Chunk
from index.settings import IndexSettings
from index.store.generations import IndexData, load_keyword_index
from index.store.keyword import KeywordIndex
from index.store.rows import ChainedRows, QuantizedRows, chain
from index.store.tables import ArticleTable, ChunkTable, chunk_articles, chunk_texts
from index.store.vectors import FaissStore, StoredRows


def kept_rows(data: IndexData, drop: set[str]) -> np.ndarray | None:
    """The chunk rows that stay when the articles in ``drop`` go (None: all of them)."""
    if not drop:
        return None
    ids = chunk_articles(data.chunks, data.articles)[0]
    return np.array([i for i, a in enumerate(ids) if a not in drop], dtype=np.int64)


def without(data: IndexData, drop: set[str]) -> IndexData:
    """``data`` minus the articles in ``drop`` (chunk rows renumbered, ids kept)."""
    keep_rows = kept_rows(data, drop)
    if keep_rows is None:
        return data
    new_row = np.full(len(data.chunks), -1, dtype=np.int64)
    new_row[keep_rows] = np.arange(len(keep_rows))
    sentence_keep = new_row[data.sentences[:, 0]] >= 0 if len(data.sentences) else np.zeros(0, bool)
    sentences = data.sentences[sentence_keep].copy()
    if len(sentences):
        sentences[:, 0] = new_row[sentences[:, 0]]
    if isinstance(data.articles, ArticleTable) and isinstance(data.chunks, ChunkTable):
        articles: Any = data.articles.without(drop)  # tables stay tables: nothing parsed into records
        chunks: Any = data.chunks.take(keep_rows, articles)
    else:
        articles = {k: v for k, v in data.articles.items() if k not in drop}
        chunks = [data.chunks[i] for i in keep_rows]
    return IndexData(
        settings=data.settings,
        articles=articles,
        chunks=chunks,
        chunk_vectors=StoredRows(_Subset(data.chunk_vectors, keep_rows)),
        sentences=sentences,
        sentence_vectors=take(data.sentence_vectors, sentence_keep),
        embedder_name=data.embedder_name,
        dim=data.dim,
        embedder_build=data.embedder_build,
    )


def take(vectors: Any, rows: np.ndarray) -> Any:
    """Rows of sentence vectors, left quantized when they are (no float copy of a large index), and left
    on disk when memory-mapped (read when written)."""
    return vectors.pick(rows) if isinstance(vectors, QuantizedRows | ChainedRows) else vectors[rows]


def joined(
    data: IndexData, fresh: dict[str, Article], chunks: list[Chunk]
) -> tuple[dict[str, Article] | ArticleTable, list[Chunk] | ChunkTable]:
    """The index's articles and chunks followed by the new ones. A loaded index's tables stay tables:
    the write copies their lines as bytes, nothing read from disk is parsed into records again."""
    if isinstance(data.articles, ArticleTable) and isinstance(data.chunks, ChunkTable):
        articles = data.articles.with_added(list(fresh.values()))
        return articles, data.chunks.with_added(articles, chunks)
    return {**data.articles, **fresh}, [*data.chunks, *chunks]


def keyword_after(
    root: Path, existing: IndexData | None, kept: np.ndarray | None, new: Sequence[str], texts: Sequence[str]
) -> KeywordIndex | None:
    """The live generation's BM25 index, less the rows not ``kept`` (None: all kept), plus ``new`` texts:
    its segments are kept (hard-linked by the write), only the new rows are counted. ``texts``: every
    row's text after the write, for an index whose BM25 predates segments (counted again, once)."""
    if existing is None or not existing.generation:
        return None
    keyword = load_keyword_index(root, existing.generation, chunk_texts(existing.chunks))
    mask = None
    if kept is not None:
        mask = np.zeros(keyword.size, dtype=bool)
        mask[kept] = True
    return keyword.extend(mask, new, texts)


def next_generation(
    root: Path,
    existing: IndexData | None,
    data: IndexData,
    kept: np.ndarray | None,
    new: tuple[dict[str, Article], list[Chunk], np.ndarray, np.ndarray, Any],
    extended: FaissStore | None,
    settings: IndexSettings,
    embedder: Embedder,
) -> IndexData:
    """``data`` (the index less the articles replaced) followed by the ``new`` articles, chunks and vectors.
    A loaded index's tables, memory-mapped sentence codes and BM25 segments are extended, not read again."""
    fresh, chunks, chunk_vecs, sentences, sentence_vecs = new
    all_articles, all_chunks = joined(data, fresh, chunks)
    old_vectors = data.sentence_vectors
    codes = getattr(old_vectors, "codes", None)  # a memory map, or rows of one: left on disk until written
    mapped = isinstance(old_vectors, ChainedRows) or (codes is not None and type(codes) is not np.ndarray)
    return IndexData(
        settings=settings.to_dict(),
        articles=all_articles,
        chunks=all_chunks,
        chunk_vectors=extended.as_array() if extended else StoredRows(_Joined(data.chunk_vectors, chunk_vecs)),
        sentences=np.concatenate([data.sentences, sentences]),
        sentence_vectors=(chain if mapped else QuantizedRows.concat)([old_vectors, sentence_vecs]),
        store=extended,
        embedder_name=embedder.name,
        dim=embedder.dim,
        embedder_build=embedder_build(embedder),
        keyword=keyword_after(root, existing, kept, [c.text for c in chunks], chunk_texts(all_chunks))
        if fresh
        else None,
    )


class _Joined:
    """Rows of ``first`` (an array or a store's row reader) then ``second``, read on demand: a store
    trained again reads them a block at a time (4 million rows as float32 are 6 GB, twice that once
    concatenated)."""

    def __init__(self, first: Any, second: np.ndarray) -> None:
        self._first, self._second = first, second
        self.dim = int(second.shape[1])

    def __len__(self) -> int:
        return len(self._first) + len(self._second)

    def vectors(self, rows: Any) -> np.ndarray:
        wanted = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.empty((len(wanted), self.dim), np.float32)
        old = wanted < len(self._first)
        if old.any():
            out[old] = np.asarray(self._first[wanted[old]], dtype=np.float32)
        out[~old] = self._second[wanted[~old] - len(self._first)]
        return out


class _Subset:
    """Rows ``rows`` of ``source`` (an array or a store's row reader), read on demand."""

    def __init__(self, source: Any, rows: np.ndarray) -> None:
        self._source, self._rows = source, rows
        self.dim = int(source.shape[1])

    def __len__(self) -> int:
        return len(self._rows)

    def vectors(self, rows: Any) -> np.ndarray:
        return np.asarray(self._source[self._rows[np.asarray(rows, dtype=np.int64)]], dtype=np.float32)

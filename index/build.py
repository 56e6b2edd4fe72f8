"""Build or update an index: paths or Articles -> chunks -> vectors -> saved generation (BuildReport).

Only new or changed articles are embedded: an article whose id and content hash are
already indexed is left as it is, one whose id is known but whose text changed replaces
the old version, and a text already indexed under another id is a duplicate.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.chunk import Chunker, chunk_sentences
from index.embed import Embedder, make_embedder
from index.embed.base import check_embedder_build
from index.errors import BadInputError, IndexMismatchError, IndexNotFoundError
from index.read.ingest import DEFAULT_MAX_BYTES, FieldMap, IngestLine, ingest_paths
from index.records import Article, Chunk
from index.settings import IndexSettings
from index.store.extend import extend_store
from index.store.generations import IndexData, current_generation, load_index, save_index, write_lock
from index.store.rows import QuantizedRows
from index.store.tables import ArticleTable, chunk_texts
from index.store.vectors import FaissStore, VectorStore
from index.update import kept_rows, keyword_after, next_generation, without

EMBED_GROUP = 256  # chunks per embedder call: the progress bar's step


@dataclass(frozen=True)
class BuildReport:
    """What a build or update did, with its timings."""

    index_dir: Path
    generation: str
    ingest: tuple[IngestLine, ...]
    added: int
    replaced: int
    unchanged: int
    duplicates: int
    removed: int
    articles_total: int
    chunks_embedded: int
    chunks_total: int
    seconds: float
    embed_seconds: float

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0


def _empty(settings: IndexSettings, embedder: Embedder) -> IndexData:
    dim = embedder.dim
    return IndexData(
        settings=settings.to_dict(),
        articles={},
        chunks=[],
        chunk_vectors=np.zeros((0, dim), np.float32),
        sentences=np.zeros((0, 3), np.int64),
        sentence_vectors=np.zeros((0, dim), np.float32),
        embedder_name=embedder.name,
        dim=dim,
    )


def _check_storable(article: Article) -> None:
    """Refuse text that cannot be written as UTF-8 (lone surrogates) before anything is embedded."""
    for value in (article.id, article.title, article.text, article.source, article.url, article.author):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadInputError(
                f"article {article.id!r}: {exc.reason} at character {exc.start}; it cannot be stored as UTF-8"
            ) from exc


def _progress(total: int, enabled: bool):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, unit="chunk", desc="embedding", disable=not enabled, file=sys.stderr, smoothing=0.1)


def embed_articles(
    articles: Sequence[Article],
    chunker: Chunker,
    embedder: Embedder,
    first_row: int,
    progress: bool,
    quantize: bool = False,
) -> tuple[list[Chunk], np.ndarray, np.ndarray, Any]:
    """Chunk and embed ``articles``: chunks, chunk vectors, sentence rows (chunk row, start, end)
    and sentence vectors; chunk rows are numbered from ``first_row``. The one path every
    build takes (``add_articles`` and the sharded Ray path alike). ``quantize``: sentence vectors
    as int8 ``QuantizedRows``, coded a group at a time (a quarter of float32's memory: 100,000
    articles have ~2.5 million sentences, 3.8 GB as float32)."""
    chunks: list[Chunk] = []
    sentence_rows: list[tuple[int, int, int]] = []
    for article in articles:
        new = chunker.chunk(article)
        rows = range(first_row + len(chunks), first_row + len(chunks) + len(new))
        located = chunk_sentences(article, zip(rows, new, strict=True))
        sentence_rows.extend((s.chunk_row, s.start, s.end) for s in located)
        chunks.extend(new)
    sentences = np.array(sentence_rows, dtype=np.int64).reshape(-1, 3)
    chunk_vecs: list[np.ndarray] = []
    sentence_vecs: list[Any] = []
    cursor = 0  # first sentence row of the current group
    with _progress(len(chunks), progress and len(chunks) > EMBED_GROUP) as bar:
        for begin in range(0, len(chunks), EMBED_GROUP):
            group = chunks[begin : begin + EMBED_GROUP]
            spans: list[list[tuple[int, int]]] = [[] for _ in group]
            while cursor < len(sentences) and sentences[cursor, 0] < first_row + begin + len(group):
                row, start, end = sentences[cursor]
                chunk = group[row - first_row - begin]
                spans[row - first_row - begin].append((int(start) - chunk.start, int(end) - chunk.start))
                cursor += 1
            cv, sv = embedder.embed_chunks([c.text for c in group], spans)
            chunk_vecs.append(cv)
            sentence_vecs.append(QuantizedRows.quantize(sv) if quantize else sv)
            bar.update(len(group))
    dim = embedder.dim
    if not sentence_vecs:
        sentence_vecs = [np.zeros((0, dim), np.float32)]
    return (
        chunks,
        np.concatenate(chunk_vecs) if chunk_vecs else np.zeros((0, dim), np.float32),
        sentences,
        QuantizedRows.concat(sentence_vecs) if quantize else np.concatenate(sentence_vecs),
    )


def add_articles(
    index_dir: Path | str,
    articles: Iterable[Article],
    settings: IndexSettings | None = None,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: bool = False,
    ingest_report: Sequence[IngestLine] = (),
) -> BuildReport:
    """Add (or replace) articles in the index at ``index_dir``, creating it if needed.

    ``settings`` apply to a new index (or ``rebuild``); an existing index keeps the
    settings it was built with, and its embedder must match the one given.
    """
    started = time.perf_counter()
    root = Path(index_dir)
    with write_lock(root):
        existing: IndexData | None = None
        if not rebuild and current_generation(root) is not None:
            stored = load_index(root)
            if embedder is not None and embedder.name != stored.embedder_name:
                raise IndexMismatchError(
                    f"{root}: index built with embedder {stored.embedder_name!r}, not {embedder.name!r}; "
                    f"rebuild with: newsqa index --rebuild PATH... --index {root}"
                )
            if embedder is not None:
                check_embedder_build(root, stored.embedder_build, embedder)
            existing = stored
            settings = IndexSettings(**stored.settings)
        settings = settings or IndexSettings()
        embedder = embedder or make_embedder(settings.embedder)
        if existing is not None:
            check_embedder_build(root, existing.embedder_build, embedder)
        data = existing or _empty(settings, embedder)

        fresh, replaced, unchanged, duplicates = _sort_new(data, articles)
        kept = kept_rows(data, replaced)
        data = without(data, replaced)
        embed_started = time.perf_counter()
        chunks, chunk_vecs, sentences, sentence_vecs = embed_articles(
            list(fresh.values()),
            Chunker(settings.chunk_size, settings.chunk_overlap),
            embedder,
            len(data.chunks),
            progress,
            quantize=True,
        )
        embed_seconds = time.perf_counter() - embed_started
        extended = _extend(existing.store if existing else None, kept, chunk_vecs, settings)
        new = (fresh, chunks, chunk_vecs, sentences, sentence_vecs)
        merged = next_generation(root, existing, data, kept, new, extended, settings, embedder)
        generation = save_index(root, merged) if (fresh or existing is None) else current_generation(root)
    assert generation is not None
    return BuildReport(
        index_dir=root,
        generation=generation.name,
        ingest=tuple(ingest_report),
        added=len(fresh) - len(replaced),
        replaced=len(replaced),
        unchanged=unchanged,
        duplicates=duplicates,
        removed=0,
        articles_total=len(merged.articles),
        chunks_embedded=len(chunks),
        chunks_total=len(merged.chunks),
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
    )


def _sort_new(data: IndexData, articles: Iterable[Article]) -> tuple[dict[str, Article], set[str], int, int]:
    """Split ``articles`` against the index: the ones to embed (new or changed), the ids they
    replace, and how many are unchanged or duplicates (same text under another id)."""
    if isinstance(data.articles, ArticleTable):  # no article parsed: the table keeps every hash
        known_hashes = dict(zip(data.articles.hashes, data.articles.ids, strict=True))
    else:
        known_hashes = {a.content_hash: a.id for a in data.articles.values()}
    fresh: dict[str, Article] = {}
    replaced: set[str] = set()
    unchanged = duplicates = 0
    for article in articles:
        old = data.articles.get(article.id)
        if old is not None and old.content_hash == article.content_hash:
            unchanged += 1
        elif article.id in fresh or known_hashes.get(article.content_hash, article.id) != article.id:
            duplicates += 1
        else:
            _check_storable(article)
            if old is not None:
                replaced.add(article.id)
            fresh[article.id] = article
            known_hashes[article.content_hash] = article.id
    return fresh, replaced, unchanged, duplicates


def build_index(
    paths: Sequence[Path | str],
    index_dir: Path | str,
    settings: IndexSettings | None = None,
    embedder: Embedder | None = None,
    fields: FieldMap | None = None,
    rebuild: bool = False,
    progress: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> BuildReport:
    """Ingest ``paths`` (files and folders) and add their articles to the index at ``index_dir``.

    Files larger than ``max_bytes`` are rejected (reported), JSONL excepted (streamed).
    """
    result = ingest_paths(paths, fields, max_bytes=max_bytes, on_file=_reading if progress else None)
    if progress and sys.stderr.isatty():
        print("\r\x1b[K", end="", file=sys.stderr, flush=True)  # the progress line goes
    refuse_if_all_rejected(result.articles, result.report)
    return add_articles(index_dir, result.articles, settings, embedder, rebuild, progress, result.report)


def _reading(n: int, path: Path) -> None:
    """Progress while files are read (a large HTML page can take seconds): one line, rewritten."""
    if sys.stderr.isatty():
        name = "".join(c for c in path.name[:60] if c.isprintable())  # a file name can hold escape codes
        print(f"\r\x1b[Kreading file {n}: {name}", end="", file=sys.stderr, flush=True)


def refuse_if_all_rejected(articles: Sequence[Article], report: Sequence[IngestLine]) -> None:
    """A run whose every file was rejected is an error (``BadInputError`` naming the first reasons),
    raised before anything is written: no empty index is created, an existing one is left alone."""
    if articles or not report or any(line.status != "rejected" for line in report):
        return
    reasons = "; ".join(f"{Path(line.path).name}: {line.reason}" for line in report[:3])
    more = f"; and {len(report) - 3} more" if len(report) > 3 else ""
    raise BadInputError(f"no articles to index: every file was rejected ({reasons}{more})")


def _extend(
    store: VectorStore | None, kept: np.ndarray | None, new: np.ndarray, settings: IndexSettings
) -> FaissStore | None:
    """IVF (and int8 flat): new rows join the trained lists and ranges until grown ivf_retrain_growth times."""
    return extend_store(store, kept, new, settings.ivf_retrain_growth, settings.chunk_codes)


def remove_articles(index_dir: Path | str, ids: Iterable[str]) -> BuildReport:
    """Delete articles by id; unknown ids are reported in ``BuildReport.ingest`` as rejected."""
    started = time.perf_counter()
    root = Path(index_dir)
    with write_lock(root):
        if current_generation(root) is None:
            raise IndexNotFoundError(f"no index at {root}")
        data = load_index(root)
        wanted = list(dict.fromkeys(ids))
        drop = {i for i in wanted if i in data.articles}
        lines = tuple(IngestLine(i, "rejected", 0, "no article with this id") for i in wanted if i not in drop)
        generation, kept = current_generation(root), data
        if drop:  # else nothing to write: the store is not read again
            rows = kept_rows(data, drop)
            extended = _extend(data.store, rows, np.zeros((0, data.dim), np.float32), IndexSettings(**data.settings))
            kept = without(data, drop)
            kept = replace(kept, keyword=keyword_after(root, data, rows, [], chunk_texts(kept.chunks)))
            kept = replace(kept, store=extended, chunk_vectors=extended.as_array()) if extended else kept
            generation = save_index(root, kept)
    assert generation is not None
    return BuildReport(
        index_dir=root,
        generation=generation.name,
        ingest=lines,
        added=0,
        replaced=0,
        unchanged=len(kept.articles),
        duplicates=0,
        removed=len(drop),
        articles_total=len(kept.articles),
        chunks_embedded=0,
        chunks_total=len(kept.chunks),
        seconds=time.perf_counter() - started,
        embed_seconds=0.0,
    )

"""Save and load an index directory: plain files (JSON, JSONL, .npy, FAISS), no pickle.

Layout: ``ROOT/CURRENT`` names the live generation ``ROOT/gen-NNNNNN/``, which holds
``manifest.json``, ``articles.jsonl``, ``chunks.jsonl`` (line i = vector row i), ``chunks.faiss``
(float32, float16 or int8 codes, ``codes.py``), ``sentences.npy`` (int32 rows: chunk row, start, end),
``sentence_vectors.npy`` (int8 codes) with ``sentence_scales.npy`` (``rows.py``) and ``keyword/``;
chunks.jsonl holds no text (a chunk is a span of its article); with ``store = "milvus"`` the chunk vectors
live in a Milvus collection instead of ``chunks.faiss`` (``milvus.py``; by default Milvus Lite's ``chunks.milvus.db/``
inside the generation). A write builds a new generation in a temporary folder, renames it into place,
then replaces ``CURRENT`` atomically: a crash at any moment leaves the previous generation intact.

Loading trusts nothing on disk: the manifest carries its own checksum and one for every file,
each file is hashed before any parser (FAISS, NumPy, JSON, bm25s) reads it, and the parsed
contents are checked against each other (counts, dimensions, every chunk's offsets). Milvus's
own files are not hashed (Milvus Lite rewrites them when it opens them); its collection is
checked for its dimension and row count. Any failure is a ``CorruptIndexError`` or
``IndexMismatchError`` that names the file and says how to rebuild.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from index.errors import CorruptIndexError, IndexMismatchError, IndexNotFoundError
from index.records import Article, Chunk
from index.store import rows as _rows
from index.store import verify as _verify
from index.store.codes import codes_setting
from index.store.keyword import KeywordIndex, load_keyword_index
from index.store.rows import ChainedRows, QuantizedRows
from index.store.tables import ArticleTable, ChunkTable, chunk_texts, table_bytes
from index.store.vectors import FaissStore, StoredRows, VectorKind, VectorStore, build_store, read_store, store_to_write
from index.store.verify import FORMAT_VERSION, MMAP_FROM_BYTES, REQUIRED_FILES
from index.store.verify import rebuild_hint as _rebuild
from index.store.verify import verified_bytes as _verified_bytes

if TYPE_CHECKING:
    from index.store.milvus import MilvusStore

__all__ = [
    "FORMAT_VERSION",
    "REQUIRED_FILES",
    "IndexData",
    "load_index",
    "load_keyword_index",
    "read_manifest",
    "save_index",
]

_GENERATION = re.compile(r"gen-(\d{6,})")
_LOAD_ATTEMPTS = 3  # a reader racing two writers may see its generation collected; it then reads the new one


@dataclass(frozen=True)
class IndexData:
    """Everything one index generation holds, in memory."""

    settings: dict[str, Any]
    articles: Mapping[str, Article]  # a loaded index: an ArticleTable (parsed on demand)
    chunks: Sequence[Chunk]  # a loaded index: a ChunkTable (text cut from the article when read)
    chunk_vectors: np.ndarray | StoredRows  # a loaded index: a view of (or row reader over) ``store``
    sentences: np.ndarray
    sentence_vectors: np.ndarray | QuantizedRows | ChainedRows  # loaded: int8 codes with scales, maybe mapped
    embedder_name: str
    dim: int
    generation: str = ""
    store: VectorStore | None = None  # the loaded vector store (FAISS or Milvus); None for data built in memory
    vector_kind: VectorKind | Literal["auto"] = "auto"  # the store kind to write: by corpus size unless set
    embedder_build: dict[str, str] = field(default_factory=dict)  # e.g. the int8 model's opset and checksum
    keyword: KeywordIndex | None = None  # the BM25 index to write, when extended from the last one (else built)

    def vector_store(self) -> VectorStore:
        """The store to search: the loaded one, or one built from ``chunk_vectors`` (data built in memory)."""
        if self.store is not None:
            return self.store
        return build_store(np.asarray(self.chunk_vectors), self.vector_kind, codes=codes_setting(self.settings))

    def __post_init__(self) -> None:
        n, m = len(self.chunks), len(self.sentences)
        if self.chunk_vectors.shape != (n, self.dim) or self.sentence_vectors.shape != (m, self.dim):
            raise CorruptIndexError(
                f"index generation {self.generation or '(new)'}: {n} chunks / {m} sentences but vectors "
                f"{self.chunk_vectors.shape} / {self.sentence_vectors.shape} of dimension {self.dim}"
            )


def _files(directory: Path) -> list[Path]:
    """The files the manifest holds checksums for (not Milvus Lite's, which Milvus itself rewrites)."""
    from index.store.milvus import LITE_DIR

    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.name != "manifest.json" and p.relative_to(directory).parts[0] != LITE_DIR
    )


def fsync_path(path: Path) -> None:
    """Flush a file or a folder (its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_generation(root: Path) -> Path | None:
    """The live generation folder of the index at ``root``, or None when there is none.

    A ``CURRENT`` file that names no generation (empty, garbage, a path) is a
    ``CorruptIndexError``, never a path outside the index.
    """
    pointer = root / "CURRENT"
    try:
        raw = pointer.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise CorruptIndexError(f"{pointer}: unreadable ({exc}); {_rebuild(root)}") from exc
    name = raw.decode("utf-8", errors="replace").strip()
    if not _GENERATION.fullmatch(name):
        raise CorruptIndexError(
            f"{pointer}: should name a generation folder such as gen-000001 but holds {name[:40]!r}; {_rebuild(root)}"
        )
    return root / name


def _live_name(root: Path) -> str | None:
    """The live generation's name, or None when there is none or ``CURRENT`` is broken."""
    try:
        live = current_generation(root)
    except CorruptIndexError:
        return None
    return live.name if live else None


def _remove_leftovers(root: Path) -> None:
    """Delete what killed writers left behind: temporary folders and pointer files, a generation
    renamed but never made live, old generations a collection did not finish removing."""
    live = _live_name(root)
    numbers = sorted(int(m.group(1)) for p in root.iterdir() if (m := _GENERATION.fullmatch(p.name)))
    if live is not None:  # keep the live generation and the one before it; a broken CURRENT keeps all
        older = [n for n in numbers if n < int(live[4:])]
        _collect_garbage(root, keep={live, *(f"gen-{n:06d}" for n in older[-1:])})
    for path in root.iterdir():
        if path.name.startswith(".CURRENT.") and path.is_file():
            path.unlink(missing_ok=True)
        elif path.name.startswith(".tmp-") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Hold the index's writer lock: one writer at a time; readers never wait.

    The lock dies with its process, so a killed writer never blocks the next one, which
    starts by removing the dead writer's temporary files.
    """
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            _remove_leftovers(root)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_index(root: Path, data: IndexData) -> Path:
    """Write ``data`` as a new generation of the index at ``root`` and make it live.

    The caller should hold :func:`write_lock`. Returns the new generation's folder.
    """
    root.mkdir(parents=True, exist_ok=True)
    live = _live_name(root)  # None also when CURRENT is broken: a --rebuild replaces it
    # numbered past every generation folder and the live name, so no name is ever live twice
    # (a reader that holds a generation compares names to know when to reload)
    names = [p.name for p in root.iterdir()] + ([live] if live else [])
    numbers = [int(m.group(1)) for name in names if (m := _GENERATION.fullmatch(name))]
    name = f"gen-{max(numbers, default=0) + 1:06d}"
    tmp = root / f".tmp-{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()

    if isinstance(data.articles, ArticleTable):  # the lines read from disk are copied, not parsed again
        data.articles.write(tmp / "articles.jsonl")
    else:
        _rows.write_jsonl(tmp / "articles.jsonl", (a.to_dict() for a in data.articles.values()))
    # a chunk's text is a span of its article: stored once, in articles.jsonl
    if isinstance(data.chunks, ChunkTable) and data.chunks.articles is data.articles:
        data.chunks.write(tmp / "chunks.jsonl")
    else:
        _rows.write_jsonl(
            tmp / "chunks.jsonl", ({k: v for k, v in c.to_dict().items() if k != "text"} for c in data.chunks)
        )
    if data.settings.get("store") == "milvus":
        from index.store.milvus import write_collection

        rows = [data.articles[c.article_id] for c in data.chunks]  # each chunk's source, day and article
        metadata = [(a.source, a.published.toordinal() if a.published else -1, a.id) for a in rows]
        vector_entry = write_collection(tmp, name, data.settings, data.chunk_vectors, metadata, data.dim)
    else:
        # the store ``data`` carries when it holds every row (extended without retraining), else a new one
        vector_entry = store_to_write(data.store, data.chunk_vectors, data.dim, data.vector_kind, data.settings).save(
            tmp / "chunks.faiss"
        )
    _rows.save_sentences(tmp, data.sentences, data.sentence_vectors)
    keyword = data.keyword if data.keyword is not None and data.keyword.size == len(data.chunks) else None
    (keyword or KeywordIndex.build(chunk_texts(data.chunks))).save(tmp / "keyword")

    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "newsqa_version": _verify.package_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedder": {"name": data.embedder_name, "dim": data.dim}
        | ({"build": data.embedder_build} if data.embedder_build else {}),
        "settings": data.settings,
        "counts": {"articles": len(data.articles), "chunks": len(data.chunks), "sentences": len(data.sentences)},
        "vectors": vector_entry,
        "keyword": {"tokenizer": KeywordIndex.TOKENIZER},
        "checksums": _verify.generation_checksums(tmp, _files(tmp), root / live if live else None, root),
    }
    manifest["manifest_checksum"] = _verify.manifest_checksum(manifest)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    for path in [*_files(tmp), tmp / "manifest.json"]:
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    for folder in {p.parent for p in _files(tmp)}:
        fsync_path(folder)

    final = root / name
    os.rename(tmp, final)
    pointer_tmp = root / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, root / "CURRENT")
    fsync_path(root)
    _collect_garbage(root, keep={name, live or name})
    return final


def _collect_garbage(root: Path, keep: set[str]) -> None:
    """Remove generations and temporary folders that are neither live nor the previous one.

    A generation whose vectors live in Milvus has its collection dropped (server) or its
    Milvus Lite server stopped (folder) first; a drop that fails leaves the folder for the next collection.
    """
    for path in root.iterdir():
        if path.is_dir() and (path.name.startswith("gen-") or path.name.startswith(".tmp-")) and path.name not in keep:
            _drop_milvus(path)
            shutil.rmtree(path, ignore_errors=True)


def _drop_milvus(generation: Path) -> None:
    try:
        entry = json.loads((generation / "manifest.json").read_bytes()).get("vectors")
    except (OSError, ValueError, AttributeError):
        return  # no readable manifest: a temporary folder, or vectors in a file
    if isinstance(entry, dict) and entry.get("kind") == "milvus":
        from index.store.milvus import drop_generation

        drop_generation(generation, entry)


def read_manifest(root: Path) -> tuple[Path, dict[str, Any]]:
    """Locate the live generation and parse its manifest, with errors that name the file."""
    generation = current_generation(root)
    if generation is None:
        if not root.exists():
            raise IndexNotFoundError(f"no index at {root}: build one with: newsqa index PATH... --index {root}")
        raise IndexNotFoundError(
            f"{root} holds no index (no CURRENT file): build one with: newsqa index PATH... --index {root}"
        )
    if not generation.is_dir():
        raise CorruptIndexError(f"{root / 'CURRENT'}: names {generation.name}, which does not exist; {_rebuild(root)}")
    return generation, _verify.read_manifest_file(generation / "manifest.json", root)


def _parse(path: Path, root: Path, parse: Any, data: Any) -> Any:
    """``parse(data)``, with any failure turned into an error that names ``path``."""
    try:
        return parse(data)
    except (ValueError, KeyError, TypeError, AttributeError, RuntimeError, RecursionError) as exc:
        raise CorruptIndexError(f"{path}: unreadable ({exc}); {_rebuild(root)}") from exc


def _vector_store(generation: Path, manifest: dict[str, Any], root: Path) -> FaissStore | MilvusStore:
    """The chunk vectors, checksum verified: from bytes when small, memory-mapped when large; or in Milvus."""
    name = "chunks.faiss"
    entry = manifest.get("vectors", {"kind": "flat"})  # absent in indexes written before the IVF kind
    if not isinstance(entry, dict):
        raise CorruptIndexError(f"{generation / 'manifest.json'}: vectors entry {entry!r}; {_rebuild(root)}")
    if entry.get("kind") == "milvus":
        from index.store.milvus import open_collection

        dim = manifest["embedder"]["dim"]
        manifest_path = generation / "manifest.json"
        milvus: MilvusStore = _parse(manifest_path, root, lambda e: open_collection(generation, e, dim), entry)
        return milvus
    path = generation / name
    large = path.exists() and path.stat().st_size >= MMAP_FROM_BYTES
    source: bytes | Path = (
        _verify.verified_path(generation, name, manifest["checksums"][name], root)
        if large
        else _verified_bytes(generation, name, manifest["checksums"][name], root)
    )
    store: FaissStore = _parse(path, root, lambda s: read_store(s, entry, manifest["embedder"]["dim"]), source)
    store.checksum = manifest["checksums"][name] if large else None
    return store


def _npy(data: bytes) -> np.ndarray:
    return np.asarray(np.load(io.BytesIO(data), allow_pickle=False))


_TABLES = ("articles.jsonl", "chunks.jsonl")  # read into tables (format 2 on), memory-mapped when large


def _load_generation(root: Path, generation: Path, manifest: dict[str, Any], expect_embedder: str | None) -> IndexData:
    built_with: str = manifest["embedder"]["name"]
    dim: int = manifest["embedder"]["dim"]
    if expect_embedder is not None and built_with != expect_embedder:
        raise IndexMismatchError(
            f"{generation / 'manifest.json'}: index built with embedder {built_with!r}, "
            f"but {expect_embedder!r} is in use; use that embedder or {_rebuild(root)}"
        )
    # every file is hashed before FAISS, NumPy, JSON or bm25s see a byte of it
    store = _vector_store(generation, manifest, root)  # before the other files: the largest, and mapped, not read
    compact = manifest["format_version"] >= 2  # format 1: chunk texts in chunks.jsonl, float16 sentence vectors
    later = ("chunks.faiss", *(_rows.MAPPED if compact else ()), *(_TABLES if compact else ()))
    blobs = {  # keyword/ is hashed by load_keyword_index, which reads it
        name: _verified_bytes(generation, name, digest, root)
        for name, digest in manifest["checksums"].items()
        if name not in later and not name.startswith("keyword/")
    }

    def parsed(name: str, parse: Any) -> Any:
        return _parse(generation / name, root, parse, blobs[name])

    if compact:  # tables over the verified bytes (a memory map when large): records parsed when read
        raw_articles = table_bytes(generation, _TABLES[0], manifest["checksums"], root)
        articles: Any = _parse(generation / _TABLES[0], root, ArticleTable.parse, raw_articles)
        raw_chunks = table_bytes(generation, _TABLES[1], manifest["checksums"], root)
        chunks: Any = _parse(generation / _TABLES[1], root, lambda b: ChunkTable.parse(b, articles), raw_chunks)
        sentence_vectors: Any = _rows.read_sentence_vectors(generation, manifest["checksums"], root)
    else:
        article_list = parsed("articles.jsonl", lambda b: [Article.from_dict(r) for r in _rows.read_jsonl(b)])
        articles = {a.id: a for a in article_list}
        if len(articles) != len(article_list):
            raise CorruptIndexError(f"{generation / 'articles.jsonl'}: two articles share an id; {_rebuild(root)}")
        chunks = parsed("chunks.jsonl", lambda b: [Chunk.from_dict(r) for r in _rows.read_jsonl(b)])
        sentence_vectors = parsed("sentence_vectors.npy", lambda b: _npy(b).astype(np.float32))
    parts: dict[str, Any] = {
        "settings": manifest["settings"],
        "articles": articles,
        "chunks": chunks,
        "chunk_vectors": store.as_array(),
        "sentences": parsed("sentences.npy", _npy),
        "sentence_vectors": sentence_vectors,
        "embedder_name": built_with,
        "embedder_build": {str(k): str(v) for k, v in manifest["embedder"].get("build", {}).items()},
        "dim": dim,
        "generation": generation.name,
        "store": store,
    }
    _verify.check_consistency(generation, manifest["counts"], parts, root)
    return IndexData(**parts)


def load_index(root: Path, expect_embedder: str | None = None) -> IndexData:
    """Load the live generation at ``root``, checking manifest, checksums and counts first.

    ``expect_embedder``: the embedder in use; an index built with another one is an error,
    never a silent wrong answer.
    """
    root = Path(root)
    for attempt in range(1, _LOAD_ATTEMPTS + 1):
        generation, manifest = read_manifest(root)
        try:
            return _load_generation(root, generation, manifest, expect_embedder)
        except CorruptIndexError:
            # a writer swapped in a new generation and collected this one while it was read
            if attempt == _LOAD_ATTEMPTS or _live_name(root) == generation.name:
                raise
    raise AssertionError("unreachable")

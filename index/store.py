"""Save and load an index directory: plain files (JSON, JSONL, .npy, FAISS), no pickle.

Layout: ``ROOT/CURRENT`` names the live generation ``ROOT/gen-NNNNNN/``, which holds
``manifest.json``, ``articles.jsonl``, ``chunks.jsonl`` (line i = vector row i),
``chunks.faiss``, ``sentences.npy`` (rows: chunk row, start, end), ``sentence_vectors.npy``
and ``keyword/``. A write builds a new generation in a temporary folder, renames it into
place, then replaces ``CURRENT`` atomically: a crash at any moment leaves the previous
generation live and intact.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError, IndexMismatchError, IndexNotFoundError
from index.keyword import KeywordIndex
from index.records import Article, Chunk

FORMAT_VERSION = 1
_REBUILD = "rebuild with: newsqa index --rebuild PATH... --index {root}"


def package_version() -> str:
    try:
        return version("newsqa")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class IndexData:
    """Everything one index generation holds, in memory."""

    settings: dict[str, Any]
    articles: dict[str, Article]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentences: np.ndarray
    sentence_vectors: np.ndarray
    embedder_name: str
    dim: int
    generation: str = ""

    def __post_init__(self) -> None:
        n, m = len(self.chunks), len(self.sentences)
        if self.chunk_vectors.shape != (n, self.dim) or self.sentence_vectors.shape != (m, self.dim):
            raise CorruptIndexError(
                f"index generation {self.generation or '(new)'}: {n} chunks / {m} sentences but vectors "
                f"{self.chunk_vectors.shape} / {self.sentence_vectors.shape} of dimension {self.dim}"
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != "manifest.json")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def current_generation(root: Path) -> Path | None:
    """The live generation folder of the index at ``root``, or None when there is none."""
    pointer = root / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return root / name if name else None


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Hold the index's writer lock: one writer at a time; readers never wait."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_index(root: Path, data: IndexData) -> Path:
    """Write ``data`` as a new generation of the index at ``root`` and make it live.

    The caller should hold :func:`write_lock`. Returns the new generation's folder.
    """
    import faiss

    root.mkdir(parents=True, exist_ok=True)
    live = current_generation(root)
    number = int(live.name.split("-")[1]) + 1 if live else 1
    name = f"gen-{number:06d}"
    tmp = root / f".tmp-{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()

    _write_jsonl(tmp / "articles.jsonl", (a.to_dict() for a in data.articles.values()))
    _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in data.chunks))
    vectors = faiss.IndexFlatIP(data.dim)
    if len(data.chunks):
        vectors.add(np.ascontiguousarray(data.chunk_vectors, dtype=np.float32))
    faiss.write_index(vectors, str(tmp / "chunks.faiss"))
    np.save(tmp / "sentences.npy", data.sentences.astype(np.int64), allow_pickle=False)
    np.save(tmp / "sentence_vectors.npy", data.sentence_vectors.astype(np.float16), allow_pickle=False)
    KeywordIndex.build([c.text for c in data.chunks]).save(tmp / "keyword")

    manifest = {
        "format_version": FORMAT_VERSION,
        "newsqa_version": package_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedder": {"name": data.embedder_name, "dim": data.dim},
        "settings": data.settings,
        "counts": {"articles": len(data.articles), "chunks": len(data.chunks), "sentences": len(data.sentences)},
        "checksums": {str(p.relative_to(tmp)): _sha256(p) for p in _files(tmp)},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for path in [*_files(tmp), tmp / "manifest.json"]:
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(tmp)

    final = root / name
    if final.exists():  # left over from a crash after the rename, before CURRENT moved
        shutil.rmtree(final)
    os.rename(tmp, final)
    pointer_tmp = root / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, root / "CURRENT")
    _fsync_dir(root)
    _collect_garbage(root, keep={name, live.name if live else name})
    return final


def _collect_garbage(root: Path, keep: set[str]) -> None:
    """Remove generations and temporary folders that are neither live nor the previous one."""
    for path in root.iterdir():
        if path.is_dir() and (path.name.startswith("gen-") or path.name.startswith(".tmp-")) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def read_manifest(root: Path) -> tuple[Path, dict[str, Any]]:
    """Locate the live generation and parse its manifest, with errors that name the file."""
    generation = current_generation(root)
    if generation is None:
        if not root.exists():
            raise IndexNotFoundError(f"no index at {root}: build one with: newsqa index PATH... --index {root}")
        raise IndexNotFoundError(
            f"{root} holds no index (no CURRENT file): build one with: newsqa index PATH... --index {root}"
        )
    path = generation / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CorruptIndexError(f"{path}: missing; {_REBUILD.format(root=root)}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptIndexError(f"{path}: not valid JSON ({exc}); {_REBUILD.format(root=root)}") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path}: index format {manifest.get('format_version')!r}, this newsqa reads {FORMAT_VERSION}; "
            + _REBUILD.format(root=root)
        )
    return generation, manifest


def _verify(generation: Path, manifest: dict[str, Any], root: Path) -> None:
    expected: dict[str, str] = manifest.get("checksums", {})
    for relative, checksum in expected.items():
        path = generation / relative
        if not path.is_file():
            raise CorruptIndexError(f"{path}: missing; {_REBUILD.format(root=root)}")
        if _sha256(path) != checksum:
            raise CorruptIndexError(
                f"{path}: checksum does not match the manifest (truncated or altered); {_REBUILD.format(root=root)}"
            )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_index(root: Path, expect_embedder: str | None = None) -> IndexData:
    """Load the live generation at ``root``, checking manifest, checksums and counts first.

    ``expect_embedder``: the embedder in use; an index built with another one is an error,
    never a silent wrong answer.
    """
    import faiss

    generation, manifest = read_manifest(root)
    built_with = manifest["embedder"]["name"]
    if expect_embedder is not None and built_with != expect_embedder:
        raise IndexMismatchError(
            f"{generation / 'manifest.json'}: index built with embedder {built_with!r}, "
            f"but {expect_embedder!r} is in use; use that embedder or {_REBUILD.format(root=root)}"
        )
    _verify(generation, manifest, root)
    try:
        articles = [Article.from_dict(row) for row in _read_jsonl(generation / "articles.jsonl")]
        chunks = [Chunk.from_dict(row) for row in _read_jsonl(generation / "chunks.jsonl")]
        vectors = faiss.read_index(str(generation / "chunks.faiss"))
        sentences = np.load(generation / "sentences.npy", allow_pickle=False)
        sentence_vectors = np.load(generation / "sentence_vectors.npy", allow_pickle=False).astype(np.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise CorruptIndexError(f"{generation}: unreadable index file ({exc}); {_REBUILD.format(root=root)}") from exc
    counts = manifest["counts"]
    found = {"articles": len(articles), "chunks": len(chunks), "sentences": len(sentences)}
    if found != counts or vectors.ntotal != len(chunks):
        raise CorruptIndexError(
            f"{generation}: manifest counts {counts} but files hold {found} and {vectors.ntotal} vectors; "
            + _REBUILD.format(root=root)
        )
    chunk_vectors = vectors.reconstruct_n(0, vectors.ntotal) if vectors.ntotal else np.zeros((0, vectors.d), np.float32)
    return IndexData(
        settings=manifest["settings"],
        articles={a.id: a for a in articles},
        chunks=chunks,
        chunk_vectors=chunk_vectors,
        sentences=sentences,
        sentence_vectors=sentence_vectors,
        embedder_name=built_with,
        dim=int(manifest["embedder"]["dim"]),
        generation=generation.name,
    )


def load_keyword_index(root: Path, generation: str) -> KeywordIndex:
    """The BM25 index saved with generation ``generation`` (checked by :func:`load_index`)."""
    return KeywordIndex.load(root / generation / "keyword")

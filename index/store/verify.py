"""Check an index generation before trusting it: manifest fields, file checksums, cross-file consistency.

Every file is hashed before any parser (FAISS, NumPy, JSON, bm25s) reads it. Small files
are hashed as bytes that the parser then receives (no window between check and use).
Large vector files are hashed while streamed (a few MiB at a time) and then
memory-mapped from the path: the only copy in memory is the OS page cache, at the cost of
a window between the check and the mapping. Generations are written once and never
modified in place, so only a process that rewrites files under a live index could use
that window; such a process can already replace the index outright.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError, IndexMismatchError
from index.records import Article, Chunk

# 4: keyword/ holds BM25 term counts in segments (segments.json, seg-NNNNNN/, index/store/postings.py),
# kept across writes (hard-linked), instead of bm25s's scores; otherwise as 3.
# 3: chunks.faiss may hold coded vectors (int8 by default, float16; the manifest's vectors entry names
# them, index/store/codes.py); otherwise as 2.
# 2: chunks.jsonl without the chunk text (a span of its article), sentences.npy as int32, sentence
# vectors as int8 codes (sentence_vectors.npy) with one float32 scale a row (sentence_scales.npy);
# 1: the text in chunks.jsonl, int64 sentence rows, float16 sentence vectors. Both are read.
FORMAT_VERSION = 4
READABLE_FORMATS = (1, 2, 3, 4)
# files every generation has; the manifest must hold a checksum for each (but chunks.faiss when Milvus
# holds the vectors: its collection is checked by dimension and row count instead)
REQUIRED_FILES = (
    "articles.jsonl",
    "chunks.jsonl",
    "chunks.faiss",
    "sentences.npy",
    "sentence_vectors.npy",
    "sentence_scales.npy",
    "keyword/size.txt",
)


def required_files(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The files whose checksums ``manifest`` must hold, given its format and where its vectors live."""
    vectors = manifest.get("vectors")
    milvus = isinstance(vectors, dict) and vectors.get("kind") == "milvus"
    old = manifest.get("format_version") == 1
    return tuple(
        f for f in REQUIRED_FILES if not (milvus and f == "chunks.faiss") and not (old and f == "sentence_scales.npy")
    )


MMAP_FROM_BYTES = 64 * 2**20  # a vector file this large is memory-mapped, not read into a bytes object
_COUNTS = ("articles", "chunks", "sentences")
_STREAM_BLOCK = 4 * 2**20


def rebuild_hint(root: Path) -> str:
    return f"rebuild with: newsqa index --rebuild PATH... --index {root}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """Checksum of the manifest's own content (every key but this one), canonical JSON."""
    body = {k: v for k, v in manifest.items() if k != "manifest_checksum"}
    return sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def check_manifest(path: Path, manifest: dict[str, Any], root: Path) -> None:
    """The fields loading relies on are there, with the right types, and the manifest is unaltered."""
    problem = ""
    embedder, counts, checksums = manifest.get("embedder"), manifest.get("counts"), manifest.get("checksums")
    stated = manifest.get("manifest_checksum")  # absent in indexes written before it existed
    if stated is not None and stated != manifest_checksum(manifest):
        problem = "its own checksum does not match (altered)"
    elif not (isinstance(embedder, dict) and isinstance(embedder.get("name"), str) and embedder["name"]):
        problem = "no embedder name"
    elif type(embedder.get("dim")) is not int or embedder["dim"] < 1:
        problem = f"embedder dimension {embedder.get('dim')!r} is not a positive integer"
    elif not isinstance(manifest.get("settings"), dict):
        problem = "no settings"
    elif not (isinstance(counts, dict) and all(type(counts.get(k)) is int and counts[k] >= 0 for k in _COUNTS)):
        problem = f"counts {counts!r} are not {', '.join(_COUNTS)} as whole numbers"
    elif not (isinstance(checksums, dict) and all(isinstance(v, str) for v in checksums.values())):
        problem = "no checksums"
    elif missing := [f for f in required_files(manifest) if f not in checksums]:
        problem = f"no checksum for {', '.join(missing)}"
    elif unsafe := [k for k in checksums if k.startswith("/") or ".." in k.split("/") or k == "manifest.json"]:
        problem = f"checksum entries outside the generation: {', '.join(unsafe)}"
    if problem:
        raise CorruptIndexError(f"{path}: {problem}; {rebuild_hint(root)}")


def read_manifest_file(path: Path, root: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_bytes())
    except OSError as exc:
        what = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc})"
        raise CorruptIndexError(f"{path}: {what}; {rebuild_hint(root)}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise CorruptIndexError(f"{path}: not valid JSON ({exc}); {rebuild_hint(root)}") from exc
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise CorruptIndexError(f"{path}: not an index manifest (no format_version); {rebuild_hint(root)}")
    if manifest["format_version"] not in READABLE_FORMATS:
        raise IndexMismatchError(
            f"{path}: index format {manifest['format_version']!r}, this newsqa reads "
            f"{' and '.join(map(str, READABLE_FORMATS))}; " + rebuild_hint(root)
        )
    check_manifest(path, manifest, root)
    return manifest


def verified_bytes(generation: Path, relative: str, checksum: str, root: Path) -> bytes:
    """The file's bytes, once its checksum matches; parsers get these bytes, not the file."""
    path = generation / relative
    try:
        data = path.read_bytes()
    except OSError as exc:
        what = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc})"
        raise CorruptIndexError(f"{path}: {what}; {rebuild_hint(root)}") from exc
    if sha256(data) != checksum:
        raise CorruptIndexError(
            f"{path}: checksum differs from the manifest (truncated or altered); {rebuild_hint(root)}"
        )
    return data


def check_consistency(generation: Path, counts: dict[str, int], data: dict[str, Any], root: Path) -> None:
    """Counts, shapes and offsets agree across files; anything else could give a wrong answer."""

    def fail(name: str, problem: str) -> None:
        raise CorruptIndexError(f"{generation / name}: {problem}; {rebuild_hint(root)}")

    chunks: list[Chunk] = data["chunks"]
    articles: dict[str, Article] = data["articles"]
    sentences, dim = data["sentences"], data["dim"]
    found = {"articles": len(articles), "chunks": len(chunks), "sentences": len(sentences)}
    if found != counts:
        fail("manifest.json", f"counts {counts} but the files hold {found}")
    n, m = len(chunks), len(sentences)
    store = data.get("store")  # checked block by block: the vectors may be a memory map or a row reader
    finite = store.all_finite() if store is not None else bool(np.isfinite(data["chunk_vectors"]).all())
    if data["chunk_vectors"].shape != (n, dim) or not finite:
        fail(
            "chunks.faiss" if getattr(store, "kind", "flat") != "milvus" else "manifest.json",
            f"{data['chunk_vectors'].shape[0]} vectors for {n} chunks, or a vector is not finite",
        )
    if sentences.shape != (m, 3) or sentences.dtype.kind not in "iu":
        fail("sentences.npy", f"shape {sentences.shape} of {sentences.dtype}, expected ({m}, 3) integers")
    vectors = data["sentence_vectors"]  # an array (format 1) or int8 codes with scales, maybe memory-mapped
    finite = vectors.all_finite() if hasattr(vectors, "all_finite") else bool(np.isfinite(vectors).all())
    if vectors.shape != (m, dim) or not finite:
        fail("sentence_vectors.npy", f"shape {data['sentence_vectors'].shape}, expected ({m}, {dim}) finite numbers")
    spans = getattr(chunks, "columns", None)  # a ChunkTable (format 2 on): checked as arrays
    if spans is not None:
        problem = chunks.problem()  # type: ignore[attr-defined]
        if problem:
            fail("chunks.jsonl", problem)
        chunk_starts, chunk_ends = spans[:, 2], spans[:, 3]
    else:
        if len({c.id for c in chunks}) != n:
            fail("chunks.jsonl", "two chunks share an id")
        for row, chunk in enumerate(chunks):
            article = articles.get(chunk.article_id)
            if article is None or chunk.start >= chunk.end or article.text[chunk.start : chunk.end] != chunk.text:
                fail("chunks.jsonl", f"line {row + 1} ({chunk.id}) is not a span of its article")
        chunk_starts = np.array([c.start for c in chunks], dtype=np.int64)
        chunk_ends = np.array([c.end for c in chunks], dtype=np.int64)
    if m:
        rows, starts, ends = sentences[:, 0], sentences[:, 1], sentences[:, 2]
        if rows.min() < 0 or rows.max() >= n:
            fail("sentences.npy", f"a sentence points at a chunk row outside 0..{n - 1}")
        chunk_starts, chunk_ends = chunk_starts[rows], chunk_ends[rows]
        if not ((chunk_starts <= starts) & (starts < ends) & (ends <= chunk_ends)).all():
            fail("sentences.npy", "a sentence lies outside its chunk")


def file_sha256(path: Path) -> str:
    """sha256 of a file, streamed a few MiB at a time (never held whole in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_STREAM_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verified_path(generation: Path, relative: str, checksum: str, root: Path) -> Path:
    """The file's path, once its checksum matches; hashed while streamed, never held whole in memory."""
    path = generation / relative
    try:
        digest = file_sha256(path)
    except OSError as exc:
        what = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc})"
        raise CorruptIndexError(f"{path}: {what}; {rebuild_hint(root)}") from exc
    if digest != checksum:
        raise CorruptIndexError(
            f"{path}: checksum differs from the manifest (truncated or altered); {rebuild_hint(root)}"
        )
    return path


def package_version() -> str:
    """newsqa's installed version (written into each manifest), "0+unknown" when not installed."""
    try:
        return version("newsqa")
    except PackageNotFoundError:
        return "0+unknown"


def generation_checksums(tmp: Path, files: list[Path], live: Path | None, root: Path) -> dict[str, str]:
    """sha256 of each of ``files`` of the new generation ``tmp``. A file hard-linked from the live generation
    (a keyword segment kept as it was) must still have the checksum the live manifest gives it:
    one altered on disk since it was read is not blessed into the new generation (``CorruptIndexError``)."""
    sums = {p.relative_to(tmp).as_posix(): file_sha256(p) for p in files}
    linked = {p.stat().st_ino: p for p in files if p.stat().st_nlink > 1}
    if not linked or live is None:
        return sums
    old = read_manifest_file(live / "manifest.json", root)["checksums"]
    for name, digest in old.items():
        path = live / name
        new = linked.get(path.stat().st_ino) if path.is_file() else None
        if new is not None and sums[new.relative_to(tmp).as_posix()] != digest:
            raise CorruptIndexError(
                f"{path}: changed since it was written (checksum differs from the manifest); the index was not "
                f"written: {rebuild_hint(root)}"
            )
    return sums

"""Save and load an index directory: plain files (JSON, JSONL, .npy, FAISS), no pickle.

Layout: ``ROOT/CURRENT`` names the live generation ``ROOT/gen-NNNNNN/``, which holds
``manifest.json``, ``articles.jsonl``, ``chunks.jsonl`` (line i = vector row i),
``chunks.faiss``, ``sentences.npy`` (rows: chunk row, start, end), ``sentence_vectors.npy``
and ``keyword/``. A write builds a new generation in a temporary folder, renames it into
place, then replaces ``CURRENT`` atomically: a crash at any moment leaves the previous
generation live and intact.

Loading trusts nothing on disk: the manifest carries its own checksum and one for every
file, each file is hashed before any parser (FAISS, NumPy, JSON, bm25s) reads it, and
the parsed contents are checked against each other (counts, dimensions, every chunk's
offsets into its article). Any failure is a ``CorruptIndexError`` or
``IndexMismatchError`` that names the file and says how to rebuild.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
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
_GENERATION = re.compile(r"gen-(\d{6,})")
# files every generation has; the manifest must hold a checksum for each
REQUIRED_FILES = (
    "articles.jsonl", "chunks.jsonl", "chunks.faiss", "sentences.npy", "sentence_vectors.npy", "keyword/size.txt"
)
_COUNTS = ("articles", "chunks", "sentences")
_LOAD_ATTEMPTS = 3  # a reader racing two writers may see its generation collected; it then reads the new one


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


def _rebuild(root: Path) -> str:
    return f"rebuild with: newsqa index --rebuild PATH... --index {root}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    """Checksum of the manifest's own content (every key but this one), canonical JSON."""
    body = {k: v for k, v in manifest.items() if k != "manifest_checksum"}
    return _sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))


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
    import faiss

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

    _write_jsonl(tmp / "articles.jsonl", (a.to_dict() for a in data.articles.values()))
    _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in data.chunks))
    vectors = faiss.IndexFlatIP(data.dim)
    if len(data.chunks):
        vectors.add(np.ascontiguousarray(data.chunk_vectors, dtype=np.float32))
    faiss.write_index(vectors, str(tmp / "chunks.faiss"))
    np.save(tmp / "sentences.npy", data.sentences.astype(np.int64), allow_pickle=False)
    np.save(tmp / "sentence_vectors.npy", data.sentence_vectors.astype(np.float16), allow_pickle=False)
    KeywordIndex.build([c.text for c in data.chunks]).save(tmp / "keyword")

    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "newsqa_version": package_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedder": {"name": data.embedder_name, "dim": data.dim},
        "settings": data.settings,
        "counts": {"articles": len(data.articles), "chunks": len(data.chunks), "sentences": len(data.sentences)},
        "checksums": {p.relative_to(tmp).as_posix(): _sha256(p.read_bytes()) for p in _files(tmp)},
    }
    manifest["manifest_checksum"] = _manifest_checksum(manifest)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    for path in [*_files(tmp), tmp / "manifest.json"]:
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    for folder in {p.parent for p in _files(tmp)}:
        _fsync_dir(folder)

    final = root / name
    os.rename(tmp, final)
    pointer_tmp = root / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, root / "CURRENT")
    _fsync_dir(root)
    _collect_garbage(root, keep={name, live or name})
    return final


def _collect_garbage(root: Path, keep: set[str]) -> None:
    """Remove generations and temporary folders that are neither live nor the previous one."""
    for path in root.iterdir():
        if path.is_dir() and (path.name.startswith("gen-") or path.name.startswith(".tmp-")) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _check_manifest(path: Path, manifest: dict[str, Any], root: Path) -> None:
    """The fields loading relies on are there, with the right types, and the manifest is unaltered."""
    problem = ""
    embedder, counts, checksums = manifest.get("embedder"), manifest.get("counts"), manifest.get("checksums")
    stated = manifest.get("manifest_checksum")  # absent in indexes written before it existed
    if stated is not None and stated != _manifest_checksum(manifest):
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
    elif missing := [f for f in REQUIRED_FILES if f not in checksums]:
        problem = f"no checksum for {', '.join(missing)}"
    elif unsafe := [k for k in checksums if k.startswith("/") or ".." in k.split("/") or k == "manifest.json"]:
        problem = f"checksum entries outside the generation: {', '.join(unsafe)}"
    if problem:
        raise CorruptIndexError(f"{path}: {problem}; {_rebuild(root)}")


def _read_manifest_file(path: Path, root: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_bytes())
    except OSError as exc:
        what = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc})"
        raise CorruptIndexError(f"{path}: {what}; {_rebuild(root)}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise CorruptIndexError(f"{path}: not valid JSON ({exc}); {_rebuild(root)}") from exc
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise CorruptIndexError(f"{path}: not an index manifest (no format_version); {_rebuild(root)}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path}: index format {manifest['format_version']!r}, this newsqa reads {FORMAT_VERSION}; "
            + _rebuild(root)
        )
    _check_manifest(path, manifest, root)
    return manifest


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
    return generation, _read_manifest_file(generation / "manifest.json", root)


def _verified_bytes(generation: Path, relative: str, checksum: str, root: Path) -> bytes:
    """The file's bytes, once its checksum matches; parsers get these bytes, not the file."""
    path = generation / relative
    try:
        data = path.read_bytes()
    except OSError as exc:
        what = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc})"
        raise CorruptIndexError(f"{path}: {what}; {_rebuild(root)}") from exc
    if _sha256(data) != checksum:
        raise CorruptIndexError(f"{path}: checksum differs from the manifest (truncated or altered); {_rebuild(root)}")
    return data


def _read_jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.split(b"\n") if line.strip()]


def _parse(path: Path, root: Path, parse: Any, data: bytes) -> Any:
    """``parse(data)``, with any failure turned into an error that names ``path``."""
    try:
        return parse(data)
    except (ValueError, KeyError, TypeError, AttributeError, RuntimeError, RecursionError) as exc:
        raise CorruptIndexError(f"{path}: unreadable ({exc}); {_rebuild(root)}") from exc


def _faiss_vectors(data: bytes, dim: int) -> np.ndarray:
    import faiss

    index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    if index.d != dim:
        raise ValueError(f"vectors of dimension {index.d}, the manifest says {dim}")
    if not index.ntotal:
        return np.zeros((0, dim), np.float32)
    return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def _npy(data: bytes) -> np.ndarray:
    return np.asarray(np.load(io.BytesIO(data), allow_pickle=False))


def _check_consistency(generation: Path, counts: dict[str, int], data: dict[str, Any], root: Path) -> None:
    """Counts, shapes and offsets agree across files; anything else could give a wrong answer."""

    def fail(name: str, problem: str) -> None:
        raise CorruptIndexError(f"{generation / name}: {problem}; {_rebuild(root)}")

    chunks: list[Chunk] = data["chunks"]
    articles: dict[str, Article] = data["articles"]
    sentences, dim = data["sentences"], data["dim"]
    found = {"articles": len(articles), "chunks": len(chunks), "sentences": len(sentences)}
    if found != counts:
        fail("manifest.json", f"counts {counts} but the files hold {found}")
    n, m = len(chunks), len(sentences)
    if data["chunk_vectors"].shape != (n, dim) or not np.isfinite(data["chunk_vectors"]).all():
        fail("chunks.faiss", f"{data['chunk_vectors'].shape[0]} vectors for {n} chunks, or a vector is not finite")
    if sentences.shape != (m, 3) or sentences.dtype.kind not in "iu":
        fail("sentences.npy", f"shape {sentences.shape} of {sentences.dtype}, expected ({m}, 3) integers")
    if data["sentence_vectors"].shape != (m, dim) or not np.isfinite(data["sentence_vectors"]).all():
        fail("sentence_vectors.npy", f"shape {data['sentence_vectors'].shape}, expected ({m}, {dim}) finite numbers")
    if len({c.id for c in chunks}) != n:
        fail("chunks.jsonl", "two chunks share an id")
    for row, chunk in enumerate(chunks):
        article = articles.get(chunk.article_id)
        if article is None or chunk.start >= chunk.end or article.text[chunk.start : chunk.end] != chunk.text:
            fail("chunks.jsonl", f"line {row + 1} ({chunk.id}) is not a span of its article")
    if m:
        rows, starts, ends = sentences[:, 0], sentences[:, 1], sentences[:, 2]
        if rows.min() < 0 or rows.max() >= n:
            fail("sentences.npy", f"a sentence points at a chunk row outside 0..{n - 1}")
        chunk_starts = np.array([c.start for c in chunks], dtype=np.int64)[rows]
        chunk_ends = np.array([c.end for c in chunks], dtype=np.int64)[rows]
        if not ((chunk_starts <= starts) & (starts < ends) & (ends <= chunk_ends)).all():
            fail("sentences.npy", "a sentence lies outside its chunk")


def _load_generation(root: Path, generation: Path, manifest: dict[str, Any], expect_embedder: str | None) -> IndexData:
    built_with: str = manifest["embedder"]["name"]
    dim: int = manifest["embedder"]["dim"]
    if expect_embedder is not None and built_with != expect_embedder:
        raise IndexMismatchError(
            f"{generation / 'manifest.json'}: index built with embedder {built_with!r}, "
            f"but {expect_embedder!r} is in use; use that embedder or {_rebuild(root)}"
        )
    # every file is hashed before FAISS, NumPy, JSON or bm25s see a byte of it
    blobs = {name: _verified_bytes(generation, name, digest, root) for name, digest in manifest["checksums"].items()}

    def parsed(name: str, parse: Any) -> Any:
        return _parse(generation / name, root, parse, blobs[name])

    article_list = parsed("articles.jsonl", lambda b: [Article.from_dict(r) for r in _read_jsonl(b)])
    parts: dict[str, Any] = {
        "settings": manifest["settings"],
        "articles": {a.id: a for a in article_list},
        "chunks": parsed("chunks.jsonl", lambda b: [Chunk.from_dict(r) for r in _read_jsonl(b)]),
        "chunk_vectors": parsed("chunks.faiss", lambda b: _faiss_vectors(b, dim)),
        "sentences": parsed("sentences.npy", _npy),
        "sentence_vectors": parsed("sentence_vectors.npy", lambda b: _npy(b).astype(np.float32)),
        "embedder_name": built_with,
        "dim": dim,
        "generation": generation.name,
    }
    if len(parts["articles"]) != len(article_list):
        raise CorruptIndexError(f"{generation / 'articles.jsonl'}: two articles share an id; {_rebuild(root)}")
    _check_consistency(generation, manifest["counts"], parts, root)
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


def load_keyword_index(root: Path, generation: str) -> KeywordIndex:
    """The BM25 index saved with generation ``generation``, its checksums verified first."""
    root = Path(root)
    folder = root / generation
    manifest = _read_manifest_file(folder / "manifest.json", root)
    for name, checksum in manifest["checksums"].items():
        if name.startswith("keyword/"):
            _verified_bytes(folder, name, checksum, root)
    return KeywordIndex.load(folder / "keyword")

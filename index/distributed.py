"""Bulk embedding over Ray Data in resumable shards: Articles -> shard folders (ShardReport) -> an index.

``embed_to_shards`` splits the corpus into fixed shards of ``shard_size`` articles (in
input order, after the same de-duplication as ``add_articles``), embeds the shards not
already on disk over Ray (one model per worker) and writes each one atomically as soon
as it arrives; a re-run verifies finished shards (checksums, articles, settings) and
never embeds them again. ``index_from_shards`` assembles them into an index generation.
Shard layout (plain .npy, JSONL and JSON; no pickle): see ``write_shard`` and docs/SCALING.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.build import BuildReport, embed_articles
from index.chunk import Chunker
from index.embed import Embedder, make_embedder
from index.errors import CorruptIndexError, SettingsError
from index.records import Article, Chunk
from index.settings import IndexSettings
from index.store.generations import IndexData, fsync_path, save_index, write_lock

SHARD_FORMAT = 1
DEFAULT_SHARD_SIZE = 256  # articles per shard: ~1,000-2,000 chunks, a few minutes of one worker
_FILES = ("chunks.jsonl", "chunk_vectors.npy", "sentences.npy", "sentence_vectors.npy")
# set for the driver and passed to every worker: nothing may reach the network at run time
_OFFLINE_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@dataclass(frozen=True)
class ShardResult:
    """One embedded shard: its chunks, sentence rows (chunk rows local to the shard) and vectors."""

    index: int
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentences: np.ndarray
    sentence_vectors: np.ndarray
    seconds: float
    node: str = ""  # the Ray node that embedded it ("node id@host"); "" in this process (workers=0)


@dataclass(frozen=True)
class ShardReport:
    """What ``embed_to_shards`` did: which shards it embedded and which it found complete."""

    shard_dir: Path
    shards_total: int
    embedded: tuple[int, ...]
    skipped: tuple[int, ...]
    articles: int
    chunks_embedded: int
    seconds: float

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_embedded / self.seconds if self.seconds > 0 else 0.0


def unique_articles(articles: Iterable[Article]) -> list[Article]:
    """The articles ``add_articles`` would embed into a new index: first of each id and each text."""
    seen: set[str] = set()
    kept: list[Article] = []
    for article in articles:
        keys = (f"id {article.id}", f"text {article.content_hash}")
        if not seen.intersection(keys):
            seen.update(keys)
            kept.append(article)
    return kept


def plan_shards(articles: Sequence[Article], shard_size: int) -> list[list[Article]]:
    """Consecutive runs of ``shard_size`` articles: the same corpus always gives the same shards."""
    if shard_size < 1:
        raise SettingsError(f"shard_size={shard_size}: must be at least 1")
    return [list(articles[i : i + shard_size]) for i in range(0, len(articles), shard_size)]


def _shard_key(articles: Sequence[Article], settings: IndexSettings) -> str:
    """What a shard's contents depend on: its articles (id and text) and the chunking/embedding settings."""
    digest = hashlib.sha256(json.dumps([settings.embedder, settings.chunk_size, settings.chunk_overlap]).encode())
    for article in articles:
        digest.update(f"\x1e{article.id}\x1f{article.content_hash}".encode())
    return digest.hexdigest()


def embed_shard(index: int, articles: Sequence[Article], chunker: Chunker, embedder: Embedder) -> ShardResult:
    """Chunk and embed one shard exactly as ``add_articles`` does (the same ``embed_articles``)."""
    started = time.perf_counter()
    chunks, chunk_vectors, sentences, sentence_vectors = embed_articles(articles, chunker, embedder, 0, progress=False)
    return ShardResult(
        index,
        chunks,
        chunk_vectors.astype(np.float32),
        sentences,
        sentence_vectors.astype(np.float32),
        time.perf_counter() - started,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shard_path(shard_dir: Path, index: int) -> Path:
    return shard_dir / f"shard-{index:06d}"


def write_shard(shard_dir: Path, result: ShardResult, key: str, embedder_name: str, dim: int) -> Path:
    """Write ``result`` as ``shard-NNNNNN/``: ``chunks.jsonl``, ``chunk_vectors.npy``, ``sentences.npy``
    (chunk row within the shard, start, end), ``sentence_vectors.npy``, then ``manifest.json`` with their
    checksums; all into ``.tmp-shard-NNNNNN-PID/``, fsynced, then renamed: the folder is complete or absent."""
    final = _shard_path(shard_dir, result.index)
    tmp = shard_dir / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as handle:
        for chunk in result.chunks:
            handle.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
    np.save(tmp / "chunk_vectors.npy", result.chunk_vectors, allow_pickle=False)
    np.save(tmp / "sentences.npy", result.sentences, allow_pickle=False)
    np.save(tmp / "sentence_vectors.npy", result.sentence_vectors, allow_pickle=False)
    manifest = {
        "format": SHARD_FORMAT,
        "shard": result.index,
        "key": key,
        "embedder": {"name": embedder_name, "dim": dim},
        "counts": {"chunks": len(result.chunks), "sentences": len(result.sentences)},
        "seconds": round(result.seconds, 3),
        "node": result.node,
        "checksums": {name: _sha256(tmp / name) for name in _FILES},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for path in [*(tmp / name for name in (*_FILES, "manifest.json")), tmp]:
        fsync_path(path)
    shutil.rmtree(final, ignore_errors=True)  # a shard that failed verification, being redone
    os.rename(tmp, final)
    fsync_path(shard_dir)
    return final


def shard_is_complete(shard_dir: Path, index: int, key: str) -> bool:
    """True when ``shard-NNNNNN`` exists, is for these articles and settings, and every checksum matches."""
    folder = _shard_path(shard_dir, index)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != SHARD_FORMAT or manifest.get("key") != key:
            return False
        return all(_sha256(folder / name) == manifest["checksums"][name] for name in _FILES)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def read_shard(shard_dir: Path, index: int, key: str) -> ShardResult:
    """Load a verified shard; a missing, altered or stale one is a ``CorruptIndexError``."""
    folder = _shard_path(shard_dir, index)
    if not shard_is_complete(shard_dir, index, key):
        raise CorruptIndexError(f"{folder}: missing, incomplete or built from other articles; re-run embed_to_shards")
    blobs = {name: (folder / name).read_bytes() for name in _FILES}
    chunks = [Chunk.from_dict(json.loads(line)) for line in blobs["chunks.jsonl"].splitlines() if line.strip()]

    def npy(name: str) -> np.ndarray:
        return np.asarray(np.load(io.BytesIO(blobs[name]), allow_pickle=False))

    return ShardResult(index, chunks, npy("chunk_vectors.npy"), npy("sentences.npy"), npy("sentence_vectors.npy"), 0.0)


def shard_nodes(shard_dir: Path | str) -> dict[int, str]:
    """Which Ray node embedded each shard on disk (from its manifest; "" for one embedded without Ray)."""
    paths = sorted(Path(shard_dir).glob("shard-*/manifest.json"))
    manifests = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    return {int(m["shard"]): str(m.get("node", "")) for m in manifests}


# --- Ray: one embedder per worker, shards in and arrays out as plain bytes ---------------------


def _to_bytes(array: np.ndarray) -> bytes:
    np.save(buffer := io.BytesIO(), array, allow_pickle=False)
    return buffer.getvalue()


def _from_bytes(data: Any) -> np.ndarray:
    return np.asarray(np.load(io.BytesIO(bytes(data)), allow_pickle=False))


class _ShardWorker:
    """Ray Data callable class: loads the model once per worker, embeds one shard per row."""

    def __init__(self, settings: dict[str, Any]) -> None:
        import ray

        parsed = IndexSettings(**settings)
        self._chunker = Chunker(parsed.chunk_size, parsed.chunk_overlap)
        self._embedder = make_embedder(parsed.embedder)
        self._node = f"{ray.get_runtime_context().get_node_id()}@{socket.gethostname()}"

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        columns = ("shard", "chunks", "chunk_vectors", "sentences", "sentence_vectors", "seconds", "node")
        out: dict[str, list[Any]] = {column: [] for column in columns}
        for index, payload in zip(batch["shard"], batch["articles"], strict=True):
            articles = [Article.from_dict(row) for row in json.loads(str(payload))]
            result = embed_shard(int(index), articles, self._chunker, self._embedder)
            out["shard"].append(result.index)
            out["chunks"].append(json.dumps([c.to_dict() for c in result.chunks], ensure_ascii=False))
            out["chunk_vectors"].append(_to_bytes(result.chunk_vectors))
            out["sentences"].append(_to_bytes(result.sentences))
            out["sentence_vectors"].append(_to_bytes(result.sentence_vectors))
            out["seconds"].append(result.seconds)
            out["node"].append(self._node)
        return out


def _ray_results(shards: dict[int, list[Article]], settings: IndexSettings, workers: int) -> Iterator[ShardResult]:
    """Embed ``shards`` on the connected Ray cluster; results arrive as workers finish them (any order)."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    items = [
        {"shard": k, "articles": json.dumps([a.to_dict() for a in shard], ensure_ascii=False)}
        for k, shard in shards.items()
    ]
    dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        _ShardWorker,
        fn_constructor_kwargs={"settings": settings.to_dict()},
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    for row in dataset.iter_rows():
        chunks = [Chunk.from_dict(c) for c in json.loads(str(row["chunks"]))]
        cv, rows, sv = (_from_bytes(row[n]) for n in ("chunk_vectors", "sentences", "sentence_vectors"))
        yield ShardResult(int(row["shard"]), chunks, cv, rows, sv, float(row["seconds"]), str(row["node"]))


@contextlib.contextmanager
def _shard_lock(root: Path) -> Iterator[None]:
    """One run at a time per shard folder; the lock dies with its process, so a killed run never blocks."""
    with (root / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SettingsError(f"{root}: another run is writing shards there") from exc
        yield


def connect_ray(workers: int, ray_address: str | None = None) -> bool:
    """Connect to ``ray_address``, or start a local Ray with ``workers`` CPUs, offline and without a dashboard.

    Returns True when this call started the connection (the caller then shuts it down);
    an already initialised Ray is used as it is.
    """
    try:
        import ray
    except ImportError as exc:
        raise SettingsError("--workers needs Ray: pip install 'ray[data]==2.60.0' (or use --workers 0)") from exc
    if ray.is_initialized():
        return False
    os.environ.update(_OFFLINE_ENV)
    runtime_env = {"env_vars": dict(_OFFLINE_ENV)}
    try:
        if ray_address:
            ray.init(address=ray_address, runtime_env=runtime_env, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, runtime_env=runtime_env, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise SettingsError(f"cannot start or reach Ray at {ray_address or 'a local instance'}: {exc}") from exc
    return True


def embed_to_shards(
    articles: Iterable[Article],
    shard_dir: Path | str,
    settings: IndexSettings,
    workers: int,
    ray_address: str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    on_shard: Callable[[int, Path], None] | None = None,
) -> ShardReport:
    """Embed every shard of ``articles`` not already complete in ``shard_dir``; return what was done.

    ``workers`` model replicas run on Ray (a local instance of ``workers`` CPUs, or the
    cluster at ``ray_address``); ``workers=0`` embeds in this process without Ray.
    Each shard is written the moment it arrives, then ``on_shard(index, folder)`` is called.
    """
    started = time.perf_counter()
    if workers < 0:
        raise SettingsError(f"workers={workers}: must be 0 (no Ray) or more")
    corpus = unique_articles(articles)
    root = Path(shard_dir)
    root.mkdir(parents=True, exist_ok=True)
    with _shard_lock(root):
        for leftover in root.glob(".tmp-shard-*"):  # what a killed run was writing
            shutil.rmtree(leftover, ignore_errors=True)
        planned = plan_shards(corpus, shard_size)
        keys = [_shard_key(shard, settings) for shard in planned]
        pending = {k: shard for k, shard in enumerate(planned) if not shard_is_complete(root, k, keys[k])}
        skipped = tuple(k for k in range(len(planned)) if k not in pending)
        embedder = make_embedder(settings.embedder)  # cheap: a model loads on first use, not here
        done: list[int] = []
        chunks_embedded = 0
        if pending:
            started_ray = connect_ray(workers, ray_address) if workers else False
            try:
                chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
                local = (embed_shard(k, shard, chunker, embedder) for k, shard in pending.items())  # workers=0
                results = _ray_results(pending, settings, workers) if workers else local
                for result in results:
                    folder = write_shard(root, result, keys[result.index], embedder.name, result.chunk_vectors.shape[1])
                    done.append(result.index)
                    chunks_embedded += len(result.chunks)
                    if on_shard is not None:
                        on_shard(result.index, folder)
            finally:
                if started_ray:
                    import ray

                    ray.shutdown()
    seconds = time.perf_counter() - started
    return ShardReport(root, len(planned), tuple(sorted(done)), skipped, len(corpus), chunks_embedded, seconds)


def index_from_shards(
    shard_dir: Path | str,
    articles: Iterable[Article],
    index_dir: Path | str,
    settings: IndexSettings,
    shard_size: int = DEFAULT_SHARD_SIZE,
) -> BuildReport:
    """Write a new generation of the index at ``index_dir`` holding exactly ``articles``, from their shards.

    Every shard must be complete for these articles and settings (else ``CorruptIndexError``);
    nothing is embedded. Rows come in article order, as ``add_articles`` on a new index gives.
    """
    started = time.perf_counter()
    root, index_root = Path(shard_dir), Path(index_dir)
    given = list(articles)
    corpus = unique_articles(given)
    planned = plan_shards(corpus, shard_size)
    embedder = make_embedder(settings.embedder)
    dim = 0
    chunks: list[Chunk] = []
    chunk_parts: list[np.ndarray] = []
    sentence_parts: list[np.ndarray] = [np.zeros((0, 3), np.int64)]
    sentence_vector_parts: list[np.ndarray] = []
    for k, shard in enumerate(planned):
        result = read_shard(root, k, _shard_key(shard, settings))
        offset = np.array([len(chunks), 0, 0], dtype=np.int64)
        chunks.extend(result.chunks)
        chunk_parts.append(result.chunk_vectors)
        sentence_parts.append(result.sentences.reshape(-1, 3) + offset)
        sentence_vector_parts.append(result.sentence_vectors)
        dim = result.chunk_vectors.shape[1]
    if not planned:
        dim = embedder.dim
        chunk_parts = sentence_vector_parts = [np.zeros((0, dim), np.float32)]
    data = IndexData(
        settings=settings.to_dict(),
        articles={a.id: a for a in corpus},
        chunks=chunks,
        chunk_vectors=np.concatenate(chunk_parts),
        sentences=np.concatenate(sentence_parts),
        sentence_vectors=np.concatenate(sentence_vector_parts),
        embedder_name=embedder.name,
        dim=dim,
    )
    with write_lock(index_root):
        generation = save_index(index_root, data)
    return BuildReport(
        index_root,
        generation.name,
        ingest=(),
        added=len(corpus),
        replaced=0,
        unchanged=0,
        duplicates=len(given) - len(corpus),
        removed=0,
        articles_total=len(corpus),
        chunks_embedded=0,
        chunks_total=len(chunks),
        seconds=time.perf_counter() - started,
        embed_seconds=0.0,
    )

"""Milvus plumbing shared by the store and its writer: URI -> client, RowFilter -> filter expression, index choice.

No newsqa record passes through here; ``index/store/milvus.py`` (reading) and
``index/store/milvus_write.py`` (writing) call it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.errors import CorruptIndexError, SettingsError
from index.store.vectors import RowFilter

TOKEN_ENV = "NEWSQA_MILVUS_TOKEN"
ALIVE = 2**62  # ``died`` of a row no generation has retired yet
_REMOTE = ("http://", "https://", "tcp://", "grpc://")
IndexType = Literal["FLAT", "HNSW", "IVF_FLAT"]
INDEX_TYPES: tuple[IndexType, ...] = ("FLAT", "HNSW", "IVF_FLAT")
HNSW_M = 16  # graph degree: Milvus's usual default; 16 links x 8 bytes a vector besides the vector itself
HNSW_EF_CONSTRUCTION = 200  # build-time candidate list: recall at search time depends on it more than on M
HNSW_EF_MIN = 64  # search candidate list, at least ``2 * k`` (Milvus needs ef >= k)


def is_remote(uri: str) -> bool:
    """A Milvus server (``http://host:19530``), as opposed to a Milvus Lite folder."""
    return uri.startswith(_REMOTE)


def resolve_uri(generation: Path, uri: str) -> str:
    """The URI to connect to: a server URI as is, a Lite path relative to the generation made absolute."""
    return uri if is_remote(uri) else str((generation / uri).resolve())


def connect(uri: str) -> Any:
    """A ``MilvusClient`` for ``uri``; a Lite path starts Milvus Lite in this process."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as exc:
        raise SettingsError("store 'milvus' needs pymilvus and milvus-lite: pip install 'newsqa[scale]'") from exc
    try:
        if is_remote(uri):
            return MilvusClient(uri=uri, token=os.environ.get(TOKEN_ENV, ""))
        return MilvusClient(uri=uri)
    except MilvusException as exc:
        busy = "" if is_remote(uri) else " (Milvus Lite serves one process at a time: is another newsqa using it?)"
        raise CorruptIndexError(f"Milvus at {uri}: cannot connect: {exc.message}{busy}") from exc


def release(uri: str) -> None:
    """Stop this process's Milvus Lite server for the folder ``uri`` (frees its lock), if one runs."""
    import sys

    manager = sys.modules.get("milvus_lite.server_manager")
    if manager is not None and not is_remote(uri):
        manager.server_manager_instance.release_server(uri)


def filter_expression(where: RowFilter) -> str | None:
    """The Milvus filter expression for ``where`` ("" for all rows, None when no row can match).

    Example: ``RowFilter(frozenset({"AP"}), 738000, None)`` -> ``source in ["AP"] and day >= 738000``
    """
    parts = []
    if where.sources is not None:
        if not where.sources:
            return None
        parts.append(f"source in [{', '.join(_quote(s) for s in sorted(where.sources))}]")
    if where.day_from is not None:
        parts.append(f"day >= {max(where.day_from, 0)}")
    if where.day_to is not None:
        parts.append(f"day >= 0 and day <= {where.day_to}")
    return " and ".join(parts)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'


def visible_in(generation: int) -> str:
    """The rows generation number ``generation`` holds: written by it or before, not retired by then."""
    return f"born <= {generation} and died > {generation}"


def choose_index(setting: str, rows: int) -> dict[str, Any]:
    """The vector index to build: ``{"type", "build": build params, "search": search params}``.

    ``"auto"`` is HNSW: approximate, and unlike IVF it needs no training, so it stays right as
    in-place updates grow or shrink the collection. IVF_FLAT's list count comes from the rows of
    the first write (about 4·sqrt(n), as for FAISS IVF) and is fixed thereafter; a search probes
    1/16 of the lists, at least 16 (Milvus ranks by the stored vectors alone, without FAISS IVF's
    exact re-scoring, so it needs more lists than ``index/store/vectors.py`` probes).

    Example: ``choose_index("IVF_FLAT", 1_000_000)["build"]`` -> ``{"nlist": 4096}``
    """
    kind = "HNSW" if setting == "auto" else setting
    if kind not in INDEX_TYPES:
        raise SettingsError(f"milvus_index={setting!r}: must be auto, {', '.join(INDEX_TYPES)}")
    if kind == "HNSW":
        return {"type": kind, "build": {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}, "search": {}}
    if kind == "IVF_FLAT":
        nlist = int(2 ** round(np.log2(max(4 * np.sqrt(max(rows, 1)), 64))))
        nlist = max(1, min(nlist, rows // 39))  # k-means wants >= 39 points a list, as FAISS IVF
        return {"type": kind, "build": {"nlist": nlist}, "search": {"nprobe": min(nlist, max(16, nlist // 16))}}
    return {"type": kind, "build": {}, "search": {}}


def search_params(index: dict[str, Any], k: int) -> dict[str, Any]:
    """Search parameters for ``k`` results: HNSW's ef grows with k (Milvus needs ef >= k)."""
    params = dict(index.get("search", {}))
    if index.get("type") == "HNSW":
        params["ef"] = max(HNSW_EF_MIN, 2 * k)
    return {"metric_type": "IP", "params": params}


def create(client: Any, collection: str, dim: int, index: dict[str, Any], uri: str) -> None:
    """Create the collection: primary key ``key``, ``vector``, article metadata, ``born`` and ``died``."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("source", DataType.VARCHAR, max_length=65_535)
    schema.add_field("day", DataType.INT64)
    schema.add_field("article", DataType.VARCHAR, max_length=65_535)
    schema.add_field("born", DataType.INT64)  # the generation that wrote the row
    schema.add_field("died", DataType.INT64)  # the generation that retired it (ALIVE: none yet)
    params = client.prepare_index_params()
    params.add_index(field_name="vector", index_type=index["type"], metric_type="IP", params=index["build"])
    with _quiet_lite(uri, "grpc._server"):
        client.create_collection(collection, schema=schema, index_params=params)


@contextlib.contextmanager
def _quiet_lite(uri: str, name: str) -> Iterator[None]:
    """Mute logger ``name`` while Milvus Lite serves a call that a server would answer in full: creating
    an index (pymilvus calls AllocTimestamp, which Lite lacks: an error with a traceback in the
    in-process gRPC server's log, although the index is created) or iterating over a query (a
    warning that Lite gives no MVCC timestamp; the client's own is used)."""
    import logging

    logger = logging.getLogger(name)
    level = logger.level
    if not is_remote(uri):
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def row_keys(vectors: np.ndarray, metadata: Sequence[tuple[str, int, str]], seen: dict[str, int]) -> list[int]:
    """Primary keys of these rows: a hash of the article id, the chunk's place in the article,
    source, day and the vector's bytes. An unchanged chunk keeps its key from one generation to the
    next; an edited one gets a new key. ``seen`` counts each article's chunks so far."""
    keys = []
    for vector, (source, day, article) in zip(np.asarray(vectors, np.float32), metadata, strict=True):
        place = seen.get(article, 0)
        seen[article] = place + 1
        digest = hashlib.sha256(f"{article}\x1f{place}\x1f{source}\x1f{day}\x1f".encode())
        digest.update(vector.astype("<f4").tobytes())
        keys.append(int.from_bytes(digest.digest()[:8], "little") & (2**63 - 1))
    return keys


def query_keys(client: Any, collection: str, expression: str, uri: str) -> list[int]:
    """The primary keys of every row matching ``expression`` (read in pages, any collection size)."""
    found: list[int] = []
    with _quiet_lite(uri, "pymilvus.client.iterator.query_iterator"):
        iterator = client.query_iterator(collection, batch_size=10_000, filter=expression, output_fields=["key"])
    try:
        while page := iterator.next():
            found.extend(int(hit["key"]) for hit in page)
    finally:
        iterator.close()
    return found

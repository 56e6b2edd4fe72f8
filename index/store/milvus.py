"""Chunk vectors in a Milvus collection: rows + article metadata -> top rows and scores, filtered inside Milvus.

One collection per index generation, named ``{milvus_collection}_gen_NNNNNN``: primary key
``row`` (the chunk row), ``vector`` (FLAT index, inner product: exact, as FAISS flat), and
the article metadata that filters need, as scalar fields: ``source``, ``day`` (publication
day as ``date.toordinal()``, -1 when unknown) and ``article`` (the article id). Source and
date filters become a Milvus filter expression, evaluated by Milvus, not a post-filter.

Where the collection lives (``IndexSettings.milvus_uri``, recorded in the manifest):

- empty (the default): Milvus Lite in ``chunks.milvus.db/`` inside the generation folder.
  The generation stays self-contained: written in the temporary folder, swapped in with
  the rest, deleted with it, so the atomic swap and garbage collection of ``index/store/generations.py``
  hold unchanged. The manifest records the path relative to the generation, so a copied
  or moved index still finds its vectors.
- ``http://host:19530`` or ``https://...``: a Milvus server or cluster; the token comes from
  the ``NEWSQA_MILVUS_TOKEN`` environment variable (never written to the manifest). A new
  generation writes its collection before ``CURRENT`` moves; collecting an old generation
  drops its collection.
- any other path (a ``.db`` folder): one Milvus Lite database shared by the generations.

Milvus Lite serves one process at a time per ``.db`` folder (an advisory lock): a second
process opening the same generation gets a clear error; several processes need a server.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError, SettingsError
from index.store.vectors import RowFilter, StoredRows

LITE_DIR = "chunks.milvus.db"  # Milvus Lite's folder inside a generation (the default place)
TOKEN_ENV = "NEWSQA_MILVUS_TOKEN"
_BATCH = 1_000  # rows per insert or get call
_MAX_TOPK = 16_384  # Milvus's largest search limit
_CACHE_ROWS = 4_096  # vectors of recent search hits kept for near-duplicate checks
_REMOTE = ("http://", "https://", "tcp://", "grpc://")


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


class MilvusStore:
    """The chunk vectors of one generation in a Milvus collection (row i = primary key i)."""

    kind = "milvus"

    def __init__(self, client: Any, uri: str, entry_uri: str, collection: str, dim: int, size: int) -> None:
        self._client = client
        self.uri = uri
        self.collection = collection
        self._entry_uri = entry_uri
        self._dim = dim
        self._size = size
        self._cache: dict[int, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return self._size

    def as_array(self) -> np.ndarray | StoredRows:
        """All rows as an array-like that reads them from Milvus on demand."""
        return StoredRows(self) if self._size else np.zeros((0, self._dim), np.float32)

    def vectors(self, rows: Any) -> np.ndarray:
        wanted = np.asarray(rows, dtype=np.int64)
        flat = wanted.reshape(-1).tolist()
        if flat and (min(flat) < 0 or max(flat) >= self._size):
            raise IndexError(f"rows outside 0..{self._size - 1}")
        found = {row: vec for row in flat if (vec := self._cache.get(row)) is not None}
        missing = sorted(set(flat) - set(found))
        for start in range(0, len(missing), _BATCH):
            batch = missing[start : start + _BATCH]
            for hit in self._client.get(self.collection, ids=batch, output_fields=["vector"]):
                found[int(hit["row"])] = np.asarray(hit["vector"], dtype=np.float32)
        if len(found) < len(set(flat)):
            raise CorruptIndexError(f"Milvus collection {self.collection}: rows missing ({self.uri})")
        out = np.stack([found[row] for row in flat]) if flat else np.zeros((0, self._dim), np.float32)
        return out.reshape((*wanted.shape, self._dim))

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None, where: RowFilter | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact inner-product search in Milvus; ``where`` becomes its filter expression.

        Without ``where``, a mask is sent as a list of allowed rows (still filtered inside
        Milvus, but an expression as long as the list).
        """
        none = np.zeros(0, np.int64), np.zeros(0, np.float32)
        if not self._size or k < 1:
            return none
        expression: str | None = ""
        if where is not None:
            expression = filter_expression(where)
        elif allowed is not None and not allowed.all():
            rows = np.flatnonzero(allowed)
            expression = f"row in [{', '.join(map(str, rows.tolist()))}]" if len(rows) else None
        if expression is None:
            return none
        hits = self._client.search(
            self.collection,
            data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()],
            limit=min(k, self._size, _MAX_TOPK),
            anns_field="vector",
            search_params={"metric_type": "IP"},
            filter=expression,
            output_fields=["vector"],
        )[0]
        if len(self._cache) > _CACHE_ROWS:
            self._cache = {}
        for hit in hits:
            self._cache[int(hit["row"])] = np.asarray(hit["entity"]["vector"], dtype=np.float32)
        pairs = sorted((-float(h["distance"]), int(h["row"])) for h in hits)  # ties: lower row first
        return np.array([r for _, r in pairs], np.int64), np.array([-s for s, _ in pairs], np.float32)

    def save(self, path: Path) -> dict[str, Any]:
        """Nothing to write: Milvus holds the vectors. Returns the manifest's ``vectors`` entry."""
        return {"kind": self.kind, "uri": self._entry_uri, "collection": self.collection}

    def all_finite(self) -> bool:
        """Checked when written (``write_collection`` refuses a non-finite vector); not re-read at load."""
        return True

    def close(self) -> None:
        """Close the connection; for Milvus Lite also stop its server, freeing the folder for other processes."""
        self._client.close()
        release(self.uri)


def _schema(client: Any, dim: int) -> tuple[Any, Any]:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("source", DataType.VARCHAR, max_length=65_535)
    schema.add_field("day", DataType.INT64)
    schema.add_field("article", DataType.VARCHAR, max_length=65_535)
    index = client.prepare_index_params()
    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    return schema, index


@contextlib.contextmanager
def _quiet_lite(uri: str) -> Iterator[None]:
    """Mute the in-process gRPC server's log while an index is created: pymilvus then calls a method
    (AllocTimestamp) that Milvus Lite does not implement, which it logs as an error with a traceback
    although the index is created; a server implements it."""
    import logging

    logger = logging.getLogger("grpc._server")
    level = logger.level
    if not is_remote(uri):
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def write_collection(
    folder: Path,
    generation: str,
    settings: Mapping[str, Any],
    vectors: np.ndarray | StoredRows,
    metadata: Sequence[tuple[str, int, str]],
    dim: int,
) -> dict[str, Any]:
    """Write one generation's chunk vectors (row i: ``vectors[i]``) and their metadata (row i:
    the article's source, publication day as an ordinal or -1, article id) to its collection.

    ``folder``: the generation's (temporary) folder, home of the default Milvus Lite
    database; ``settings``: the index settings (``milvus_uri``, ``milvus_collection``).
    Returns the manifest's ``vectors`` entry.
    """
    entry_uri = str(settings.get("milvus_uri") or LITE_DIR)
    prefix = str(settings.get("milvus_collection") or "newsqa_chunks")
    collection = f"{prefix}_{generation.replace('-', '_')}"
    uri = resolve_uri(folder, entry_uri)
    client = connect(uri)
    try:
        if client.has_collection(collection):  # left by a write of this generation that crashed
            client.drop_collection(collection)
        schema, index = _schema(client, dim)
        with _quiet_lite(uri):
            client.create_collection(collection, schema=schema, index_params=index)
        for start in range(0, len(metadata), _BATCH):
            block = np.asarray(vectors[start : start + _BATCH], dtype=np.float32)
            if not np.isfinite(block).all():
                raise CorruptIndexError(f"chunk vectors {start}..{start + len(block) - 1}: a number is not finite")
            rows = [
                {"row": start + offset, "vector": vector, "source": source, "day": day, "article": article}
                for offset, (vector, (source, day, article)) in enumerate(
                    zip(block.tolist(), metadata[start : start + _BATCH], strict=True)
                )
            ]
            client.insert(collection, rows)
        client.flush(collection)
    finally:
        client.close()
        if not is_remote(uri) and Path(uri).is_relative_to(folder.resolve()):
            release(uri)  # the folder is renamed next: its Lite server must stop first
    return {"kind": "milvus", "uri": entry_uri, "collection": collection}


def open_collection(generation: Path, entry: dict[str, Any], dim: int) -> MilvusStore:
    """The store that the manifest's ``vectors`` entry names; ``ValueError`` when it is not there as recorded."""
    uri, collection = entry.get("uri"), entry.get("collection")
    if not (isinstance(uri, str) and uri and isinstance(collection, str) and collection):
        raise ValueError(f"vectors entry {entry!r} lacks a Milvus uri or collection")
    resolved = resolve_uri(generation, uri)
    if not is_remote(uri) and not Path(resolved).is_dir():
        raise ValueError(f"no Milvus Lite database at {resolved}")
    from pymilvus.exceptions import MilvusException

    client = connect(resolved)
    try:
        if not client.has_collection(collection):
            raise ValueError(f"no collection {collection} in Milvus at {resolved}")
        fields = client.describe_collection(collection)["fields"]
        found = [f.get("params", {}).get("dim") for f in fields if f["name"] == "vector"]
        if found != [dim]:
            raise ValueError(f"collection {collection}: vectors of dimension {found}, the manifest says {dim}")
        client.load_collection(collection)
        size = int(client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"])
    except MilvusException as exc:
        client.close()
        raise ValueError(f"Milvus at {resolved}: {exc.message}") from exc
    except ValueError:
        client.close()
        raise
    return MilvusStore(client, resolved, uri, collection, dim, size)


def drop_generation(generation: Path, entry: dict[str, Any]) -> None:
    """Before generation folder ``generation`` is deleted: drop its collection on a server, or stop its Lite server."""
    uri, collection = str(entry.get("uri", "")), str(entry.get("collection", ""))
    if not uri or not collection:
        return
    resolved = resolve_uri(generation, uri)
    if is_remote(uri) or not Path(resolved).is_relative_to(generation.resolve()):
        client = connect(resolved)  # a server, or a Lite database outside the folder: the collection outlives it
        try:
            if client.has_collection(collection):
                client.drop_collection(collection)
        finally:
            client.close()
    else:
        release(resolved)

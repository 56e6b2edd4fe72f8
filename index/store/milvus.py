"""Chunk vectors in a Milvus collection: rows + article metadata -> top rows and scores, filtered inside Milvus.

One collection per index (``IndexSettings.milvus_collection``), shared by its generations and
updated in place (``index/store/milvus_write.py``): primary key ``key`` (a hash of the chunk's
article, place, metadata and vector, so an unchanged chunk keeps its row), ``vector`` (an
HNSW index by default, or IVF_FLAT or FLAT: ``IndexSettings.milvus_index``; inner product),
the article metadata that filters need (``source``, ``day`` as ``date.toordinal()`` or -1,
``article``), and ``born`` / ``died``, the generations that wrote and retired the row. Each
generation keeps ``milvus_keys.npy`` (row i -> key) and searches only its own rows
(``born <= g and died > g``), so a reader holding a generation keeps seeing exactly that
generation while the next one is written: the promise FAISS files give, kept on one collection.
Source and date filters become a Milvus filter expression, evaluated by Milvus, not a post-filter.

Where the collection lives (``IndexSettings.milvus_uri``, recorded in the manifest):

- empty (the default): Milvus Lite in ``chunks.milvus.db/`` inside the generation folder.
  The generation stays self-contained (swapped in and deleted with its folder); each
  generation's database is new, so every row is written again on an update.
- ``http://host:19530`` or ``https://...``: a Milvus server or cluster; the token comes from
  the ``NEWSQA_MILVUS_TOKEN`` environment variable (never written to the manifest). Updates
  insert and retire only the changed articles' rows.
- any other path (a ``.db`` folder): one Milvus Lite database shared by the generations,
  updated in place as a server is.

Indexes written before this layout (one collection per generation, primary key ``row``)
still load. Milvus Lite serves one process at a time per ``.db`` folder (an advisory lock):
a second process opening the same database gets a clear error; several processes need a server.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError
from index.store.milvus_client import (
    connect,
    filter_expression,
    is_remote,
    release,
    resolve_uri,
    search_params,
    visible_in,
)
from index.store.milvus_write import KEYS_FILE, LITE_DIR, drop_generation, write_collection
from index.store.vectors import RowFilter, StoredRows

__all__ = ["LITE_DIR", "MilvusStore", "drop_generation", "filter_expression", "open_collection", "release"]
__all__ += ["write_collection"]
_BATCH = 1_000  # rows per get call
_MAX_TOPK = 16_384  # Milvus's largest search limit
_CACHE_ROWS = 4_096  # vectors of recent search hits kept for near-duplicate checks


class MilvusStore:
    """The chunk vectors of one generation in a Milvus collection (row i = the row whose key is ``keys[i]``)."""

    kind = "milvus"

    def __init__(self, client: Any, uri: str, entry: dict[str, Any], dim: int, keys: np.ndarray) -> None:
        self._client = client
        self.uri = uri
        self.collection = str(entry["collection"])
        self._entry = entry
        self._dim = dim
        self._keys = keys
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]
        first_format = "generation" not in entry  # one collection per generation, primary key = row
        self._pk = "row" if first_format else "key"
        self._visible = "" if first_format else visible_in(int(entry["generation"]))
        self._cache: dict[int, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._keys)

    def _rows_of(self, keys: list[int]) -> np.ndarray:
        found = np.asarray(keys, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, found), max(len(self._sorted) - 1, 0))
        if len(found) and not np.array_equal(self._sorted[at], found):
            raise CorruptIndexError(f"Milvus collection {self.collection}: a row of another generation ({self.uri})")
        return np.asarray(self._order[at], dtype=np.int64)

    def as_array(self) -> np.ndarray | StoredRows:
        """All rows as an array-like that reads them from Milvus on demand."""
        return StoredRows(self) if len(self) else np.zeros((0, self._dim), np.float32)

    def vectors(self, rows: Any) -> np.ndarray:
        wanted = np.asarray(rows, dtype=np.int64)
        flat = wanted.reshape(-1).tolist()
        if flat and (min(flat) < 0 or max(flat) >= len(self)):
            raise IndexError(f"rows outside 0..{len(self) - 1}")
        found = {row: vec for row in flat if (vec := self._cache.get(row)) is not None}
        missing = sorted(set(flat) - set(found))
        for start in range(0, len(missing), _BATCH):
            batch = self._keys[missing[start : start + _BATCH]].tolist()
            hits = self._client.get(self.collection, ids=batch, output_fields=["vector"])
            for row, hit in zip(self._rows_of([int(h[self._pk]) for h in hits]).tolist(), hits, strict=True):
                found[row] = np.asarray(hit["vector"], dtype=np.float32)
        if len(found) < len(set(flat)):
            raise CorruptIndexError(f"Milvus collection {self.collection}: rows missing ({self.uri})")
        out = np.stack([found[row] for row in flat]) if flat else np.zeros((0, self._dim), np.float32)
        return out.reshape((*wanted.shape, self._dim))

    def _expression(self, allowed: np.ndarray | None, where: RowFilter | None) -> str | None:
        """This generation's rows, narrowed by ``where`` (or, without it, by the mask's keys); None: no row."""
        expression: str | None = ""
        if where is not None:
            expression = filter_expression(where)
        elif allowed is not None and not allowed.all():
            keys = self._keys[np.flatnonzero(allowed)]
            expression = f"{self._pk} in [{', '.join(map(str, keys.tolist()))}]" if len(keys) else None
        if expression is None:
            return None
        return " and ".join(part for part in (self._visible, expression) if part)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None, where: RowFilter | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product search in Milvus (exact with FLAT, approximate with HNSW or IVF_FLAT);
        ``where`` becomes its filter expression.

        Without ``where``, a mask is sent as a list of allowed keys (still filtered inside
        Milvus, but an expression as long as the list).
        """
        none = np.zeros(0, np.int64), np.zeros(0, np.float32)
        expression = self._expression(allowed, where)
        if not len(self) or k < 1 or expression is None:
            return none
        limit = min(k, len(self), _MAX_TOPK)
        hits = self._client.search(
            self.collection,
            data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()],
            limit=limit,
            anns_field="vector",
            search_params=search_params(self._entry.get("index", {"type": "FLAT"}), limit),
            filter=expression,
            output_fields=["vector"],
        )[0]
        if len(self._cache) > _CACHE_ROWS:
            self._cache = {}
        rows = self._rows_of([int(hit[self._pk]) for hit in hits]).tolist()
        for row, hit in zip(rows, hits, strict=True):
            self._cache[row] = np.asarray(hit["entity"]["vector"], dtype=np.float32)
        pairs = sorted((-float(h["distance"]), row) for row, h in zip(rows, hits, strict=True))  # ties: lower row
        return np.array([r for _, r in pairs], np.int64), np.array([-s for s, _ in pairs], np.float32)

    def save(self, path: Path) -> dict[str, Any]:
        """Nothing to write: Milvus holds the vectors. Returns the manifest's ``vectors`` entry."""
        return dict(self._entry)

    def all_finite(self) -> bool:
        """Checked when written (``write_collection`` refuses a non-finite vector); not re-read at load."""
        return True

    def close(self) -> None:
        """Close the connection; for Milvus Lite also stop its server, freeing the folder for other processes."""
        self._client.close()
        release(self.uri)


def _keys(generation: Path, entry: dict[str, Any]) -> np.ndarray:
    """The generation's row -> key file, checked against the checksum its entry records."""
    path = generation / str(entry.get("keys", KEYS_FILE))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: unreadable ({exc})") from exc
    if hashlib.sha256(data).hexdigest() != entry.get("keys_sha256"):
        raise ValueError(f"{path}: checksum mismatch")
    keys = np.asarray(np.load(io.BytesIO(data), allow_pickle=False))
    if keys.dtype != np.int64 or keys.ndim != 1:
        raise ValueError(f"{path}: not a list of int64 keys")
    return keys


def open_collection(generation: Path, entry: dict[str, Any], dim: int) -> MilvusStore:
    """The store that the manifest's ``vectors`` entry names; ``ValueError`` when it is not there as recorded."""
    uri, collection = entry.get("uri"), entry.get("collection")
    if not (isinstance(uri, str) and uri and isinstance(collection, str) and collection):
        raise ValueError(f"vectors entry {entry!r} lacks a Milvus uri or collection")
    resolved = resolve_uri(generation, uri)
    if not is_remote(uri) and not Path(resolved).is_dir():
        raise ValueError(f"no Milvus Lite database at {resolved}")
    keys = _keys(generation, entry) if "generation" in entry else None
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
        visible = visible_in(int(entry["generation"])) if keys is not None else ""
        size = int(client.query(collection, filter=visible, output_fields=["count(*)"])[0]["count(*)"])
        if keys is not None and size != len(keys):
            raise ValueError(
                f"collection {collection}: {size} rows of generation {entry['generation']}, not {len(keys)}"
            )
    except MilvusException as exc:
        client.close()
        raise ValueError(f"Milvus at {resolved}: {exc.message}") from exc
    except ValueError:
        client.close()
        raise
    return MilvusStore(client, resolved, entry, dim, keys if keys is not None else np.arange(size, dtype=np.int64))

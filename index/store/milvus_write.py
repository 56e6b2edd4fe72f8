"""One generation's chunk vectors into Milvus, in place: rows + metadata -> inserts, retirements, manifest entry.

A collection holds the rows of several generations at once. Each row records the generation
that wrote it (``born``) and the one that retired it (``died``, ``ALIVE`` until then); a reader
of generation g sees ``born <= g and died > g``. A write of generation n therefore inserts only
the rows that are new (new or edited articles: their keys are not yet alive), marks the alive
rows it no longer holds as ``died = n`` (removed or edited articles), and leaves every other
row alone. A retired row is deleted once no kept generation can see it (``drop_generation``).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError, SettingsError
from index.store.milvus_client import (
    ALIVE,
    choose_index,
    connect,
    create,
    is_remote,
    query_keys,
    release,
    resolve_uri,
    row_keys,
)
from index.store.vectors import StoredRows

LITE_DIR = "chunks.milvus.db"  # Milvus Lite's folder inside a generation (the default place)
KEYS_FILE = "milvus_keys.npy"  # row i of the generation -> its primary key in the collection
_BATCH = 1_000  # rows per insert, upsert or get call
_GENERATION = re.compile(r"gen-(\d{6,})")


def _shared(folder: Path, uri: str) -> bool:
    """True when the collection outlives the generation folder: a server, or a Lite database elsewhere."""
    return is_remote(uri) or not Path(uri).is_relative_to(folder.resolve())


def _existing_index(client: Any, collection: str, dim: int, wanted: dict[str, Any], uri: str) -> dict[str, Any]:
    """The index of an existing collection, refusing one that this index cannot share."""
    fields = {f["name"]: f for f in client.describe_collection(collection)["fields"]}
    found = fields.get("vector", {}).get("params", {}).get("dim")
    if "born" not in fields or found != dim:
        raise SettingsError(
            f"Milvus collection {collection} at {uri} holds other vectors (dimension {found}); "
            "give this index its own milvus_collection"
        )
    described = client.describe_index(collection, "vector")
    if described.get("index_type") != wanted["type"]:
        raise SettingsError(
            f"Milvus collection {collection} at {uri} has a {described.get('index_type')} index, not "
            f"{wanted['type']}; set milvus_index to match or give this index its own milvus_collection"
        )
    if wanted["type"] == "IVF_FLAT" and "nlist" in described:  # a server says what it built with
        return choose_index("IVF_FLAT", (int(described["nlist"]) // 4) ** 2)
    return wanted


def _undo_unfinished(client: Any, collection: str, number: int, uri: str) -> None:
    """Undo what a killed write of a generation numbered ``number`` or above did (it never became live)."""
    client.delete(collection, filter=f"born >= {number}")
    stale = query_keys(client, collection, f"died >= {number} and died < {ALIVE}", uri)
    for start in range(0, len(stale), _BATCH):
        rows = [{"key": key, "died": ALIVE} for key in stale[start : start + _BATCH]]
        client.upsert(collection, rows, partial_update=True)


def _insert_new(
    client: Any,
    collection: str,
    vectors: np.ndarray | StoredRows,
    metadata: Sequence[tuple[str, int, str]],
    alive: set[int],
    retired: set[int],
    number: int,
) -> tuple[list[int], int]:
    """Write the rows whose keys are not alive; return every row's key and how many were written.

    A key in ``retired`` (an article removed, then added again unchanged, while a kept generation
    still holds its old row) is upserted: the row is reborn in this generation (an older generation
    kept for readers in flight no longer sees it). A server stores an inserted key twice, and
    deleting it (``_undo_unfinished``, ``drop_generation``) would then delete both."""
    keys: list[int] = []
    seen: dict[str, int] = {}
    inserted = 0
    for start in range(0, len(metadata), _BATCH):
        block = np.asarray(vectors[start : start + _BATCH], dtype=np.float32)
        if not np.isfinite(block).all():
            raise CorruptIndexError(f"chunk vectors {start}..{start + len(block) - 1}: a number is not finite")
        part = metadata[start : start + _BATCH]
        block_keys = row_keys(block, part, seen)
        rows = [
            {"key": key, "vector": vector, "source": source, "day": day, "article": article}
            | {"born": number, "died": ALIVE}
            for key, vector, (source, day, article) in zip(block_keys, block.tolist(), part, strict=True)
            if key not in alive
        ]
        fresh = [row for row in rows if row["key"] not in retired]
        if fresh:
            client.insert(collection, fresh)
        if len(fresh) < len(rows):
            client.upsert(collection, [row for row in rows if row["key"] in retired])
        inserted += len(rows)
        keys.extend(block_keys)
    if len(set(keys)) != len(keys):
        raise CorruptIndexError(f"Milvus collection {collection}: two chunk rows share a key (a duplicated chunk?)")
    return keys, inserted


def write_collection(
    folder: Path,
    generation: str,
    settings: Mapping[str, Any],
    vectors: np.ndarray | StoredRows,
    metadata: Sequence[tuple[str, int, str]],
    dim: int,
) -> dict[str, Any]:
    """Make the collection hold generation ``generation``: row i is ``vectors[i]`` with metadata
    ``metadata[i]`` (the article's source, publication day as an ordinal or -1, article id).

    Only rows not alive in the collection are written, and only alive rows this generation
    lacks are retired; the rest stay as they are. ``folder``: the generation's (temporary)
    folder, home of the default Milvus Lite database and of ``milvus_keys.npy`` (row -> key);
    ``settings``: the index settings (``milvus_uri``, ``milvus_collection``, ``milvus_index``).
    Returns the manifest's ``vectors`` entry.
    """
    entry_uri = str(settings.get("milvus_uri") or LITE_DIR)
    collection = str(settings.get("milvus_collection") or "newsqa_chunks")
    number = int(generation.removeprefix("gen-"))
    uri = resolve_uri(folder, entry_uri)
    index = choose_index(str(settings.get("milvus_index", "auto")), len(metadata))
    client = connect(uri)
    try:
        if client.has_collection(collection):
            index = _existing_index(client, collection, dim, index, uri)
            _undo_unfinished(client, collection, number, uri)
        else:
            create(client, collection, dim, index, uri)
        alive = set(query_keys(client, collection, f"died == {ALIVE}", uri))
        held = set(query_keys(client, collection, f"died < {ALIVE}", uri))
        keys, inserted = _insert_new(client, collection, vectors, metadata, alive, held, number)
        retired = sorted(alive - set(keys))
        for start in range(0, len(retired), _BATCH):
            rows = [{"key": key, "died": number} for key in retired[start : start + _BATCH]]
            client.upsert(collection, rows, partial_update=True)
        client.flush(collection)
    finally:
        client.close()
        if not _shared(folder, uri):
            release(uri)  # the folder is renamed next: its Lite server must stop first
    np.save(buffer := io.BytesIO(), np.asarray(keys, dtype=np.int64), allow_pickle=False)
    (folder / KEYS_FILE).write_bytes(buffer.getvalue())
    return {
        "kind": "milvus",
        "uri": entry_uri,
        "collection": collection,
        "generation": number,
        "index": index,
        "keys": KEYS_FILE,
        "keys_sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
        "written": {"inserted": inserted, "retired": len(retired)},
    }


def drop_generation(generation: Path, entry: dict[str, Any]) -> None:
    """Before generation folder ``generation`` is deleted: stop its Lite server, or, for a shared
    collection, delete the rows no other generation still on disk can see (a collection of the
    first format, one per generation, is dropped whole)."""
    uri, collection = str(entry.get("uri", "")), str(entry.get("collection", ""))
    if not uri or not collection:
        return
    resolved = resolve_uri(generation, uri)
    if not _shared(generation, resolved):
        release(resolved)
        return
    others = [
        int(m.group(1))
        for p in generation.parent.iterdir()
        if (m := _GENERATION.fullmatch(p.name)) and p.name != generation.name
    ]
    client = connect(resolved)
    try:
        if not client.has_collection(collection):
            return
        if "generation" not in entry:
            client.drop_collection(collection)
        elif others:  # a row retired by generation r is seen by generations below r only
            client.delete(collection, filter=f"died <= {min(others)}")
    finally:
        client.close()

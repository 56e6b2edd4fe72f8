"""Writes that reuse a trained FAISS store: ``extend_store`` adds rows to an IVF store's lists, or
to an int8 store's ranges, without training again (no k-means) until the store has grown past
its training; split from vectors.py, whose stores it extends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError
from index.store.codes import DEFAULT_CODES, ChunkCodes, fits_ranges, ivf_index
from index.store.vectors import _BLOCK, _RANGE_SAMPLE, FaissStore, VectorStore
from index.store.verify import file_sha256


def _unchanged(store: FaissStore) -> Path:
    """The memory-mapped store's file, once its checksum still matches the manifest's."""
    assert store.path is not None
    if store.checksum is not None and file_sha256(store.path) != store.checksum:
        raise CorruptIndexError(
            f"{store.path}: changed since it was loaded (checksum differs from the manifest); the index "
            f"was not written: run the command again, or rebuild with newsqa index --rebuild"
        )
    return store.path


def extend_store(
    store: VectorStore | None,
    kept: np.ndarray | None,
    new: np.ndarray,
    growth: float,
    codes: ChunkCodes = DEFAULT_CODES,
) -> FaissStore | None:
    """A trained ``store`` (IVF, or flat with int8 codes) with rows ``kept`` (None: all of them, in
    order) followed by ``new``, its lists and ranges reused (no training); None when the caller
    must build a store anew: ``store`` is not a trained FAISS store holding ``codes``, or the
    result would hold more than ``growth`` times the rows it was trained on, or a new row lies
    outside a flat store's int8 ranges (it would be clipped: a store trained on one article's
    rows, say); an IVF store then trains its ranges again, not its lists (``_ranges_again``).

    Only new rows are added when every row is kept; when rows go (articles removed or replaced,
    the rows renumbered) the kept rows are added again (to the same lists; int8 codes decode
    and encode to the same codes under the same ranges).
    """
    import faiss

    trained = isinstance(store, FaissStore) and (store.kind == "ivf" or store.codes == "int8")
    if not (isinstance(store, FaissStore) and trained and store.codes == codes):
        return None
    total = (len(store) if kept is None else len(kept)) + len(new)
    if total > growth * store.trained_rows:
        return None
    if not fits_ranges(store.index, new):
        return _ranges_again(store, kept, new)
    # a memory-mapped IVF cannot be cloned (FAISS's on-disk lists): it is read again, into memory,
    # checked again first (minutes of embedding may have passed since it was loaded)
    index: Any = faiss.read_index(str(_unchanged(store))) if store.path is not None else faiss.clone_index(store.index)
    if kept is not None:
        index.reset()  # empties the lists, keeps the trained centroids
        for start in range(0, len(kept), _BLOCK * 4):
            index.add(np.ascontiguousarray(store.vectors(kept[start : start + _BLOCK * 4]), dtype=np.float32))
    if len(new):
        index.add(np.ascontiguousarray(new, dtype=np.float32))
    if store.kind == "ivf":
        index.make_direct_map()
    return FaissStore(index, store.kind, store.nprobe, trained_rows=store.trained_rows)


def _ranges_again(store: FaissStore, kept: np.ndarray | None, new: np.ndarray) -> FaissStore | None:
    """New rows outside an int8 store's ranges (they would be clipped): None for a flat store (built
    again: its ranges are all its training); an IVF store keeps its lists' centroids (no k-means) and
    codes its kept rows, decoded, and the new ones under ranges trained on them all."""
    import faiss

    if store.kind != "ivf":
        return None
    old = np.arange(len(store)) if kept is None else kept
    picked = np.random.default_rng(0).permutation(len(old))[:_RANGE_SAMPLE]  # the rows are decoded a block at a time
    sample = np.vstack([store.vectors(old[np.sort(picked)]), new]).astype(np.float32)  # every new row: none clipped
    quantizer = faiss.clone_index(faiss.downcast_index(store.index.quantizer))  # trained: FAISS skips k-means
    index = ivf_index(quantizer, sample.shape[1], store.index.nlist, store.codes)
    index.train(sample)
    for start in range(0, len(old), _BLOCK * 4):
        index.add(np.ascontiguousarray(store.vectors(old[start : start + _BLOCK * 4]), dtype=np.float32))
    index.add(np.ascontiguousarray(new, dtype=np.float32))
    index.make_direct_map()
    return FaissStore(index, "ivf", store.nprobe, trained_rows=store.trained_rows)

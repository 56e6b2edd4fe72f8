"""Chunk vectors behind one small interface: normalised rows -> top rows and scores for a query (FAISS).

``VectorStore`` is the seam between the index and whatever holds its vectors: FAISS on
one machine (here), a vector database past one machine (issue 8). Two FAISS kinds:

- ``flat``: exact inner-product search over every row, while the corpus is small.
- ``ivf``: spherical k-means lists (the candidates of the probed lists are scored in full),
  from ``APPROX_FROM`` vectors on.

Either holds its rows as ``codes`` (``index/store/codes.py``): float32 (``IndexFlatIP`` /
``IndexIVFFlat``, the only codes of index formats 1 and 2), float16, or int8 (a scalar
quantizer with per-dimension ranges trained once).
  Filters with few allowed rows are searched exactly instead (an IVF probe could miss them).
  Its lists are trained on a sample once; later adds go into the trained lists
  (``extend.extend_store``, no k-means) until the index has grown ``retrain_growth`` times past
  the rows it was trained on (``trained_rows``, kept in the manifest), when it is trained anew.
  A flat store with int8 codes keeps its trained ranges by the same rule.

Search filters travel as a boolean mask (what FAISS needs), tagged with the ``RowFilter``
it stands for (what a database such as Milvus needs, ``index/store/milvus.py``).

Large files are memory-mapped rather than read: the OS page cache holds their bytes
once, shared by every process that opens the same generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from index.store.codes import DEFAULT_CODES, ChunkCodes, codes_of, codes_setting, flat_index, ivf_index

VectorKind = Literal["flat", "ivf"]
# flat search grows linearly: measured on a 2-core x86 machine (docs/BENCHMARKS.md), one
# thread scans ~10-20M vectors/s, so 200k vectors cost ~10-20 ms a query; IVF stays ~1-3 ms
APPROX_FROM = 200_000
EXACT_FILTER_MAX = 20_000  # a filter allowing at most this many rows is searched exactly, even with IVF
_BLOCK = 65_536  # rows per block when a whole store is scanned (finiteness check)
_RANGE_SAMPLE = 65_536  # rows an int8 flat store trains its per-dimension ranges on


@dataclass(frozen=True)
class RowFilter:
    """The chunks a search may return, by their article's metadata (for stores that filter themselves).

    ``sources``: allowed article sources (None: any source; empty: none). ``day_from`` /
    ``day_to``: inclusive bounds on the publication day as ``date.toordinal()``; a bound
    excludes articles with no date (stored as day -1).
    """

    sources: frozenset[str] | None = None
    day_from: int | None = None
    day_to: int | None = None

    def __and__(self, other: RowFilter) -> RowFilter:
        """The rows both filters allow."""
        sources = other.sources if self.sources is None else self.sources
        if self.sources is not None and other.sources is not None:
            sources = self.sources & other.sources
        bounds_from = [d for d in (self.day_from, other.day_from) if d is not None]
        bounds_to = [d for d in (self.day_to, other.day_to) if d is not None]
        return RowFilter(sources, max(bounds_from, default=None), min(bounds_to, default=None))


class RowMask(np.ndarray):
    """A boolean mask over the chunk rows that also carries the ``RowFilter`` it stands for (``where``).

    ``a & b`` and ``a &= b`` intersect the filters along with the masks; any other operation
    gives a mask with ``where`` None, so a store never gets a filter that disagrees with its mask.
    """

    where: RowFilter | None = None

    @classmethod
    def of(cls, mask: np.ndarray, where: RowFilter) -> RowMask:
        out = np.asarray(mask, dtype=bool).view(cls)
        out.where = where
        return out

    def __array_finalize__(self, obj: Any) -> None:
        self.where = None

    def __and__(self, other: Any) -> Any:
        where = _both(self, other)
        out = super().__and__(other)
        if isinstance(out, RowMask):
            out.where = where
        return out

    def __iand__(self, other: Any) -> Any:
        where = _both(self, other)
        out = super().__iand__(other)
        out.where = where
        return out


def _both(a: Any, b: Any) -> RowFilter | None:
    wa, wb = getattr(a, "where", None), getattr(b, "where", None)
    return wa & wb if wa is not None and wb is not None else None


class VectorStore(Protocol):
    """What retrieval, near-duplicate detection and saving need from the chunk vectors."""

    @property
    def kind(self) -> str:
        """Which index holds the vectors (recorded in the manifest)."""
        ...

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None, where: RowFilter | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows by inner product with ``query`` (best first) and their scores.

        ``allowed``: a boolean mask over the rows (None: all rows). ``where``: the same rows
        described by article metadata, for a store that filters by metadata itself (Milvus);
        a store without metadata (FAISS) uses the mask. Fewer than ``k`` rows come back only
        when fewer are allowed.
        """
        ...

    def vectors(self, rows: Any) -> np.ndarray:
        """The stored vectors of ``rows`` (an index, a list or an array of row numbers)."""
        ...

    def save(self, path: Path) -> dict[str, Any]:
        """Write the store to ``path``; returns what the manifest must record to read it back."""
        ...


def _nlist(n: int) -> int:
    """Number of IVF lists: a power of two near 4·sqrt(n), the usual FAISS guidance."""
    lists = int(2 ** round(np.log2(max(4 * np.sqrt(n), 64))))
    return max(1, min(lists, n // 39))  # FAISS wants >= 39 training points per list


def default_nprobe(nlist: int) -> int:
    """Lists probed per query: 1/32 of them. Recall@10 against exact search: 0.92 on the realtimeqa 2026
    chunk vectors in 382 lists, 0.98 on 1M synthetic vectors (4,096 lists), 1.0 for 30 dev questions
    on 1M replicated articles (8,192 lists; their copies are near-duplicates, an easy case):
    docs/BENCHMARKS.md."""
    return max(8, nlist // 32)


class FaissStore:
    """A FAISS index over chunk rows (row i = FAISS id i); see the module docstring for the kinds."""

    def __init__(
        self, index: Any, kind: VectorKind, nprobe: int = 0, trained_rows: int = 0, path: Path | None = None
    ) -> None:
        self.index = index
        self.kind: VectorKind = kind
        self.nprobe = nprobe
        self.trained_rows = trained_rows or int(index.ntotal)  # rows the IVF lists were trained on
        self.path = path  # the file it is memory-mapped from (None: in memory)
        self.checksum: str | None = None  # that file's sha256 in the manifest, checked before it is read again
        self.codes: ChunkCodes = codes_of(index, kind)
        self._rows: np.ndarray | None = None
        if kind == "flat" and self.codes == "float32" and index.ntotal:
            import faiss

            # a view of FAISS's own storage (or of the memory map): no second copy of the vectors
            raw = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)
            self._rows = np.asarray(_Memory(raw, index)).reshape(index.ntotal, index.d)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def as_array(self) -> np.ndarray | StoredRows:
        """All rows as an array-like: a zero-copy view (flat float32) or a row reader (decoding codes)."""
        if self._rows is not None:
            return self._rows
        if not len(self):
            return np.zeros((0, self.dim), np.float32)
        return StoredRows(self)

    def vectors(self, rows: Any) -> np.ndarray:
        if self._rows is not None:
            return np.asarray(self._rows[rows], dtype=np.float32)
        wanted = np.asarray(rows, dtype=np.int64)
        flat = self.index.reconstruct_batch(wanted.reshape(-1))
        return np.asarray(flat, dtype=np.float32).reshape((*wanted.shape, self.dim))

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None, where: RowFilter | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        n = len(self)
        if not n or k < 1:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        params: Any = None
        if self.kind == "ivf":
            params = faiss.SearchParametersIVF()
            params.nprobe = self.nprobe
        bits = None
        if allowed is not None:
            count = int(allowed.sum())
            if not count:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            if self.kind == "ivf" and count <= EXACT_FILTER_MAX:
                return _exact(self.vectors(np.flatnonzero(allowed)), np.flatnonzero(allowed), q[0], k)
            bits = np.packbits(allowed.astype(bool), bitorder="little")  # kept alive until the search returns
            selector = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits))
            params = params or faiss.SearchParameters()
            params.sel = selector
        scores, rows = self.index.search(q, min(k, n), params=params)
        del bits
        keep = rows[0] >= 0
        return rows[0][keep].astype(np.int64), scores[0][keep]

    def save(self, path: Path) -> dict[str, Any]:
        import faiss

        faiss.write_index(self.index, str(path))
        entry: dict[str, Any] = {"kind": self.kind, "codes": self.codes}
        if self.kind == "ivf":
            entry["nprobe"] = self.nprobe
        if self.kind == "ivf" or self.codes == "int8":
            entry["trained_rows"] = self.trained_rows
        return entry

    def all_finite(self) -> bool:
        """Every stored number is finite (checked block by block, never all rows at once)."""
        n = len(self)
        return all(np.isfinite(self.vectors(np.arange(a, min(a + _BLOCK, n)))).all() for a in range(0, n, _BLOCK))


class _Memory:
    """Read-only memory that ``owner`` holds (FAISS's vectors), for NumPy: an array made from it, and
    every view of that array, keeps this object and so ``owner`` alive. (An ndarray subclass would
    not: NumPy skips plain arrays and subclass views when it links a view to its base.)"""

    def __init__(self, raw: np.ndarray, owner: Any) -> None:
        self.owner = owner
        self.__array_interface__ = {**raw.__array_interface__, "data": (raw.__array_interface__["data"][0], True)}


class _Rows(Protocol):
    """A store whose rows can be read by number."""

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def vectors(self, rows: Any) -> np.ndarray: ...


class StoredRows:
    """Rows of a store read on demand, shaped like the (n, dim) array they stand for."""

    def __init__(self, store: _Rows) -> None:
        self._store = store
        self.shape = (len(store), store.dim)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Any) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(len(self)))
        return self._store.vectors(rows)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self._store.vectors(np.arange(len(self)))
        return out.astype(dtype) if dtype is not None else out


def _exact(vectors: np.ndarray, rows: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors @ query
    k = min(k, len(rows))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((rows[top], -scores[top]))]
    return rows[top].astype(np.int64), scores[top].astype(np.float32)


def _sample(vectors: np.ndarray, size: int) -> np.ndarray:
    """A fixed sample of at most ``size`` rows, in row order, as float32."""
    n = len(vectors)
    picked = np.sort(np.random.default_rng(0).choice(n, size=min(n, size), replace=False))
    return np.ascontiguousarray(vectors[picked], dtype=np.float32)


def build_store(
    vectors: np.ndarray, kind: VectorKind | Literal["auto"] = "auto", nprobe: int = 0, codes: ChunkCodes = DEFAULT_CODES
) -> FaissStore:
    """A store over ``vectors`` (n, dim), normalised: flat below ``APPROX_FROM`` rows, IVF from there,
    holding ``codes``.

    Deterministic: the training samples (IVF lists, int8 ranges) and the k-means seed are fixed.
    """
    import faiss

    n, dim = vectors.shape
    if kind == "auto":
        kind = "ivf" if n >= APPROX_FROM else "flat"
    if kind == "flat":
        index = flat_index(dim, codes)
        if n and not index.is_trained:
            index.train(_sample(vectors, _RANGE_SAMPLE))
        nlist = 0
    else:
        nlist = _nlist(n)
        index = ivf_index(faiss.IndexFlatIP(dim), dim, nlist, codes)
        index.cp.spherical = True
        index.cp.seed = 1234
        index.train(_sample(vectors, 64 * nlist))
    for start in range(0, n, _BLOCK * 4):
        index.add(np.ascontiguousarray(vectors[start : start + _BLOCK * 4], dtype=np.float32))
    if kind == "flat":
        return FaissStore(index, "flat", trained_rows=n)
    index.make_direct_map()  # saved with the index: row lookups work on a memory map too
    return FaissStore(index, "ivf", nprobe or default_nprobe(nlist), trained_rows=n)


def store_to_write(
    given: VectorStore | None, vectors: Any, dim: int, kind: VectorKind | Literal["auto"], settings: dict[str, Any]
) -> FaissStore:
    """``given`` when it is a FAISS store of every row in ``vectors`` (a loaded or extended one, of the
    kind and with the codes ``settings`` ask for), else a store built from ``vectors``."""
    codes = codes_setting(settings)
    whole = isinstance(given, FaissStore) and len(given) == len(vectors) and kind in ("auto", given.kind)
    if whole and isinstance(given, FaissStore) and given.codes == codes:
        return given
    rows = vectors if getattr(vectors, "shape", None) == (len(vectors), dim) else np.asarray(vectors).reshape(-1, dim)
    return build_store(rows, kind, codes=codes)  # read a block at a time: a row reader is not decoded whole


def read_store(source: bytes | Path, entry: dict[str, Any], dim: int) -> FaissStore:
    """Read a store written by ``FaissStore.save``: from verified bytes, or memory-mapped from a path.

    ``entry`` is the manifest's ``vectors`` record. Raises ``ValueError`` when the file
    does not hold what the manifest says.
    """
    import faiss

    kind = entry.get("kind", "flat")
    if kind not in ("flat", "ivf"):
        raise ValueError(f"vector store kind {kind!r} is not one this newsqa reads (flat, ivf)")
    if isinstance(source, Path):
        flags = faiss.IO_FLAG_READ_ONLY | (faiss.IO_FLAG_MMAP_IFC if kind == "flat" else faiss.IO_FLAG_MMAP)
        index = faiss.read_index(str(source), flags)
    else:
        index = faiss.deserialize_index(np.frombuffer(source, dtype=np.uint8))
    codes = codes_of(index, kind)
    if codes != entry.get("codes", "float32"):  # formats 1 and 2: float32, not recorded
        raise ValueError(f"{codes} codes, the manifest says {entry.get('codes', 'float32')}")
    if index.d != dim:
        raise ValueError(f"vectors of dimension {index.d}, the manifest says {dim}")
    nprobe, trained = entry.get("nprobe", 0), entry.get("trained_rows", 0)  # absent before incremental adds
    if kind == "ivf" and not (type(nprobe) is int and nprobe >= 1 and type(trained) is int and trained >= 0):
        raise ValueError(f"nprobe {nprobe!r} / trained_rows {trained!r} are not positive integers")
    if not (type(trained) is int and trained >= 0):
        raise ValueError(f"trained_rows {trained!r} is not a positive integer")
    return FaissStore(index, kind, nprobe, trained, source if isinstance(source, Path) else None)

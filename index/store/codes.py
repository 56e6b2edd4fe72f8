"""Chunk vector codes: the ``chunk_codes`` setting <-> the FAISS index that stores the vectors that way.

- ``float32``: ``IndexFlatIP`` / ``IndexIVFFlat``, the vectors as given
  (1,536 bytes a 384-dim vector; every index of formats 1 and 2).
- ``float16``: ``IndexScalarQuantizer`` QT_fp16 (768 bytes); nothing to train, and a decoded row
  encodes to the same code, so rebuilding a store from its own rows changes nothing.
- ``int8`` (the default): QT_8bit, one byte a component in a per-dimension range trained on the rows
  once (384 bytes), the rows' minimum to maximum widened by a fifth of it on each side
  (``RANGE_MARGIN``), so that rows added later seldom fall outside (one that does would be
  clipped: the ranges are then trained again, ``fits_ranges``, ``extend.extend_store``). On the
  realtimeqa 2026 chunk vectors (MiniLM, 384 dims), ranges trained on half the rows code the
  other half with no component clipped, and an inner product with a unit query moves by 0.0005
  on average (0.003 at most); without the margin, 1e-4 of the components are clipped and the
  error reaches 0.013. A decoded row encodes to the same code under the same ranges, so later
  writes reuse the trained ranges (``extend.extend_store``) instead of training on decoded rows.

FAISS scores coded rows on their decoded values, so a store agrees with NumPy over
``store.vectors(...)``. Milvus keeps float32 vectors whatever this setting says.

int8 brings the realtimeqa 2026 index to 3,789 bytes a chunk (issue 18's 4,000) with one short
answer of 118 changed (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

ChunkCodes = Literal["float32", "float16", "int8"]
DEFAULT_CODES: ChunkCodes = "int8"
_QTYPES = {"float16": "QT_fp16", "int8": "QT_8bit"}  # names of faiss.ScalarQuantizer's quantizer types
RANGE_MARGIN = 0.2  # int8: each dimension's trained range grows by this share of it on each side


def check_codes(codes: Any) -> ChunkCodes:
    """``codes`` when it names a kind of codes (else ``ValueError``)."""
    if codes not in get_args(ChunkCodes):
        raise ValueError(f"chunk_codes={codes!r}: must be one of {', '.join(get_args(ChunkCodes))}")
    chosen: ChunkCodes = codes
    return chosen


def codes_setting(settings: Mapping[str, Any]) -> ChunkCodes:
    """The codes an index's settings ask for (the default when they predate the setting)."""
    return check_codes(settings.get("chunk_codes", DEFAULT_CODES))


def _qtype(codes: ChunkCodes) -> Any:
    import faiss

    return getattr(faiss.ScalarQuantizer, _QTYPES[codes])


def _with_margin(index: Any) -> Any:
    """``index`` (a scalar quantizer index) training its ranges as min..max widened by ``RANGE_MARGIN``."""
    import faiss

    index.sq.rangestat = faiss.ScalarQuantizer.RS_minmax
    index.sq.rangestat_arg = RANGE_MARGIN
    return index


def flat_index(dim: int, codes: ChunkCodes) -> Any:
    """An empty exact-search index holding ``codes`` (an int8 one must be trained before adds)."""
    import faiss

    if codes == "float32":
        return faiss.IndexFlatIP(dim)
    return _with_margin(faiss.IndexScalarQuantizer(dim, _qtype(codes), faiss.METRIC_INNER_PRODUCT))


def ivf_index(quantizer: Any, dim: int, nlist: int, codes: ChunkCodes) -> Any:
    """An empty IVF index over ``quantizer`` holding ``codes`` (rows coded whole, not as residuals)."""
    import faiss

    if codes == "float32":
        return faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    coded = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, _qtype(codes), faiss.METRIC_INNER_PRODUCT, False)
    return _with_margin(coded)


def fits_ranges(index: Any, rows: Any) -> bool:
    """Whether ``rows`` lie inside the per-dimension ranges an int8 ``index`` was trained with (True
    for other codes, which have no ranges): a row outside would be clipped, and its vector lost."""
    import faiss
    import numpy as np

    sq = getattr(index, "sq", None)
    if sq is None or sq.qtype != faiss.ScalarQuantizer.QT_8bit:
        return True
    trained = faiss.vector_to_array(sq.trained)  # per dimension: the lowest value, then the range's width
    low, width = trained[: index.d], trained[index.d : 2 * index.d]
    rows = np.asarray(rows, dtype=np.float32)
    return bool(((rows >= low) & (rows <= low + width)).all())


def codes_of(index: Any, kind: str) -> ChunkCodes:
    """The codes a read FAISS ``index`` holds; ``ValueError`` when it is not a ``kind`` index this newsqa writes."""
    import faiss

    if isinstance(index, faiss.IndexFlatIP if kind == "flat" else faiss.IndexIVFFlat):
        return "float32"
    coded = faiss.IndexScalarQuantizer if kind == "flat" else faiss.IndexIVFScalarQuantizer
    if isinstance(index, coded) and index.metric_type == faiss.METRIC_INNER_PRODUCT:
        for codes, name in _QTYPES.items():
            if index.sq.qtype == getattr(faiss.ScalarQuantizer, name):
                return check_codes(codes)
    raise ValueError(f"a {type(index).__name__}, the manifest says {kind}")

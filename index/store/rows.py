"""Sentence rows and vectors on disk, kept small: float rows <-> int8 codes with a scale a row, read as float32.

A sentence vector of all-MiniLM-L6-v2 is unit length with every component within ±0.35, so
int8 codes scaled per row by ``max|x| / 127`` keep each inner product with a unit query
within ~0.003 of the float one (mean error 0.0003 measured on the realtimeqa 2026 index),
at a quarter of float32's bytes (388 instead of 1,536 a sentence). The answer step reads a
few rows at a time (the sentences of eight passages), so rows are decoded on demand and the
codes can stay memory-mapped.

Example:
    >>> rows = QuantizedRows.quantize(np.array([[0.6, -0.8], [0.0, 0.0]], np.float32))
    >>> rows.codes.tolist(), rows[0:1].astype(float).round(3).tolist()
    ([[95, -127], [0, 0]], [[0.598, -0.8]])
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError
from index.records import Article, Chunk
from index.store.verify import MMAP_FROM_BYTES, rebuild_hint, verified_bytes, verified_path

_BLOCK = 262_144  # rows quantized (or checked) at a time: bounded memory for any index size


def row_numbers(rows: Any, n: int) -> np.ndarray:
    """``rows`` of ``n`` as int64 row numbers: a boolean mask of ``n`` rows, or numbers (negative ones
    counted from the end, as NumPy does); IndexError when out of range, never memory read past the end."""
    if np.asarray(rows).dtype == bool:
        if len(rows) != n:
            raise IndexError(f"a mask of {len(rows)} rows for {n}")
        return np.flatnonzero(rows)
    wanted = np.asarray(rows, np.int64).reshape(-1)
    wanted = np.where(wanted < 0, wanted + n, wanted)
    if len(wanted) and (wanted.min() < 0 or wanted.max() >= n):
        raise IndexError(f"row {int(wanted.max() if wanted.max() >= n else wanted.min())} of {n}")
    return wanted


class QuantizedRows:
    """(m, dim) vectors held as int8 ``codes`` and float32 ``scales`` (one per row); indexing gives float32.

    ``codes`` and ``scales`` may be memory maps; nothing here copies them whole.
    """

    def __init__(self, codes: np.ndarray, scales: np.ndarray) -> None:
        if codes.ndim != 2 or codes.dtype != np.int8 or scales.shape != (codes.shape[0],):
            raise ValueError(f"int8 codes {codes.shape} of {codes.dtype} with {scales.shape} scales")
        self.codes = codes
        self.scales = scales
        self.shape: tuple[int, int] = (int(codes.shape[0]), int(codes.shape[1]))
        self.dtype = np.dtype(np.float32)

    @classmethod
    def quantize(cls, vectors: Any) -> QuantizedRows:
        """Codes and scales of float ``vectors`` (n, dim); a row of zeros keeps scale 1 and zero codes."""
        if isinstance(vectors, QuantizedRows):
            return vectors
        n, dim = vectors.shape
        codes = np.empty((n, dim), np.int8)
        scales = np.empty(n, np.float32)
        for start in range(0, n, _BLOCK):
            block = np.asarray(vectors[start : start + _BLOCK], dtype=np.float32)
            peak = np.abs(block).max(axis=1) if dim else np.zeros(len(block), np.float32)
            scale = np.where(peak > 0, peak / 127, 1).astype(np.float32)
            codes[start : start + len(block)] = np.clip(np.rint(block / scale[:, None]), -127, 127)
            scales[start : start + len(block)] = scale
        return cls(codes, scales)

    @classmethod
    def concat(cls, parts: Sequence[Any]) -> QuantizedRows:
        """The rows of ``parts`` (quantized or float arrays) one after another, quantized."""
        quantized = [cls.quantize(p) for p in parts]
        return cls(np.concatenate([q.codes for q in quantized]), np.concatenate([q.scales for q in quantized]))

    def take(self, rows: Any) -> QuantizedRows:
        """The rows picked by ``rows`` (numbers or a boolean mask), still quantized."""
        return QuantizedRows(np.asarray(self.codes[rows]), np.asarray(self.scales[rows]))

    def pick(self, rows: Any) -> QuantizedRows:
        """``take``, but memory-mapped codes stay on disk: the rows are read when indexed or written."""
        if not isinstance(self.codes, np.memmap):
            return self.take(rows)
        picks = row_numbers(rows, len(self))
        return QuantizedRows(_Picked(self.codes, picks), _Picked(self.scales, picks))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Any) -> np.ndarray:
        return np.asarray(self.codes[rows], dtype=np.float32) * np.asarray(self.scales[rows], np.float32)[..., None]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out.astype(dtype) if dtype is not None else out

    def all_finite(self) -> bool:
        """Every scale is finite (int8 codes always are)."""
        return all(np.isfinite(self.scales[a : a + _BLOCK]).all() for a in range(0, len(self), _BLOCK))

    @property
    def nbytes(self) -> int:
        return int(self.codes.nbytes + self.scales.nbytes)


class _Picked:
    """Rows ``picks`` of ``array`` (a memory map), shaped like them, read only when indexed."""

    def __init__(self, array: np.ndarray, picks: np.ndarray) -> None:
        self._array, self._picks = array, picks
        self.shape: tuple[int, ...] = (len(picks), *array.shape[1:])
        self.ndim, self.dtype = array.ndim, array.dtype
        self.nbytes = int(np.prod(self.shape)) * array.dtype.itemsize

    def __len__(self) -> int:
        return int(self.shape[0])

    def __getitem__(self, rows: Any) -> np.ndarray:
        return np.asarray(self._array[self._picks[rows]])


class ChainedRows:
    """Quantized rows of several parts one after another (a memory-mapped index's rows, then new ones),
    never concatenated in memory: indexing gathers from the parts, a write streams them."""

    def __init__(self, parts: Sequence[QuantizedRows]) -> None:
        self.parts = [p for p in parts if len(p)] or list(parts[:1])
        self._starts = np.cumsum([0, *(len(p) for p in self.parts)])
        self.shape: tuple[int, int] = (int(self._starts[-1]), self.parts[0].shape[1])
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, rows: Any) -> QuantizedRows:
        """The rows picked by ``rows`` (numbers or a boolean mask), quantized, in memory."""
        wanted = row_numbers(rows, len(self))
        part = np.searchsorted(self._starts, wanted, side="right") - 1
        codes = np.empty((len(wanted), self.shape[1]), np.int8)
        scales = np.empty(len(wanted), np.float32)
        for i, p in enumerate(self.parts):
            at = np.flatnonzero(part == i)
            if len(at):
                local = wanted[at] - self._starts[i]
                codes[at], scales[at] = np.asarray(p.codes[local]), np.asarray(p.scales[local])
        return QuantizedRows(codes, scales)

    def __getitem__(self, rows: Any) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(len(self)))
        single = np.ndim(rows) == 0
        out = self.take(np.atleast_1d(rows))[:]
        return out[0] if single else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out.astype(dtype) if dtype is not None else out

    def all_finite(self) -> bool:
        return all(p.all_finite() for p in self.parts)

    def pick(self, rows: Any) -> ChainedRows:
        """The rows picked by ``rows`` (numbers in order, or a boolean mask), each part's left where it is."""
        wanted = row_numbers(rows, len(self))
        if len(wanted) > 1 and (np.diff(wanted) <= 0).any():
            raise ValueError("ChainedRows.pick takes rows in increasing order (each part keeps its place)")
        part = np.searchsorted(self._starts, wanted, side="right") - 1
        return ChainedRows([p.pick(wanted[part == i] - self._starts[i]) for i, p in enumerate(self.parts)])


def chain(parts: Sequence[Any]) -> ChainedRows:
    """``parts`` (quantized or float arrays) one after another, each quantized, none copied whole."""
    return ChainedRows([QuantizedRows.quantize(p) for p in parts])


MAPPED = ("sentence_vectors.npy", "sentence_scales.npy")  # format 2: memory-mapped when large


def save_sentences(folder: Path, sentences: np.ndarray, vectors: np.ndarray | QuantizedRows | ChainedRows) -> None:
    """Sentence rows (chunk row, start, end) as int32; vectors as int8 codes plus a float32 scale a row,
    written a block at a time (the codes of a large index are never all in memory)."""
    if len(sentences) and int(np.abs(sentences).max()) >= 2**31:
        raise ValueError("a sentence row or offset is past 2**31: too large for the int32 sentence table")
    np.save(folder / "sentences.npy", np.asarray(sentences).astype(np.int32), allow_pickle=False)
    parts = vectors.parts if isinstance(vectors, ChainedRows) else [QuantizedRows.quantize(vectors)]
    n, dim = sum(len(p) for p in parts), parts[0].shape[1]
    _write_npy(folder / MAPPED[0], np.dtype(np.int8), (n, dim), [p.codes for p in parts])
    _write_npy(folder / MAPPED[1], np.dtype(np.float32), (n,), [p.scales for p in parts])


def _write_npy(path: Path, dtype: np.dtype, shape: tuple[int, ...], parts: Sequence[np.ndarray]) -> None:
    """An ``.npy`` file of ``parts`` one after another, a block at a time. A memory-mapped part is read
    from its file (its pages are not mapped into this process: a copy of a large index adds nothing to RSS)."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    with path.open("wb") as out:
        np.lib.format.write_array_header_1_0(out, header)
        for part in parts:
            if isinstance(part, np.memmap) and part.filename and part.dtype == dtype and part.flags.c_contiguous:
                with open(part.filename, "rb") as source:
                    source.seek(part.offset)
                    left = part.nbytes
                    while left > 0:
                        block = source.read(min(left, 16 * 2**20))
                        if not block:
                            raise ValueError(f"{part.filename}: shorter than its header says")
                        out.write(block)
                        left -= len(block)
                continue
            for start in range(0, len(part), _BLOCK):
                out.write(np.ascontiguousarray(part[start : start + _BLOCK], dtype=dtype).tobytes())


def read_sentence_vectors(generation: Path, checksums: dict[str, str], root: Path) -> QuantizedRows:
    """Format 2's codes and scales, checksum verified first: parsed from the verified bytes when
    small; when large, hashed while streamed and then memory-mapped (see ``verify``)."""
    arrays: list[np.ndarray] = []
    for name in MAPPED:
        path = generation / name
        try:
            if path.exists() and path.stat().st_size >= MMAP_FROM_BYTES:
                verified_path(generation, name, checksums[name], root)
                arrays.append(np.load(path, mmap_mode="r", allow_pickle=False))
            else:
                data = verified_bytes(generation, name, checksums[name], root)
                arrays.append(np.asarray(np.load(io.BytesIO(data), allow_pickle=False)))
        except (ValueError, OSError, EOFError) as exc:
            raise CorruptIndexError(f"{path}: unreadable ({exc}); {rebuild_hint(root)}") from exc
    try:
        return QuantizedRows(*arrays)
    except ValueError as exc:
        raise CorruptIndexError(f"{generation / MAPPED[0]}: {exc}; {rebuild_hint(root)}") from exc


def chunk_from(row: dict[str, Any], articles: dict[str, Article]) -> Chunk:
    """A format 2 chunk row (no text) with its text cut from its article (KeyError: no such article)."""
    text = articles[row["article_id"]].text
    if not 0 <= row["start"] < row["end"] <= len(text):
        raise ValueError(f"chunk {row.get('id')!r}: span {row['start']}..{row['end']} outside its article")
    return Chunk.from_dict({**row, "text": text[row["start"] : row["end"]]})


def write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.split(b"\n") if line.strip()]

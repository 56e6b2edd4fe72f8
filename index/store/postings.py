"""BM25 postings in segments: token lists -> per-segment term frequencies -> Okapi BM25 scores of every row.

A segment holds raw counts, not scores: its sorted terms, and for each term the rows (local
numbers) that hold it with how often (a CSC matrix: ``indptr``, ``rows``, ``tfs``), plus each
row's length in terms. Scores are computed at query time from statistics over every segment
(rows, mean length, each term's document frequency), so an index written in segments scores
exactly as one built at once, and adding rows only writes a segment for them: the segments
already on disk are kept as they are (hard-linked into the next generation). The formula is
bm25s's "lucene" (k1 1.2, b 0.75), which the keyword index used before segments:

    score(row) = sum over query terms t of idf(t) * tf / (tf + k1 * (1 - b + b * len(row) / mean_len))
    idf(t) = log(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

Arrays are saved as ``.npy`` and memory-mapped when loaded: a query reads the postings of its
few terms, not the index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1, B = 1.2, 0.75
BUILD_BLOCK = 131_072  # rows tokenised and counted at a time
MAX_SEGMENT_ROWS = 1_048_576  # a merge never makes a segment larger (a merge reads both in memory)
MERGE_RATIO = 4  # the last two segments merge while the older is under this many times the newer
_NAMES = ("indptr", "rows", "tfs", "lengths")


@dataclass(frozen=True)
class Segment:
    """Term counts of ``len(lengths)`` consecutive rows. ``terms`` sorted; term ``i``'s postings are
    ``rows[indptr[i]:indptr[i + 1]]`` (ascending) with counts ``tfs[...]``."""

    terms: tuple[str, ...]
    indptr: np.ndarray
    rows: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray
    name: str = ""  # the folder it was read from (hard-linked from there by the next write); "" when new

    def __len__(self) -> int:
        return len(self.lengths)

    @classmethod
    def count(cls, tokens: Sequence[Sequence[str]]) -> Segment:
        """A segment over ``tokens`` (one list of terms a row)."""
        ids: dict[str, int] = {}
        flat = np.fromiter((ids.setdefault(t, len(ids)) for row in tokens for t in row), dtype=np.int64)
        lengths = np.fromiter((len(row) for row in tokens), dtype=np.int32, count=len(tokens))
        row_of = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
        terms = sorted(ids)
        rank = np.empty(len(ids), np.int64)
        rank[[ids[t] for t in terms]] = np.arange(len(terms))
        keys, tfs = np.unique(rank[flat] * max(len(tokens), 1) + row_of, return_counts=True)  # term-major
        term_of = keys // max(len(tokens), 1)
        indptr = np.zeros(len(terms) + 1, np.int64)
        np.cumsum(np.bincount(term_of, minlength=len(terms)), out=indptr[1:])
        return cls(tuple(terms), indptr, (keys % max(len(tokens), 1)).astype(np.int32), _tf_array(tfs), lengths)

    def postings(self, term: str, ids: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding ``term`` and its counts there (empty when absent); ``ids`` maps terms to positions."""
        i = ids.get(term)
        if i is None:
            return np.zeros(0, np.int32), np.zeros(0, np.uint16)
        a, b = int(self.indptr[i]), int(self.indptr[i + 1])
        return np.asarray(self.rows[a:b]), np.asarray(self.tfs[a:b])

    def keep(self, kept: np.ndarray) -> Segment:
        """The segment of the rows where boolean ``kept`` is True, renumbered (no text tokenised again)."""
        if kept.all():
            return self
        new_row = np.cumsum(kept) - 1
        term_of = np.repeat(np.arange(len(self.terms), dtype=np.int64), np.diff(self.indptr))
        alive = kept[np.asarray(self.rows)]
        indptr = np.zeros(len(self.terms) + 1, np.int64)
        np.cumsum(np.bincount(term_of[alive], minlength=len(self.terms)), out=indptr[1:])
        rows = new_row[np.asarray(self.rows)[alive]].astype(np.int32)
        return Segment(self.terms, indptr, rows, np.asarray(self.tfs)[alive], np.asarray(self.lengths)[kept])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "terms.json").write_text(json.dumps(list(self.terms), ensure_ascii=False), encoding="utf-8")
        for name in _NAMES:
            np.save(folder / f"{name}.npy", np.asarray(getattr(self, name)), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Segment:
        """Read a saved segment, its arrays memory-mapped; ``ValueError`` when its parts disagree."""
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in _NAMES}
        segment = cls(
            tuple(str(t) for t in terms),
            arrays["indptr"],
            arrays["rows"],
            arrays["tfs"],
            arrays["lengths"],
            name=str(folder.resolve()),
        )
        segment.check()
        return segment

    def check(self) -> None:
        """``ValueError`` unless the arrays fit together (shapes, bounds, sorted terms)."""
        n, p = len(self.lengths), len(self.rows)
        if not (len(self.indptr) == len(self.terms) + 1 and len(self.tfs) == p and self.lengths.ndim == 1):
            raise ValueError(f"{len(self.terms)} terms, {len(self.indptr)} pointers, {p} rows, {len(self.tfs)} counts")
        if len(self.indptr) and (self.indptr[0] != 0 or self.indptr[-1] != p or (np.diff(self.indptr) < 0).any()):
            raise ValueError("term pointers are not ascending from 0 to the number of postings")
        if p and (int(np.min(self.rows)) < 0 or int(np.max(self.rows)) >= n):
            raise ValueError(f"a posting points outside rows 0..{n - 1}")
        if any(a >= b for a, b in zip(self.terms, self.terms[1:], strict=False)):
            raise ValueError("terms are not sorted and distinct")


def _tf_array(tfs: np.ndarray) -> np.ndarray:
    """Counts as uint16 (a term seldom repeats 65,535 times in a chunk), int32 when one does."""
    return tfs.astype(np.uint16 if not len(tfs) or int(tfs.max()) < 2**16 else np.int32)


def merge(parts: Sequence[Segment]) -> Segment:
    """One segment holding the rows of ``parts``, one after another (postings re-sorted by term)."""
    if len(parts) == 1:
        return parts[0]
    terms = sorted(set().union(*(p.terms for p in parts)))
    position = {t: i for i, t in enumerate(terms)}
    term_ids, rows, tfs = [], [], []
    offset = 0
    for part in parts:
        mapped = np.fromiter((position[t] for t in part.terms), dtype=np.int64, count=len(part.terms))
        term_ids.append(np.repeat(mapped, np.diff(part.indptr)))
        rows.append(np.asarray(part.rows, np.int64) + offset)
        tfs.append(np.asarray(part.tfs))
        offset += len(part)
    term_of = np.concatenate(term_ids)
    order = np.argsort(term_of, kind="stable")  # parts in row order: rows stay ascending within a term
    indptr = np.zeros(len(terms) + 1, np.int64)
    np.cumsum(np.bincount(term_of, minlength=len(terms)), out=indptr[1:])
    return Segment(
        tuple(terms),
        indptr,
        np.concatenate(rows)[order].astype(np.int32),
        _tf_array(np.concatenate(tfs)[order]),
        np.concatenate([np.asarray(p.lengths) for p in parts]),
    )


def settle(segments: Sequence[Segment]) -> list[Segment]:
    """Merge the last two segments while the older is under ``MERGE_RATIO`` times the newer (and the
    result within ``MAX_SEGMENT_ROWS``): the count of segments stays logarithmic in the rows, and a
    row is merged again only a few times over the index's life."""
    out = list(segments)
    while (
        len(out) >= 2 and len(out[-2]) < MERGE_RATIO * len(out[-1]) and len(out[-2]) + len(out[-1]) <= MAX_SEGMENT_ROWS
    ):
        out[-2:] = [merge(out[-2:])]
    return out


class Scorer:
    """BM25 over ``segments`` (in row order) with statistics taken over all of them."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = list(segments)
        self._ids = [{t: i for i, t in enumerate(s.terms)} for s in self.segments]
        self._offsets = np.cumsum([0, *(len(s) for s in self.segments)])
        self.size = int(self._offsets[-1])
        total = sum(int(np.asarray(s.lengths, np.int64).sum()) for s in self.segments)
        self.mean_length = total / self.size if self.size else 0.0
        # each row's length normalisation, once (float64, as bm25s computes it): 8 bytes a row
        self._norms = [K1 * ((1 - B) + B * np.asarray(s.lengths) / (self.mean_length or 1.0)) for s in self.segments]

    def df(self, term: str) -> int:
        """Rows holding ``term``, over every segment."""
        df = 0
        for segment, ids in zip(self.segments, self._ids, strict=True):
            i = ids.get(term)
            if i is not None:
                df += int(segment.indptr[i + 1] - segment.indptr[i])
        return df

    def idf(self, df: int) -> np.float32:
        return np.float32(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for ``terms`` (a term given twice counts twice), float32."""
        out = np.zeros(self.size, np.float32)
        for term in terms:
            df = self.df(term)
            if not df:
                continue
            idf = np.float64(self.idf(df))
            for segment, ids, offset, norms in zip(self.segments, self._ids, self._offsets, self._norms, strict=False):
                rows, tfs = segment.postings(term, ids)
                if not len(rows):
                    continue
                tf = tfs.astype(np.float64)
                out[offset + rows.astype(np.int64)] += (idf * (tf / (norms[rows] + tf))).astype(np.float32)
        return out

"""Find the passages for a question: query vector + words -> ranked Passages (dense, BM25, fused).

Dense search runs in FAISS (inner product of normalised vectors), keyword search in
BM25; the two rankings are fused by weighted reciprocal rank fusion. Filters (sources,
publication dates, "today") are applied inside both searches, so a filtered question
still gets its full number of passages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from index.keyword import KeywordIndex
from index.store import IndexData
from qa.records import Filters, Passage
from qa.settings import QASettings


@dataclass(frozen=True)
class Query:
    """A question as retrieval sees it."""

    text: str
    vector: np.ndarray
    today: date | None = None
    filters: Filters = Filters()


class Retriever:
    """Ranks the chunks of one loaded index generation for a query."""

    def __init__(self, data: IndexData, keyword: KeywordIndex, settings: QASettings) -> None:
        import faiss

        self.data = data
        self.keyword = keyword
        self.settings = settings
        self._faiss: Any = faiss.IndexFlatIP(data.dim)
        if len(data.chunks):
            self._faiss.add(np.ascontiguousarray(data.chunk_vectors, dtype=np.float32))
        articles = [data.articles[c.article_id] for c in data.chunks]
        self._chunk_source = np.array([a.source for a in articles], dtype=object)
        # publication day as an integer (proleptic ordinal); -1 when unknown
        self._chunk_day = np.array([a.published.toordinal() if a.published else -1 for a in articles], dtype=np.int64)

    def allowed_rows(self, query: Query) -> np.ndarray | None:
        """Boolean mask of the chunk rows the query may see, or None for all of them."""
        f = query.filters
        if f.is_empty() and query.today is None:
            return None
        mask = np.ones(len(self.data.chunks), dtype=bool)
        if f.sources:
            mask &= np.isin(self._chunk_source, list(f.sources))
        known = self._chunk_day >= 0
        if f.published_from is not None:
            mask &= known & (self._chunk_day >= f.published_from.toordinal())
        if f.published_to is not None:
            mask &= known & (self._chunk_day <= f.published_to.toordinal())
        if query.today is not None:
            # an article published after "today" could not have been read on that day
            mask &= ~known | (self._chunk_day <= query.today.toordinal())
        return mask

    def dense(self, query: Query, mask: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` chunk rows by cosine similarity, and their scores."""
        import faiss

        if not len(self.data.chunks):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        params = None
        if mask is not None:
            allowed = np.flatnonzero(mask).astype(np.int64)
            if not len(allowed):
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        scores, rows = self._faiss.search(query.vector.reshape(1, -1).astype(np.float32), n, params=params)
        keep = rows[0] >= 0
        return rows[0][keep].astype(np.int64), scores[0][keep]

    def sparse(self, query: Query, mask: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` chunk rows by BM25 score (only rows with a positive score)."""
        scores = self.keyword.scores(query.text)
        if mask is not None and len(scores):
            scores = np.where(mask, scores, 0.0)
        if not len(scores):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top]

    def retrieve(self, query: Query, k: int | None = None) -> list[Passage]:
        """The ``k`` best passages (default ``settings.passages``), best first, ranks from 1."""
        s = self.settings
        k = k or s.passages
        mask = self.allowed_rows(query)
        n = max(s.candidates, k)
        fused: dict[int, float] = {}
        dense_score: dict[int, float] = {}
        keyword_score: dict[int, float] = {}
        if s.retrieval in ("hybrid", "dense"):
            rows, scores = self.dense(query, mask, n)
            for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist())):
                dense_score[row] = score
                fused[row] = fused.get(row, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
        if s.retrieval in ("hybrid", "keyword"):
            rows, scores = self.sparse(query, mask, n)
            for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist())):
                keyword_score[row] = score
                fused[row] = fused.get(row, 0.0) + s.keyword_weight / (s.rrf_k + rank + 1)
        best = sorted(fused, key=lambda row: (-fused[row], row))[:k]
        passages = []
        for rank, row in enumerate(best, start=1):
            chunk = self.data.chunks[row]
            passages.append(
                Passage(
                    rank=rank,
                    chunk_id=chunk.id,
                    article_id=chunk.article_id,
                    start=chunk.start,
                    end=chunk.end,
                    text=chunk.text,
                    score=fused[row],
                    dense_score=dense_score.get(row, 0.0),
                    keyword_score=keyword_score.get(row, 0.0),
                )
            )
        return passages

    def row_of(self, chunk_id: str) -> int:
        """Vector row of a chunk id (``{article_id}:{n}``)."""
        return self._rows[chunk_id]

    @property
    def _rows(self) -> dict[str, int]:
        rows = getattr(self, "_row_cache", None)
        if rows is None:
            rows = {c.id: i for i, c in enumerate(self.data.chunks)}
            self._row_cache = rows
        return rows

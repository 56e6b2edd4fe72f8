"""Find the passages for a question: query vector + words -> ranked Passages (dense, BM25, fused).

Dense search runs in FAISS (inner product of normalised vectors), keyword search in
BM25; the two rankings are fused by weighted reciprocal rank fusion. Filters (sources,
publication dates, "today") are applied inside both searches, so a filtered question
still gets its full number of passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from index.store.generations import IndexData
from index.store.keyword import KeywordIndex
from index.store.tables import chunk_articles
from index.store.vectors import RowFilter, RowMask, VectorStore
from qa.question import Question
from qa.records import Filters, Passage
from qa.settings import QASettings

_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Query:
    """A question as retrieval sees it: the parsed question, its vector, the user's filters."""

    question: Question
    vector: np.ndarray
    filters: Filters = field(default_factory=Filters)


class Retriever:
    """Ranks the chunks of one loaded index generation for a query."""

    def __init__(self, data: IndexData, keyword: KeywordIndex, settings: QASettings) -> None:
        self.data = data
        self.keyword = keyword
        self.settings = settings
        self._vectors: VectorStore = data.vector_store()  # the loaded store: no copy of the vectors here
        # each chunk row's article, source and publication day (proleptic ordinal; -1 when unknown)
        self._chunk_article, self._chunk_source, self._chunk_day = chunk_articles(data.chunks, data.articles)

    def allowed_rows(self, query: Query) -> RowMask | None:
        """Boolean mask of the chunk rows the query may see, or None for all of them.

        The mask carries the filter it stands for (``RowMask.where``): a vector store that
        filters by metadata itself (Milvus) gets that rather than the mask.
        """
        f = query.filters
        if f.is_empty():
            return None
        where = RowFilter(
            frozenset(f.sources) if f.sources else None,
            f.published_from.toordinal() if f.published_from is not None else None,
            f.published_to.toordinal() if f.published_to is not None else None,
        )
        mask = np.ones(len(self.data.chunks), dtype=bool)
        if f.sources:
            mask &= np.isin(self._chunk_source, list(f.sources))
        known = self._chunk_day >= 0
        if f.published_from is not None:
            mask &= known & (self._chunk_day >= f.published_from.toordinal())
        if f.published_to is not None:
            mask &= known & (self._chunk_day <= f.published_to.toordinal())
        return RowMask.of(mask, where)

    def dense(self, query: Query, mask: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` chunk rows by cosine similarity, and their scores (the vector store's search).

        The store gets the mask and, when the mask carries one, its filter (``RowMask.where``).
        """
        if not len(self.data.chunks):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return self._vectors.search(query.vector, n, mask, getattr(mask, "where", None))

    def sparse(self, query: Query, mask: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` chunk rows by BM25 score (only rows with a positive score)."""
        scores = self.keyword.scores(query.question.text)
        if mask is not None and len(scores):
            scores = np.where(mask, scores, 0.0)
        if not len(scores):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top]

    def _fuse(
        self,
        query: Query,
        mask: np.ndarray | None,
        fused: dict[int, float],
        dense: dict[int, float],
        keyword: dict[int, float],
        weight: float = 1.0,
    ) -> None:
        """Add the dense and keyword rankings (within ``mask``) to ``fused`` by reciprocal rank."""
        s = self.settings
        if s.retrieval in ("hybrid", "dense"):
            rows, scores = self.dense(query, mask, s.fusion_candidates)
            for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True)):
                dense.setdefault(row, score)
                fused[row] = fused.get(row, 0.0) + weight * s.dense_weight / (s.rrf_k + rank + 1)
        if s.retrieval in ("hybrid", "keyword"):
            rows, scores = self.sparse(query, mask, s.fusion_candidates)
            for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True)):
                keyword.setdefault(row, score)
                fused[row] = fused.get(row, 0.0) + weight * s.keyword_weight / (s.rrf_k + rank + 1)

    def _date_factor(self, rows: list[int], query: Query) -> np.ndarray:
        """Multiplier in [1, 1 + date_weight] for each row: how well its date fits the question."""
        factor = np.ones(len(rows))
        s, today, intent = self.settings, query.question.today, query.question.dates
        if s.date_weight <= 0 or today is None or not rows:
            return factor
        days = self._chunk_day[rows]
        known = days >= 0
        if intent.has_window:
            start = (intent.start or date.min).toordinal()
            end = (intent.end or today).toordinal()
            distance = np.where(days < start, start - days, np.where(days > end, days - end, 0))
            fit = np.exp(-distance / s.window_fade_days)
        else:
            age = today.toordinal() - days
            # before "today": news fades over weeks; after it: a few days of follow-up reports
            fit = np.exp(-np.where(age >= 0, age / s.days_before, -age / s.days_after))
        return np.where(known, 1.0 + s.date_weight * fit, 1.0)

    def retrieve(self, query: Query, k: int | None = None) -> list[Passage]:
        """The ``k`` best passages (default ``settings.passages``), best first, ranks from 1.

        Rankings: dense and keyword over the allowed chunks, plus the same within the
        question's date window ("this week", "in March"); then the date prior; then
        near-identical chunks of other articles (syndicated copies) fold into the first.
        """
        s = self.settings
        k = k or s.passages
        mask = self.allowed_rows(query)
        fused: dict[int, float] = {}
        dense_score: dict[int, float] = {}
        keyword_score: dict[int, float] = {}
        self._fuse(query, mask, fused, dense_score, keyword_score)
        intent = query.question.dates
        if s.date_weight > 0 and intent.has_window:
            window = self.allowed_rows(
                Query(query.question, query.vector, Filters(query.filters.sources, intent.start, intent.end))
            )
            if mask is not None and window is not None:
                window &= mask
            self._fuse(query, window, fused, dense_score, keyword_score)
        rows = list(fused)
        factor = self._date_factor(rows, query)
        score = {row: fused[row] * f for row, f in zip(rows, factor.tolist(), strict=True)}
        ordered = sorted(rows, key=lambda row: (-score[row], row))
        chosen: list[int] = []
        copies: dict[int, list[str]] = {}
        seen = _Seen(self.data)
        for row in ordered:
            if len(chosen) == k:
                break
            twin = self._near_duplicate_of(row, chosen, seen) if s.dedup else None
            if twin is None:
                chosen.append(row)
                copies[row] = []
            elif self._chunk_article[row] not in copies[twin]:
                copies[twin].append(self._chunk_article[row])
        passages = []
        for rank, row in enumerate(chosen, start=1):
            chunk = self.data.chunks[row]
            passages.append(
                Passage(
                    rank=rank,
                    chunk_id=chunk.id,
                    article_id=chunk.article_id,
                    start=chunk.start,
                    end=chunk.end,
                    text=chunk.text,
                    score=score[row],
                    dense_score=dense_score.get(row, 0.0),
                    keyword_score=keyword_score.get(row, 0.0),
                    also_in=tuple(copies[row]),
                )
            )
        return passages

    def _near_duplicate_of(self, row: int, chosen: list[int], seen: _Seen) -> int | None:
        """The chosen row of another article whose chunk is near-identical to ``row``'s, if any."""
        if not chosen:
            return None
        similarity = seen.vectors(chosen) @ seen.vector(row)
        for other, sim in zip(chosen, similarity.tolist(), strict=True):
            if self._chunk_article[other] == self._chunk_article[row]:
                continue
            if sim >= self.settings.duplicate_similarity:
                return other
            words, other_words = seen.words(row), seen.words(other)
            if len(words & other_words) >= self.settings.duplicate_overlap * len(words | other_words):
                return other
        return None


class _Seen:
    """The vectors and word sets of the rows one ``retrieve`` compares, each read once (a large index
    reads a row's text from its article and its vector from the store's codes)."""

    def __init__(self, data: IndexData) -> None:
        self._data = data
        self._vectors: dict[int, np.ndarray] = {}
        self._words: dict[int, set[str]] = {}

    def vector(self, row: int) -> np.ndarray:
        if row not in self._vectors:
            self._vectors[row] = np.asarray(self._data.chunk_vectors[[row]], dtype=np.float32)[0]
        return self._vectors[row]

    def vectors(self, rows: list[int]) -> np.ndarray:
        return np.stack([self.vector(r) for r in rows])

    def words(self, row: int) -> set[str]:
        if row not in self._words:
            self._words[row] = set(_WORDS.findall(self._data.chunks[row].text.lower()))
        return self._words[row]

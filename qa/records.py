"""Records of the answering stages: Filters, Passage, Quote, Citation, Answer, Turn (frozen) and their JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from index.errors import SettingsError


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some sources and a publication-date range (inclusive)."""

    sources: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None

    def __post_init__(self) -> None:
        start, end = self.published_from, self.published_to
        if start is not None and end is not None and start > end:
            raise SettingsError(f"the date range is empty: {start} is after {end}")

    def is_empty(self) -> bool:
        return not self.sources and self.published_from is None and self.published_to is None


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores; ``rank`` starts at 1."""

    rank: int
    chunk_id: str
    article_id: str
    start: int
    end: int
    text: str
    score: float
    dense_score: float = 0.0
    keyword_score: float = 0.0
    also_in: tuple[str, ...] = ()  # other articles carrying a near-identical passage (syndication)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "article_id": self.article_id,
            "chunk_id": self.chunk_id,
            "score": round(self.score, 6),
            "start": self.start,
            "end": self.end,
            "also_in": list(self.also_in),
        }


@dataclass(frozen=True)
class Quote:
    """A verbatim span of an article. Invariant: ``article.text[start:end] == text``."""

    article_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Citation:
    """A verified quote with its number in the answer and the article's metadata."""

    n: int
    quote: Quote
    title: str
    source: str
    url: str
    published: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "article_id": self.quote.article_id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "start": self.quote.start,
            "end": self.quote.end,
            "text": self.quote.text,
        }


@dataclass(frozen=True)
class Answer:
    """What ``Assistant.ask`` returns: a short answer, verified quotes, and what was considered.

    ``abstained`` answers are normal answers: ``answer`` says what the articles don't
    cover, ``reason`` says why, and ``passages`` are the closest ones found.
    ``confidence`` is the best sentence's score, the number abstention compares with
    ``QASettings.abstain_below``.
    """

    question: str
    answer: str
    quotes: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    abstained: bool = False
    reason: str = ""
    standalone_question: str = ""
    confidence: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shared by the CLI (``--json``), the Python API and the eval rows."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "reason": self.reason,
            "confidence": round(self.confidence, 4),
            "quotes": [c.to_dict() for c in self.quotes],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: what was asked (as asked) and what was answered.

    Example:
        >>> Turn("Who opened the ferry line?", "The harbour board").question
        'Who opened the ferry line?'
    """

    question: str
    answer: str = ""

    @classmethod
    def from_answer(cls, answer: Answer) -> Turn:
        """The turn to remember: the question as asked, the answer and the sentences quoted
        (a short answer like "emergency loans" alone would lose who said it)."""
        said = " ".join([answer.answer, *(c.quote.text for c in answer.quotes)]) if not answer.abstained else ""
        return cls(answer.question, said)

"""The fitted reader: shipped weights (qa/models/reader/) + candidate sentences -> a ``Reading``.

Three logistic regressions, fitted by ``python -m train`` (train/): sentence (this sentence
answers the question), span (this span is the short answer) and answerable (some
candidate answers). Weights are plain JSON checked against ``checksums.json`` on load; the
features come from qa/reader/features.py and qa/reader/spans.py, the same code training
calls. NumPy only at question time (no torch, no scikit-learn).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import NewsQAError
from qa.question import Question
from qa.reader.features import ANSWER_FEATURES, SENTENCE_FEATURES, answer_row, sentence_matrix
from qa.reader.question import Asked
from qa.reader.records import SentenceIn, Span
from qa.reader.spans import SPAN_FEATURES, Embed, span_matrix

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "reader"
WEIGHTS = "reader.json"
CHECKSUMS = "checksums.json"
FORMAT = 1


class ReaderModelError(NewsQAError):
    """The reader's weights are missing, altered (checksum) or do not fit this code's features."""


@dataclass(frozen=True)
class Linear:
    """A fitted logistic regression over standardised features: p = sigmoid(((x - mean) / scale) . coef + b)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probs(self, x: np.ndarray) -> np.ndarray:
        """The probability of each row of ``x`` (columns in ``features`` order)."""
        if len(x) == 0:
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": float(self.intercept),
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any], expected: tuple[str, ...], part: str) -> Linear:
        features = tuple(row["features"])
        if features != expected:
            raise ReaderModelError(
                f"the {part} model was fitted on other features than this code computes; retrain: python -m train"
            )
        arrays = [np.asarray(row[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays):
            raise ReaderModelError(f"the {part} model's arrays do not match its {len(features)} features")
        return cls(features, arrays[0], arrays[1], arrays[2], float(row["intercept"]))


@dataclass(frozen=True)
class Reading:
    """What the reader makes of a question's candidate sentences.

    ``probs[i]``: the probability that ``sentences[i]`` answers; ``order``: sentence indices,
    most probable first; ``span``: the short answer when its probability reaches the span
    threshold, else None (answer with the best sentence); ``answerable``: the probability that
    some candidate answers; ``abstain``: it is under the answerable threshold.
    """

    probs: np.ndarray
    order: tuple[int, ...]
    span: Span | None
    best_span: Span | None
    answerable: float
    abstain: bool


@dataclass(frozen=True)
class Reader:
    """The three fitted models and their thresholds."""

    sentence: Linear
    span: Linear
    answer: Linear
    span_threshold: float
    answerable_threshold: float

    @classmethod
    def load(cls, folder: Path | str = MODEL_DIR) -> Reader:
        """The reader saved in ``folder``, its weights checked against ``checksums.json``."""
        root = Path(folder)
        try:
            raw = (root / WEIGHTS).read_bytes()
            sums = json.loads((root / CHECKSUMS).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReaderModelError(f"{root}: no readable reader model ({exc}); train one: python -m train") from exc
        digest = hashlib.sha256(raw).hexdigest()
        if sums.get(WEIGHTS) != digest:
            raise ReaderModelError(f"{root / WEIGHTS}: sha256 {digest} differs from {CHECKSUMS}; the file was altered")
        return cls.from_dict(json.loads(raw))

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Reader:
        if row.get("format") != FORMAT:
            raise ReaderModelError(f"reader format {row.get('format')!r}; this code reads format {FORMAT}")
        return cls(
            Linear.from_dict(row["sentence"], SENTENCE_FEATURES, "sentence"),
            Linear.from_dict(row["span"], SPAN_FEATURES, "span"),
            Linear.from_dict(row["answer"], ANSWER_FEATURES, "answerable"),
            float(row["thresholds"]["span"]),
            float(row["thresholds"]["answerable"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "sentence": self.sentence.to_dict(),
            "span": self.span.to_dict(),
            "answer": self.answer.to_dict(),
            "thresholds": {"span": self.span_threshold, "answerable": self.answerable_threshold},
        }

    def sentence_probs(self, asked: Asked, sentences: Sequence[SentenceIn], rules_short: str = "") -> np.ndarray:
        """For each sentence, the probability that it answers the question."""
        return self.sentence.probs(sentence_matrix(asked, sentences, rules_short))

    def best_span(
        self,
        asked: Asked,
        sentences: Sequence[SentenceIn],
        probs: np.ndarray,
        rules_short: str = "",
        embed: Embed | None = None,
    ) -> Span | None:
        """The most probable short answer in the best sentences (None when they hold no candidate)."""
        spans, x = span_matrix(asked, sentences, probs, rules_short, embed)
        if not spans:
            return None
        p = self.span.probs(x)
        i = int(np.argmax(p))  # the first of equals: candidates come best sentence first, in text order
        c = spans[i]
        return Span(c.text_in(sentences), c.sentence, c.start, c.end, float(p[i]))

    def answerable(self, asked: Asked, sentences: Sequence[SentenceIn], probs: np.ndarray) -> float:
        """The probability that some candidate sentence answers the question."""
        if not sentences:
            return 0.0
        x = np.array([answer_row(asked, sentences, probs)], dtype=np.float64)
        return float(self.answer.probs(x)[0])

    def read(
        self,
        question: Question | str,
        sentences: Sequence[SentenceIn],
        rules_short: str | None = None,
        embed: Embed | None = None,
    ) -> Reading:
        """Read ``sentences`` (from ``qa.reader.records.from_candidates``) for ``question`` (the
        engine's parsed ``Question``, or its text);
        ``rules_short``: the short answer the rules cut (``qa.extract.extract``), None or "" if none;
        ``embed``: the query embedder, which the span model asks how well each span fits the type
        a "which" question names (fitted with the packaged all-MiniLM-L6-v2; None: no type)."""
        asked = Asked.of(question) if isinstance(question, Question) else Asked.parse(question)
        short = rules_short or ""
        probs = self.sentence_probs(asked, sentences, short)
        order = tuple(int(i) for i in np.argsort(-probs, kind="stable"))
        best = self.best_span(asked, sentences, probs, short, embed)
        answerable = self.answerable(asked, sentences, probs)
        span = best if best is not None and best.prob >= self.span_threshold else None
        return Reading(probs, order, span, best, answerable, answerable < self.answerable_threshold)

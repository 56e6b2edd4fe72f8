"""Fit the reader's three models on collected examples: [Example] -> ``Reader`` (fixed seed).

Labels come from the gold answers by normalised containment (eval/metrics.contains_answer):
a sentence answers when it holds a gold answer; a span when it holds one and is at most
``SPAN_SLACK`` words longer; a reading is answerable when any candidate sentence holds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eval.metrics import contains_answer, normalize
from qa.reader.features import ANSWER_FEATURES, SENTENCE_FEATURES, answer_row, sentence_matrix
from qa.reader.model import Linear, Reader
from qa.reader.question import Asked
from qa.reader.spans import SPAN_FEATURES, Embed, span_matrix
from train.collect import Example

SEED = 15
SPAN_SLACK = 3  # a span may hold this many words beyond the gold answer and still count as it
C = 0.1  # inverse regularisation strength of every model (1.0 ranked 2026's sentences no better, 2025's worse)


@dataclass(frozen=True)
class Matrices:
    """Feature rows and labels of one model."""

    x: np.ndarray
    y: np.ndarray


def rules_short(example: Example) -> str:
    """The short answer the rules cut for the example ("" when they abstained or answered with a sentence)."""
    rules = example.rules
    if rules is None or rules.abstained or rules.short == rules.first_quote:
        return ""
    return rules.short


def sentence_labels(example: Example) -> np.ndarray:
    return np.array([contains_answer(s.text, example.question.answers) for s in example.sentences], dtype=bool)


def span_label(text: str, answers: Sequence[str]) -> bool:
    """The span holds a gold answer and is not much longer than it."""
    longest = max((len(normalize(a).split()) for a in answers), default=0)
    return contains_answer(text, answers) and len(normalize(text).split()) <= longest + SPAN_SLACK


def _fit(m: Matrices, features: tuple[str, ...], max_iter: int = 2000) -> Linear:
    from sklearn.linear_model import LogisticRegression

    mean = m.x.mean(axis=0) if len(m.x) else np.zeros(len(features))
    scale = m.x.std(axis=0) if len(m.x) else np.ones(len(features))
    scale[scale < 1e-9] = 1.0
    if len(set(m.y.tolist())) < 2:
        return Linear(
            features, mean, scale, np.zeros(len(features)), 0.0 if not len(m.y) else (4.0 if m.y[0] else -4.0)
        )
    model = LogisticRegression(C=C, max_iter=max_iter, random_state=SEED)
    model.fit((m.x - mean) / scale, m.y)
    return Linear(features, mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def _stack(rows: list[np.ndarray], labels: list[np.ndarray], width: int) -> Matrices:
    x = np.vstack(rows) if rows else np.zeros((0, width))
    y = np.concatenate(labels) if labels else np.zeros(0, bool)
    return Matrices(x, y.astype(np.int64))


def fit_reader(
    examples: Sequence[Example],
    span_threshold: float = 0.5,
    answerable_threshold: float = 0.5,
    max_iter: int = 2000,
    embed: Embed | None = None,
) -> Reader:
    """Fit sentence, span and answerable models in turn; each later one reads the earlier ones' output.
    ``embed``: the query embedder the span model's type features use (None: they are 0)."""
    gold = [e for e in examples if e.mode == "gold" and e.sentences]
    asked = {e.question.question: Asked.parse(e.question.question) for e in examples}
    rows = [sentence_matrix(asked[e.question.question], e.sentences, rules_short(e)) for e in gold]
    sentence = _fit(
        _stack(rows, [sentence_labels(e) for e in gold], len(SENTENCE_FEATURES)), SENTENCE_FEATURES, max_iter
    )

    span_rows: list[np.ndarray] = []
    span_y: list[np.ndarray] = []
    for e, x in zip(gold, rows, strict=True):
        probs = sentence.probs(x)
        spans, sx = span_matrix(asked[e.question.question], e.sentences, probs, rules_short(e), embed)
        if spans:
            span_rows.append(sx)
            span_y.append(np.array([span_label(c.text_in(e.sentences), e.question.answers) for c in spans], bool))
    span = _fit(_stack(span_rows, span_y, len(SPAN_FEATURES)), SPAN_FEATURES, max_iter)

    partial = Reader(sentence, span, Linear(ANSWER_FEATURES, *_identity(len(ANSWER_FEATURES))), 0.0, 0.0)
    answer_rows: list[np.ndarray] = []
    answer_y: list[np.ndarray] = []
    for e in examples:
        if not e.sentences:
            continue
        a = asked[e.question.question]
        probs = partial.sentence_probs(a, e.sentences, rules_short(e))
        answer_rows.append(np.array([answer_row(a, e.sentences, probs)]))
        answer_y.append(np.array([bool(sentence_labels(e).any())]))
    answer = _fit(_stack(answer_rows, answer_y, len(ANSWER_FEATURES)), ANSWER_FEATURES, max_iter)
    return Reader(sentence, span, answer, span_threshold, answerable_threshold)


def _identity(width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    return np.zeros(width), np.ones(width), np.zeros(width), 0.0

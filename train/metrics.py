"""Figures of a reader on collected examples, beside the current rules: [Example] -> ``SetFigures``.

Per set: the answering sentence first (reader vs the rules' first quote), the short answer
holds the gold answer (and with at most 12 words), answerable declined at the chosen
threshold; where unanswerable questions exist (quail's nulls, or the ``filtered`` readings
of a training set) the nulls declined and the AUC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from eval.metrics import contains_answer
from qa.reader.model import Reader
from qa.reader.spans import Embed
from train.collect import Example
from train.fit import rules_short

SHORT_WORDS = 12


@dataclass(frozen=True)
class Scored:
    """One example read by the reader, with the rules' figures beside it."""

    example: Example
    first: bool  # the reader's best sentence holds the answer
    rules_first: bool  # the rules' first quote holds it
    any_holds: bool  # some candidate holds it
    short: str  # the reader's answer: the span, else the best sentence
    short_holds: bool
    span_holds: bool  # the best span, whatever its probability, holds the answer
    rules_short_holds: bool
    answerable: float
    rules_score: float
    rules_declined: bool | None  # the rules abstained (None: not asked through the rules)


@dataclass(frozen=True)
class SetFigures:
    """The figures of one set (rates over its answerable gold questions unless said)."""

    name: str
    questions: int
    candidates_hold: float
    first_reader: float
    first_rules: float
    short_reader: float
    short_reader_12: float
    span_reader: float
    short_rules: float
    short_rules_12: float
    declined_reader: float  # answerable questions declined at the threshold
    declined_rules: float
    nulls: int
    nulls_declined_reader: float | None
    nulls_declined_rules: float | None
    auc_reader: float | None
    auc_rules: float | None

    def to_dict(self) -> dict[str, object]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def query_embedder() -> Embed:
    """The packaged model's query embedder, as the assistant runs it on a default index, with each
    text embedded once (training and scoring read the same spans many times)."""
    from functools import lru_cache

    from index.embed import DEFAULT_MODEL, make_embedder

    embed = make_embedder(DEFAULT_MODEL).embed_query

    def read_only(text: str) -> np.ndarray:
        vector = embed(text)
        vector.setflags(write=False)  # one array per text, shared by every caller
        return vector

    return lru_cache(maxsize=None)(read_only)


def score(reader: Reader, examples: Sequence[Example], embed: Embed | None = None) -> list[Scored]:
    """Read every example (``embed``: the query embedder, as at question time)."""
    found = []
    for e in examples:
        answers = e.question.answers
        reading = reader.read(e.question.question, e.sentences, rules_short(e), embed)
        best = e.sentences[reading.order[0]].text if reading.order else ""
        short = reading.span.text if reading.span is not None else best
        rules = e.rules
        found.append(
            Scored(
                e,
                contains_answer(best, answers),
                rules is not None and contains_answer(rules.first_quote, answers),
                any(contains_answer(s.text, answers) for s in e.sentences),
                short,
                contains_answer(short, answers),
                reading.best_span is not None and contains_answer(reading.best_span.text, answers),
                rules is not None and not rules.abstained and contains_answer(rules.short, answers),
                reading.answerable,
                max((s.score for s in e.sentences), default=0.0),
                rules.abstained if rules is not None else None,
            )
        )
    return found


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """The probability that a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return None
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def threshold_for(scores: Sequence[float], declined: float) -> float:
    """The highest threshold that declines at most ``declined`` of ``scores`` (answerable questions)."""
    ordered = sorted(scores)
    allowed = int(np.floor(declined * len(ordered)))
    return ordered[allowed] if allowed < len(ordered) else ordered[-1] + 1e-9


def _rules_declined(s: Scored, rules_threshold: float) -> bool:
    return s.rules_declined if s.rules_declined is not None else s.rules_score < rules_threshold


def figures(name: str, scored: Sequence[Scored], threshold: float, rules_threshold: float) -> SetFigures:
    """The figures of one set at the reader's answerable ``threshold`` (the rules: as they answered,
    or for readings they did not answer, their best score under ``rules_threshold``)."""
    gold = [s for s in scored if s.example.mode == "gold" and s.example.question.answerable]
    nulls = [s for s in scored if not s.example.question.answerable or s.example.mode == "filtered"]
    if any(s.example.mode == "filtered" for s in nulls):
        nulls = [s for s in nulls if not s.any_holds]  # a filtered reading that still holds the answer is answerable

    def rate(flags: Sequence[bool]) -> float:
        return float(np.mean(flags)) if flags else 0.0

    def words(s: str) -> int:
        return len(s.split())

    rules_short = [s.example.rules.short if s.example.rules else "" for s in gold]
    return SetFigures(
        name=name,
        questions=len(gold),
        candidates_hold=rate([s.any_holds for s in gold]),
        first_reader=rate([s.first for s in gold]),
        first_rules=rate([s.rules_first for s in gold]),
        short_reader=rate([s.short_holds for s in gold]),
        short_reader_12=rate([s.short_holds and words(s.short) <= SHORT_WORDS for s in gold]),
        span_reader=rate([s.span_holds for s in gold]),
        short_rules=rate([s.rules_short_holds for s in gold]),
        short_rules_12=rate(
            [s.rules_short_holds and words(r) <= SHORT_WORDS for s, r in zip(gold, rules_short, strict=True)]
        ),
        declined_reader=rate([s.answerable < threshold for s in gold]),
        declined_rules=rate([_rules_declined(s, rules_threshold) for s in gold]),
        nulls=len(nulls),
        nulls_declined_reader=rate([s.answerable < threshold for s in nulls]) if nulls else None,
        nulls_declined_rules=rate([_rules_declined(s, rules_threshold) for s in nulls]) if nulls else None,
        auc_reader=auc([s.answerable for s in gold], [s.answerable for s in nulls]),
        auc_rules=auc([s.rules_score for s in gold], [s.rules_score for s in nulls]),
    )

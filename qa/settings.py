"""Answering settings: one frozen dataclass, validated when built; TOML table ``[qa]``.

Every number that changes an answer is a field here, with the reason for its value: the
settings file can set it, every eval report records it, the ablation can vary it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from index.errors import SettingsError

RetrievalMode = Literal["hybrid", "dense", "keyword"]
ReaderMode = Literal["trained", "rules"]
_COUNTS = ("passages", "fusion_candidates", "answer_passages", "max_quotes", "rrf_k", "evidence_sentences")


@dataclass(frozen=True)
class QASettings:
    """How questions are answered.

    Retrieval: ``retrieval`` mode; ``passages`` returned with an answer; ``fusion_candidates``
    each search (dense, keyword) proposes before reciprocal-rank fusion (``rrf_k``, weighted
    by ``dense_weight`` / ``keyword_weight``); ``date_weight``: how strongly a publication
    date near "today" (or inside the window the question names) lifts a passage, 0 to
    ignore dates; ``dedup``: fold syndicated copies of a passage into one.

    Answer step: ``answer_passages`` whose sentences are candidates; ``max_quotes``;
    ``short_answers``: cut the answer (a name, date, number, the words said) out of the
    best sentences; ``entities``: check names with spaCy's named-entity model;
    ``rescore``: how many of the best sentences are embedded again, alone, at question
    time; ``entity_checked``: how many of the best sentences the named-entity model checks
    for a name of the kind asked for; ``asked_share``: of a sentence's keyword score, the
    part that counts only the words of the question's sentence that asks;
    ``abstain_below``: the rules' answer score under which the assistant says the articles
    don't say (chosen on the dev sets, see docs/eval); ``reader``: "trained" (the fitted
    reader of qa/reader ranks sentences, cuts the short answer and declines) or "rules"
    (the hand-set weights below); ``checks``: decline when no retrieved article names
    what the question asks about, or was published in the window its time words name.
    The weights below are documented where they are defined.
    """

    retrieval: RetrievalMode = "hybrid"
    passages: int = 5
    fusion_candidates: int = 200  # with 50, one question fewer per dev set had its relevant article in the top 5
    rrf_k: int = 60  # the usual reciprocal-rank-fusion constant
    keyword_weight: float = 1.0
    dense_weight: float = 1.0
    date_weight: float = 1.0
    days_before: float = 30.0  # the date prior fades over this many days for articles published before "today"
    days_after: float = 7.0  # ... and over this many for later ones (a few days of follow-up reports)
    window_fade_days: float = 7.0  # outside the window a question names ("in March"), the prior fades this fast
    dedup: bool = True
    duplicate_similarity: float = 0.97  # cosine of two chunks of different articles that are one story
    duplicate_overlap: float = 0.8  # ... or the share of words they have in common (Jaccard)
    answer_passages: int = 8
    max_quotes: int = 3
    short_answers: bool = True
    entities: bool = True
    rescore: int = 10
    entity_checked: int = 20
    asked_share: float = 0.7  # 0.5 quoted 1 realtimeqa answer fewer; quail asks in one sentence
    sentence_dense_share: float = 0.6  # share of a sentence's score from vector similarity; the rest is keywords
    passage_bonus: float = 0.1  # divided by the passage rank (0.05: 2 fewer dev answers quoted)
    type_bonus: float = 0.08  # the sentence holds the kind of answer asked for (a place for "where" ...)
    speaker_bonus: float = 0.08  # "what did X say": X (named in the sentence) is speaking or quoted
    entity_bonus: float = 0.08  # the named-entity model finds a name of the kind asked for
    title_penalty: float = 0.06  # a headline restates the topic; it rarely answers the question
    rescore_weight: float = 1.5  # how far a re-embedded sentence's similarity moves its score (both dev sets)
    quote_ratio: float = 0.7  # a further quote scores at least this share of the best (0.85: 1 to 4 fewer quoted)
    evidence_sentences: int = 30  # sentences the short answer is voted from (weighted by score)
    vote_temperature: float = 0.12  # a sentence this far below the best votes with weight 1/e (both dev sets)
    min_vote_weight: float = 0.05  # sentences voting with less are not tagged (their votes barely count)
    year_weight: float = 0.2  # "How many teams ...?": a year ("the 2030 Games") is rarely the count asked for
    counted_bonus: float = 1.0  # "how many miles": a number of miles beats other numbers
    title_bonus: float = 1.5  # a title in quotation marks, for a question about a film, song or book
    untagged_weight: float = 0.5  # a capitalised span the named-entity model does not see as a name
    abstain_below: float = 0.53  # the rules' threshold; the trained reader has its own (qa/models/reader)
    # who ranks the sentences, cuts the short answer and declines: "trained" (qa/reader) ties the hand-set
    # rules on realtimeqa 2026 short answers (0.585) but quotes the answer less often (0.737 vs 0.754) and
    # declines fewer of quail's unanswerable questions (0.267 vs 0.367; qa/models/reader/MODEL_CARD.md)
    reader: ReaderMode = "rules"
    checks: bool = True  # decline when no retrieved article names what the question asks about, or dates from its time
    window_slack_days: int = 3  # a "this week" question accepts articles this many days outside the week
    # a question for the latest news ("recently", "latest", "now") that names no time is declined when
    # every retrieved article is older than this many days (0: never); chosen on realtimeqa (docs/eval)
    recent_days: int = 60

    def __post_init__(self) -> None:
        if self.retrieval not in ("hybrid", "dense", "keyword"):
            raise SettingsError(f"retrieval={self.retrieval!r}: choose hybrid, dense or keyword")
        if self.reader not in ("trained", "rules"):
            raise SettingsError(f"reader={self.reader!r}: choose trained or rules")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise SettingsError(f"{f.name}={value}: must not be negative")
        for name in _COUNTS:
            if getattr(self, name) < 1:
                raise SettingsError(f"{name}={getattr(self, name)}: must be at least 1")
        for name in ("asked_share", "sentence_dense_share", "quote_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{name}={getattr(self, name)}: must be between 0 and 1")
        if self.recent_days > 36_500:
            raise SettingsError(f"recent_days={self.recent_days}: at most 36500 (a century)")
        for name in ("vote_temperature", "days_before", "days_after", "window_fade_days"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name}={getattr(self, name)}: must be more than 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

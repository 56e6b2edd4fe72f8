"""Answering settings: one frozen dataclass, validated when built; TOML table ``[qa]``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from index.errors import SettingsError

RetrievalMode = Literal["hybrid", "dense", "keyword"]


@dataclass(frozen=True)
class QASettings:
    """How questions are answered.

    ``passages``: passages returned with an answer; ``candidates``: how many each search
    (dense, keyword) proposes before fusion; ``max_quotes``: quotes per answer; ``short_answers``: cut the
    answer (a name, place, date, number, the words said) out of the best sentence;
    ``date_weight``: how strongly a publication date near "today" (or inside the window
    the question names: "this week", "in March") lifts a passage, 0 to ignore dates;
    ``dedup``: fold syndicated copies of a passage into one; ``entities``: find the names
    that answer "who" / "where" / "which" with spaCy's named-entity model (qa/ner.py) rather
    than by capital letters; ``rescore``: how many of the best sentences are embedded again,
    alone, at question time (0: only the vectors stored in the index); ``typed``: how many of
    the best sentences the named-entity model checks for a name of the kind asked for, which
    moves them up (0: none; needs ``entities``); ``asked_share``: of a sentence's keyword
    score, the part that counts only the words of the question's sentence that asks ("... was
    arrested on Thursday. Who is her deputy?": "deputy"), the rest counting all its words (0 to
    1; 0: all words alike); ``abstain_below``: the answer score under which the assistant says
    the articles don't say (chosen on the dev sets, see docs/eval).
    """

    retrieval: RetrievalMode = "hybrid"
    passages: int = 5
    candidates: int = 200  # with 50, one question fewer per dev set had its relevant article in the top 5
    rrf_k: int = 60
    keyword_weight: float = 1.0
    dense_weight: float = 1.0
    date_weight: float = 1.0
    dedup: bool = True
    answer_passages: int = 8
    max_quotes: int = 3
    short_answers: bool = True
    entities: bool = True
    rescore: int = 10
    typed: int = 20
    asked_share: float = 0.7  # 0.5 quoted 1 realtimeqa answer fewer; quail asks in one sentence
    abstain_below: float = 0.53

    def __post_init__(self) -> None:
        if self.retrieval not in ("hybrid", "dense", "keyword"):
            raise SettingsError(f"retrieval={self.retrieval!r}: choose hybrid, dense or keyword")
        for name in ("rescore", "typed"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name}={getattr(self, name)}: must be 0 or more")
        for name in ("passages", "candidates", "answer_passages", "max_quotes", "rrf_k"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name}={getattr(self, name)}: must be at least 1")
        if not 0.0 <= self.asked_share <= 1.0:
            raise SettingsError(f"asked_share={self.asked_share}: must be between 0 and 1")
        if min(self.keyword_weight, self.dense_weight, self.date_weight) < 0:
            raise SettingsError("keyword_weight, dense_weight and date_weight must not be negative")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

"""Features of candidate sentences and of a whole reading: (Asked, [SentenceIn]) -> float matrices.

One implementation for training (train/) and answering (qa/reader/model.py): the names in
``SENTENCE_FEATURES`` and ``ANSWER_FEATURES`` are stored with the fitted weights, and a
model whose names differ from these is refused on load.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from qa.reader.question import KINDS, Asked, content, words
from qa.reader.records import SentenceIn
from qa.words import SPEECH_VERB

SENTENCE_FEATURES: tuple[str, ...] = (
    "dense",
    "keyword",
    "rule_score",
    "rule_score_gap",  # to the best candidate's rule score
    "dense_gap",
    "keyword_gap",
    "inv_passage_rank",
    "log_rule_order",
    "says_rules_short",  # the sentence says the rules' short answer (qa/extract.py), as whole words
    "asking_share",  # of the question's asking-sentence words, the share in the sentence
    "word_share",
    "name_share",  # of the question's capitalised names
    "has_names",
    "has_type",  # a span of the kind asked for (qa/qtype.has_answer_of_type)
    "wanted_entity",  # an entity with a label the question wants, not made of the question's words
    "new_entities",  # log(1 + entities not made of the question's words)
    "log_words",
    "quoted",
    "speech_verb",
    "new_words_share",  # of the sentence's content words, the share the question lacks
    "log_dense_rank",  # its place among the candidates by stored cosine (0 = best)
    "log_keyword_rank",
    *(f"kind_{k}" for k in KINDS),
    *(f"has_type_x_{k}" for k in KINDS),
    *(f"wanted_x_{k}" for k in KINDS),
)

# Only signals that held on every dev set: with the sentence probabilities, the stored cosine, the
# question's names and its kind, the model fitted on realtimeqa's filtered readings ranked quail's
# unanswerable questions worse than chance (AUC 0.51 against 0.80 with these four).
ANSWER_FEATURES: tuple[str, ...] = (
    "top_rule_score",
    "top_keyword",
    "word_cover_all",  # share of the question's content words in any candidate
    "asking_cover_top",  # share of its asking sentence's words in the 5 most probable sentences
)
TOP = 5  # the best sentences the coverage features look at


def _share(wanted: frozenset[str], present: set[str]) -> float:
    return len(wanted & present) / len(wanted) if wanted else 0.0


def _not_asked(text: str, asked: Asked) -> bool:
    return not set(words(text)) <= asked.all_words


def says(sentence: str, phrase: str) -> bool:
    """``phrase`` occurs in ``sentence`` as whole words, ignoring case ("Iran" is not in "Iranian")."""
    return bool(phrase) and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", sentence, re.I) is not None


def sentence_row(asked: Asked, s: SentenceIn, best: SentenceIn, rules_short: str = "") -> list[float]:
    """The features of one sentence; ``best`` holds the best value of each score among the candidates;
    ``rules_short``: the rules' short answer ("" if none)."""
    present = content(s.text)
    has_type = asked.has_type(s.text)
    fresh = [e for e in s.entities if _not_asked(s.text[e[0] : e[1]], asked)]
    wanted = any(e[2] in asked.labels for e in fresh)
    kinds = [float(asked.kind == k) for k in KINDS]
    return [
        s.dense,
        s.keyword,
        s.score,
        s.score - best.score,
        s.dense - best.dense,
        s.keyword - best.keyword,
        1.0 / max(s.rank, 1),
        math.log1p(s.order),
        float(says(s.text, rules_short)),
        _share(asked.asking, present),
        _share(asked.words, present),
        _share(asked.names, present),
        float(bool(asked.names)),
        float(has_type),
        float(wanted),
        math.log1p(len(fresh)),
        math.log1p(len(s.text.split())),
        float(any(q in s.text for q in '“"')),
        float(SPEECH_VERB.search(s.text) is not None),
        len(present - asked.words) / len(present) if present else 0.0,
        0.0,  # the two ranks: filled in by sentence_matrix, which sees every candidate
        0.0,
        *kinds,
        *(k * has_type for k in kinds),
        *(k * wanted for k in kinds),
    ]


def sentence_matrix(asked: Asked, sentences: Sequence[SentenceIn], rules_short: str = "") -> np.ndarray:
    """One row of ``SENTENCE_FEATURES`` per sentence (shape: len(sentences) x features)."""
    if not sentences:
        return np.zeros((0, len(SENTENCE_FEATURES)))
    best = SentenceIn(
        "",
        max(s.dense for s in sentences),
        max(s.keyword for s in sentences),
        max(s.score for s in sentences),
        1,
        0,
        False,
    )
    x = np.array([sentence_row(asked, s, best, rules_short) for s in sentences], dtype=np.float64)
    for name, values in (
        ("log_dense_rank", [s.dense for s in sentences]),
        ("log_keyword_rank", [s.keyword for s in sentences]),
    ):
        ranks = np.empty(len(sentences))
        ranks[np.argsort(-np.asarray(values), kind="stable")] = np.arange(len(sentences))
        x[:, SENTENCE_FEATURES.index(name)] = np.log1p(ranks)
    return x


def answer_row(asked: Asked, sentences: Sequence[SentenceIn], probs: np.ndarray) -> list[float]:
    """The features of a whole reading: how well the best sentences match, and what they cover."""
    best = [sentences[i] for i in np.argsort(-probs, kind="stable")[:TOP].tolist()]
    seen_top: set[str] = set().union(*(content(s.text) for s in best)) if best else set()
    seen_all: set[str] = set().union(*(content(s.text) for s in sentences)) if sentences else set()
    return [
        max((s.score for s in sentences), default=0.0),
        max((s.keyword for s in sentences), default=0.0),
        _share(asked.words, seen_all),
        _share(asked.asking, seen_top),
    ]

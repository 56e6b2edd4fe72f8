"""Scoring functions, pure: gold + what the assistant returned -> numbers (no I/O, no models).

Retrieval: ``recall_at_k`` (a relevant article among the first k), ``reciprocal_rank``.
Answers (SQuAD-style normalisation): ``contains_answer``, ``exact_match``, ``token_f1``. Quotes:
``quote_is_exact``, ``citation_precision``. Decisions: ``crag_score``. Multiple choice:
``choose_option``. Aggregates: ``mean``, ``percentile``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """Lowercase, drop punctuation (any Unicode P* character) and the articles a/an/the, collapse spaces.

    Example:
        >>> normalize("The  U.S. Senate's “vote”!")
        'us senates vote'
    """
    lowered = unicodedata.normalize("NFKC", text).lower()
    no_punct = "".join(ch for ch in lowered if not unicodedata.category(ch).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", no_punct).split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when a normalised gold answer occurs in the normalised ``text`` as whole words.

    Example:
        >>> contains_answer("Lavrov called for an urgent ceasefire.", ["Urgent ceasefire"])
        True
        >>> contains_answer("He spoke about focus groups.", ["US"])
        False
    """
    padded = f" {normalize(text)} "
    return any(gold and f" {gold} " in padded for gold in map(normalize, answers))


def exact_match(text: str, answers: Iterable[str]) -> bool:
    """True when the normalised ``text`` equals a normalised gold answer."""
    mine = normalize(text)
    return any(mine == normalize(gold) for gold in answers)


def token_f1(text: str, answers: Iterable[str]) -> float:
    """Best token-overlap F1 between ``text`` and any gold answer (SQuAD definition).

    Example:
        >>> token_f1("an urgent ceasefire in Gaza", ["urgent ceasefire"])
        0.6666666666666666
    """
    mine = normalize(text).split()
    best = 0.0
    for gold in answers:
        theirs = normalize(gold).split()
        common = sum((Counter(mine) & Counter(theirs)).values())
        if common:
            precision, recall = common / len(mine), common / len(theirs)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def article_ranking(passage_article_ids: Iterable[str]) -> list[str]:
    """Article ids in order of first appearance (passages come best first)."""
    return list(dict.fromkeys(passage_article_ids))


def recall_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1.0 when a relevant article is among the first ``k`` of ``ranking``, else 0.0 (a "hit")."""
    wanted = set(relevant)
    return 1.0 if wanted and wanted & set(ranking[:k]) else 0.0


def reciprocal_rank(ranking: Sequence[str], relevant: Iterable[str]) -> float:
    """1 / rank of the first relevant article (ranks from 1), 0.0 when none is ranked."""
    wanted = set(relevant)
    for rank, article in enumerate(ranking, start=1):
        if article in wanted:
            return 1.0 / rank
    return 0.0


def quote_is_exact(quote_text: str, start: int, end: int, article_text: str | None) -> bool:
    """True when the article holds exactly ``quote_text`` at ``[start:end]``."""
    return article_text is not None and 0 <= start <= end <= len(article_text) and article_text[start:end] == quote_text


def citation_precision(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of the distinct cited articles that are relevant; None when nothing is cited."""
    distinct = set(cited)
    if not distinct:
        return None
    return len(distinct & set(relevant)) / len(distinct)


def crag_score(answerable: bool, abstained: bool, correct: bool) -> int:
    """CRAG-style score: +1 right, 0 abstained on an answerable question, -1 wrong.

    On an unanswerable question abstaining is the right answer (+1) and answering is a
    hallucination (-1); ``correct`` is ignored there.
    """
    if not answerable:
        return 1 if abstained else -1
    if abstained:
        return 0
    return 1 if correct else -1


_STOP_WORDS = """
a an the of in on at to for from by with and or but is are was were be been being it its this that
these those as into than then there their they he she his her him we our you your who what when
where which why how do does did has have had not no will would can could should may might about
after before over under more most
"""
_STOP = frozenset(_STOP_WORDS.split())


def content_words(text: str) -> list[str]:
    """Normalised words minus stop words, with a plural ``s`` dropped (a crude, deterministic stem)."""
    words = [w for w in normalize(text).split() if w not in _STOP]
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def option_support(option: str, evidence: Sequence[str], exclude: Iterable[str] = ()) -> float:
    """How well ``evidence`` (best first) supports ``option``: sum over items of weight x coverage.

    Coverage is the share of the option's content words (minus ``exclude``: words of the
    question and words every option shares) found in the item; item ``i`` (from 0) weighs
    ``1 / (i + 1)``, so the best evidence counts most.

    Example:
        >>> option_support("urgent ceasefire", ["a call for an urgent ceasefire", "ceasefire talks"])
        1.25
    """
    banned = set(exclude)
    words = {w for w in content_words(option) if w not in banned}
    if not words:
        return 0.0
    total = 0.0
    for i, item in enumerate(evidence):
        found = set(content_words(item))
        total += len(words & found) / len(words) / (i + 1)
    return total


NO_INFO = "not enough information"


def choose_option(question: str, choices: Sequence[str], evidence: Sequence[str], abstained: bool) -> int:
    """Index of the option best supported by ``evidence``; ties go to the earlier option.

    An option reading "not enough information" is chosen when the assistant abstained or
    no other option has any support; it is never chosen on support alone.
    """
    no_info = [i for i, c in enumerate(choices) if normalize(c) == NO_INFO]
    if abstained and no_info:
        return no_info[0]
    shared = set.intersection(*(set(content_words(c)) for c in choices)) if choices else set()
    exclude = set(content_words(question)) | shared
    scores = [-math.inf if i in no_info else option_support(c, evidence, exclude) for i, c in enumerate(choices)]
    best = max(range(len(choices)), key=lambda i: (scores[i], -i))
    if scores[best] <= 0 and no_info:
        return no_info[0]
    return best


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100, linear interpolation, like NumPy's default); None if empty.

    Example:
        >>> percentile([10.0, 20.0, 30.0, 40.0], 50)
        25.0
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

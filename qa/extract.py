"""Cut the short answer out of the best sentences: (Question, scored sentences) -> span text or None.

Candidate spans of the kind the question asks for (``qa.kinds.RULES[kind].spans``: a name
for "who" / "which country", a date for "when", a number for "how many", the words said
for "what did X call for") are collected from the best sentences by ``qa.spans`` and voted
on, each weighted by its sentence's score; a span made only of the question's own words
is never an answer. Names are checked by spaCy's named-entity model when it runs
(qa/ner.py: a person is not a place).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.gazetteer import COUNTRIES, US_STATES
from qa.kinds import NAME_KINDS, RULES
from qa.ner import EntityTagger
from qa.question import Question
from qa.spans import Entity, Spans, after_anchor, expansion, name_spans, pattern_spans, speech, title_spans, typed
from qa.words import NUMBER_CORE, NUMBER_SPAN, PAST_TIME, TIME_SPAN, YEAR

_WORD = re.compile(r"\w+")
KNOWN_NAMES = {"country": COUNTRIES, "state": US_STATES}


@dataclass(frozen=True)
class Evidence:
    """A scored sentence to extract from."""

    text: str
    score: float


@dataclass(frozen=True)
class Voting:
    """How the spans of the evidence sentences are weighed (``QASettings`` fields of the same names).

    ``vote_temperature``: a sentence this far below the best votes with weight 1/e;
    ``min_vote_weight``: sentences voting with less are not tagged; ``year_weight``: a
    bare year's vote for "how many"; ``counted_bonus``: a number with the counted noun;
    ``title_bonus``: a quoted title for a film or book; ``untagged_weight``: a capitalised span
    the named-entity model does not see as a name.
    """

    vote_temperature: float = 0.12
    min_vote_weight: float = 0.05
    year_weight: float = 0.2
    counted_bonus: float = 1.0
    title_bonus: float = 1.5
    untagged_weight: float = 0.5


def extract(
    question: Question,
    evidence: Sequence[Evidence],
    stem: Callable[[str], str] = str.lower,
    tagger: EntityTagger | None = None,
    voting: Voting | None = None,
) -> str | None:
    """The short answer found in ``evidence`` (best sentence first), or None to show the sentence.

    Example:
        >>> extract(Question.parse("Where was Maduro captured?"),
        ...         [Evidence("US forces captured Maduro in Caracas, Venezuela.", 1.0)])
        'Caracas'
    """
    if not evidence:
        return None
    rule = RULES[question.kind]
    if rule.spans == "speech":
        return speech(evidence[0].text)
    if rule.spans == "expansion":  # the best sentence that spells the letters out
        return next((name for item in evidence if (name := expansion(question.letters, item.text))), None)
    if question.object_phrase:
        return after_anchor(evidence[0].text, question.anchors, stem)
    if rule.spans == "none":
        return None
    if question.kind in NAME_KINDS and not question.labels:
        return None  # "which virus": a common noun, which no name answers; the sentence says it
    return _vote(question, evidence, tagger, voting or Voting())


def _vote(question: Question, evidence: Sequence[Evidence], tagger: EntityTagger | None, voting: Voting) -> str | None:
    """The best-voted span: the best sentence counts most; others confirm, fading fast with their score."""
    top = evidence[0].score
    weights = [math.exp((item.score - top) / voting.vote_temperature) for item in evidence]
    tagged: dict[int, list[Entity]] | None = None
    if tagger is not None and question.kind in NAME_KINDS:
        # only sentences whose votes still count are tagged: the model costs ~4 ms a sentence
        voters = [i for i, weight in enumerate(weights) if weight >= voting.min_vote_weight]
        found = tagger.entities([evidence[i].text for i in voters])
        tagged = dict(zip(voters, found, strict=True)) if found is not None else None
    common = frozenset(w for item in evidence for w in _WORD.findall(item.text) if w.islower())
    votes: dict[str, float] = {}
    surface: dict[str, tuple[float, str]] = {}  # key -> its best single vote and that spelling
    for i, item in enumerate(evidence):
        entities = tagged.get(i) if tagged is not None else None
        spans = _spans(question, item.text, common, tagged is not None, entities, voting)
        for order, (span, bonus) in enumerate(spans):
            key = span.lower()
            core = NUMBER_CORE.match(span) if question.kind == "number" else None
            if core:  # votes go to the number ("how high": "four miles" is shown, with its unit) ...
                key = core.group(0).lower()
                if question.counted and question.counted not in span[core.end() :].lower():
                    span = core.group(0)  # ... but "how many golds": "five", not "five as"
            vote = weights[i] * bonus * (1.0 - 0.02 * order)
            votes[key] = votes.get(key, 0.0) + vote
            if key not in surface or vote > surface[key][0]:  # shown as its best-voted spelling
                surface[key] = (vote, span)
    if not votes:
        return None
    if question.kind in NAME_KINDS:
        votes = merge_short_forms(votes)
    best = max(votes, key=lambda k: (votes[k], -len(k)))
    return surface[best][1]


def _spans(
    question: Question,
    sentence: str,
    common: frozenset[str],
    was_tagged: bool,
    entities: list[Entity] | None,
    voting: Voting,
) -> Spans:
    """The spans of one sentence that may answer ``question``, with their weights."""
    asked = question.words
    finder = RULES[question.kind].spans
    if finder == "names":
        spans = name_spans(sentence, asked, question.kind, common)
        if question.titled:  # a film, song or book: its title in quotation marks
            spans += title_spans(sentence, asked, voting.title_bonus)
        if was_tagged:
            spans = typed(spans, sentence, entities, question.labels, voting.untagged_weight)
        known = KNOWN_NAMES.get(question.category)
        if known is not None:  # "which country": only countries
            spans = [(span, bonus) for span, bonus in spans if span in known]
        return spans
    if finder == "time":
        spans = pattern_spans(TIME_SPAN, sentence, asked)
        if question.future:  # "when will ...?" is not answered by "yesterday"
            spans = [(span, bonus) for span, bonus in spans if not PAST_TIME.match(span)]
        return spans
    spans = [
        (span, bonus * (voting.year_weight if YEAR.match(span) else 1.0))
        for span, bonus in pattern_spans(NUMBER_SPAN, sentence, asked)
    ]
    if question.counted:  # "how many miles": a number of miles beats other numbers
        bonus_for = voting.counted_bonus
        spans = [(span, bonus + (bonus_for if question.counted in span.lower() else 0.0)) for span, bonus in spans]
    return spans


def merge_short_forms(votes: dict[str, float]) -> dict[str, float]:
    """A short form votes for the full name it shortens, as news writes a name in full once and
    then shortly: "McIlroy" for "Rory McIlroy", "Knicks" for "New York Knicks". The votes go to
    the best-voted longer span that starts or ends with the same words.

    Example:
        >>> merge_short_forms({"mcilroy": 2.0, "rory mcilroy": 1.0, "augusta": 1.5})
        {'mcilroy': 0.0, 'rory mcilroy': 3.0, 'augusta': 1.5}
    """
    merged = dict(votes)
    words = {key: key.split() for key in votes}
    for short in sorted(votes, key=lambda k: len(words[k])):
        n = len(words[short])
        longer = [
            key
            for key in votes
            if len(words[key]) > n and (words[key][-n:] == words[short] or words[key][:n] == words[short])
        ]
        if longer:
            target = max(longer, key=lambda k: merged[k])
            merged[target] += merged[short]
            merged[short] = 0.0
    return merged

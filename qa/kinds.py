"""The kinds of answer a question asks for, and what each does: one table, ``RULES``.

For each kind (person, place, time, number, entity, speech, expansion, other) one
``KindRule`` says how the kind is recognised in the sentence that asks, which
named-entity labels answer it, how its short answer is found in a sentence, how a
sentence is checked for an answer of that kind, and what must be found before the
assistant answers at all. The answer step reads this table; no module keeps an
``if kind == ...`` chain of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from qa.spans import expansion
from qa.words import ASKING_SPEECH_VERBS, NAME_WORD, NUMBER_WORD, TIME_WORD

AnswerType = Literal["person", "place", "time", "number", "entity", "speech", "expansion", "other"]
# how the short answer is cut: a name, a date, a number, the words said, the letters spelt out, or nothing
SpanFinder = Literal["names", "time", "number", "speech", "expansion", "none"]
# does a sentence hold an answer of the kind: (sentence, the question's words, the letters asked about)
SentenceCheck = Callable[[str, frozenset[str], str], bool]

# "What does NATO stand for?", "What is the acronym “DOGE” short for?": the letters' full name;
# capital letters ("NATO", "U.N.") or a word in quotation marks ("“Met”")
STANDS_FOR = re.compile(
    r"^\s*(?i:what)\b.*?(?:\b([A-Z][A-Z.&]*[A-Z])\.?|[“\"'‘]([A-Z][\w.&]*)[”\"'’])"
    r"\s+(?i:stands?|(?:is\s+)?short)\s+(?i:for)\b"
)


def _holds(cue: re.Pattern[str]) -> SentenceCheck:
    """A sentence holds an answer when ``cue`` matches something the question does not say."""
    return lambda sentence, words, letters: any(m.group(0).lower() not in words for m in cue.finditer(sentence))


def _spells_out(sentence: str, words: frozenset[str], letters: str) -> bool:
    return expansion(letters, sentence) is not None


def _anything(sentence: str, words: frozenset[str], letters: str) -> bool:
    return True


@dataclass(frozen=True)
class KindRule:
    """What one kind of answer does.

    ``recognise``: matched on the sentence that asks (kinds are tried in table order; None:
    the fallback). ``labels``: OntoNotes labels of a name that answers it. ``spans``: how the
    short answer is cut. ``check``: whether a sentence holds an answer of the kind.
    ``object_phrase``: "Who did X meet?" is answered by the phrase after the question's last
    word. ``needs``: what must be found for an answer at all ("a number"), "" when the best
    sentence may answer on its own.
    """

    recognise: re.Pattern[str] | None
    labels: frozenset[str]
    spans: SpanFinder
    check: SentenceCheck
    object_phrase: bool = False
    needs: str = ""


_SAYS = (
    r"say|said|saying|call(ed|ing)? (for|on)|urge|demand|stress|affirm|propose|announce|warn|tell|argue|insist|"
    r"promise|pledge|vow|ask for|claim|suggest"
)
RULES: dict[AnswerType, KindRule] = {
    "expansion": KindRule(STANDS_FOR, frozenset(), "expansion", _spells_out),
    "person": KindRule(
        re.compile(r"^\s*(who|whom|whose)\b", re.I), frozenset({"PERSON"}), "names", _holds(NAME_WORD), True
    ),
    "place": KindRule(
        re.compile(r"^\s*where\b|\b(which|what) (city|country|state|town|place|region|nation)\b", re.I),
        frozenset({"GPE", "LOC", "FAC"}),
        "names",
        _holds(NAME_WORD),
    ),
    "time": KindRule(
        re.compile(r"^\s*when\b|\b(what|which) (day|date|year|month|time)\b|\bhow long ago\b", re.I),
        frozenset(),  # dates come from rules: tagging them did not help on the dev sets
        "time",
        _holds(TIME_WORD),
        needs="date or time",
    ),
    "number": KindRule(
        re.compile(r"^\s*how (many|much|old|long|far|big|high|large)\b|\bwhat (percentage|number|amount)\b", re.I),
        frozenset(),
        "number",
        _holds(NUMBER_WORD),
        needs="number",
    ),
    "speech": KindRule(
        re.compile(rf"^\s*what (did|does|do|has|have|will|would|is|was) .+\b({_SAYS})\b", re.I),
        frozenset(),
        "speech",
        _anything,
    ),
    "entity": KindRule(
        re.compile(
            r"\bwhich\b|\bwhat (?:is|was) the (?:name|title) of\b|\bwhat (company|team|film|movie|song|book|party)\b",
            re.I,
        ),
        frozenset({"ORG", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "PERSON", "GPE", "LOC", "FAC"}),
        "names",
        _holds(NAME_WORD),
    ),
    "other": KindRule(None, frozenset(), "none", _anything, True),
}
# kinds answered by a name: the named-entity model checks their spans and sentences
NAME_KINDS: frozenset[AnswerType] = frozenset(kind for kind, rule in RULES.items() if rule.spans == "names")
SPEECH_SUBJECT = re.compile(
    rf"^\s*what\s+(?:did|does|do|has|have|will|would|is|was)\s+(.+?)\s+(?:{ASKING_SPEECH_VERBS})\b", re.I
)


def answer_type(asking: str) -> AnswerType:
    """The kind of answer the sentence that asks (``qa.question.asking_sentence``) wants.

    Example:
        >>> answer_type("Where was Maduro captured?"), answer_type("How many died?")
        ('place', 'number')
        >>> answer_type("What did Lavrov call for?"), answer_type("Which airline merged?")
        ('speech', 'entity')
    """
    for kind, rule in RULES.items():
        if rule.recognise is not None and rule.recognise.search(asking):
            return kind
    return "other"


def has_answer_of_type(kind: AnswerType, sentence: str, words: frozenset[str], letters: str = "") -> bool:
    """True when ``sentence`` holds something of ``kind`` that the question (its ``words``) does not.

    Example:
        >>> has_answer_of_type("number", "Four people died.", frozenset({"how", "many", "died"}))
        True
    """
    return RULES[kind].check(sentence, words, letters)

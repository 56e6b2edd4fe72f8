"""The question, understood once: text (+ today, the index's vocabulary) -> ``Question``.

Every later step (retrieval, sentence scoring, the short answer, abstention) reads this
record; none parses the question string again. It holds the sentence that asks, the
kind of answer wanted and the entity labels that may give it, what a "which <noun>"
asks for, the counted noun of "how many", the speakers of "what did X say", the letters
of "what does X stand for", the content words with their weights, and the date intent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from index.sentences import split_sentences
from qa.dates import DateIntent, date_intent, without_time_words
from qa.kinds import RULES, SPEECH_SUBJECT, STANDS_FOR, AnswerType, answer_type
from qa.spans import words_of
from qa.words import NOUN_LABELS, QUESTION_WORDS, THINGS, WORKS

Category = Literal["country", "state", ""]
_WORD = re.compile(r"\w+")
_WHICH = re.compile(r"\b(?:which|what)\s+((?:[\w'’-]+\s*){1,3})", re.I)
_NAME_OF = re.compile(r"\b(?:title|name) of\s+((?:[\w'’-]+\s*){1,6})", re.I)  # "the title of JD Vance's new book"
_CATEGORY = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(country|nation|state)\b", re.I)
_TYPE_WORDS = re.compile(r"\b(which|what)\s+((?:[\w'’.&-]+[,;:!?\"“”]*\s*){1,8})", re.I)
_FOLLOWING = re.compile(r"^of\s+(?:the\s+following|these|those)\s+", re.I)  # "which of the following people"
# words that end the noun phrase after "which": verbs' helpers, prepositions, determiners, pronouns
_PHRASE_ENDS = frozenset(
    "is are was were be been being am did does do has have had will would can could should may might must "
    "in on at to for from by with about after before during into over under since as than across against "
    "the a an this that these those its their his her our your my and or but who whom whose which what "
    "it they he she we you i them him us me not".split()
)
# after "what", a verb or an adverb asks for no type: "what happened", "what caused", "what probably"
_WHAT_VERB = re.compile(r"^(?:[a-z]+(?:ed|ing|ly)|led|made|makes|took|takes|happens|causes|goes|went)$")
_COUNTED = re.compile(r"\bhow (?:many|much)\s+(\w+)", re.I)
_FUTURE = re.compile(r"\bwhen\s+(will|is\s+\w+\s+(going|expected|scheduled|set)\s+to)\b", re.I)
# "Who did X meet?", "What did X express gratitude for?": the answer follows the question's last word.
# After has / had / will ..., a subject must follow for that ("Who will Trump meet?"); a verb or an
# object makes "who" the subject ("Who has tied the bill to ...?", "Who had the longest speech?").
_SUBJECT_WORD = r"(?:[A-Z][\w'’.-]*|(?i:he|she|they|it|we|you|i)\b)"
_OBJECT_QUESTION = re.compile(
    r"^\s*(?i:who|whom|what)\s+(?:(?i:did|does|do)\b"
    rf"|(?i:has|have|had)\s+{_SUBJECT_WORD}"
    rf"|(?i:will|would|could|should|can)\s+(?:{_SUBJECT_WORD}|(?i:the|a|an|his|her|their|its|this|that)\b))"
)


class Vocabulary(Protocol):
    """The index's view of words (``index.store.keyword.KeywordIndex``): stems and their weights."""

    def terms(self, text: str) -> list[str]: ...

    def idf(self, terms: list[str]) -> dict[str, float]: ...


@dataclass(frozen=True)
class Question:
    """A question, parsed once (``Question.parse``). ``text`` is the question as answered.

    ``asking``: its sentence that asks; ``kind`` and ``labels``: the answer wanted and the
    entity labels a name answering it may have; ``thing``: "which virus" wants a common
    noun, no name; ``category``: "which country / state" (a known list of names); ``titled``:
    it asks for a film's, song's or book's title; ``counted``: the noun of "how many X";
    ``speakers``: X of "what did X say"; ``letters``: X of "what does X stand for";
    ``object_phrase``: "Who did X meet?" (the answer follows the question's last word);
    ``future``: "when will ..."; ``words``: its lower-cased words; ``typed``: the words of
    ``topic`` (the text without its time words) as typed; ``terms`` / ``weights``: the
    index's stemmed terms of ``topic`` and their idf; ``asked_terms``: those of the asking
    sentence; ``anchors``: stemmed words that the object phrase follows; ``dates``: the
    publication window its time words point at, relative to ``today``.
    """

    text: str
    asking: str
    kind: AnswerType
    labels: frozenset[str]
    thing: bool
    category: Category
    titled: bool
    counted: str
    speakers: tuple[str, ...]
    letters: str
    object_phrase: bool
    future: bool
    words: frozenset[str]
    topic: str
    typed: tuple[str, ...]
    today: date | None = None
    dates: DateIntent = field(default_factory=DateIntent)
    terms: tuple[str, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)
    asked_terms: frozenset[str] = frozenset()
    anchors: frozenset[str] = frozenset()
    type_phrase: str = ""  # "which pop star sang ...": "pop star sang" (type_phrase())

    @classmethod
    def parse(cls, text: str, today: date | None = None, vocabulary: Vocabulary | None = None) -> Question:
        """Understand ``text`` once. Without a ``vocabulary``, words are their own terms.

        Example:
            >>> q = Question.parse("The Milan Games have ended. Which country hosts in 2030?")
            >>> q.asking, q.kind, q.category, sorted(q.labels)
            ('Which country hosts in 2030?', 'place', 'country', ['GPE'])
        """
        asking = asking_sentence(text)
        kind = answer_type(asking)
        labels, thing = _which_labels(text, kind)
        stands_for = STANDS_FOR.search(asking)
        counted = _COUNTED.search(text)
        topic = without_time_words(text)
        if vocabulary is None:
            terms = [w.lower() for w in _WORD.findall(topic)]
            asked = {w.lower() for w in _WORD.findall(without_time_words(asking))}
            weights = dict.fromkeys(terms, 1.0)
        else:
            terms = list(dict.fromkeys(vocabulary.terms(topic)))
            asked = set(vocabulary.terms(without_time_words(asking)))
            weights = vocabulary.idf(terms)
        return cls(
            text=text,
            asking=asking,
            kind=kind,
            labels=labels,
            thing=thing,
            category=_category(text),
            titled=kind == "entity" and WORKS.search(text) is not None,
            counted=counted.group(1).lower().rstrip("s") if counted else "",
            speakers=_speakers(text) if kind == "speech" else (),
            letters=(stands_for.group(1) or stands_for.group(2)).replace(".", "") if stands_for else "",
            object_phrase=RULES[kind].object_phrase and _OBJECT_QUESTION.search(asking) is not None,
            future=_FUTURE.search(text) is not None,
            words=words_of(text),
            topic=topic,
            typed=tuple(dict.fromkeys(_WORD.findall(topic))),
            today=today,
            dates=date_intent(text, today),
            terms=tuple(terms),
            weights=weights,
            asked_terms=frozenset(asked),
            anchors=_anchors(text, vocabulary),
            type_phrase=type_phrase(asking),
        )


def asking_sentence(question: str) -> str:
    """The sentence of ``question`` that asks: its last one ending in "?", else its last one.
    Quiz questions open with a statement ("X happened. Where is it?"); that sets the scene.

    Example:
        >>> asking_sentence("The Milan Cortina Games have ended. Which country hosts in 2030?")
        'Which country hosts in 2030?'
    """
    spans = [question[a:b] for a, b in split_sentences(question)]
    asks = [s for s in spans if s.rstrip().endswith("?")]
    return (asks or spans or [question])[-1]


def _stem(word: str, vocabulary: Vocabulary | None) -> str:
    if vocabulary is None:
        return word.lower()
    terms = vocabulary.terms(word)
    return terms[0] if terms else ""  # a stop word


def _anchors(text: str, vocabulary: Vocabulary | None) -> frozenset[str]:
    """The question's stemmed words but the question words: what the object phrase follows."""
    words = {_stem(w, vocabulary) for w in _WORD.findall(text.lower())}
    return frozenset(words - {_stem(w, vocabulary) for w in QUESTION_WORDS} - {""})


def _speakers(text: str) -> tuple[str, ...]:
    """For "what did X say", X's names (or its head noun: "the Arab diplomats" -> diplomats)."""
    match = SPEECH_SUBJECT.search(text)
    if match is None:
        return ()
    words = match.group(1).split()
    names = [w for w in words if w[:1].isupper()]
    return tuple(names or words[-1:])


def type_phrase(asking: str, most: int = 3) -> str:
    """The words that name what a "which"/"what" question asks for: the noun phrase after the
    question word, up to ``most`` words (not counting "of"), cut at the first function word. Without a
    part-of-speech tagger a verb may end it ("which pop star sang": "pop star sang"); its embedding
    still names the type.

    Example:
        >>> type_phrase("Which type of virus was found in Port Ellis?")
        'type of virus'
        >>> type_phrase("Which U.S. state banned the dye?"), type_phrase("What happened next?")
        ('U.S. state banned', '')
    """
    match = _TYPE_WORDS.search(asking)
    if match is None:
        return ""
    kept: list[str] = []
    for word in _FOLLOWING.sub("", match.group(2)).split():
        bare = word.strip(',;:!?"“”')
        if bare.endswith(".") and "." not in bare[:-1] and not (len(bare) <= 4 and bare[:1].isupper()):
            bare = bare[:-1]  # a sentence's full stop, not an abbreviation ("St.", "U.S.")
        low = bare.lower()
        if not bare or low in _PHRASE_ENDS or (low == "of" and not kept):
            break
        if not kept and match.group(1).lower() == "what" and _WHAT_VERB.match(low):
            return ""
        if re.search(r"['’]s$", bare):  # "which company's CEO": the CEO
            kept = []
            continue
        kept.append(bare)
        if len([w for w in kept if w.lower() != "of"]) == most or bare != word:
            break
    while kept and kept[-1].lower() == "of":
        kept.pop()
    return " ".join(kept)


def _category(text: str) -> Category:
    """ "which country" / "which state": the answer is one of a known list of names."""
    match = _CATEGORY.search(text)
    if match is None:
        return ""
    return "country" if match.group(1).lower() in ("country", "nation") else "state"


def _singulars(word: str) -> set[str]:
    """The word and the singulars it may be the plural of: "cities" -> city, "countries" -> country."""
    return {word, word.removesuffix("s"), word.removesuffix("es"), re.sub(r"ies$", "y", word)}


def _which_labels(text: str, kind: AnswerType) -> tuple[frozenset[str], bool]:
    """The labels a name answering ``text`` may have, and whether a common noun answers instead.

    The noun of "which <noun>" (or of "the title / name of X's <noun>") narrows the kind's
    labels: "which golfer" a PERSON, "which film" a work of art; "which virus" a thing, no name.
    """
    which, name_of = _WHICH.search(text), _NAME_OF.search(text)
    words = which.group(1).lower().split() if which else []  # "which country's leader": a country
    thing = any(_singulars(w) & THINGS for w in words)
    if name_of:
        phrase = name_of.group(1).lower().split()
        owners = [i for i, w in enumerate(phrase) if re.search(r"['’]s$", w)]
        words += phrase[owners[-1] + 1 :] if owners else phrase  # "JD Vance's new book": the book
    for word in words:  # the noun is among the next few words
        singular = _singulars(re.sub(r"['’]s$", "", word))
        for nouns, labels in NOUN_LABELS:
            if singular & nouns:
                return labels, False
    return (frozenset() if thing else RULES[kind].labels), thing

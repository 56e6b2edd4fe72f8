"""What kind of answer a question wants, and whether a sentence has one: str -> AnswerType.

Rules over the question's first words ("who", "where", "when", "how many" ...) and over
the sentence's surface (capitalised names, numbers, dates). No model: these run for
every candidate sentence at query time.
"""

from __future__ import annotations

import re
from typing import Literal

from index.sentences import split_sentences

AnswerType = Literal["person", "place", "time", "number", "entity", "speech", "expansion", "other"]

# "What does NATO stand for?", "What is the acronym “DOGE” short for?": the letters' full name
_STANDS_FOR = re.compile(
    r"^\s*(?i:what)\b.*?(?:\b([A-Z][A-Z.&]*[A-Z])\.?|[“\"'‘]([A-Z][\w.&]*)[”\"'’])"
    r"\s+(?i:stands?|(?:is\s+)?short)\s+(?i:for)\b"
)  # capital letters ("NATO", "U.N.") or a word in quotation marks ("“Met”")
_TYPE_RULES: list[tuple[re.Pattern[str], AnswerType]] = [
    (_STANDS_FOR, "expansion"),
    (re.compile(r"^\s*(who|whom|whose)\b", re.I), "person"),
    (re.compile(r"^\s*where\b|\b(which|what) (city|country|state|town|place|region|nation)\b", re.I), "place"),
    (re.compile(r"^\s*when\b|\b(what|which) (day|date|year|month|time)\b|\bhow long ago\b", re.I), "time"),
    (
        re.compile(r"^\s*how (many|much|old|long|far|big|high|large)\b|\bwhat (percentage|number|amount)\b", re.I),
        "number",
    ),
    (
        re.compile(
            r"^\s*what (did|does|do|has|have|will|would|is|was) .+\b"
            r"(say|said|saying|call(ed|ing)? (for|on)|urge|demand|"
            r"stress|affirm|propose|announce|warn|tell|argue|insist|promise|pledge|vow|ask for|claim|suggest)\b",
            re.I,
        ),
        "speech",
    ),
    (
        re.compile(
            r"\bwhich\b|\bwhat (?:is|was) the (?:name|title) of\b|\bwhat (company|team|film|movie|song|book|party)\b",
            re.I,
        ),
        "entity",
    ),
]

_CATEGORY = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(country|nation|state)\b", re.I)

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_TIME = re.compile(
    rf"\b({_MONTHS}|{_DAYS}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|yesterday|today|tonight|"
    r"last (week|month|year)|(1[89]|20)\d\d)\b",
    re.I,
)
_NUMBER = re.compile(
    r"[$€£]\s?\d|\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|half|percent)\b",
    re.I,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’-]+")


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


def answer_type(question: str) -> AnswerType:
    """The kind of answer ``question`` asks for.

    Example:
        >>> answer_type("Where was Maduro captured?"), answer_type("How many died?")
        ('place', 'number')
        >>> answer_type("What did Lavrov call for?"), answer_type("Which airline merged?")
        ('speech', 'entity')
    """
    asked = asking_sentence(question)
    for pattern, kind in _TYPE_RULES:
        if pattern.search(asked):
            return kind
    return "other"


def category(question: str) -> Literal["country", "state", ""]:
    """ "which country" / "which state": the answer is one of a known list of names."""
    match = _CATEGORY.search(question)
    if match is None:
        return ""
    return "country" if match.group(1).lower() in ("country", "nation") else "state"


def acronym(question: str) -> str:
    """The letters an "expansion" question asks about ("" if none): "What does “Met” stand for?" -> "Met"."""
    match = _STANDS_FOR.search(asking_sentence(question))
    return (match.group(1) or match.group(2)).replace(".", "") if match else ""


_CONNECTORS = frozenset("of and for the de du la &".split())
_TOKEN = re.compile(r"[A-Za-z][\w'’-]*|&")


def expansion(letters: str, sentence: str) -> str | None:
    """The first capitalised name in ``sentence`` that ``letters`` abbreviate, or None.

    Each capitalised word gives its first letter (or, for the first word, a longer start: "Met" for
    "Metropolitan"); "of", "and" ... give their first letter or nothing. The name is two words or more.

    Example:
        >>> expansion("CBP", "U.S. Customs and Border Protection opened two new lanes at the bridge.")
        'Customs and Border Protection'
        >>> expansion("DOGE", "Musk led the Department of Government Efficiency for months.")
        'Department of Government Efficiency'
        >>> expansion("Met", "Stars arrived at the Metropolitan Museum of Art on Monday.")
        'Metropolitan Museum of Art'
    """
    wanted = letters.lower()
    tokens = list(_TOKEN.finditer(sentence))

    def capital(i: int) -> bool:
        return tokens[i].group(0)[:1].isupper()

    def ends(i: int, done: int) -> int | None:
        """The last token of a name that starts at token ``i`` with ``done`` letters matched."""
        if done == len(wanted):
            return i - 1 if capital(i - 1) else None
        if i == len(tokens) or sentence[tokens[i - 1].end() : tokens[i].start()].strip():
            return None  # the name ends at punctuation
        word = tokens[i].group(0).lower()
        if word in _CONNECTORS:
            skip = ends(i + 1, done)
            if skip is not None:
                return skip
            return ends(i + 1, done + 1) if word[0] == wanted[done] else None
        if not capital(i) or word[0] != wanted[done]:
            return None
        return ends(i + 1, done + 1)

    for i in range(len(tokens)):
        if not capital(i):
            continue
        word = tokens[i].group(0)
        if word.lower() == wanted:
            continue  # the abbreviation itself
        start = next((n for n in range(len(wanted), 0, -1) if word.lower().startswith(wanted[:n])), 0)
        if start == len(wanted) and len(word) < len(wanted) + 3:
            start -= 1  # "Met" is short for "Metropolitan", not for "Meta"
        for n in range(start, 0, -1):  # the first word gives n letters
            last = ends(i + 1, n) if n < len(wanted) else _run_end(tokens, sentence, i)
            if last is not None and last > i:
                return sentence[tokens[i].start() : tokens[last].end()]
    return None


def _run_end(tokens: list[re.Match[str]], sentence: str, i: int) -> int:
    """The last capitalised token of the name that starts at token ``i`` ("Metropolitan Museum of Art")."""
    last = j = i
    while j + 1 < len(tokens) and not sentence[tokens[j].end() : tokens[j + 1].start()].strip():
        j += 1
        word = tokens[j].group(0)
        if word[:1].isupper():
            last = j
        elif word.lower() not in _CONNECTORS:
            break
    return last


def has_answer_of_type(kind: AnswerType, sentence: str, question: str) -> bool:
    """True when ``sentence`` contains something of ``kind`` that the question does not."""
    if kind == "expansion":
        return expansion(acronym(question), sentence) is not None
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    if kind in ("person", "place", "entity"):
        return any(m.group(0).lower() not in asked for m in _NAME.finditer(sentence))
    if kind == "time":
        return any(m.group(0).lower() not in asked for m in _TIME.finditer(sentence))
    if kind == "number":
        return any(m.group(0).lower() not in asked for m in _NUMBER.finditer(sentence))
    return True

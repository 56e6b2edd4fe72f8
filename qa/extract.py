"""Cut the short answer out of the best sentences: (question, kind, sentences) -> span text or None.

Candidate spans of the kind the question asks for (a name for "who" / "which country",
a date for "when", a number for "how many", the words said for "what did X call for")
are collected from the best sentences and voted on, each weighted by its sentence's
score; a span made only of the question's own words is never an answer. Names for
"who" / "where" / "which" come from spaCy's named-entity model when it is installed
(qa/ner.py: a person is not a place), else from rules over capitalised words; dates,
numbers and the words said come from rules over the sentence surface.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.gazetteer import COUNTRIES, US_STATES
from qa.ner import Entity, EntityTagger, wanted_labels
from qa.qtype import AnswerType, acronym, asking_sentence, category, expansion

# A capitalised name: "Venezuela", "Corpus Christi", "King Charles III", "TSA PreCheck",
# "Bank of England", "Nicolás Maduro"; joined by a few lower-case particles.
_NAME = re.compile(
    r"(?:[A-Z][\w'’&.-]*|\d+[A-Za-z]+)(?:\s+(?:(?:of|de|del|da|la|le|al|bin|van|von|the|&)\s+)?(?:[A-Z][\w'’&.-]*|[IVX]+\b))*"
)
_NOT_NAMES = frozenset(
    """
    the a an in on at by for from to of and but or if as it its he she they we i you his her their
    our this that these those there here when where what which who why how after before during while
    since mr mrs ms dr president sen rep gov gen prime minister officials police according however
    mayor governor senator secretary ambassador chancellor coach captain chairman chairwoman director
    judge spokesman spokeswoman spokesperson lawmaker
    also monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december jan feb mar apr jun jul aug sep sept oct
    nov dec
    """.split()
)
_PLACE_CUE = re.compile(r"\b(in|at|from|to|near|into|across|inside|outside|of)\s+(the\s+)?$", re.I)
_PERSON_CUE = re.compile(r"^\s*(,\s*)?(said|says|told|added|wrote|announced|who)\b", re.I)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_TIME = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{4}}|"
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:\s+(?:morning|afternoon|evening|night))?|"
    r"(?:in|since|by)\s+(?:18|19|20)\d\d|(?:last|next|this)\s+(?:week|month|year|spring|summer|fall|autumn|winter)|"
    r"yesterday|\d{1,2}(?::\d\d)?\s*(?:a\.m\.|p\.m\.))",
)
# a number (digits or words, with its scale: "$3 million", "40%"), then in _NUMBER the word after it
_DIGITS = r"(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s*(?:%|percent|million|billion|trillion|thousand|hundred))?"
_NUMERALS = (
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|dozens?|hundreds|thousands|millions)\b(?:\s+(?:million|billion|thousand|hundred))?"
)
_NUMBER = re.compile(
    rf"{_DIGITS}(?:\s+(?!(?:and|or|of|in|on|at|to|the|a|an|for)\b)[a-z]+)?|{_NUMERALS}(?:\s+[a-z]+)?", re.I
)
_NUMBER_CORE = re.compile(rf"{_DIGITS}|{_NUMERALS}", re.I)  # "five golds" and "five as" vote for "five"
_QUOTED = re.compile(r"[“\"]([^”\"]{12,600})[”\"]")
SPEECH_VERB = re.compile(
    r"\b(?:called|calls|calling)\s+(?:for|on)\b|\b(?:urged?|urging|demand(?:ed|s)?|said|says|stressed|affirmed|"
    r"announced|warned|proposed|insisted|argued|asked|told|added|noted|promised|vowed|pledged|expressed|voiced|"
    r"praised|critici[sz]ed|condemned|rejected|welcomed|reiterated|emphasi[sz]ed|accused|denied|confirmed|"
    r"acknowledged|explained|stated|declared|described|suggested|wrote|tweeted|posted)\b",
    re.I,
)
# "Who did X meet?", "What did X express gratitude for?": the answer follows the question's last word.
# After has / had / will ..., a subject must follow for that ("Who will Trump meet?"); a verb or an
# object makes "who" the subject ("Who has tied the bill to ...?", "Who had the longest speech?").
_SUBJECT_WORD = r"(?:[A-Z][\w'’.-]*|(?i:he|she|they|it|we|you|i)\b)"
_OBJECT_QUESTION = re.compile(
    r"^\s*(?i:who|whom|what)\s+(?:(?i:did|does|do)\b"
    rf"|(?i:has|have|had)\s+{_SUBJECT_WORD}"
    rf"|(?i:will|would|could|should|can)\s+(?:{_SUBJECT_WORD}|(?i:the|a|an|his|her|their|its|this|that)\b))"
)
_CLAUSE_END = re.compile(r"[;.!?]|,\s+(?:and\s+)?(?:said|says|according|who|which)\b")
_WORD = re.compile(r"\w+")
_QUESTION_WORDS = (
    "who whom what which when where why how did does do has have had will would could should is was".split()
)
MAX_SPAN_WORDS = 20
VOTE_TEMPERATURE = 0.12  # a sentence 0.12 below the best votes with weight 1/e (chosen on both dev sets)
_FUTURE = re.compile(r"\bwhen\s+(will|is\s+\w+\s+(going|expected|scheduled|set)\s+to)\b", re.I)
_PAST = re.compile(r"yesterday|last\b", re.I)
_YEAR = re.compile(r"(?:19|20)\d\d\b(?![,.]\d)")
YEAR_WEIGHT = 0.2  # "How many teams ...?": a year ("the 2030 Games") is rarely the count asked for
_COUNTED = re.compile(r"\bhow (?:many|much)\s+(\w+)", re.I)
# kinds answered by a name: NER checks their spans, and their short forms vote for full names
NAME_KINDS: frozenset[AnswerType] = frozenset({"person", "place", "entity"})
MIN_VOTE_WEIGHT = 0.05  # sentences voting with less than this are not tagged (their votes barely count)
TITLE_BONUS = 1.5  # a title in quotation marks, for a question about a film, song or book
_WORK = re.compile(
    r"\b(?:film|movie|song|album|book|novel|memoir|show|series|play|musical|painting|opera|documentary|title)s?\b", re.I
)
_TITLE = re.compile(r"[“\"]([A-Z][^”\"]{0,60}?)[,.]?[”\"]")
_POSSESSIVE = re.compile(r"['’]s$")
UNTAGGED_WEIGHT = 0.5  # a capitalised span the named-entity model does not see as a name


@dataclass(frozen=True)
class Evidence:
    """A scored sentence to extract from."""

    text: str
    score: float


def words_of(text: str) -> set[str]:
    """The lower-cased words of ``text`` (a question's words, to tell its own names from answers)."""
    return {w.lower() for w in _WORD.findall(text)}


def _name_spans(
    sentence: str,
    asked: set[str],
    kind: AnswerType,
    common: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[tuple[str, float]]:
    """Capitalised names in ``sentence`` that the question does not contain, with weights.

    ``common``: words seen in lower case in the evidence; alone and capitalised they are
    ordinary words opening a sentence or a headline ("Photos", "Relief"), not names.
    """
    spans: list[tuple[str, float]] = []
    for match in _NAME.finditer(sentence):
        words = match.group(0).split()
        dropped_before = 0
        # names and titles from the question frame the answer ("Foreign Minister [Sergey Lavrov]")
        while words and (words[0].lower().strip(".") in _NOT_NAMES or _is_asked(words[0], asked)):
            dropped_before += len(words.pop(0)) + 1
        while words and words[-1].lower().strip(".") in _NOT_NAMES:
            words.pop()
        if not words or _is_asked(words[-1], asked):
            continue  # ends with a name from the question: it is the question's own entity
        span = _POSSESSIVE.sub("", " ".join(words)).rstrip(".,'’")  # "Perry's death": Perry
        begin = match.start() + dropped_before
        if _DATELINE.match(sentence, begin) or (span.isupper() and max(map(len, words)) > 4):
            continue  # "WASHINGTON —", "FULL STORY": a dateline or a header, not what the sentence says
        if len(words) == 1 and _plain(span) in common:
            continue
        before = sentence[:begin]
        after = sentence[begin + len(span) :]
        # a lone capitalised word opening the sentence may be any word ("Photos", "Federal")
        weight = 0.5 if len(words) == 1 and _opens_sentence(sentence, begin) else 1.0
        if _touches_question(before, after, asked):
            weight += 1.0
        if kind == "place" and not _PLACE_CUE.search(before):
            weight *= 0.3
        if kind == "person" and (_PERSON_CUE.search(after) or len(words) >= 2):
            weight += 0.5
        spans.append((span, weight))
    return spans


def _opens_sentence(sentence: str, begin: int) -> bool:
    return not sentence[:begin].strip(" \"“‘'([—-")


_DATELINE = re.compile(r"[A-Z][A-Z .]+\s+[—–-]")


def _plain(word: str) -> str:
    return re.sub(r"['’]s$", "", word.lower().strip(".,"))


def _is_asked(word: str, asked: set[str]) -> bool:
    """The question has this word; a hyphenated one ("Mountbatten-Windsor") counts by its parts."""
    parts = _WORD.findall(_plain(word))  # the question's words are \w+ runs: compare those
    return bool(parts) and all(part in asked for part in parts)


def _touches_question(before: str, after: str, asked: set[str]) -> bool:
    """A question word stands right next to the span (within two words on either side)."""
    near = _WORD.findall(before)[-2:] + _WORD.findall(after)[:2]
    return any(w.lower() in asked and w.lower() not in _NOT_NAMES for w in near)


_SMALL_WORDS = frozenset("a an the of in on at to for and or but with from by is are as".split())


def _title_spans(sentence: str, asked: set[str]) -> list[tuple[str, float]]:
    """Titles in quotation marks: up to eight words, every word but the small ones capitalised
    ("Death of a Salesman"; not a quoted remark such as "We will fight")."""
    spans = []
    for match in _TITLE.finditer(sentence):
        title = match.group(1).strip(" ,.")
        words = title.split()
        content = [w for w in words[1:] if w.lower() not in _SMALL_WORDS]
        if len(words) > 8 or not all(w[0].isupper() or not w[0].isalpha() for w in content):
            continue
        if all(_plain(w) in asked for w in _WORD.findall(title)):
            continue  # the question names it: it is not the answer
        spans.append((title, TITLE_BONUS))
    return spans


def _pattern_spans(pattern: re.Pattern[str], sentence: str, asked: set[str]) -> list[tuple[str, float]]:
    spans = []
    for match in pattern.finditer(sentence):
        span = match.group(0).strip(" ,.")
        words = [w.lower() for w in _WORD.findall(span)]
        # "How many golds in 1980?": a number the question gives is not its answer
        if words and words[0] not in asked:
            spans.append((span, 1.0))
    return spans


def _speech(sentence: str, question: str) -> str | None:
    """What was said: the quoted words, else the clause after the speech verb."""
    quoted = [m.group(1).strip() for m in _QUOTED.finditer(sentence)]
    if quoted:
        return max(quoted, key=len)
    verb = SPEECH_VERB.search(sentence)
    if verb is None:
        return None
    rest = sentence[verb.end() :].lstrip(" ,:")
    rest = re.sub(r"^(?:that|for|on)\s+", "", rest)
    end = _CLAUSE_END.search(rest)
    clause = (rest[: end.start()] if end else rest).strip(" ,")
    return clause if len(_WORD.findall(clause)) >= 2 else None


def _after_anchor(sentence: str, question: str, stem: Callable[[str], str]) -> str | None:
    """The phrase after the last question word found in ``sentence`` (the object asked for)."""
    asked = {stem(w) for w in _WORD.findall(question.lower())} - {stem(w) for w in _QUESTION_WORDS} - {""}
    last = None
    for match in _WORD.finditer(sentence):
        if stem(match.group(0).lower()) in asked:
            last = match
    if last is None:
        return None
    rest = sentence[last.end() :]
    rest = re.sub(r"^\W*(?:(?:with|for|to|on|about|by|that|at|of|their|his|her|its)\s+)*", "", rest)
    # the object ends at a clause mark, or where a purpose clause begins ("... States to discuss")
    end = re.search(r"[,;.!?]|(?<=\w{3}) (?:to|in order to|so that|after|before|while|when) (?=[a-z])", rest)
    words = (rest[: end.start()] if end else rest).split()[:MAX_SPAN_WORDS]
    while words and words[-1].lower() in _NOT_NAMES:
        words.pop()
    return " ".join(words).strip(" ,") if len(words) >= 2 else None


def _typed(
    spans: list[tuple[str, float]], sentence: str, entities: Sequence[Entity] | None, allowed: frozenset[str]
) -> list[tuple[str, float]]:
    """Rule spans checked against the named-entity model: a span the model labels as another
    kind (a person for "where", a nationality for "which") is dropped; a span it does not
    see as a name at all ("Photos", "Some") counts for less. ``entities`` None: untagged."""
    if entities is None:
        return spans
    out: list[tuple[str, float]] = []
    for span, bonus in spans:
        start = sentence.find(span)
        labels = {label for a, b, label in entities if a < start + len(span) and b > start}
        if labels and not labels & allowed:
            continue
        out.append((span, bonus if labels else bonus * UNTAGGED_WEIGHT))
    return out


def extract(
    question: str,
    kind: AnswerType,
    evidence: Sequence[Evidence],
    stem: Callable[[str], str] = str.lower,
    tagger: EntityTagger | None = None,
) -> str | None:
    """The short answer found in ``evidence`` (best sentence first), or None to show the sentence.

    Example:
        >>> extract("Where was Maduro captured?", "place",
        ...         [Evidence("US forces captured Maduro in Caracas, Venezuela.", 1.0)])
        'Caracas'
    """
    if not evidence:
        return None
    if kind == "speech":
        return _speech(evidence[0].text, question)
    if kind == "expansion":  # the best sentence that spells the letters out
        letters = acronym(question)
        return next((name for item in evidence if (name := expansion(letters, item.text))), None)
    if kind in ("person", "other") and _OBJECT_QUESTION.search(asking_sentence(question)):
        return _after_anchor(evidence[0].text, question, stem)
    if kind == "other":
        return None
    # "which golfer" wants a PERSON, "which film" a work of art: narrower than the kind's labels
    allowed = wanted_labels(question, kind)
    if kind in NAME_KINDS and not allowed:
        return None  # "which virus": a common noun, which no name answers; the sentence says it
    asked = words_of(question)
    known = {"country": COUNTRIES, "state": US_STATES}.get(category(question))
    common = {w for item in evidence for w in _WORD.findall(item.text) if w.islower()}
    votes: dict[str, float] = {}
    surface: dict[str, tuple[float, str]] = {}  # key -> its best single vote and that spelling
    top = evidence[0].score
    weights = [math.exp((item.score - top) / VOTE_TEMPERATURE) for item in evidence]
    titled = kind == "entity" and _WORK.search(question) is not None
    counted = _COUNTED.search(question)
    noun = counted.group(1).lower().rstrip("s") if counted else ""
    tagged: dict[int, list[Entity]] | None = None
    if tagger is not None and kind in NAME_KINDS:
        # only sentences whose votes still count are tagged: the model costs ~4 ms a sentence
        voting = [i for i, weight in enumerate(weights) if weight >= MIN_VOTE_WEIGHT]
        found = tagger.entities([evidence[i].text for i in voting])
        tagged = dict(zip(voting, found, strict=True)) if found is not None else None
    for i, item in enumerate(evidence):
        if kind in NAME_KINDS:
            spans = _name_spans(item.text, asked, kind, common)
            if titled:  # a film, song or book: its title in quotation marks
                spans += _title_spans(item.text, asked)
            if tagged is not None:
                spans = _typed(spans, item.text, tagged.get(i), allowed)
            if known is not None:  # "which country": only countries
                spans = [(span, bonus) for span, bonus in spans if span in known]
        elif kind == "time":
            spans = _pattern_spans(_TIME, item.text, asked)
            if _FUTURE.search(question):  # "when will ...?" is not answered by "yesterday"
                spans = [(span, bonus) for span, bonus in spans if not _PAST.match(span)]
        else:
            spans = [
                (span, bonus * (YEAR_WEIGHT if _YEAR.match(span) else 1.0))
                for span, bonus in _pattern_spans(_NUMBER, item.text, asked)
            ]
            if noun:  # "how many miles": a number of miles beats other numbers
                spans = [(span, bonus + (1.0 if noun in span.lower() else 0.0)) for span, bonus in spans]
        # the best sentence counts most; others confirm, fading fast with their score
        weight = weights[i]
        for order, (span, bonus) in enumerate(spans):
            key = span.lower()
            core = _NUMBER_CORE.match(span) if kind == "number" else None
            if core:  # votes go to the number ("how high": "four miles" is shown, with its unit) ...
                key = core.group(0).lower()
                if noun and noun not in span[core.end() :].lower():
                    span = core.group(0)  # ... but "how many golds": "five", not "five as"
            vote = weight * bonus * (1.0 - 0.02 * order)
            votes[key] = votes.get(key, 0.0) + vote
            if key not in surface or vote > surface[key][0]:  # shown as its best-voted spelling
                surface[key] = (vote, span)
    if not votes:
        return None
    if kind in NAME_KINDS:
        votes = _merge_short_forms(votes)
    best = max(votes, key=lambda k: (votes[k], -len(k)))
    return surface[best][1]


def _merge_short_forms(votes: dict[str, float]) -> dict[str, float]:
    """A short form votes for the full name it shortens, as news writes a name in full once and
    then shortly: "McIlroy" for "Rory McIlroy", "Knicks" for "New York Knicks". The votes go to
    the best-voted longer span that starts or ends with the same words.

    Example:
        >>> _merge_short_forms({"mcilroy": 2.0, "rory mcilroy": 1.0, "augusta": 1.5})
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

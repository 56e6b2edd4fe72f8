"""Candidate short answers inside one sentence: sentence (+ the question's words) -> [(span, weight)].

One finder per way of cutting an answer (``qa.kinds.RULES[kind].spans`` names it): names
(capitalised runs, checked by the named-entity model when it runs), titles in quotation
marks, dates and numbers (patterns), the words said, the phrase after the question's last
word, and the name an acronym spells out. Pure functions over strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.words import (
    NAME_CONNECTORS,
    NAME_RUN,
    NOT_NAMES,
    QUOTED_SPEECH,
    QUOTED_TITLE,
    SMALL_WORDS,
    SPEECH_VERB,
)

Entity = tuple[int, int, str]  # start, end (characters into the sentence), label
Spans = list[tuple[str, float]]
MAX_SPAN_WORDS = 20
_WORD = re.compile(r"\w+")
_PLACE_CUE = re.compile(r"\b(in|at|from|to|near|into|across|inside|outside|of)\s+(the\s+)?$", re.I)
_PERSON_CUE = re.compile(r"^\s*(,\s*)?(said|says|told|added|wrote|announced|who)\b", re.I)
_CLAUSE_END = re.compile(r"[;.!?]|,\s+(?:and\s+)?(?:said|says|according|who|which)\b")
_POSSESSIVE = re.compile(r"['’]s$")
_DATELINE = re.compile(r"[A-Z][A-Z .]+\s+[—–-]")
_TOKEN = re.compile(r"[A-Za-z][\w'’-]*|&")


def words_of(text: str) -> frozenset[str]:
    """The lower-cased words of ``text`` (a question's words, to tell its own names from answers)."""
    return frozenset(w.lower() for w in _WORD.findall(text))


def plain(word: str) -> str:
    return re.sub(r"['’]s$", "", word.lower().strip(".,"))


def name_spans(sentence: str, asked: frozenset[str], kind: str, common: frozenset[str] = frozenset()) -> Spans:
    """Capitalised names in ``sentence`` that the question does not contain, with weights.

    ``common``: words seen in lower case in the evidence; alone and capitalised they are
    ordinary words opening a sentence or a headline ("Photos", "Relief"), not names.
    """
    spans: Spans = []
    for match in NAME_RUN.finditer(sentence):
        words = match.group(0).split()
        dropped_before = 0
        # names and titles from the question frame the answer ("Foreign Minister [Sergey Lavrov]")
        while words and (words[0].lower().strip(".") in NOT_NAMES or _is_asked(words[0], asked)):
            dropped_before += len(words.pop(0)) + 1
        while words and words[-1].lower().strip(".") in NOT_NAMES:
            words.pop()
        if not words or _is_asked(words[-1], asked):
            continue  # ends with a name from the question: it is the question's own entity
        span = _POSSESSIVE.sub("", " ".join(words)).rstrip(".,'’")  # "Perry's death": Perry
        begin = match.start() + dropped_before
        if _DATELINE.match(sentence, begin) or (span.isupper() and max(map(len, words)) > 4):
            continue  # "WASHINGTON —", "FULL STORY": a dateline or a header, not what the sentence says
        if len(words) == 1 and plain(span) in common:
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


def _is_asked(word: str, asked: frozenset[str]) -> bool:
    """The question has this word; a hyphenated one ("Mountbatten-Windsor") counts by its parts."""
    parts = _WORD.findall(plain(word))  # the question's words are \w+ runs: compare those
    return bool(parts) and all(part in asked for part in parts)


def _touches_question(before: str, after: str, asked: frozenset[str]) -> bool:
    """A question word stands right next to the span (within two words on either side)."""
    near = _WORD.findall(before)[-2:] + _WORD.findall(after)[:2]
    return any(w.lower() in asked and w.lower() not in NOT_NAMES for w in near)


def title_spans(sentence: str, asked: frozenset[str], weight: float = 1.5) -> Spans:
    """Titles in quotation marks: up to eight words, every word but the small ones capitalised
    ("Death of a Salesman"; not a quoted remark such as "We will fight")."""
    spans = []
    for match in QUOTED_TITLE.finditer(sentence):
        title = match.group(1).strip(" ,.")
        words = title.split()
        content = [w for w in words[1:] if w.lower() not in SMALL_WORDS]
        if len(words) > 8 or not all(w[0].isupper() or not w[0].isalpha() for w in content):
            continue
        if all(plain(w) in asked for w in _WORD.findall(title)):
            continue  # the question names it: it is not the answer
        spans.append((title, weight))
    return spans


def pattern_spans(pattern: re.Pattern[str], sentence: str, asked: frozenset[str]) -> Spans:
    """Every match of ``pattern`` (a date, a number) whose first word the question does not give."""
    spans = []
    for match in pattern.finditer(sentence):
        span = match.group(0).strip(" ,.")
        words = [w.lower() for w in _WORD.findall(span)]
        # "How many golds in 1980?": a number the question gives is not its answer
        if words and words[0] not in asked:
            spans.append((span, 1.0))
    return spans


def speech(sentence: str) -> str | None:
    """What was said: the quoted words, else the clause after the speech verb."""
    quoted = [m.group(1).strip() for m in QUOTED_SPEECH.finditer(sentence)]
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


def after_anchor(sentence: str, anchors: frozenset[str], stem: Callable[[str], str]) -> str | None:
    """The phrase after the last of the question's words (``anchors``, stemmed) found in
    ``sentence``: the object asked for ("Who did X meet?")."""
    last = None
    for match in _WORD.finditer(sentence):
        if stem(match.group(0).lower()) in anchors:
            last = match
    if last is None:
        return None
    rest = sentence[last.end() :]
    rest = re.sub(r"^\W*(?:(?:with|for|to|on|about|by|that|at|of|their|his|her|its)\s+)*", "", rest)
    # the object ends at a clause mark, or where a purpose clause begins ("... States to discuss")
    end = re.search(r"[,;.!?]|(?<=\w{3}) (?:to|in order to|so that|after|before|while|when) (?=[a-z])", rest)
    words = (rest[: end.start()] if end else rest).split()[:MAX_SPAN_WORDS]
    while words and words[-1].lower() in NOT_NAMES:
        words.pop()
    return " ".join(words).strip(" ,") if len(words) >= 2 else None


def typed(
    spans: Spans, sentence: str, entities: Sequence[Entity] | None, allowed: frozenset[str], untagged: float = 0.5
) -> Spans:
    """Rule spans checked against the named-entity model: a span the model labels as another
    kind (a person for "where", a nationality for "which") is dropped; a span it does not
    see as a name at all ("Photos", "Some") counts ``untagged`` as much. ``entities`` None: untagged."""
    if entities is None:
        return spans
    out: Spans = []
    for span, bonus in spans:
        start = sentence.find(span)
        labels = {label for a, b, label in entities if a < start + len(span) and b > start}
        if labels and not labels & allowed:
            continue
        out.append((span, bonus if labels else bonus * untagged))
    return out


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
        if word in NAME_CONNECTORS:
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
        elif word.lower() not in NAME_CONNECTORS:
            break
    return last

"""Follow-up questions: conversation history + question -> standalone question (rules, no model).

A follow-up leans on the earlier turns: "Who did he meet?", "What did the minister
say?", "Who was there?", "And the Arab diplomats?", "What else?", "When?". With no
language model offline, the rewrite is done with rules over the words of the earlier
questions and answers: capitalised names, places after "in"/"at", definite plural noun
phrases ("the Arab diplomats") and titles ("Foreign Minister Sergey Lavrov"). A question
with nothing to resolve comes back unchanged, word for word.

Example:
    >>> from qa.records import Turn
    >>> standalone_question([Turn("What did Lavrov call for?")], "Who did he meet?")
    'Who did Lavrov meet?'
    >>> standalone_question([Turn("What did Lavrov call for?")], "And the Arab diplomats?")
    'What did the Arab diplomats call for?'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from qa.records import Turn
from qa.words import MONTHS, WEEKDAYS

Kind = Literal["person", "group", "place", "thing"]


_STOP = frozenset(
    """
    a an the and or but so if of to in on at by for from with about into over after before during
    since until than then that this these those there here what who whom whose which when where why
    how did do does is are was were be been being has have had will would can could should may might
    must shall not no yes he she it they him her them his its their i we you me us our your my mr
    mrs ms dr also yesterday today tomorrow according meanwhile however earlier later last next part
    """.split()
    + [w.lower() for w in WEEKDAYS + MONTHS]
)
_WH = ("what", "who", "whom", "which", "when", "where", "why", "how")
_AUX = frozenset(
    """
    did do does is are was were has have had will would can could should may might must
    """.split()
)
_ORG_WORDS = frozenset(
    """
    ministry council league states nations union party government committee police university museum
    company bank court agency association office army navy parliament senate congress assembly
    commission organization organisation institute department group corporation inc corp ltd times
    news
    """.split()
)
_ROLES = (
    "prime minister|minister|president|mayor|governor|chancellor|secretary|spokesman|spokeswoman|spokesperson"
    "|ambassador|envoy|official|chief|leader|king|queen|senator|judge|director|chairman|chairwoman|commissioner"
)
_LOCATIVE = frozenset(["in", "at", "from", "to", "near", "into", "across", "inside", "outside"])
_MOTION = frozenset(
    """
    go goes went gone going travel travelled traveled come came fly flew return returned move moved
    """.split()
)
_EXPLETIVE_IT_NEXT = frozenset(
    """
    true possible likely clear known important necessary raining that
    """.split()
)
_TIME = frozenset(["yesterday", "today", "tomorrow", "last", "this", "next", "during", "on"])
_MORE = frozenset(["what else", "anything else", "who else", "what more", "tell me more", "more", "else"])

_NAME = r"[A-Z][\w’'-]*"
_ROLE_NP = re.compile(rf"\b[Tt]he\s+((?:[a-z][\w-]*\s+){{0,2}}?(?:{_ROLES}))\b", re.IGNORECASE)
_ROLE_WORD = re.compile(rf"(?:{_ROLES})", re.IGNORECASE)
_COMMON_SUFFIX = re.compile(r"(?:ly|ing|tion|sion|ment|ness|ity|ks|nk you|ure|eat|ah|mm|ow|ay)$")
_TOKEN = re.compile(r"[\w’'-]+")
_CONNECTORS = frozenset(["of", "de", "al", "bin", "van", "von"])


@dataclass(frozen=True)
class Mention:
    """Something a later question can refer back to: a name or a noun phrase, with a guess of its kind."""

    text: str
    kind: Kind
    start: int


def _strip_possessive(name: str) -> str:
    return re.sub(r"[’']s?$", "", name)


def _kind(name: str, before: str) -> Kind:
    if before.lower() in _LOCATIVE:
        return "place"
    if any(w in _ORG_WORDS for w in name.lower().split()) or (name.isupper() and len(name) > 1):
        return "group"
    return "person"


def _runs(text: str) -> list[list[re.Match[str]]]:
    """Word tokens grouped into runs not broken by punctuation."""
    runs: list[list[re.Match[str]]] = []
    for token in _TOKEN.finditer(text):
        if runs and text[runs[-1][-1].end() : token.start()].isspace():
            runs[-1].append(token)
        else:
            runs.append([token])
    return runs


def _is_name(word: str) -> bool:
    return word[:1].isupper() and word.lower().strip("’'") not in _STOP


def _plural_phrase(run: list[re.Match[str]], i: int) -> int | None:
    """End index (exclusive) of a definite plural phrase starting at ``run[i]`` ("the Arab diplomats")."""
    for j in range(i + 1, min(i + 8, len(run))):
        token = run[j].group(0)
        word = token.lower()
        if word in _STOP and word not in _CONNECTORS:
            return None
        if word in _CONNECTORS and not run[j - 1].group(0).lower().endswith("s"):
            return None
        after = run[j + 1].group(0).lower() if j + 1 < len(run) else ""
        if (
            token.islower()
            and len(word) >= 4
            and word.endswith("s")
            and not word.endswith("ss")
            and word not in _STOP
            and after != "of"
        ):
            return j + 1
    return None


def mentions(text: str) -> list[Mention]:
    """Names (runs of capitalised words, stop words dropped) and definite plural phrases, in order.

    Example:
        >>> [m.text for m in mentions("What did Lavrov say to the Arab diplomats in Moscow?")]
        ['Lavrov', 'the Arab diplomats', 'Moscow']
    """
    found: list[Mention] = []
    for run in _runs(text):
        i = 0
        while i < len(run):
            word = run[i].group(0)
            if word.lower() == "the" and (end := _plural_phrase(run, i)) is not None:
                phrase = "the " + text[run[i + 1].start() : run[end - 1].end()]
                found.append(Mention(phrase, "group", run[i].start()))
                i = end
                continue
            if _is_name(word):
                j = i + 1
                while j < len(run):
                    if _is_name(run[j].group(0)):
                        j += 1
                    elif run[j].group(0) in _CONNECTORS and j + 1 < len(run) and _is_name(run[j + 1].group(0)):
                        j += 2
                    else:
                        break
                first = i
                for k in range(i, j):  # "Foreign Minister Sergey Lavrov" -> "Sergey Lavrov"
                    if _ROLE_WORD.fullmatch(run[k].group(0)) and k + 1 < j:
                        first = k + 1
                name = _strip_possessive(text[run[first].start() : run[j - 1].end()])
                before = run[i - 1].group(0) if i else ""
                kind = _kind(name, before)
                sentence_start = not text[: run[i].start()].strip() or text[: run[i].start()].rstrip()[-1] in '.!?\n“"'
                if sentence_start and j == i + 1 and _COMMON_SUFFIX.search(name.lower()):
                    i = j  # "Really?", "Construction starts ...": a capitalised ordinary word, not a name
                    continue
                if sentence_start and j == i + 1 and name.endswith("s") and not name.endswith("ss"):
                    kind = "group"  # "Farmers said ..."
                found.append(Mention(name, kind, run[first].start()))
                i = j
                continue
            i += 1
    return found


def _last_definite(question: str) -> Mention | None:
    """The noun phrase closing a question ("Who opened the ferry line?" -> "the ferry line")."""
    match = re.search(r"\b[Tt]he((?:\s+[\w’'-]+){1,4})\s*[?.!]*$", question)
    if not match or any(w.lower() in _STOP for w in match.group(1).split()):
        return None
    return Mention("the" + match.group(1), "thing", match.start())


def _titled_name(role: str, text: str) -> str | None:
    """The name a role is attached to in ``text``: "Foreign Minister Sergey Lavrov" or "the minister, Tomas Brandt"."""
    role_words = r"\s+".join(map(re.escape, role.split()))
    name = rf"((?:{_NAME}\s+)*{_NAME})"
    found = re.search(rf"\b(?i:{role_words})\s+{name}", text) or re.search(rf"\b(?i:{role_words}),\s+{name}", text)
    return _strip_possessive(found.group(1)) if found else None


@dataclass(frozen=True)
class _Context:
    """What the earlier turns offer, most recent first: each question's mentions, then its answer's."""

    question: str  # the previous question, already made standalone
    ranked: tuple[Mention, ...]
    texts: tuple[str, ...]

    def first(self, *kinds: Kind) -> Mention | None:
        return next((m for m in self.ranked if m.kind in kinds), None)


def _context(history: Sequence[Turn]) -> _Context | None:
    resolved: list[tuple[str, str]] = []
    for turn in history:
        asked = " ".join(turn.question.split())
        if asked:
            earlier = [Turn(q, a) for q, a in resolved]  # earlier questions, already standalone
            resolved.append((standalone_question(earlier, asked) if earlier else asked, turn.answer))
    if not resolved:
        return None
    ranked: list[Mention] = []
    for question, answer in reversed(resolved):
        ranked.extend(mentions(question))
        ranked.extend(mentions(answer))
    texts = tuple(t for q, a in reversed(resolved) for t in (q, a))
    return _Context(resolved[-1][0], tuple(ranked), texts)


def _match_case(word: str, replacement: str) -> str:
    if word[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _possessive(text: str) -> str:
    return text + ("’" if text.startswith("the ") and text.endswith("s") else "’s")


def _resolve_pronouns(question: str, ctx: _Context) -> str:
    own = mentions(question)
    person = None if any(m.kind == "person" for m in own) else ctx.first("person")
    group = None if any(m.kind == "group" for m in own) else ctx.first("group")
    previous = [m for m in mentions(ctx.question) if m.kind != "person"]
    thing = None if own else (previous[0] if previous else _last_definite(ctx.question))
    place = None if any(m.kind == "place" for m in own) else ctx.first("place")
    words = list(re.finditer(r"[\w’'-]+|[^\w\s]", question))
    out: list[str] = []
    cursor = 0
    for i, match in enumerate(words):
        word = match.group(0)
        low = word.lower()
        nxt = words[i + 1].group(0).lower() if i + 1 < len(words) else "?"
        prev = words[i - 1].group(0).lower() if i else ""
        new: str | None = None
        if low in ("he", "him", "she") and person:
            new = person.text
        elif low == "his" and person:
            new = _possessive(person.text)
        elif low == "her" and person:
            new = _possessive(person.text) if nxt.isalpha() and nxt not in _STOP else person.text
        elif low in ("they", "them") and group:
            new = group.text
        elif low == "their" and group:
            new = _possessive(group.text)
        elif low == "it" and thing and nxt not in _EXPLETIVE_IT_NEXT:
            new = thing.text
        elif low == "its" and thing:
            new = _possessive(thing.text)
        elif low == "there" and place and (not nxt.isalpha() or nxt in _LOCATIVE or nxt in _TIME):
            new = ("to " if prev in _MOTION else "in ") + place.text
        if new is not None:
            out.append(question[cursor : match.start()] + _match_case(word, new))
            cursor = match.end()
    out.append(question[cursor:])
    return "".join(out)


def _resolve_roles(question: str, ctx: _Context) -> str:
    """ "the minister" -> the name it is attached to earlier, else the person talked about."""

    def replace(match: re.Match[str]) -> str:
        phrase = match.group(1)
        role = re.search(rf"(?:{_ROLES})$", phrase, re.IGNORECASE)
        bare = role is not None and role.group(0).lower() == phrase.lower()
        for text in ctx.texts:
            name = _titled_name(phrase, text)
            if name:
                return name
        person = ctx.first("person")
        return person.text if person and bare else match.group(0)

    return _ROLE_NP.sub(replace, question)


def _split_wh(question: str) -> tuple[str, str, str] | None:
    """("what", "did", "Lavrov call for") from "What did Lavrov call for?"; None unless wh-word + auxiliary."""
    match = re.match(r"\s*(\w+)\s+(\w+)\s+(.*?)[\s?.!]*$", question)
    if not match or match.group(1).lower() not in _WH or match.group(2).lower() not in _AUX:
        return None
    return match.group(1).lower(), match.group(2), match.group(3)


def _elliptical(question: str, ctx: _Context) -> str | None:
    """Complete "And X?", "What about X?", "What else?", "When?" from the previous question; None if not one."""
    text = question.strip()
    lead = re.match(r"^(?:and|but|so|ok|okay)\b[\s,]*", text, re.IGNORECASE)
    core = (text[lead.end() :] if lead else text).rstrip(" ?.!")
    low = core.lower()
    previous = ctx.question.rstrip(" ?.!")
    split = _split_wh(ctx.question)
    if low in _MORE:
        wh = "Who" if low == "who else" else "What"
        return f"{wh} else {split[1]} {split[2]}?" if split else f"{previous}, and what else?"
    if low in _WH or low in ("since when", "how so", "how many", "how much"):
        if split and split[0] != low:
            rest = split[2]
            if split[0] in ("what", "which") and re.search(r"\b(?:for|about|to|with|on|of|at|from)$", rest):
                rest += " it"
            return f"{core[:1].upper()}{core[1:]} {split[1]} {rest}?"
        return f"{previous}: {low}?"
    about = re.match(r"^(?:what|how)\s+about\s+(.+)$", core, re.IGNORECASE)
    if about:
        phrase = about.group(1)
    elif lead or text.endswith("?"):
        phrase = core
        words = phrase.split()
        if not words or len(words) > 6 or words[0].lower() in _WH or any(w.lower() in _AUX for w in words):
            return None
        if not mentions(phrase):  # "Really?" is not a follow-up about something else
            return None
    else:
        return None
    target = next(iter(mentions(ctx.question)), None)
    if target is None:
        return f"{previous}: and {phrase}?"
    phrase = phrase[:1].upper() + phrase[1:] if target.start == 0 else re.sub(r"^The\b", "the", phrase)
    return ctx.question[: target.start] + phrase + ctx.question[target.start + len(target.text) :]


def standalone_question(history: Sequence[Turn], question: str) -> str:
    """Rewrite ``question`` so that it can be understood without ``history`` (earlier turns, oldest first).

    Pronouns (he, she, they, it, him, her, them, his, their, its), "the minister" and
    "there" are replaced by what they point to in the earlier turns; elliptical
    follow-ups ("And the Arab diplomats?", "What else?", "When?") are completed from the
    previous question. Whitespace is normalised; anything that cannot be resolved is
    left as asked.
    """
    asked = " ".join(question.split())
    ctx = _context(history)
    if ctx is None or not asked:
        return asked
    completed = _elliptical(asked, ctx)
    if completed is not None:
        return completed
    return _resolve_pronouns(_resolve_roles(asked, ctx), ctx)

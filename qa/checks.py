"""Reasons to decline that need no model: (Question, the retrieved articles) -> a reason, or None.

Two checks run before any sentence is read. A name the question asks about that no
retrieved article mentions ("What did Lavrov say about Ukraine?" over articles that never
name Ukraine): the articles cannot answer it, however well another sentence matches. A
question tied to a time ("this week", "yesterday", "in March") when no retrieved article
was published in that window (with some slack for late reports): the news it asks about
is not in the index. A question for the latest news ("recently", "latest", "now",
"upcoming") that names no time, when every retrieved article is months old: the news it
asks about came after them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from index.records import Article
from qa.question import Question
from qa.words import NOT_NAMES, QUESTION_WORDS

_NAME = re.compile(r"\b[A-Z][\w'’.-]*[\w]")  # a capitalised word; the first word of the question is skipped
_WORD = re.compile(r"\w+")
# words that ask for the latest news; not "new" (New York) nor "just" (just over 2%)
_LATEST = re.compile(r"\b(latest|recent(ly)?|newest|current(ly)?|now|this (season|weekend)|upcoming)\b", re.I)


@dataclass(frozen=True)
class Decline:
    """Why the articles cannot answer: ``reason`` for logs and the JSON, ``missing`` the words
    (or the window) to name in the message."""

    reason: str
    missing: tuple[str, ...] = ()
    window: str = ""


def asked_names(question: Question) -> tuple[str, ...]:
    """The names the asking sentence names: runs of capitalised words (not its first word, not
    titles, days or months, not words with digits), hyphenated words split into their parts.

    Example:
        >>> asked_names(Question.parse("What did Lavrov say about the war in Ukraine?"))
        ('Lavrov', 'Ukraine')
        >>> asked_names(Question.parse("Who met Russian President Vladimir Putin on the U.S.-Mexico border?"))
        ('Russian Vladimir Putin', 'U.S. Mexico')
    """
    asking = question.asking
    opening = len(asking) - len(asking.lstrip())
    names: list[list[str]] = []
    last_end = -2
    for match in _NAME.finditer(asking):
        word = re.sub(r"['’]s$", "", match.group(0)).rstrip(".")
        skip = match.start() == opening or word.lower() in NOT_NAMES or word.lower() in QUESTION_WORDS
        if skip or len(word) < 2 or any(ch.isdigit() for ch in word):
            last_end = -2
            continue
        parts = [part for part in re.split(r"-", word) if part]
        if names and asking[last_end : match.start()].strip() == "":
            names[-1].extend(parts)  # "Vladimir Putin": one name
        else:
            names.append(parts)
        last_end = match.end()
    return tuple(dict.fromkeys(" ".join(name) for name in names))


def unmentioned_names(question: Question, articles: Sequence[Article]) -> tuple[str, ...]:
    """The names of ``asked_names`` of which no article (title or text) mentions any word,
    allowing for the ways a word is written: inflected ("Trump's", "Americans"), shortened
    ("Pres." for "President") or misspelt by one letter ("McConell")."""
    vocabulary = {w.lower() for a in articles for w in _WORD.findall(f"{a.title} {a.text}")}
    return tuple(
        name
        for name in asked_names(question)
        if not any(_mentioned(part.lower(), vocabulary) for part in _WORD.findall(name))
    )


def _mentioned(name: str, vocabulary: set[str]) -> bool:
    if len(name) <= 3:  # "US", "DC", "EU": abbreviations, written many ways
        return True
    if name in vocabulary:
        return True
    for word in vocabulary:
        if word.startswith(name) or (len(word) >= 4 and name.startswith(word) and len(name) - len(word) <= 2):
            return True
        if len(name) >= 4 and abs(len(word) - len(name)) <= 1 and _one_edit(name, word):
            return True
    return False


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by at most one inserted, deleted or replaced letter.

    Example:
        >>> _one_edit("mcconell", "mcconnell"), _one_edit("choi", "chol"), _one_edit("iran", "iraq")
        (True, True, True)
        >>> _one_edit("ukraine", "ukrainian")
        False
    """
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def outside_window(question: Question, articles: Sequence[Article], slack_days: int) -> bool:
    """The question asks about recent days ("this week", "yesterday", "this month") and no
    article was published in that window (``slack_days`` wider on each side); articles
    without a date count as in it."""
    dates = question.dates
    if not dates.recent or not dates.has_window or not articles:
        return False  # only news of the day asked ("this week", "yesterday"): "in 1924" names history
    start = dates.start - timedelta(days=slack_days) if dates.start else None
    end = dates.end + timedelta(days=slack_days) if dates.end else None
    for article in articles:
        day = article.published
        if day is None or ((start is None or day >= start) and (end is None or day <= end)):
            return False
    return True


def older_than_asked(
    question: Question, articles: Sequence[Article], recent_days: int, until: date | None = None
) -> date | None:
    """The day "latest" is measured from, when the question asks for the latest news ("Which
    parasite was recently detected ...?"), names no time of its own, and every retrieved article
    was published over ``recent_days`` before it; else None. That day is the question's today, or
    ``until`` (the end of the dates the user searches) when earlier: "latest" within March is
    March's latest. An undated article counts as recent; ``recent_days`` 0: never."""
    today = question.today
    if not recent_days or today is None or not articles or question.dates.has_window:
        return None
    if not _LATEST.search(question.text):
        return None
    day = min(today, until) if until is not None else today
    edge = day - timedelta(days=recent_days)
    return day if all(a.published is not None and a.published < edge for a in articles) else None


def decline(
    question: Question, articles: Sequence[Article], slack_days: int, recent_days: int = 0, until: date | None = None
) -> Decline | None:
    """The first reason the retrieved ``articles`` cannot answer ``question``, or None; ``until``:
    the last publication day the user searches (``Filters.published_to``), if any."""
    missing = unmentioned_names(question, articles)
    if missing:
        return Decline(f"no retrieved article mentions {', '.join(missing)}", missing)
    if outside_window(question, articles, slack_days):
        window = question.dates.describe() or "the time the question names"
        return Decline(f"no retrieved article was published {window}", window=window)
    day = older_than_asked(question, articles, recent_days, until)
    if day is not None:
        window = f"in the {recent_days} days before {day.isoformat()}"
        return Decline(f"no retrieved article was published {window}", window=window)
    return None

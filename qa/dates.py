"""Time words in a question, read relative to "today": (question, today) -> DateIntent.

"this week", "yesterday", "in March", "last year", "latest" ... become a publication
window that retrieval prefers (or a wish for recent articles). Rules, no model.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from qa.words import MONTH_ABBREVIATIONS, MONTHS

_MONTHS = {name.lower(): i for i, name in enumerate(MONTHS, start=1)}
_MONTHS.update({a.lower(): 1 + [m[:3] for m in MONTHS].index(a[:3]) for a in MONTH_ABBREVIATIONS})
del _MONTHS["may"]  # "may" is mostly the verb; "in May" is handled by the month pattern below

_MONTH_WORDS = "|".join(sorted({*_MONTHS, "may"}, key=len, reverse=True))
_IN_MONTH = re.compile(
    rf"\b(?:in|during|since|from|starting|of|on|early|late|mid-?)\s+({_MONTH_WORDS})\.?(?:\s+(\d{{4}}))?\b", re.I
)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_WORDS})\.?\s+(\d{{4}})\b", re.I)
_YEAR = re.compile(r"\b(?:in|during|of)\s+((?:19|20)\d\d)\b", re.I)
_RECENT = re.compile(
    r"\b(latest|recent(ly)?|newest|current(ly)?|now|so far|this (season|weekend)|new|just|upcoming)\b", re.I
)

_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")  # a quoted title ("the “Today” show") names something; it is no date
_FUTURE = re.compile(r"\b(will|shall|next|upcoming|coming|(?:set|due|scheduled|expected|planning) to)\b", re.I)

_RELATIVE: list[tuple[re.Pattern[str], int, int]] = [
    # pattern, days back for the window's start, days back for its end
    # "today" in lower case, or first word: a capital "Today" inside a question names a show or a paper
    (re.compile(r"^\s*(?i:today|tonight)\b|\b(?:today|tonight)\b|\b(?i:this (?:morning|afternoon))\b"), 1, 0),
    (re.compile(r"\byesterday\b", re.I), 2, 0),
    (re.compile(r"\b(this|past) week(end)?\b|\bin recent days\b|\bthe past (few|several) days\b", re.I), 7, 0),
    (re.compile(r"\blast week(end)?\b", re.I), 14, 5),
    (re.compile(r"\b(this|past) month\b|\bin recent weeks\b|\bthe past (few|several) weeks\b", re.I), 31, 0),
    (re.compile(r"\blast month\b", re.I), 62, 25),
]


@dataclass(frozen=True)
class DateIntent:
    """A publication window the question points at, and/or a wish for recent articles."""

    start: date | None = None
    end: date | None = None
    recent: bool = False

    @property
    def has_window(self) -> bool:
        return self.start is not None or self.end is not None

    def describe(self) -> str:
        if self.start and self.end:
            return f"between {self.start.isoformat()} and {self.end.isoformat()}"
        return ""


def _month_window(month: int, year: int | None, today: date) -> tuple[date, date]:
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    last = calendar.monthrange(year, month)[1]
    # news about a month is often published in the days just after it
    return date(year, month, 1), min(date(year, month, last) + timedelta(days=7), max(today, date(year, month, last)))


def date_intent(question: str, today: date | None) -> DateIntent:
    """Read the question's time words relative to ``today`` (no today: no intent).

    Example:
        >>> date_intent("What happened this week?", date(2026, 1, 8))
        DateIntent(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 1, 8), recent=True)
        >>> date_intent("Who won in March?", date(2026, 1, 8)).start
        datetime.date(2025, 3, 1)
    """
    if today is None:
        return DateIntent()
    question = _QUOTED.sub(" ", question)
    for pattern, back_start, back_end in _RELATIVE:
        if pattern.search(question):
            return DateIntent(today - timedelta(days=back_start), today - timedelta(days=back_end), recent=True)
    match = _IN_MONTH.search(question) or _MONTH_YEAR.search(question)
    if match:
        month = _MONTHS.get(match.group(1).lower().rstrip("."), 5)
        year = int(match.group(2)) if match.group(2) else None
        plan = _FUTURE.search(question) or match.group(0).lower().startswith(("from", "starting"))
        if year is None and month > today.month and plan:
            return DateIntent(recent=True)  # "will attend from September": a plan, reported recently
        start, end = _month_window(month, year, today)
        return DateIntent(start, end)
    if re.search(r"\bthis year\b", question, re.I):
        return DateIntent(date(today.year, 1, 1), today, recent=True)
    if re.search(r"\blast year\b", question, re.I):
        return DateIntent(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31) + timedelta(days=7))
    match = _YEAR.search(question)
    if match:
        year = int(match.group(1))
        return DateIntent(date(year, 1, 1), date(year, 12, 31) + timedelta(days=7))
    return DateIntent(recent=bool(_RECENT.search(question)))


_TIME_PHRASES = [p for p, _, _ in _RELATIVE] + [
    _IN_MONTH,
    _MONTH_YEAR,
    _YEAR,
    re.compile(r"\b(this|last) year\b", re.I),
]


def without_time_words(question: str) -> str:
    """``question`` minus its time expressions, which retrieval handles as dates, not words.

    Example:
        >>> without_time_words("Who resigned this week?")
        'Who resigned ?'
    """
    for pattern in _TIME_PHRASES:
        question = pattern.sub(" ", question)
    return " ".join(question.split()).replace(" ?", " ?")

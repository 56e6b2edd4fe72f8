"""Dates in questions and the date prior; syndicated copies folded into one passage."""

from __future__ import annotations

from datetime import date

import pytest

from qa.dates import DateIntent, date_intent

TODAY = date(2026, 1, 8)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What happened this week?", date(2026, 1, 1), TODAY),
        ("What did the senator say yesterday?", date(2026, 1, 6), TODAY),
        ("Who resigned last week?", date(2025, 12, 25), date(2026, 1, 3)),
        ("Who won the vote in March?", date(2025, 3, 1), date(2025, 4, 7)),
        ("What happened in December 2025?", date(2025, 12, 1), date(2026, 1, 7)),
        ("What did the court rule last year?", date(2025, 1, 1), date(2026, 1, 7)),
    ],
)
def test_time_words_become_windows(question: str, start: date, end: date) -> None:
    intent = date_intent(question, TODAY)
    assert (intent.start, intent.end) == (start, end)


@pytest.mark.parametrize(
    "question",
    [
        "Savannah Guthrie, the “Today” anchor, flew where?",  # a show's name, quoted
        "Who hosts the Today programme?",  # capitalised inside the question: a name
        'Which paper printed "Tonight at Nine"?',
    ],
)
def test_time_words_in_names_are_no_dates(question: str) -> None:
    assert not date_intent(question, TODAY).has_window


def test_today_as_the_first_word_is_a_date() -> None:
    assert date_intent("Today, who resigned?", TODAY) == DateIntent(date(2026, 1, 7), TODAY, recent=True)


def test_a_month_ahead_in_a_plan_is_not_last_years_month() -> None:
    june = date(2026, 6, 19)
    # "from September", said in June, is the coming September: the plan was reported recently
    assert date_intent("Which school will Prince George attend from September?", june) == DateIntent(recent=True)
    # a month ahead without such words is still the last one that passed
    assert date_intent("Who won the vote in September?", june).start == date(2025, 9, 1)
    assert date_intent("Which club was relegated from the league in September?", june).start == date(2025, 9, 1)


def test_no_time_words_no_window_and_no_today_no_intent() -> None:
    assert date_intent("Who may lead the party?", TODAY) == DateIntent()
    assert date_intent("What is the latest on the strike?", TODAY) == DateIntent(recent=True)
    assert date_intent("What happened this week?", None) == DateIntent()

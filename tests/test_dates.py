"""Dates in questions and the date prior; syndicated copies folded into one passage."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from index.build import add_articles
from index.embed import HashingEmbedder
from index.records import make_article
from index.settings import IndexSettings
from qa import Assistant, QASettings
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


def _story(day: date, outcome: str, source: str) -> object:
    return make_article(
        f"Port strike talks.\n\nDock workers and the port authority met again about the strike. "
        f"The talks ended with {outcome}.",
        title=f"Port strike talks ({source})",
        source=source,
        url=f"https://example.org/{source}/{day.isoformat()}",
        published=day,
    )


@pytest.fixture
def dated_index(tmp_path: Path) -> tuple[Path, HashingEmbedder]:
    embedder = HashingEmbedder(128)
    stories = [
        _story(date(2025, 6, 2), "no agreement", "old-paper"),
        _story(date(2026, 1, 6), "a deal on wages", "new-paper"),
        _story(date(2026, 3, 1), "a signed contract", "future-paper"),
    ]
    root = tmp_path / "idx"
    add_articles(root, stories, IndexSettings(embedder=embedder.name, chunk_size=400), embedder)  # type: ignore[arg-type]
    return root, embedder


def test_today_prefers_articles_published_just_before_it(dated_index: tuple[Path, HashingEmbedder]) -> None:
    root, embedder = dated_index
    assistant = Assistant(root, embedder)
    sources = lambda a: [assistant.data.articles[p.article_id].source for p in a.passages]  # noqa: E731
    assert sources(assistant.ask("How did the port strike talks end?", today=TODAY))[0] == "new-paper"
    assert sources(assistant.ask("How did the port strike talks end?", today=date(2025, 6, 5)))[0] == "old-paper"
    # nothing is filtered out by "today" alone: later reports still count
    assert set(sources(assistant.ask("How did the port strike talks end?", today=TODAY))) == {
        "old-paper",
        "new-paper",
        "future-paper",
    }


def test_a_named_month_wins_over_recency(dated_index: tuple[Path, HashingEmbedder]) -> None:
    root, embedder = dated_index
    # the hashing embedder's scores are not the real model's: no abstention threshold here
    assistant = Assistant(root, embedder, QASettings(abstain_below=0.0))
    answer = assistant.ask("How did the port strike talks end in June?", today=TODAY)
    assert assistant.data.articles[answer.passages[0].article_id].source == "old-paper"
    assert answer.quotes[0].source == "old-paper"
    assert "Port strike talks." not in [c.quote.text for c in answer.quotes]  # a headline echoing the question


def test_date_weight_zero_ignores_dates(dated_index: tuple[Path, HashingEmbedder]) -> None:
    root, embedder = dated_index
    plain = Assistant(root, embedder, QASettings(date_weight=0)).ask("How did the port strike talks end?", today=TODAY)
    assert len({round(p.score, 9) for p in plain.passages}) < len(plain.passages) or plain.passages[0].rank == 1
    assert all(p.score <= 2 / 61 + 1e-9 for p in plain.passages)  # pure reciprocal-rank fusion scores


def test_syndicated_copies_fold_into_one_passage(tmp_path: Path, embedder: HashingEmbedder) -> None:
    original = make_article(
        "Bridge reopens.\n\nThe Elm Street bridge reopened on Monday after two years of repairs costing $40 million.",
        title="Bridge reopens",
        source="Wire",
        url="https://example.org/wire/bridge",
        published=date(2026, 1, 5),
    )
    copy = replace(
        make_article(
            original.text.replace("$40 million.", "$40 million, officials said."),
            title="Bridge reopens",
            source="Local",
            url="https://example.org/local/b",
        ),
        published=date(2026, 1, 5),
    )
    other = make_article("Ferry fares rise.\n\nFerry fares rose by a dollar on Monday.", title="Fares", source="X")
    root = tmp_path / "idx"
    add_articles(root, [original, copy, other], IndexSettings(embedder=embedder.name, chunk_size=400), embedder)
    answer = Assistant(root, embedder).ask("When did the Elm Street bridge reopen?")
    first = answer.passages[0]
    assert first.also_in and {first.article_id, *first.also_in} == {original.id, copy.id}
    assert [p.article_id for p in answer.passages].count(copy.id) + [p.article_id for p in answer.passages].count(
        original.id
    ) == 1
    undeduped = Assistant(root, embedder, QASettings(dedup=False)).ask("When did the Elm Street bridge reopen?")
    assert {original.id, copy.id} <= {p.article_id for p in undeduped.passages}

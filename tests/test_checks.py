"""Declining without a model: a name the question asks about that no retrieved article mentions,
and a question tied to a time when no retrieved article dates from it (hand-written cases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from index.errors import SettingsError
from index.records import Article
from qa import Assistant, Filters, QASettings
from qa.checks import asked_names, decline, older_than_asked, outside_window, unmentioned_names
from qa.question import Question


def test_the_names_asked_about_are_the_asking_sentence_s_capitalised_words() -> None:
    asked = asked_names(Question.parse("What did Tomas Brandt say about the floods in Lyon?"))
    assert asked == ("Tomas Brandt", "Lyon")
    # the scene-setting sentence, the first word, days and titles are not what is asked about
    question = Question.parse("Farmers met on Monday in Verona. What did the minister call for?")
    assert asked_names(question) == ()


def test_a_name_no_article_mentions_is_found(articles: list[Article]) -> None:
    asked = Question.parse("What did Tomas Brandt say about the war in Ruritania?")
    assert unmentioned_names(asked, articles) == ("Ruritania",)
    assert unmentioned_names(Question.parse("What did Tomas Brandt call for?"), articles) == ()
    # a name is mentioned when any of its words is, however it is inflected, shortened or misspelt by a letter
    written = Question.parse("Did Mayor Dana Witfield's ferries or the Farm Wkly report it to Verona police?")
    assert unmentioned_names(written, articles) == ()
    found = decline(asked, articles, slack_days=3)
    assert found is not None and found.missing == ("Ruritania",)


def test_a_time_window_with_no_article_published_in_it(articles: list[Article]) -> None:
    drought = [a for a in articles if a.source == "Farm Weekly"]  # published 2026-03-05
    this_week = Question.parse("What did the minister call for this week?", today=date(2026, 3, 8))
    assert not outside_window(this_week, drought, slack_days=3)
    months_later = Question.parse("What did the minister call for this week?", today=date(2026, 6, 8))
    assert outside_window(months_later, drought, slack_days=3)
    assert not outside_window(months_later, drought, slack_days=100)  # the slack widens the window
    undated = Question.parse("What did the minister call for?", today=date(2026, 6, 8))
    assert not outside_window(undated, drought, slack_days=3)  # no time words: no window
    found = decline(months_later, drought, slack_days=3)
    assert found is not None and found.window == "between 2026-06-01 and 2026-06-08"


def test_a_question_for_the_latest_news_over_articles_months_old(articles: list[Article]) -> None:
    drought = [a for a in articles if a.source == "Farm Weekly"]  # published 2026-03-05
    later = date(2026, 3, 5) + timedelta(days=61)
    latest = Question.parse("What did the minister recently call for?", today=later)
    assert older_than_asked(latest, drought, recent_days=60) == later
    assert not older_than_asked(latest, drought, recent_days=0)  # off
    # a search limited to March: "recently" means recently in March, which the drought article is
    assert not older_than_asked(latest, drought, recent_days=60, until=date(2026, 3, 31))
    assert not older_than_asked(latest, drought, recent_days=61)  # within the days
    assert not older_than_asked(Question.parse("What did the minister recently call for?"), drought, 60)  # no today
    plain = Question.parse("What did the minister call for?", today=later)
    assert not older_than_asked(plain, drought, recent_days=60)  # asks for no latest news
    new_york = Question.parse("What did the New York minister call for?", today=later)
    assert not older_than_asked(new_york, drought, recent_days=60)  # "New" is a name, not "newest"
    undated = [replace(a, published=None) for a in drought]
    assert not older_than_asked(latest, undated, recent_days=60)  # an undated article may be recent
    with pytest.raises(SettingsError):
        QASettings(recent_days=10**6)  # would overflow the date arithmetic at question time
    found = decline(latest, drought, slack_days=3, recent_days=60)
    assert found is not None and found.window == "in the 60 days before 2026-05-05"


@pytest.mark.parametrize("reader", ["rules", "trained"])
def test_the_assistant_declines_a_topic_no_article_mentions(
    tiny_index: Path, embedder: HashingEmbedder, reader: str
) -> None:
    assistant = Assistant(tiny_index, embedder, QASettings(reader=reader))  # type: ignore[arg-type]
    answer = assistant.ask("What did the agriculture minister say about the war in Ruritania?", today=date(2026, 3, 8))
    assert answer.abstained and "Ruritania" in answer.answer and not answer.quotes
    assert "Ruritania" in answer.reason
    asked = assistant.ask("What did the agriculture minister call for?", today=date(2026, 3, 8))
    assert not asked.abstained
    late = assistant.ask("What did the agriculture minister call for this week?", today=date(2026, 9, 1))
    assert late.abstained and "published between 2026-08-25 and 2026-09-01" in late.answer
    latest = assistant.ask("What did the agriculture minister call for recently?", today=date(2026, 9, 1))
    assert latest.abstained and "published in the 60 days before 2026-09-01" in latest.answer
    assert not assistant.ask("What did the agriculture minister call for recently?", today=date(2026, 3, 8)).abstained
    march = Filters(published_from=date(2026, 3, 1), published_to=date(2026, 3, 31))
    in_march = assistant.ask(
        "What did the agriculture minister call for recently?", today=date(2026, 9, 1), filters=march
    )
    assert not in_march.abstained and "emergency loans" in in_march.answer
    off = Assistant(tiny_index, embedder, QASettings(reader=reader, checks=False))  # type: ignore[arg-type]
    assert "Ruritania" not in off.ask("What did the agriculture minister say about Ruritania?").reason


def test_the_trained_reader_fills_its_quotes_with_the_next_most_probable_sentences(
    tiny_index: Path, embedder: HashingEmbedder
) -> None:
    """Its probabilities are peaked: besides the sentences near the best, the next most probable
    fill the quotes up to ``max_quotes``, as the rules' quotes do (found on realtimeqa 2026, docs/eval)."""
    for most in (2, 3):
        assistant = Assistant(tiny_index, embedder, QASettings(reader="trained", max_quotes=most))
        answer = assistant.ask("What did the agriculture minister call for?", today=date(2026, 3, 8))
        assert not answer.abstained and len(answer.quotes) == most
        spans = {(c.quote.article_id, c.quote.start, c.quote.end) for c in answer.quotes}
        assert len(spans) == most

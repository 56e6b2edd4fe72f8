"""The engine through its public API (hashing embedder): answers, quotes, abstention, JSON, reloads."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from index.build import add_articles
from index.embed import HashingEmbedder
from index.errors import NewsQAError
from index.records import Article, make_article
from index.store.generations import load_index
from qa import Assistant, Turn
from qa.errors import EmptyQuestionError, QuestionTooLongError


@pytest.fixture
def assistant(tiny_index: Path, embedder: HashingEmbedder) -> Assistant:
    return Assistant(tiny_index, embedder)


def _verbatim(assistant: Assistant, answer_dict: dict[str, object]) -> None:
    for quote in answer_dict["quotes"]:  # type: ignore[attr-defined]
        text = assistant.data.articles[quote["article_id"]].text
        assert text[quote["start"] : quote["end"]] == quote["text"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did the agriculture minister call for?", "emergency loans"),
        ("How much do the ferry tickets cost?", "$12"),
        ("How many miles of bike lanes will Millbrook build?", "twelve miles"),
        ("When did police return the stolen painting?", "Friday"),
    ],
)
def test_answers_quote_the_sentence_that_says_it(assistant: Assistant, question: str, expected: str) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained
    assert expected in answer.answer
    assert any(expected in c.quote.text for c in answer.quotes)
    assert [c.n for c in answer.quotes] == list(range(1, len(answer.quotes) + 1))
    _verbatim(assistant, answer.to_dict())


def test_question_about_nothing_in_the_corpus_abstains_with_closest_passages(assistant: Assistant) -> None:
    answer = assistant.ask("Who won the football cup final in Brazil?")
    assert answer.abstained and answer.quotes == ()
    assert answer.answer.startswith("The articles don't say")
    assert "Brazil" in answer.answer
    assert answer.passages and answer.reason


def test_to_dict_has_the_documented_schema(assistant: Assistant) -> None:
    data = assistant.ask("What did the agriculture minister call for?").to_dict()
    assert {"question", "answer", "abstained", "quotes", "passages", "timings_ms"} <= set(data)
    assert set(data["quotes"][0]) >= {"n", "article_id", "title", "source", "url", "published", "start", "end", "text"}
    assert set(data["passages"][0]) >= {"rank", "article_id", "chunk_id", "score", "start", "end"}
    assert data["quotes"][0]["published"] == "2026-03-05"
    assert data["timings_ms"]["total"] >= data["timings_ms"]["embed"]


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_questions_are_errors(assistant: Assistant, question: str) -> None:
    with pytest.raises(EmptyQuestionError, match="empty"):
        assistant.ask(question)


def test_a_question_too_long_says_so_and_is_not_an_empty_question(assistant: Assistant) -> None:
    with pytest.raises(QuestionTooLongError, match="2001 characters") as caught:
        assistant.ask("x" * 2001)
    assert not isinstance(caught.value, EmptyQuestionError)
    assert isinstance(caught.value, NewsQAError)  # the doors catch it as before
    assert assistant.ask("x" * 2000).question == "x" * 2000  # the limit itself is allowed


def test_ask_many_answers_in_order(assistant: Assistant) -> None:
    questions = ["How much do the ferry tickets cost?", "Where did detectives find the stolen painting?"]
    answers = assistant.ask_many(questions)
    assert [a.question for a in answers] == questions


def test_chat_keeps_the_asked_question_and_shows_the_standalone_one(assistant: Assistant) -> None:
    history = [Turn("Who called for emergency loans?", "The agriculture minister, Tomas Brandt")]
    answer = assistant.chat(history, "What did he say about the rain?")
    assert answer.question == "What did he say about the rain?"
    assert answer.standalone_question == "What did Tomas Brandt say about the rain?"  # "he", resolved
    assert answer.to_dict()["standalone_question"] == answer.standalone_question
    quoted = [assistant.data.articles[c.quote.article_id].text for c in answer.quotes]
    assert quoted and all("Tomas Brandt" in text for text in quoted)


def test_every_door_asks_on_one_default_day(
    monkeypatch: pytest.MonkeyPatch, assistant: Assistant, tiny_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The API, the CLI, the browser chat and the ``/answer`` endpoint leave ``today`` to
    ``resolve_today`` (the local date) when the asker gives none; none picks its own."""
    from ui import cli, web

    seen: list[object] = []

    def spy(today: object = None) -> date:
        seen.append(today)
        return date(2026, 3, 6)

    monkeypatch.setattr("qa.assistant.resolve_today", spy)
    monkeypatch.setattr("qa.assistant.load_assistant", lambda *args, **kwargs: assistant)
    question = "How much do the ferry tickets cost?"
    assistant.ask(question)
    assert cli.main(["ask", question, "--index", str(tiny_index)]) == 0
    handlers = web.ChatHandlers(assistant)
    list(handlers.respond(question, [], today=""))
    handlers.answer_json(question)
    assert seen == [None, None, None, None]
    assert cli.main(["ask", question, "--index", str(tiny_index), "--today", "2026-03-01"]) == 0
    list(handlers.respond(question, [], today="2026-03-02"))
    assert seen[4:] == [date(2026, 3, 1), date(2026, 3, 2)]
    capsys.readouterr()


def test_today_defaults_to_the_local_date_and_undated_means_no_day() -> None:
    from qa import resolve_today

    assert resolve_today() == resolve_today(None) == date.today()
    assert resolve_today(date(2025, 1, 2)) == date(2025, 1, 2)
    assert resolve_today("undated") is None


def test_reload_picks_up_new_articles_and_answers_stay_consistent_meanwhile(
    tiny_index: Path, embedder: HashingEmbedder, articles: list[Article]
) -> None:
    assistant = Assistant(tiny_index, embedder)
    before = assistant.data.generation
    extra = make_article(
        "Volcano erupts.\n\nThe Mount Kerel volcano erupted on Sunday, sending ash four miles high.",
        title="Volcano erupts",
        source="Geo News",
    )
    known = {a.id: a for a in [*articles, extra]}
    errors: list[BaseException] = []

    def ask_repeatedly() -> None:
        try:
            for _ in range(20):
                for c in assistant.ask("How high did the ash go?").quotes:
                    assert known[c.quote.article_id].text[c.quote.start : c.quote.end] == c.quote.text
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=ask_repeatedly)
    thread.start()
    add_articles(tiny_index, [extra], embedder=embedder)
    assert assistant.reload() is True
    thread.join()
    assert not errors
    assert before == "gen-000001"
    assert assistant.data.generation == load_index(tiny_index).generation == "gen-000002"
    assert "four miles" in assistant.ask("How high did the volcano ash go?").answer
    assert assistant.reload() is False

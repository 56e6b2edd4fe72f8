"""The engine through its public API (hashing embedder): answers, quotes, abstention, JSON, reloads."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from index.build import add_articles
from index.embed import HashingEmbedder
from index.errors import NewsQAError, SettingsError
from index.records import Article, make_article
from index.store.generations import load_index
from qa import Assistant, Filters, QASettings, Turn
from qa.errors import EmptyQuestionError, QuestionTooLongError
from tests.conftest import small_index


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


def test_source_filter_applies_to_answers(assistant: Assistant) -> None:
    answer = assistant.ask("How much does it cost?", filters=Filters(sources=("Millbrook Times",)))
    assert {c.source for c in answer.quotes} <= {"Millbrook Times"}
    assert all(assistant.data.articles[p.article_id].source == "Millbrook Times" for p in answer.passages)


def test_chat_keeps_the_asked_question_and_shows_the_standalone_one(assistant: Assistant) -> None:
    history = [Turn("Who called for emergency loans?", "The agriculture minister, Tomas Brandt")]
    answer = assistant.chat(history, "What did he say about the rain?")
    assert answer.question == "What did he say about the rain?"
    assert answer.standalone_question == "What did Tomas Brandt say about the rain?"  # "he", resolved
    assert answer.to_dict()["standalone_question"] == answer.standalone_question
    assert answer.quotes and all("Tomas Brandt" in assistant.data.articles[c.quote.article_id].text for c in answer.quotes)


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


def test_retrieval_modes_are_settings(tiny_index: Path, embedder: HashingEmbedder) -> None:
    for mode in ("hybrid", "dense", "keyword"):
        answer = Assistant(tiny_index, embedder, QASettings(retrieval=mode)).ask("Where was the stolen painting found?")  # type: ignore[arg-type]
        assert answer.passages[0].article_id == next(
            a.id for a in Assistant(tiny_index, embedder).data.articles.values() if "painting" in a.title
        )


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


def test_rescore_ranks_the_best_sentences_by_their_own_embedding(assistant: Assistant) -> None:
    """``rescore`` re-embeds the first sentences alone; one that matches the question better
    alone than pooled from its chunk moves up. Without rescoring, the order is the pooled one."""
    from dataclasses import replace

    import numpy as np

    from qa.answer import ExtractiveAnswerer
    from qa.retrieve import Query

    question = "Who called for emergency loans?"
    vector = assistant.embedder.embed_query(question)
    passages = assistant.retriever.retrieve(Query(question, vector, None, Filters()), 5)
    plain = ExtractiveAnswerer(assistant.data, assistant.keyword, replace(assistant.settings, rescore=0)).candidates(
        question, vector, passages
    )
    assert len(plain) >= 2
    second = assistant.answerer._text(plain[1])

    def embed(text: str) -> np.ndarray:  # the second sentence matches the question exactly, alone
        return vector if text == second else -vector

    rescored = ExtractiveAnswerer(
        assistant.data, assistant.keyword, replace(assistant.settings, rescore=2), embed=embed
    ).candidates(question, vector, passages)
    assert assistant.answerer._text(rescored[0]) == second
    assert {(c.article_id, c.start) for c in rescored} == {(c.article_id, c.start) for c in plain}


def test_the_sentence_that_asks_weighs_most_in_the_keyword_share(tmp_path: Path, embedder: HashingEmbedder) -> None:
    """A question that sets a scene before it asks: sentences repeating the scene share most of
    its words, but the answer shares the words of the sentence that asks."""
    from qa.answer import ExtractiveAnswerer
    from qa.qtype import asking_sentence
    from qa.retrieve import Query

    article = make_article(
        "Andrew Brightwater was arrested in Port Ellis on Thursday on suspicion of fraud. "
        "Police in Port Ellis arrested Brightwater at his home on Thursday. "
        "Judge Mara Brightwater is the older sister of Andrew Brightwater.",
        title="Arrest in Port Ellis",
        source="Coast Courier",
    )
    assistant = Assistant(small_index(tmp_path / "index", [article], embedder), embedder)
    question = "Andrew Brightwater was arrested in Port Ellis on Thursday. Who is his older sister?"
    assert asking_sentence(question) == "Who is his older sister?"
    vector = embedder.embed_query(question)
    passages = assistant.retriever.retrieve(Query(question, vector, None, Filters()), 3)

    def keyword_shares(settings: QASettings) -> dict[str, float]:
        answerer = ExtractiveAnswerer(assistant.data, assistant.keyword, settings)
        return {answerer._text(c): c.keyword for c in answerer.candidates(question, vector, passages)}

    scene = "Police in Port Ellis arrested Brightwater at his home on Thursday."
    answer = "Judge Mara Brightwater is the older sister of Andrew Brightwater."
    weighted = keyword_shares(QASettings(rescore=0))
    assert weighted[answer] > weighted[scene]
    plain = keyword_shares(QASettings(rescore=0, asked_share=0.0))  # all the question's words alike
    assert plain[answer] < plain[scene]
    with pytest.raises(SettingsError, match="asked_share"):
        QASettings(asked_share=1.5)


@pytest.mark.parametrize(
    ("question", "asking"),
    [
        ("Who is he? Answer in one word.", "Who is he?"),
        ("What did Lavrov call for?", "What did Lavrov call for?"),
        ("The U.S. Senate voted on Monday. Which bill passed", "Which bill passed"),
    ],
)
def test_asking_sentence_is_the_last_question(question: str, asking: str) -> None:
    from qa.qtype import asking_sentence

    assert asking_sentence(question) == asking


def test_a_quote_says_the_short_answer_as_whole_words() -> None:
    """The first quote must say the short answer: "Iran" is not said by "Iranian officials"."""
    from qa.answer import _says

    assert not _says("Iranian officials announced a deal.", "Iran")
    assert _says("Trump worked to land a peace deal with Iran.", "Iran")
    assert _says("the death of Matthew Perry's friend", "Matthew Perry")
    assert not _says("a deal with iran", "Iran")
    assert _says("a deal with iran", "Iran", fold=True)

"""The answer step: sentences rescored by their own embedding, the asking sentence's weight, and
the rule that a quote says the short answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from index.errors import SettingsError
from index.records import make_article
from qa import Assistant, Filters, QASettings
from tests.conftest import small_index


@pytest.fixture
def assistant(tiny_index: Path, embedder: HashingEmbedder) -> Assistant:
    return Assistant(tiny_index, embedder)


def test_rescore_ranks_the_best_sentences_by_their_own_embedding(assistant: Assistant) -> None:
    """``rescore`` re-embeds the first sentences alone; one that matches the question better
    alone than pooled from its chunk moves up. Without rescoring, the order is the pooled one."""
    from dataclasses import replace

    import numpy as np

    from qa.answer import ExtractiveAnswerer
    from qa.question import Question
    from qa.retrieve import Query

    question = Question.parse("Who called for emergency loans?", None, assistant.keyword)
    vector = assistant.embedder.embed_query(question.text)
    passages = assistant.retriever.retrieve(Query(question, vector, Filters()), 5)
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
    from qa.question import Question, asking_sentence
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
    parsed = Question.parse(question, None, assistant.keyword)
    passages = assistant.retriever.retrieve(Query(parsed, vector, Filters()), 3)

    def keyword_shares(settings: QASettings) -> dict[str, float]:
        answerer = ExtractiveAnswerer(assistant.data, assistant.keyword, settings)
        return {answerer._text(c): c.keyword for c in answerer.candidates(parsed, vector, passages)}

    scene = "Police in Port Ellis arrested Brightwater at his home on Thursday."
    answer = "Judge Mara Brightwater is the older sister of Andrew Brightwater."
    weighted = keyword_shares(QASettings(rescore=0))
    assert weighted[answer] > weighted[scene]
    plain = keyword_shares(QASettings(rescore=0, asked_share=0.0))  # all the question's words alike
    assert plain[answer] < plain[scene]
    with pytest.raises(SettingsError, match="asked_share"):
        QASettings(asked_share=1.5)


def test_a_quote_says_the_short_answer_as_whole_words() -> None:
    """The first quote must say the short answer: "Iran" is not said by "Iranian officials"."""
    from qa.answer import _says

    assert not _says("Iranian officials announced a deal.", "Iran")
    assert _says("Trump worked to land a peace deal with Iran.", "Iran")
    assert _says("the death of Matthew Perry's friend", "Matthew Perry")
    assert not _says("a deal with iran", "Iran")
    assert _says("a deal with iran", "Iran", fold=True)

"""eval.metrics and eval.score on hand-computed cases."""

from __future__ import annotations

import json
from datetime import date

import pytest

from eval import metrics
from eval.gold import GoldQuestion, parse_question
from eval.score import score_answer, summarize
from index.errors import BadInputError
from index.records import make_article
from qa.records import Answer, Citation, Passage, Quote


def test_normalize_drops_case_punctuation_articles_and_spaces() -> None:
    assert metrics.normalize("The  U.S. Senate's “vote”!") == "us senates vote"
    assert metrics.normalize("An apple, a day") == "apple day"
    assert metrics.normalize("Theatre") == "theatre"  # "the" only as a word


def test_containment_needs_whole_words() -> None:
    assert metrics.contains_answer("Lavrov called for an urgent ceasefire.", ["Urgent ceasefire"])
    assert metrics.contains_answer("Forces captured him in Venezuela's capital", ["nowhere", "Venezuelas"])
    assert not metrics.contains_answer("He spoke about focus groups.", ["US"])
    assert not metrics.contains_answer("anything", [""])
    assert not metrics.contains_answer("", ["ceasefire"])


def test_exact_match_and_token_f1() -> None:
    assert metrics.exact_match("The Moscow.", ["moscow"])
    assert not metrics.exact_match("in Moscow", ["moscow"])
    # "urgent ceasefire in gaza" vs "urgent ceasefire": 2 common, P = 2/4, R = 2/2, F1 = 2/3
    assert metrics.token_f1("an urgent ceasefire in Gaza", ["urgent ceasefire"]) == pytest.approx(2 / 3)
    # best over answers: "moscow" gives P = 1/2, R = 1, F1 = 2/3; "kremlin" gives 0
    assert metrics.token_f1("in Moscow", ["Kremlin", "Moscow"]) == pytest.approx(2 / 3)
    assert metrics.token_f1("", ["x"]) == 0.0


def test_ranking_recall_and_reciprocal_rank() -> None:
    ranking = metrics.article_ranking(["b", "b", "c", "a", "c", "d"])
    assert ranking == ["b", "c", "a", "d"]
    relevant = {"a", "x"}
    assert [metrics.recall_at_k(ranking, relevant, k) for k in (1, 2, 3, 10)] == [0.0, 0.0, 1.0, 1.0]
    assert metrics.reciprocal_rank(ranking, relevant) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(ranking, {"zzz"}) == 0.0
    assert metrics.recall_at_k(ranking, set(), 5) == 0.0


def test_quote_exactness_and_citation_precision() -> None:
    text = "Lavrov called for an urgent ceasefire."
    assert metrics.quote_is_exact("urgent ceasefire", 21, 37, text)
    assert not metrics.quote_is_exact("urgent ceasefire", 20, 36, text)
    assert not metrics.quote_is_exact("urgent ceasefire", 21, 37, None)
    assert not metrics.quote_is_exact("x", 50, 51, text)
    assert metrics.citation_precision(["a", "a", "b", "c"], {"a", "z"}) == pytest.approx(1 / 3)
    assert metrics.citation_precision([], {"a"}) is None


@pytest.mark.parametrize(
    ("answerable", "abstained", "correct", "expected"),
    [
        (True, False, True, 1),
        (True, False, False, -1),
        (True, True, False, 0),
        (False, True, False, 1),
        (False, False, True, -1),
    ],
)
def test_crag_score(answerable: bool, abstained: bool, correct: bool, expected: int) -> None:
    assert metrics.crag_score(answerable, abstained, correct) == expected


def test_option_support_weights_evidence_by_rank() -> None:
    # coverage 1 in item 0 (weight 1) + 1/2 in item 1 (weight 1/2) = 1.25
    assert metrics.option_support("urgent ceasefire", ["an urgent ceasefire", "a ceasefire"]) == pytest.approx(1.25)
    assert metrics.option_support("the of", ["anything"]) == 0.0  # no content words


def test_choose_option() -> None:
    evidence = ["US forces captured Maduro in Caracas, Venezuela.", "Cuba condemned the raid."]
    choices = ["Colombia", "Cuba", "Venezuela", "Nicaragua"]
    # Venezuela: 1 (item 0); Cuba: 1/2 (item 1)
    assert metrics.choose_option("Where was Maduro captured?", choices, evidence, abstained=False) == 2
    # words of the question do not count as support: "Maduro" is in every passage
    assert metrics.choose_option("Who is Maduro?", ["Maduro", "Cuba"], evidence, abstained=False) == 1
    with_no_info = ["Grapefruit", "not enough information", "Eggs and toast"]
    assert metrics.choose_option("What did he eat?", with_no_info, ["He ate eggs."], abstained=True) == 1
    assert metrics.choose_option("What did he eat?", with_no_info, ["He ate nothing."], abstained=False) == 1
    assert metrics.choose_option("What did he eat?", with_no_info, ["He ate eggs."], abstained=False) == 2


def test_percentile_and_mean() -> None:
    assert metrics.percentile([10.0, 20.0, 30.0, 40.0], 50) == 25.0
    assert metrics.percentile([10.0, 20.0, 30.0, 40.0], 95) == pytest.approx(38.5)
    assert metrics.percentile([], 50) is None
    assert metrics.mean([1.0, None, 0.0]) == 0.5
    assert metrics.mean([None]) is None


def _answer(article_id: str, text: str, quote: tuple[int, int, str] | None, abstained: bool = False) -> Answer:
    citations = ()
    if quote is not None:
        q = Quote(article_id, *quote)
        citations = (Citation(1, q, "t", "s", "", None),)
    passages = (
        Passage(1, "other:0", "other", 0, 5, "xxxxx", 1.0),
        Passage(2, f"{article_id}:0", article_id, 0, 10, "yyyyyyyyyy", 0.5),
    )
    return Answer("q", text, citations, passages, abstained=abstained)


def test_score_answer_and_summarize() -> None:
    article = make_article("Lavrov called for an urgent ceasefire. He met envoys.", title="t")
    articles = {article.id: article}
    gold = GoldQuestion("q1", "What did Lavrov call for?", ("urgent ceasefire",), (article.id,), "what-said")
    right = score_answer(
        gold, _answer(article.id, "Lavrov called for an urgent ceasefire.", (0, 38, article.text[:38])), articles, 10.0
    )
    assert right.ranking == ("other", article.id)
    assert right.recall[:2] == (0.0, 1.0) and right.reciprocal_rank == 0.5
    assert right.contained and right.answer_in_quote and right.quotes[0].exact and right.crag == 1
    assert right.citation_precision == 1.0
    shifted = score_answer(gold, _answer(article.id, "He met envoys.", (0, 14, "He met envoys.")), articles, 30.0)
    assert not shifted.contained and not shifted.answer_in_quote and not shifted.quotes[0].exact
    assert shifted.crag == -1
    null = GoldQuestion("q2", "What is the capital of Peru?", (), (), "null")
    abstained = score_answer(null, _answer(article.id, "The articles don't say.", None, abstained=True), articles, 20.0)
    assert abstained.crag == 1 and abstained.recall == () and abstained.reciprocal_rank is None
    figures = summarize([right, shifted, abstained], k=5)
    assert figures["answerable"] == 2 and figures["null"] == 1
    assert figures["recall@1"] == 0.0 and figures["recall@5"] == 1.0 and figures["mrr"] == 0.5
    assert figures["answer_accuracy"] == 0.5 and figures["answer_in_quote"] == 0.5
    assert figures["quote_exactness"] == 0.5 and figures["quotes"] == 2
    assert figures["relevant_published_by_question_date"] == 1.0
    assert figures["answer_in_article"] == 1.0  # "urgent ceasefire" is in the relevant article
    assert figures["null_abstention"] == 1.0 and figures["false_abstention"] == 0.0
    assert figures["crag_score"] == pytest.approx(1 / 3)
    assert figures["latency_p50_ms"] == 20.0


def test_abstained_answer_scores_nothing_even_if_its_text_matches() -> None:
    article = make_article("Moscow hosted talks.", title="t")
    gold = GoldQuestion("q", "Where?", ("Moscow",), (article.id,), "where", question_date=date(2026, 1, 1))
    scored = score_answer(
        gold, _answer(article.id, "No article mentions Moscow", None, abstained=True), {article.id: article}, 1.0
    )
    assert not scored.contained and not scored.answer_in_quote and scored.crag == 0 and not scored.correct
    assert scored.answer_in_article
    assert scored.dated_in  # the article has no publication date: it could have been read
    paraphrased = GoldQuestion("p", "Where?", ("the Russian capital",), (article.id,), "where")
    assert not score_answer(paraphrased, _answer(article.id, "x", None), {article.id: article}, 1.0).answer_in_article
    dated = make_article("Moscow hosted talks.", title="t", published=date(2026, 1, 5))
    later = GoldQuestion("d", "Where?", ("Moscow",), (dated.id,), "where", question_date=date(2026, 1, 4))
    assert not score_answer(later, _answer(dated.id, "x", None), {dated.id: dated}, 1.0).dated_in
    same_day = GoldQuestion("d", "Where?", ("Moscow",), (dated.id,), "where", question_date=date(2026, 1, 5))
    assert score_answer(same_day, _answer(dated.id, "x", None), {dated.id: dated}, 1.0).dated_in


def test_parse_question_validates() -> None:
    row = {
        "id": "x",
        "question": "Q?",
        "answers": ["a"],
        "article_ids": ["1"],
        "type": "factoid",
        "meta": {"question_date": "2026-01-08", "other_articles_with_answer": ["2"], "choices": ["a", "b"]},
    }
    q = parse_question(row, "f:1")
    assert q.relevant == {"1", "2"} and q.question_date == date(2026, 1, 8) and q.choices == ("a", "b")
    with pytest.raises(BadInputError, match="f:2"):
        parse_question({**row, "answers": "a"}, "f:2")
    with pytest.raises(BadInputError, match="needs 'answers'"):
        parse_question({**row, "article_ids": []}, "f:3")
    assert parse_question({**row, "type": "null", "answers": [], "article_ids": []}, "f:4").answerable is False


def test_a_short_answer_counts_as_short_up_to_twelve_words() -> None:
    article = make_article("Lavrov called for an urgent ceasefire. He met envoys.", title="t")
    gold = GoldQuestion("q", "What did Lavrov call for?", ("urgent ceasefire",), (article.id,), "what-said")
    short = score_answer(gold, _answer(article.id, "an urgent ceasefire", None), {article.id: article}, 1.0)
    long_text = "Lavrov, speaking on Monday in Moscow to envoys, called for an urgent ceasefire in the region."
    long = score_answer(gold, _answer(article.id, long_text, None), {article.id: article}, 1.0)
    assert short.contained and long.contained and (short.answer_words, long.answer_words) == (3, 16)
    figures = summarize([short, long])
    assert figures["answer_accuracy"] == 1.0 and figures["short_answer_accuracy"] == 0.5


def test_a_duplicate_question_id_is_an_error_unless_renamed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from eval.gold import load_gold

    rows = [
        {"id": "a", "question": "Who won?", "answers": ["Ada"], "article_ids": ["x"], "type": "who"},
        {"id": "a", "question": "Who lost?", "answers": ["Bo"], "article_ids": ["x"], "type": "who"},
    ]
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"qa\.jsonl:2: duplicate question id 'a'"):
        load_gold(path)
    kept = load_gold(path, rename_duplicates=True)
    assert [(q.id, q.question) for q in kept] == [("a", "Who won?"), ("a~2", "Who lost?")]

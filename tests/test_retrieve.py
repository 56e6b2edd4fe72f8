"""Retrieval: search modes and fusion, source and date filters, the date prior, syndicated copies folded."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from index.build import add_articles
from index.embed import HashingEmbedder
from index.records import make_article
from index.settings import IndexSettings
from qa import Assistant, Filters, QASettings

TODAY = date(2026, 1, 8)


@pytest.fixture
def assistant(tiny_index: Path, embedder: HashingEmbedder) -> Assistant:
    return Assistant(tiny_index, embedder)


def test_retrieval_modes_are_settings(tiny_index: Path, embedder: HashingEmbedder) -> None:
    for mode in ("hybrid", "dense", "keyword"):
        answer = Assistant(tiny_index, embedder, QASettings(retrieval=mode)).ask("Where was the stolen painting found?")  # type: ignore[arg-type]
        assert answer.passages[0].article_id == next(
            a.id for a in Assistant(tiny_index, embedder).data.articles.values() if "painting" in a.title
        )


def test_source_filter_applies_to_answers(assistant: Assistant) -> None:
    answer = assistant.ask("How much does it cost?", filters=Filters(sources=("Millbrook Times",)))
    assert {c.source for c in answer.quotes} <= {"Millbrook Times"}
    assert all(assistant.data.articles[p.article_id].source == "Millbrook Times" for p in answer.passages)


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
    assistant = Assistant(root, embedder, QASettings(date_weight=0))
    plain = assistant.ask("How did the port strike talks end?", today=TODAY)
    other_day = assistant.ask("How did the port strike talks end?", today=date(2025, 6, 5))
    ranked = lambda a: [(p.article_id, round(p.score, 9)) for p in a.passages]  # noqa: E731
    assert ranked(plain) == ranked(other_day)  # the day asked changes nothing
    assert all(p.score <= 2 / 61 + 1e-9 for p in plain.passages)  # pure reciprocal-rank fusion scores
    dated = Assistant(root, embedder).ask("How did the port strike talks end?", today=date(2025, 6, 5))
    assert ranked(dated) != ranked(plain)  # with the default weight, the same day does change the ranking


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


def test_hybrid_fuses_the_two_rankings_by_weighted_reciprocal_rank(tiny_index: Path, embedder: HashingEmbedder) -> None:
    """Each passage's hybrid score is the sum, over the dense and the keyword ranking, of
    ``weight / (rrf_k + rank + 1)`` (rank from 0; a ranking that lacks the chunk adds nothing)."""
    question = "Who called for emergency loans after the drought?"
    base = QASettings(passages=50, answer_passages=50, date_weight=0, dedup=False, dense_weight=2.0)

    def ranking(mode: str) -> list[str]:
        passages = Assistant(tiny_index, embedder, replace(base, retrieval=mode)).ask(question).passages  # type: ignore[arg-type]
        return [p.chunk_id for p in passages]

    dense, keyword = ranking("dense"), ranking("keyword")
    hybrid = Assistant(tiny_index, embedder, base).ask(question).passages
    assert len(hybrid) > 2 and {p.chunk_id for p in hybrid} == set(dense) | set(keyword)
    for p in hybrid:
        expected = sum(
            weight / (base.rrf_k + order.index(p.chunk_id) + 1)
            for weight, order in ((base.dense_weight, dense), (base.keyword_weight, keyword))
            if p.chunk_id in order
        )
        assert p.score == pytest.approx(expected)
    assert [p.score for p in hybrid] == sorted((p.score for p in hybrid), reverse=True)

"""Score one answer against its gold question: GoldQuestion + Answer + article texts -> Scored.

Also the aggregation of many Scored rows into the report's figures (``summarize``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from eval import metrics
from eval.gold import GoldQuestion
from index.records import Article
from qa.records import Answer

RECALL_KS = tuple(range(1, 11))  # recall@k is computed for every k up to 10 (the curve)
MC_EVIDENCE_PASSAGES = 5  # passages (after the quotes) the multiple-choice rule reads

SHORT_WORDS = 12  # the most words a short answer may have and still count as one


@dataclass(frozen=True)
class QuoteCheck:
    """A quote as shown, and whether the articles file holds it verbatim at its offsets."""

    article_id: str
    start: int
    end: int
    text: str
    exact: bool


@dataclass(frozen=True)
class Scored:
    """One question answered by one system, with every per-question metric."""

    question_id: str
    type: str
    answerable: bool
    ranking: tuple[str, ...]
    answer: str
    abstained: bool
    reason: str
    quotes: tuple[QuoteCheck, ...]
    recall: tuple[float, ...]  # recall@k for k in RECALL_KS (empty for unanswerable questions)
    reciprocal_rank: float | None
    contained: bool
    exact_match: bool
    token_f1: float
    answer_in_quote: bool
    answer_in_article: bool  # a gold answer occurs in a relevant article's text: the ceiling of the two above
    dated_in: bool  # a relevant article is published by the question date (or either date is unknown)
    citation_precision: float | None
    crag: int
    latency_ms: float
    mc_choice: int | None
    mc_correct: bool | None
    answer_words: int = 0  # words in the short answer as shown (0 when abstained)

    @property
    def correct(self) -> bool:
        """Answered correctly: a gold answer in the short answer or in a quote (the CRAG rule)."""
        return not self.abstained and (self.contained or self.answer_in_quote)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["quotes"] = [asdict(q) for q in self.quotes]
        row["recall"] = {f"@{k}": r for k, r in zip(RECALL_KS, self.recall, strict=False)}
        row["correct"] = self.correct
        return row


def _published_by(article: Article, gold: GoldQuestion) -> bool:
    """Could the article have been read on the question's date? (Unknown dates: yes.)"""
    return gold.question_date is None or article.published is None or article.published <= gold.question_date


def score_answer(gold: GoldQuestion, answer: Answer, articles: Mapping[str, Article], latency_ms: float) -> Scored:
    """Every metric of one answer; quotes are checked against ``articles`` (read from the file)."""
    ranking = tuple(metrics.article_ranking(p.article_id for p in answer.passages))
    quotes = tuple(
        QuoteCheck(
            c.quote.article_id,
            c.quote.start,
            c.quote.end,
            c.quote.text,
            metrics.quote_is_exact(
                c.quote.text,
                c.quote.start,
                c.quote.end,
                articles[c.quote.article_id].text if c.quote.article_id in articles else None,
            ),
        )
        for c in answer.quotes
    )
    shown = "" if answer.abstained else answer.answer
    answerable = gold.answerable
    contained = answerable and metrics.contains_answer(shown, gold.answers)
    in_quote = (
        answerable and not answer.abstained and any(metrics.contains_answer(q.text, gold.answers) for q in quotes)
    )
    mc_choice = mc_correct = None
    if gold.choices:
        evidence = [q.text for q in quotes] + [p.text for p in answer.passages[:MC_EVIDENCE_PASSAGES]]
        mc_choice = metrics.choose_option(gold.question, gold.choices, evidence, answer.abstained)
        mc_correct = metrics.normalize(gold.choices[mc_choice]) in {metrics.normalize(a) for a in gold.answers}
    scored = Scored(
        question_id=gold.id,
        type=gold.type,
        answerable=answerable,
        ranking=ranking,
        answer=answer.answer,
        abstained=answer.abstained,
        reason=answer.reason,
        quotes=quotes,
        recall=tuple(metrics.recall_at_k(ranking, gold.relevant, k) for k in RECALL_KS) if answerable else (),
        reciprocal_rank=metrics.reciprocal_rank(ranking, gold.relevant) if answerable else None,
        contained=contained,
        exact_match=answerable and metrics.exact_match(shown, gold.answers),
        token_f1=metrics.token_f1(shown, gold.answers) if answerable else 0.0,
        answer_in_quote=in_quote,
        answer_in_article=answerable
        and any(
            metrics.contains_answer(articles[a].text, gold.answers) for a in sorted(gold.relevant) if a in articles
        ),
        dated_in=answerable and any(_published_by(articles[a], gold) for a in gold.relevant if a in articles),
        citation_precision=metrics.citation_precision((q.article_id for q in quotes), gold.relevant)
        if answerable and not answer.abstained
        else None,
        crag=0,
        latency_ms=latency_ms,
        mc_choice=mc_choice,
        mc_correct=mc_correct,
        answer_words=len(shown.split()),
    )
    crag = metrics.crag_score(answerable, answer.abstained, scored.correct)
    return replace(scored, crag=crag)


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summarize(rows: Sequence[Scored], k: int = 5) -> dict[str, Any]:
    """The figures of the report for ``rows`` (None where a figure has no question to stand on).

    Answer figures are over answerable questions, an abstention counting as wrong;
    ``null_abstention`` is over ``null`` questions, ``false_abstention`` over answerable ones.
    """
    answerable = [r for r in rows if r.answerable]
    null = [r for r in rows if not r.answerable]
    answered = [r for r in answerable if not r.abstained]
    quotes = [q for r in rows for q in r.quotes]
    mc = [r.mc_correct for r in rows if r.mc_correct is not None]
    latencies = [r.latency_ms for r in rows]
    recall = {f"recall@{k_}": metrics.mean(r.recall[k_ - 1] for r in answerable) for k_ in RECALL_KS}
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "null": len(null),
        **{f"recall@{k_}": recall[f"recall@{k_}"] for k_ in (1, 5, 10)},
        f"recall@{k}": recall.get(f"recall@{k}"),
        "relevant_published_by_question_date": _rate([r.dated_in for r in answerable]),
        "mrr": metrics.mean(r.reciprocal_rank for r in answerable),
        "answer_accuracy": _rate([r.contained for r in answerable]),
        # a short answer that reads as one: the gold answer in at most SHORT_WORDS words
        "short_answer_accuracy": _rate([r.contained and r.answer_words <= SHORT_WORDS for r in answerable]),
        "exact_match": _rate([r.exact_match for r in answerable]),
        "token_f1": metrics.mean(r.token_f1 for r in answerable),
        "answer_in_quote": _rate([r.answer_in_quote for r in answerable]),
        "answer_in_article": _rate([r.answer_in_article for r in answerable]),
        "correct": _rate([r.correct for r in answerable]),
        "accuracy_when_answered": _rate([r.correct for r in answered]),
        "quotes": len(quotes),
        "quote_exactness": _rate([q.exact for q in quotes]),
        "citation_precision": metrics.mean(r.citation_precision for r in answerable),
        "null_abstention": _rate([r.abstained for r in null]),
        "false_abstention": _rate([r.abstained for r in answerable]),
        "crag_score": metrics.mean(float(r.crag) for r in rows),
        "mc_questions": len(mc),
        "mc_accuracy": _rate(mc),
        "latency_p50_ms": metrics.percentile(latencies, 50),
        "latency_p95_ms": metrics.percentile(latencies, 95),
        "recall_curve": [recall[f"recall@{k_}"] for k_ in RECALL_KS],
    }


def summarize_by_type(rows: Sequence[Scored], k: int = 5) -> dict[str, dict[str, Any]]:
    """``summarize`` for each question type, types in sorted order."""
    return {t: summarize([r for r in rows if r.type == t], k) for t in sorted({r.type for r in rows})}

"""Candidate sentences for training and evaluation: a dev set + its index -> ``Example`` records (JSONL).

Each question is asked through the project's own retrieval and answer step (the same
``candidates`` the assistant reads), and the first ``READ_SENTENCES`` candidates are kept
with their scores and entities. ``gold`` examples read the retrieved passages as they are;
``filtered`` examples drop every passage of an article known to hold the answer (the
question's evidence and ``other_articles_with_answer``): a realistic question the articles
do not answer, for the answerability model. The rules' own answer is kept for comparison.
Examples hold dataset text: they are written outside the repository (``--scratch``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from eval.gold import load_gold
from index.records import Article, make_article
from qa.reader.records import READ_SENTENCES, SentenceIn, from_candidates
from qa.records import Filters, Passage

if TYPE_CHECKING:
    from qa.assistant import Assistant

Mode = Literal["gold", "filtered"]
FILTER_DEPTH = 40  # passages retrieved before the answer's articles are dropped


@dataclass(frozen=True)
class Quiz:
    """A gold question as the collector needs it."""

    id: str
    question: str
    answers: tuple[str, ...]
    today: date | None
    answer_articles: frozenset[str]
    answerable: bool = True


@dataclass(frozen=True)
class RulesAnswer:
    """What the current rules answer: the short answer, the first quote, the score, abstained."""

    short: str
    first_quote: str
    score: float
    abstained: bool


@dataclass(frozen=True)
class Example:
    """One question read once: its candidate sentences, and the rules' answer (gold mode)."""

    set: str
    mode: Mode
    question: Quiz
    sentences: tuple[SentenceIn, ...]
    rules: RulesAnswer | None = None

    def to_json(self) -> str:
        row = asdict(self)
        row["question"]["today"] = self.question.today.isoformat() if self.question.today else None
        row["question"]["answer_articles"] = sorted(self.question.answer_articles)
        return json.dumps(row, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Example:
        row = json.loads(line)
        q = row["question"]
        question = Quiz(
            q["id"],
            q["question"],
            tuple(q["answers"]),
            date.fromisoformat(q["today"]) if q["today"] else None,
            frozenset(q["answer_articles"]),
            q["answerable"],
        )
        sentences = tuple(
            SentenceIn(**{**s, "entities": tuple(tuple(e) for e in s["entities"])}) for s in row["sentences"]
        )
        rules = RulesAnswer(**row["rules"]) if row["rules"] else None
        return cls(row["set"], row["mode"], question, sentences, rules)


def read_examples(path: Path) -> list[Example]:
    """The examples of a JSONL file written by ``collect``."""
    with path.open(encoding="utf-8") as handle:
        return [Example.from_json(line) for line in handle if line.strip()]


def load_questions(qa_path: Path, subset: str | None = None) -> list[Quiz]:
    """The questions of a dev set's ``qa.jsonl`` (``subset``: keep those whose ``meta[subset]`` is true),
    read by the eval's gold loader; of a repeated id (realtimeqa_2023 has one) the first question only."""
    gold = load_gold(qa_path, subset, rename_duplicates=True)
    ids = {g.id for g in gold}
    return [
        Quiz(g.id, g.question, g.answers, g.question_date, g.relevant, g.answerable)
        for g in gold
        if "~" not in g.id or g.id.rsplit("~", 1)[0] not in ids  # a renamed repeat (eval.gold: ID~LINE)
    ]


def reading_corpus(qa_path: Path) -> tuple[list[Quiz], list[Article]]:
    """realtimeqa_reading: the questions whose answer is word for word in their passage (and that
    make sense without the choices), and one article per passage, its id the question's."""
    questions: list[Quiz] = []
    articles: list[Article] = []
    with qa_path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row: dict[str, Any] = json.loads(line)
            meta = row.get("meta") or {}
            evidence = [e for e in row.get("evidence") or [] if e.strip()]
            if not evidence:
                continue
            day = meta.get("question_date")
            today = date.fromisoformat(day) if day else None
            articles.append(make_article(" ".join(evidence), published=today, id=row["id"]))
            if meta.get("answer_in_evidence") and not meta.get("needs_choices"):
                questions.append(Quiz(row["id"], row["question"], tuple(row["answers"]), today, frozenset({row["id"]})))
    return questions, articles


def _without(passages: Sequence[Passage], drop: frozenset[str], keep: int) -> list[Passage]:
    """The passages of no article in ``drop`` (nor syndicated from one), re-ranked from 1."""
    kept = [p for p in passages if p.article_id not in drop and not drop & set(p.also_in)]
    return [replace(p, rank=i) for i, p in enumerate(kept[:keep], start=1)]


def collect(assistant: Assistant, set_name: str, questions: Sequence[Quiz], modes: Sequence[Mode]) -> Iterator[Example]:
    """Ask each question through ``assistant``'s retrieval and answer step, as ``Assistant.ask`` does."""
    from qa.question import Question
    from qa.retrieve import Query

    retriever, answerer, tagger, articles = (
        assistant.retriever,
        assistant.answerer,
        assistant.tagger,
        assistant.data.articles,
    )
    depth = max(assistant.settings.passages, assistant.settings.answer_passages)
    for q in questions:
        vector = assistant.embedder.embed_query(q.question)
        parsed = Question.parse(q.question, q.today, assistant.keyword)
        query = Query(parsed, vector, Filters())
        for mode in modes:
            if mode == "gold":
                passages = retriever.retrieve(query, depth)
            else:
                passages = _without(retriever.retrieve(query, FILTER_DEPTH), q.answer_articles, depth)
            candidates = answerer.candidates(parsed, vector, passages)
            sentences = from_candidates(candidates, articles, tagger, READ_SENTENCES)
            draft = answerer.draft(parsed, vector, passages)
            first = draft.quotes[0].text if draft.quotes else ""
            rules = RulesAnswer(draft.answer, first, float(draft.score), bool(draft.abstained))
            yield Example(set_name, mode, q, tuple(sentences), rules)

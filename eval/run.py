"""Run an evaluation: articles + gold questions -> scored rows for the assistant and its baselines.

Every system is the real assistant (``load_assistant(...).ask(question, today=...)``; a question without a
date is asked ``today="undated"``, so that reports do not depend on the day they run),
on the same index, differing only in ``QASettings.retrieval``: the assistant as
configured by default, then keyword-only (BM25) and dense-only retrieval. Each asks
for at least 10 passages so recall@10 can be measured; the answer step still reads only
its own ``answer_passages``, so the answers are the ones users get.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from eval.corpus import BuildCost, build_or_reuse, choose_embedder, load_articles
from eval.gold import GoldQuestion, load_gold
from eval.score import Scored, score_answer
from index.embed import Embedder
from index.records import Article
from qa import QASettings, load_assistant

MIN_PASSAGES = 10  # recall@10 needs ten passages per answer


@dataclass(frozen=True)
class EvalConfig:
    """What ``python -m eval run`` was asked to do."""

    articles: Path
    gold: Path
    out: Path
    index: Path | None = None
    k: int = 5
    subset: str | None = None
    limit: int | None = None
    embedder: str | None = None
    rename_duplicates: bool = False


@dataclass(frozen=True)
class SystemRun:
    """One system's settings and its scored rows, in gold order."""

    name: str
    settings: QASettings
    rows: tuple[Scored, ...]


@dataclass(frozen=True)
class EvalResult:
    config: EvalConfig
    index_dir: Path
    embedder: str
    cost: BuildCost
    questions: tuple[GoldQuestion, ...]
    systems: tuple[SystemRun, ...]
    articles_total: int
    gold_ids_missing: int  # relevant ids of the gold set that are not in the articles file


def systems(k: int) -> list[tuple[str, QASettings]]:
    """The assistant with its default settings, the same with the trained reader instead of the
    hand-set rules, then the two single-retriever baselines."""
    base = replace(QASettings(), passages=max(MIN_PASSAGES, k))
    return [
        (f"assistant ({base.retrieval}, {base.reader} reader)", base),
        ("trained reader (qa/reader)", replace(base, reader="trained")),
        ("keyword only (BM25)", replace(base, retrieval="keyword")),
        ("dense only", replace(base, retrieval="dense")),
    ]


def ask_all(
    name: str,
    settings: QASettings,
    index_dir: Path,
    embedder: Embedder,
    questions: Sequence[GoldQuestion],
    articles: dict[str, Article],
    log: Callable[[str], None],
) -> SystemRun:
    """Ask every question through the public API and score each answer."""
    assistant = load_assistant(index_dir, settings=settings, embedder=embedder)
    assistant.warm_up()  # loads the models: not a user's latency
    rows = []
    for i, gold in enumerate(questions, start=1):
        started = time.perf_counter()
        answer = assistant.ask(gold.question, today=gold.question_date or "undated")
        latency_ms = (time.perf_counter() - started) * 1000
        rows.append(score_answer(gold, answer, articles, latency_ms))
        if i % 50 == 0 or i == len(questions):
            log(f"{name}: {i}/{len(questions)} questions")
    return SystemRun(name, settings, tuple(rows))


def default_index_dir(out: Path) -> Path:
    return out / "index"


def run_eval(config: EvalConfig, log: Callable[[str], None] | None = None) -> EvalResult:
    """Build (or reuse) the index, then answer and score every gold question with every system."""
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    questions = load_gold(config.gold, config.subset, config.limit, config.rename_duplicates)
    articles = load_articles(config.articles)
    index_dir = config.index or default_index_dir(config.out)
    embedder = choose_embedder(config.embedder, index_dir)
    say(f"index {index_dir}: {len(articles)} articles, embedder {embedder.name}")
    cost = build_or_reuse(config.articles, articles, index_dir, embedder, progress=True)
    say(
        f"index {'reused' if cost.reused else 'built'}: {cost.chunks_total} chunks"
        + ("" if cost.reused else f", {cost.seconds:.1f} s, {cost.chunks_per_second:.1f} chunks/s")
    )
    runs = tuple(
        ask_all(name, settings, index_dir, embedder, questions, articles, say) for name, settings in systems(config.k)
    )
    missing = {a for q in questions for a in q.relevant} - set(articles)
    return EvalResult(config, index_dir, embedder.name, cost, tuple(questions), runs, len(articles), len(missing))

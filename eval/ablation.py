"""Attribute each answer-quality gain: gold set + index -> one row of metrics per cumulative change.

Each row is the real assistant with one more part switched on, on the same index and
questions: dense retrieval alone with whole-sentence answers, then + BM25 fusion
(hybrid), + the date prior, + folding of syndicated copies, + short-answer extraction,
+ the named-entity check of its names, + re-embedded sentences, + the check of the best
sentences for a name of the kind asked, + the weight of the question's sentence that asks,
+ the abstention threshold chosen on the dev sets (the rules, complete), + the checks that
need no model (as shipped); then the same with the trained reader (qa/reader) in place of
the rules, which is not shipped. Writes ``ablation.md`` and
``ablation.json`` (figures only: no question or article text).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from eval.corpus import build_or_reuse, choose_embedder, load_articles
from eval.gold import load_gold
from eval.run import MIN_PASSAGES, ask_all
from eval.score import summarize
from qa import QASettings

COLUMNS = [
    ("recall@5", "recall@5"),
    ("mrr", "MRR"),
    ("answer_accuracy", "answer acc."),
    ("short_answer_accuracy", "≤ 12 words"),
    ("token_f1", "token F1"),
    ("answer_in_quote", "answer in quote"),
    ("quote_exactness", "quote exactness"),
    ("citation_precision", "citation precision"),
    ("null_abstention", "null abstention"),
    ("false_abstention", "false abstention"),
    ("crag_score", "CRAG"),
    ("latency_p95_ms", "p95 ms"),
]


def steps() -> list[tuple[str, QASettings]]:
    """The cumulative settings, from the plainest pipeline to the shipped default."""
    final = replace(QASettings(), passages=MIN_PASSAGES)
    first = replace(
        final,
        retrieval="dense",
        date_weight=0.0,
        dedup=False,
        short_answers=False,
        rescore=0,
        entity_checked=0,
        asked_share=0.0,
        abstain_below=0.35,
        reader="rules",
        checks=False,
    )
    hybrid = replace(first, retrieval="hybrid")
    dates = replace(hybrid, date_weight=final.date_weight)
    dedup = replace(dates, dedup=True)
    extraction = replace(dedup, short_answers=True, entities=False)
    entities = replace(extraction, entities=True)
    rescore = replace(entities, rescore=final.rescore)
    typed = replace(rescore, entity_checked=final.entity_checked)
    asked = replace(typed, asked_share=final.asked_share)
    rules = replace(asked, abstain_below=final.abstain_below)
    checks = replace(rules, checks=True)
    return [
        ("dense only, sentence answers", first),
        ("+ hybrid (BM25 fused)", hybrid),
        ("+ dates", dates),
        ("+ dedup (syndicated copies)", dedup),
        ("+ short-answer extraction (rules)", extraction),
        ("+ named entities (spaCy) check the names", entities),
        (f"+ best {final.rescore} sentences embedded alone", rescore),
        (f"+ best {final.entity_checked} sentences checked for a name of the kind asked", typed),
        (f"+ the sentence that asks: {final.asked_share} of the keyword score", asked),
        (f"+ abstention at {final.abstain_below} (the rules, complete)", rules),
        ("+ declines when no article names what is asked or dates from its time (shipped)", checks),
        ("the same with the trained reader instead of the rules (not shipped)", replace(checks, reader="trained")),
    ]


def run_ablation(
    articles_path: Path, gold_path: Path, index_dir: Path, out: Path, subset: str | None = None
) -> dict[str, Any]:
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    questions = load_gold(gold_path, subset, None)
    articles = load_articles(articles_path)
    embedder = choose_embedder(None, index_dir)
    build_or_reuse(articles_path, articles, index_dir, embedder, progress=True)
    rows = []
    for name, settings in steps():
        run = ask_all(name, settings, index_dir, embedder, questions, articles, say)
        figures = summarize(run.rows)
        rows.append({"step": name, **{key: figures.get(key) for key, _ in COLUMNS}})
    result = {"gold": gold_path.name, "subset": subset, "questions": len(questions), "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "ablation.md").write_text(render(result), encoding="utf-8")
    return result


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if isinstance(value, float) and value > 10 else f"{value:.3f}"


def render(result: dict[str, Any]) -> str:
    subset = f", subset {result['subset']}" if result["subset"] else ""
    lines = [
        f"# Ablation: {result['gold']}{subset} ({result['questions']} questions)",
        "",
        "Each row adds one part to the row above; the last row is the shipped default.",
        "",
        "| step | " + " | ".join(label for _, label in COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    for row in result["rows"]:
        lines.append(f"| {row['step']} | " + " | ".join(_cell(row[key]) for key, _ in COLUMNS) + " |")
    return "\n".join(lines) + "\n"

"""Choose the abstention threshold on gold sets: questions -> one sweep table + the chosen threshold.

Every question is asked once with the threshold off; the threshold is then applied to the
recorded ``Answer.confidence``: below it the answer would have been an abstention. The
choice is the threshold with the best mean CRAG-style score over the gold sets whose
false-abstention rate stays at or under ``max_false_abstention`` on every set (maximising
CRAG alone abstains on most answerable questions while accuracy is low).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.corpus import build_or_reuse, choose_embedder, load_articles
from eval.gold import load_gold
from eval.metrics import contains_answer
from qa import QASettings, load_assistant


@dataclass(frozen=True)
class Recorded:
    """One question's answer with abstention off: its confidence and whether it is right."""

    answerable: bool
    confidence: float
    forced: bool  # abstained for another reason (no number or date found): abstains at any threshold
    correct: bool


@dataclass(frozen=True)
class GoldSet:
    name: str
    articles: Path
    gold: Path
    index: Path
    subset: str | None = None


def record(gold_set: GoldSet) -> list[Recorded]:
    """Ask every question of ``gold_set`` once, threshold off."""
    articles = load_articles(gold_set.articles)
    embedder = choose_embedder(None, gold_set.index)
    build_or_reuse(gold_set.articles, articles, gold_set.index, embedder, progress=True)
    assistant = load_assistant(gold_set.index, replace(QASettings(), abstain_below=-1.0), embedder)
    rows = []
    for gold in load_gold(gold_set.gold, gold_set.subset):
        answer = assistant.ask(gold.question, today=gold.question_date or "undated")
        said = [answer.answer, *(c.quote.text for c in answer.quotes)]
        rows.append(
            Recorded(
                gold.answerable,
                answer.confidence,
                answer.abstained,
                not answer.abstained and any(contains_answer(text, gold.answers) for text in said),
            )
        )
    return rows


def at_threshold(rows: list[Recorded], threshold: float) -> dict[str, float | None]:
    """Null abstention, false abstention and mean CRAG score if ``threshold`` were used."""
    crag, null, false = [], [], []
    for row in rows:
        abstains = row.forced or row.confidence < threshold
        if row.answerable:
            false.append(abstains)
            crag.append(0 if abstains else (1 if row.correct else -1))
        else:
            null.append(abstains)
            crag.append(1 if abstains else -1)
    return {
        "null_abstention": float(np.mean(null)) if null else None,
        "false_abstention": float(np.mean(false)) if false else None,
        "crag": float(np.mean(crag)),
    }


def sweep(
    recorded: dict[str, list[Recorded]],
    max_false_abstention: float = 0.10,
    grid: tuple[float, float, float] = (0.2, 0.9, 0.01),
) -> dict[str, Any]:
    """Every threshold of ``grid`` on every set, and the chosen one (None when none qualifies)."""
    table: list[dict[str, Any]] = []
    for threshold in np.arange(*grid):
        per_set = {name: at_threshold(rows, float(threshold)) for name, rows in recorded.items()}
        mean_crag = float(np.mean([figures["crag"] for figures in per_set.values()]))
        allowed = all((f["false_abstention"] or 0.0) <= max_false_abstention for f in per_set.values())
        table.append(
            {"threshold": round(float(threshold), 3), "mean_crag": mean_crag, "allowed": allowed, "sets": per_set}
        )
    allowed_rows = [row for row in table if row["allowed"]]
    chosen = max(allowed_rows, key=lambda row: row["mean_crag"]) if allowed_rows else None
    unconstrained = max(table, key=lambda row: row["mean_crag"])
    return {
        "max_false_abstention": max_false_abstention,
        "chosen": chosen,
        "unconstrained": unconstrained,
        "table": table,
    }


def render(result: dict[str, Any]) -> str:
    names = list(result["table"][0]["sets"]) if result["table"] else []
    header = ["threshold", "mean CRAG", *(f"{n}: null abst. / false abst. / CRAG" for n in names)]
    lines = [
        "# Abstention threshold sweep",
        "",
        f"Chosen: **{result['chosen']['threshold'] if result['chosen'] else 'none'}** — the best mean CRAG with "
        f"false abstention ≤ {result['max_false_abstention']} on every set. Unconstrained best: "
        f"{result['unconstrained']['threshold']} (mean CRAG {result['unconstrained']['mean_crag']:.3f}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    for row in result["table"][::5]:
        sets = [
            f"{cell(f['null_abstention'])} / {cell(f['false_abstention'])} / {cell(f['crag'])}"
            for f in row["sets"].values()
        ]
        lines.append(f"| {row['threshold']:.2f} | {row['mean_crag']:.3f} | " + " | ".join(sets) + " |")
    return "\n".join(lines) + "\n"


def calibrate(sets: list[GoldSet], out: Path, max_false_abstention: float = 0.10) -> dict[str, Any]:
    result = sweep({s.name: record(s) for s in sets}, max_false_abstention)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "calibration.md").write_text(render(result), encoding="utf-8")
    return result

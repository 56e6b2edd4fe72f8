"""Write an evaluation's report: EvalResult -> report.json, report.md, rows.jsonl and PNG plots in a folder.

``report.json`` and ``report.md`` hold figures, settings and versions only (no question
or article text), so they can be committed; ``rows.jsonl`` holds the questions' answers
and quotes for error analysis and stays in the output folder.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from eval.run import EvalResult
from eval.score import RECALL_KS, summarize, summarize_by_type
from index.store.generations import read_manifest

PACKAGES = ("newsqa", "sentence-transformers", "transformers", "torch", "faiss-cpu", "bm25s", "numpy", "matplotlib")
REPO = Path(__file__).resolve().parents[1]


def _sha256(path: Path) -> str:
    if path.is_dir():
        return ""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git() -> dict[str, Any]:
    """The commit the code was at, and whether the working tree differed from it (read-only git calls)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def build_report(result: EvalResult) -> dict[str, Any]:
    """The content of report.json: figures, settings, versions; no dataset text."""
    c = result.config
    _, manifest = read_manifest(result.index_dir)
    k = c.k
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": {
            "articles": str(c.articles),
            "gold": str(c.gold),
            "index": str(result.index_dir),
            "k": k,
            "subset": c.subset,
            "limit": c.limit,
            "embedder": result.embedder,
        },
        "data": {
            "articles": result.articles_total,
            "articles_sha256": _sha256(c.articles),
            "questions": len(result.questions),
            "gold_sha256": _sha256(c.gold),
            "relevant_ids_missing_from_articles": result.gold_ids_missing,
        },
        "index": {
            "embedder": manifest["embedder"],
            "settings": manifest["settings"],
            "counts": manifest["counts"],
            "build": {
                "reused": result.cost.reused,
                "seconds": round(result.cost.seconds, 2),
                "embed_seconds": round(result.cost.embed_seconds, 2),
                "chunks_embedded": result.cost.chunks_embedded,
                "chunks_per_second": round(result.cost.chunks_per_second, 2),
            },
        },
        "systems": {
            run.name: {
                "settings": run.settings.to_dict(),
                "overall": summarize(run.rows, k),
                "by_type": summarize_by_type(run.rows, k),
            }
            for run in result.systems
        },
        "environment": {**_versions(), "git": _git()},
    }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


HEADLINE = (
    ("recall@1", "recall@1"),
    ("recall@5", "recall@5"),
    ("recall@10", "recall@10"),
    ("MRR", "mrr"),
    ("relevant article published by the question date (ceiling)", "relevant_published_by_question_date"),
    ("answer accuracy (containment)", "answer_accuracy"),
    ("... with at most 12 words", "short_answer_accuracy"),
    ("exact match", "exact_match"),
    ("token F1", "token_f1"),
    ("answer in quote", "answer_in_quote"),
    ("answer in a relevant article (ceiling)", "answer_in_article"),
    ("correct (answer or quote)", "correct"),
    ("accuracy when answered", "accuracy_when_answered"),
    ("quote exactness", "quote_exactness"),
    ("citation precision", "citation_precision"),
    ("null abstention", "null_abstention"),
    ("false abstention", "false_abstention"),
    ("CRAG score", "crag_score"),
    ("multiple-choice accuracy", "mc_accuracy"),
    ("latency p50 (ms)", "latency_p50_ms"),
    ("latency p95 (ms)", "latency_p95_ms"),
)
BY_TYPE = (
    ("n", "questions"),
    ("recall@5", "recall@5"),
    ("MRR", "mrr"),
    ("accuracy", "answer_accuracy"),
    ("F1", "token_f1"),
    ("in quote", "answer_in_quote"),
    ("cit. prec.", "citation_precision"),
    ("null abst.", "null_abstention"),
    ("false abst.", "false_abstention"),
    ("CRAG", "crag_score"),
    ("MC acc.", "mc_accuracy"),
)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render_markdown(report: dict[str, Any], title: str) -> str:
    """report.md: the headline table (systems side by side), figures by type, cost, plots."""
    systems: dict[str, Any] = report["systems"]
    names = list(systems)
    main = names[0]
    k = report["command"]["k"]
    headline = list(HEADLINE)
    if k not in (1, 5, 10):
        headline.insert(3, (f"recall@{k}", f"recall@{k}"))
    data, build = report["data"], report["index"]["build"]
    lines = [
        f"# Evaluation: {title}",
        "",
        f"{data['questions']} questions ({systems[main]['overall']['answerable']} answerable, "
        f"{systems[main]['overall']['null']} unanswerable) over {data['articles']} articles; "
        f"subset: {report['command']['subset'] or 'all'}; embedder `{report['command']['embedder']}`; "
        f"commit `{(report['environment']['git']['commit'] or 'unknown')[:12]}`"
        + (" (with uncommitted changes)" if report["environment"]["git"]["dirty"] else "")
        + ".",
        "Metric definitions: `eval/README.md`. Answer figures are over answerable questions (an abstention",
        "counts as wrong); the multiple-choice figure is over questions that have choices.",
        "",
        "## Headline",
        "",
        *_table(
            ["metric", *names],
            [
                [label, *(_fmt(systems[n]["overall"][key], 0 if key.endswith("_ms") else 3) for n in names)]
                for label, key in headline
            ],
        ),
        "",
        f"## By question type ({main})",
        "",
    ]
    by_type = systems[main]["by_type"]
    lines += _table(
        ["type", *(label for label, _ in BY_TYPE)],
        [[t, *(_fmt(figures[key]) for _, key in BY_TYPE)] for t, figures in by_type.items()],
    )
    if data["relevant_ids_missing_from_articles"]:
        lines += [
            "",
            f"Note: {data['relevant_ids_missing_from_articles']} relevant article ids of the gold set "
            "are not in the articles file.",
        ]
    cost_rows = [
        ["index", "reused (figures from the run that built it)" if build["reused"] else "built in this run"],
        ["chunks", str(report["index"]["counts"].get("chunks"))],
        ["build seconds", _fmt(build["seconds"], 1)],
        ["embedding seconds", _fmt(build["embed_seconds"], 1)],
        ["chunks embedded", str(build["chunks_embedded"])],
        ["chunks / s", _fmt(build["chunks_per_second"], 1)],
    ]
    lines += ["", "## Cost", "", *_table(["", "value"], cost_rows)]
    lines += [
        "",
        "## Plots",
        "",
        "![recall@k](recall_at_k.png)",
        "![latency](latency.png)",
        "![accuracy by type](accuracy_by_type.png)",
        "",
    ]
    return "\n".join(lines)


def plot(report: dict[str, Any], latencies: dict[str, list[float]], out: Path) -> list[Path]:
    """recall_at_k.png, latency.png and accuracy_by_type.png (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems: dict[str, Any] = report["systems"]
    written = []

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, figures in systems.items():
        curve = figures["overall"]["recall_curve"]
        if any(v is not None for v in curve):
            ax.plot(RECALL_KS, [v if v is not None else float("nan") for v in curve], marker="o", label=name)
    ax.set(xlabel="k (articles)", ylabel="recall@k", ylim=(0, 1.02), xticks=RECALL_KS, title="Retrieval: recall@k")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    written.append(out / "recall_at_k.png")
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in latencies.items():
        ax.hist(values, bins=30, histtype="step", linewidth=1.5, label=name)
    ax.set(xlabel="latency per question (ms)", ylabel="questions", title="Latency")
    ax.legend()
    fig.tight_layout()
    written.append(out / "latency.png")
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)

    main = next(iter(systems))
    by_type = systems[main]["by_type"]
    bars = (
        ("answer accuracy", "answer_accuracy"),
        ("answer in quote", "answer_in_quote"),
        ("null abstention", "null_abstention"),
        ("false abstention", "false_abstention"),
        ("multiple choice", "mc_accuracy"),
    )
    types = list(by_type)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(types)), 4))
    width = 0.8 / len(bars)
    for j, (label, key) in enumerate(bars):
        values = [by_type[t][key] if by_type[t][key] is not None else 0.0 for t in types]
        ax.bar([i + j * width for i in range(len(types))], values, width, label=label)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(types))], types, rotation=15)
    ax.set(ylim=(0, 1.02), ylabel="share of questions", title=f"By question type ({main})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(out / "accuracy_by_type.png")
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)
    return written


def write_report(result: EvalResult, title: str | None = None) -> dict[str, Any]:
    """Write every report file into ``result.config.out``; return report.json's content."""
    out = result.config.out
    out.mkdir(parents=True, exist_ok=True)
    report = build_report(result)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(
        render_markdown(report, title or f"{result.config.gold.parent.name}/{result.config.gold.name}"),
        encoding="utf-8",
    )
    with (out / "rows.jsonl").open("w", encoding="utf-8") as handle:
        for i, gold in enumerate(result.questions):
            main, *baselines = result.systems
            row = {"question": gold.question, "answers": list(gold.answers), **main.rows[i].to_row()}
            row["system"] = main.name
            row["baselines"] = {
                b.name: {
                    key: b.rows[i].to_row()[key]
                    for key in (
                        "ranking",
                        "abstained",
                        "answer",
                        "contained",
                        "answer_in_quote",
                        "correct",
                        "mc_choice",
                        "mc_correct",
                    )
                }
                for b in baselines
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    plot(report, {run.name: [r.latency_ms for r in run.rows] for run in result.systems}, out)
    return report

"""Figures of an index at one scale for ``eval.bench``: bytes on disk per chunk, recall@10 of the
approximate store against exact search, and the plot of latency and memory against index size."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.store.generations import read_manifest

_BLOCK = 65_536  # rows scored at a time in the exact search
ADDED = 1000  # articles added to a large point after its queries


@dataclass(frozen=True)
class Row:
    """One benchmark figure, with the baseline's figure for the same quantity when there is one."""

    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def run_step(args: list[str]) -> dict[str, Any]:
    """``python -m eval.bench_large ARGS`` in a process of its own: the figures it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", "eval.bench_large", *args], check=True, stdout=subprocess.PIPE, text=True
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def query_rows(figures: dict[str, Any], label: str, index_dir: Path) -> list[Row]:
    """The rows of one ``bench_large query`` run (a fresh process over the index at ``index_dir``)."""
    name = f"{label} ({figures['chunks']} chunks, {figures['kind']})"
    recall = (
        [Row("query", f"{name}: recall@10 vs exact search", figures["recall_at_10"], "")]
        if "recall_at_10" in figures
        else []
    )
    return [
        Row(
            "query", f"{name}: index bytes per chunk on disk", bytes_per_chunk(index_dir, figures["chunks"]), "B", 1536
        ),
        *recall,
        Row("query", f"{name}: retrieval p50", figures["retrieval_ms"][0], "ms"),
        Row("query", f"{name}: retrieval p95", figures["retrieval_ms"][1], "ms"),
        Row("query", f"{name}: full answer p50", figures["answer_ms"][0], "ms"),
        Row("query", f"{name}: full answer p95", figures["answer_ms"][1], "ms"),
        Row("query", f"{name}: full answers declined (asked undated)", figures.get("answers_declined", -1), ""),
        Row("query", f"{name}: peak RSS of the query process", figures["peak_rss_mb"], "MB"),
    ]


def large_point(
    source: Path, index_dir: Path, n: int, parts: int, questions: Path
) -> tuple[list[Row], tuple[int, float, float, float]]:
    """Build ``n`` articles in ``parts`` (each ``add_articles``), query them in a fresh process, then add
    ``ADDED`` articles: the rows, and the plot's point. A build already done (its figures in
    ``INDEX.build.json`` beside the index, the index still at ``n`` articles) is measured, not built again."""
    saved = index_dir.with_name(index_dir.name + ".build.json")
    reuse = saved.is_file() and saved.stat().st_size and (index_dir / "CURRENT").is_file()
    if reuse:
        built = json.loads(saved.read_text().strip().splitlines()[-1])
        held = read_manifest(index_dir)[1]["counts"]["articles"]
        if held != n:  # an add after the build (this function's own, last time): not the point it measured
            raise SystemExit(f"{index_dir}: holds {held} articles, not {n}; delete it and {saved.name}")
    else:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        built = run_step(["build", "--source-index", str(source), "--index", str(index_dir), "--articles", str(n)])
        saved.write_text(json.dumps(built) + "\n")
    figures = run_step(["query", "--index", str(index_dir), "--questions", str(questions)])
    label = f"{n} articles"
    rows = [
        Row("scale", f"{label}: write in {parts} parts through add_articles (no embedding)", built["seconds"], "s"),
        Row("scale", f"{label}: peak RSS of the build process", built["build_peak_rss_mb"], "MB"),
        *query_rows(figures, label, index_dir),
        Row("query", f"{label}: index load (checksums, tables) in the query process", figures["load_seconds"], "s"),
        Row("query", f"{label}: BM25 index, memory after load (anonymous RSS)", figures["keyword_anon_mb"], "MB"),
        Row("query", f"{label}: BM25 index on disk", figures["keyword_disk_mb"], "MB"),
    ]
    added = run_step(["add", "--source-index", str(source), "--index", str(index_dir), "--articles", str(ADDED)])
    rows += [
        Row("add", f"{label} + {ADDED}: add_articles (no embedding)", added["seconds"], "s"),
        Row("add", f"{label} + {ADDED}: k-means trained again (1 yes, 0 no)", float(added["kmeans_trained_again"]), ""),
        Row("add", f"{label} + {ADDED}: peak RSS of the add process", added["peak_rss_mb"], "MB"),
    ]
    (index_dir.parent / f"large-{n}.figures.json").write_text(
        json.dumps({"build": built, "query": figures, "add": added})
    )
    return rows, (n, *figures["answer_ms"], figures["peak_rss_mb"])


def bytes_per_chunk(index_dir: Path, chunks: int) -> float:
    """Bytes on disk of the live generation (every file, article text included) per chunk."""
    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    return sum(p.stat().st_size for p in live.rglob("*") if p.is_file()) / max(chunks, 1)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def exact_top(store: Any, queries: np.ndarray, k: int) -> list[set[int]]:
    """For each query, the ``k`` rows of ``store`` with the highest inner product, every row decoded
    once, a block at a time, for all the queries together."""
    queries = np.atleast_2d(queries)
    best: list[list[tuple[float, int]]] = [[] for _ in queries]
    for start in range(0, len(store), _BLOCK):
        scores = store.vectors(np.arange(start, min(start + _BLOCK, len(store)))) @ queries.T
        for j, column in enumerate(scores.T):
            top = np.argpartition(-column, min(k, len(column)) - 1)[:k]
            best[j] = sorted([*best[j], *((float(column[i]), start + int(i)) for i in top)], reverse=True)[:k]
    return [{row for _, row in b} for b in best]


def approx_recall(store: Any, queries: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top ``k`` that the store's own (approximate) search returns."""
    truth = exact_top(store, queries, k) if len(queries) else []
    found = [len(set(store.search(q, k)[0].tolist()) & t) / k for q, t in zip(queries, truth, strict=True)]
    return float(np.mean(found)) if found else 1.0


def keep_sections(path: Path) -> str:
    """The ``## `` sections of an existing BENCHMARKS.md that other benchmarks write (kept on regeneration)."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    at = text.find("\n## ")
    return text[at:] if at >= 0 else ""


def plot(points: Sequence[tuple[int, float, float, float]], path: Path) -> None:
    """Latency (full answer p50, p95) and peak memory against articles: one (articles, p50, p95, MB) per scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    sizes = [p[0] for p in points]
    left.plot(sizes, [p[1] for p in points], "o-", label="full answer p50")
    left.plot(sizes, [p[2] for p in points], "o-", label="full answer p95")
    left.set_ylabel("milliseconds")
    right.plot(sizes, [p[3] for p in points], "o-", color="C2", label="peak RSS")
    right.set_ylabel("MB")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("articles")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

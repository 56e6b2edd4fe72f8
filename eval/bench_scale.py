"""Figures of an index at one scale for ``eval.bench``: bytes on disk per chunk, recall@10 of the
approximate store against exact search, and the plot of latency and memory against index size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

_BLOCK = 65_536  # rows scored at a time in the exact search


def bytes_per_chunk(index_dir: Path, chunks: int) -> float:
    """Bytes on disk of the live generation (every file, article text included) per chunk."""
    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    return sum(p.stat().st_size for p in live.rglob("*") if p.is_file()) / max(chunks, 1)


def exact_top(store: Any, query: np.ndarray, k: int) -> set[int]:
    """The ``k`` rows of ``store`` with the highest inner product with ``query``, scored block by block."""
    best: list[tuple[float, int]] = []
    for start in range(0, len(store), _BLOCK):
        scores = store.vectors(np.arange(start, min(start + _BLOCK, len(store)))) @ query
        top = np.argsort(-scores)[:k]
        best = sorted([*best, *((float(scores[i]), start + int(i)) for i in top)], reverse=True)[:k]
    return {row for _, row in best}


def approx_recall(store: Any, queries: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top ``k`` that the store's own (approximate) search returns."""
    found = [len(set(store.search(q, k)[0].tolist()) & exact_top(store, q, k)) / k for q in queries]
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

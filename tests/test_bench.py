"""A fast smoke run of the benchmark code on tiny data with the hashing embedder (no timings asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from eval.bench import main
from index.records import Article


def test_bench_runs_end_to_end_on_tiny_data(tmp_path: Path, articles: list[Article]) -> None:
    data = tmp_path / "articles.jsonl"
    rows = [json.dumps({"title": a.title, "text": a.text, "source": a.source}) for a in articles]
    data.write_text("".join(r + "\n" for r in rows))
    out = tmp_path / "docs"
    code = main(
        [
            "--articles",
            str(data),
            "--embedder",
            "hashing-64",
            "--build-articles",
            "2",
            "--scales",
            "4,9",
            "--synthetic",
            "3000",
            "--large",
            "14",
            "--large-parts",
            "2",
            "--queries",
            "3",
            "--cold-runs",
            "0",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = (out / "BENCHMARKS.md").read_text()
    assert "recall@10" in report and "9 articles" in report and "chunks/s" in report
    assert "14 articles: write in 2 parts" in report and "k-means trained again" in report
    assert (out / "benchmarks.png").stat().st_size > 0


def test_bench_says_when_the_articles_are_missing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--articles", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path)]) == 2
    assert "no articles file" in capsys.readouterr().err

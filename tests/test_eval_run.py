"""``python -m eval run`` end to end on the seed gold set (hashing embedder), and the seed set itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.cli import main
from eval.gold import load_gold
from eval.run import EvalConfig, run_eval
from eval.score import summarize
from eval.seed import SEED_ARTICLE, SEED_GOLD, render_seed_gold, seed_article_id

PLOTS = ("recall_at_k.png", "latency.png", "accuracy_by_type.png")


def _run(out: Path, *extra: str) -> int:
    return main(
        [
            "run",
            "--articles",
            str(SEED_ARTICLE),
            "--gold",
            str(SEED_GOLD),
            "--out",
            str(out),
            "--embedder",
            "hashing",
            *extra,
        ]
    )


def test_seed_gold_file_is_current_and_well_formed() -> None:
    assert SEED_GOLD.read_text(encoding="utf-8") == render_seed_gold(), "stale: run python -m eval seed-gold"
    questions = load_gold(SEED_GOLD)
    assert len(questions) >= 12
    assert sum(not q.answerable for q in questions) >= 4
    assert {a for q in questions for a in q.article_ids} == {seed_article_id()}


def test_end_to_end_on_the_seed_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _run(out) == 0
    assert "quote exactness 1.000" in capsys.readouterr().out
    for name in ("report.md", "report.json", "rows.jsonl", *PLOTS):
        assert (out / name).stat().st_size > 0, name
    assert (out / "recall_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert list(report["systems"]) == [
        "assistant (hybrid, rules reader)",
        "trained reader (qa/reader)",
        "keyword only (BM25)",
        "dense only",
    ]
    for figures in report["systems"].values():
        assert figures["overall"]["questions"] == 15
        assert figures["overall"]["quotes"] > 0
        assert figures["overall"]["quote_exactness"] == 1.0
        assert figures["by_type"]["null"]["null"] == 5
    assert report["index"]["build"]["reused"] is False and report["index"]["build"]["chunks_embedded"] > 0
    assert report["environment"]["numpy"]
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["question_id"] for r in rows] == [q.id for q in load_gold(SEED_GOLD)]
    assert set(rows[0]["baselines"]) == {"trained reader (qa/reader)", "keyword only (BM25)", "dense only"}
    # the committed reports carry figures only, never the questions' text
    committed = (out / "report.md").read_text(encoding="utf-8") + (out / "report.json").read_text(encoding="utf-8")
    assert not [q.question for q in load_gold(SEED_GOLD) if q.question in committed]


def test_an_index_is_reused_and_must_hold_the_same_articles(tmp_path: Path, articles: list) -> None:
    index = tmp_path / "index"
    first = run_eval(EvalConfig(SEED_ARTICLE, SEED_GOLD, tmp_path / "a", index, limit=2, embedder="hashing"), log=print)
    again = run_eval(EvalConfig(SEED_ARTICLE, SEED_GOLD, tmp_path / "b", index, limit=2, embedder="hashing"), log=print)
    assert not first.cost.reused and again.cost.reused
    assert again.cost.chunks_embedded == first.cost.chunks_embedded  # the cost of the build that made it
    assert [r.ranking for r in first.systems[0].rows] == [r.ranking for r in again.systems[0].rows]
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "x1", "title": "t", "text": "Some other news story."}) + "\n", encoding="utf-8")
    assert (
        main(
            [
                "run",
                "--articles",
                str(other),
                "--gold",
                str(SEED_GOLD),
                "--out",
                str(tmp_path / "c"),
                "--index",
                str(index),
            ]
        )
        == 2
    )


def test_missing_files_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "articles.jsonl"
    code = main(["run", "--articles", str(missing), "--gold", str(SEED_GOLD), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "not found" in err
    code = main(
        ["run", "--articles", str(SEED_ARTICLE), "--gold", str(tmp_path / "qa.jsonl"), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and "qa.jsonl: not found" in capsys.readouterr().err


def test_subset_and_limit(tmp_path: Path) -> None:
    gold = tmp_path / "qa.jsonl"
    rows = [json.loads(line) for line in SEED_GOLD.read_text(encoding="utf-8").splitlines()]
    for i, row in enumerate(rows):
        row["meta"]["text_based"] = i % 2 == 0
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert [q.id for q in load_gold(gold, subset="text_based")] == [r["id"] for r in rows[::2]]
    assert len(load_gold(gold, subset="text_based", limit=3)) == 3


@pytest.mark.slow
def test_seed_set_with_the_real_embedder(tmp_path: Path) -> None:
    """Issue 5's bar: every answerable seed question answered with the answer in a quote; every null one abstains."""
    result = run_eval(EvalConfig(SEED_ARTICLE, SEED_GOLD, tmp_path / "out"), log=print)
    rows = result.systems[0].rows
    assert summarize(rows)["quote_exactness"] == 1.0
    failures = [r.question_id for r in rows if (r.answer_in_quote if r.answerable else r.abstained) is False]
    assert failures == []

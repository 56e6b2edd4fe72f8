"""``python -m eval.after_corpus``: questions asked with only the articles from before their news."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.after_corpus import main, outcomes, summary
from eval.gold import load_gold
from qa import QASettings

from .conftest import tiny_articles

QUESTIONS = [  # written for this test about the tiny corpus of tests/conftest.py (drought: 2026-03-05)
    ("q1", "What did the agriculture minister call for this week?", "emergency loans", 1),
    ("q2", "What did the agriculture minister recently call for?", "emergency loans", 1),
    ("q3", "How long had the painting been missing?", "eleven years", 3),  # the museum article: 2025-11-14
]


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    ids = [a.id for a in tiny_articles()]
    rows = [
        {"id": i, "question": q, "answers": [a], "article_ids": [ids[n]], "type": "factoid"}
        | {"meta": {"question_date": "2026-03-08"}}
        for i, q, a, n in QUESTIONS
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_news_out_of_reach_is_declined_and_older_news_still_answers(tiny_index: Path, gold: Path) -> None:
    rows = {r.id: r for r in outcomes(tiny_index, load_gold(gold), 30, QASettings())}
    # cut at 2026-02-06: the drought article is out of reach; "this week" and "recently" are declined
    assert rows["q1"].timed and rows["q1"].declined and not rows["q1"].declined_on_whole
    assert not rows["q2"].timed and rows["q2"].declined and not rows["q2"].declined_on_whole
    # the museum's article came months before: the answer is still there, and counts as held
    assert rows["q3"].holds_gold and not rows["q3"].wrong
    whole = {r.id: r for r in outcomes(tiny_index, load_gold(gold), 0, QASettings())}  # nothing cut
    assert not any(r.declined for r in whole.values())
    assert whole["q1"].holds_gold and whole["q2"].holds_gold
    figures = summary(list(rows.values()))
    assert figures["all"] == {
        "questions": 3,
        "declined": round(2 / 3, 3),
        "answered, holding the gold answer": round(1 / 3, 3),
        "answered with something else": 0.0,
        "declined on the whole corpus": 0.0,
    }
    assert figures["naming a time"]["questions"] == 1


def test_the_command_writes_its_figures_and_says_what_is_missing(
    tiny_index: Path, gold: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "after.json"
    assert main(["--articles", str(gold), "--gold", str(gold), "--index", str(tiny_index), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["all"]["questions"] == 3
    assert main(["--articles", str(tmp_path / "none.jsonl"), "--gold", str(gold), "--index", str(tiny_index)]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["--articles", str(gold), "--gold", str(gold), "--index", str(tmp_path / "nothing")]) == 2
    assert "no index there" in capsys.readouterr().err

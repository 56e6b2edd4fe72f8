"""The training side of the reader (train/): collecting examples, fitting, writing and loading the model.

Runs on the tiny corpus of tests/conftest.py with the hashing embedder, in seconds, so that
the training code cannot rot unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.embed import HashingEmbedder
from qa.assistant import Assistant
from qa.reader.model import CHECKSUMS, WEIGHTS, Reader, ReaderModelError
from qa.settings import QASettings
from train.collect import Example, Quiz, collect, read_examples
from train.fit import fit_reader, span_label
from train.metrics import auc, threshold_for

# (question, answer, words of the title of the article that holds it): our own writing, about tests/conftest.py
ASKED = [
    ("Who opened the ferry line to Gull Island?", "Dana Whitfield", "ferry"),
    ("How much does a ferry ticket to Gull Island cost?", "$12", "ferry"),
    ("Who called for emergency loans for the wheat farmers?", "Tomas Brandt", "Drought"),
    ("How many miles of bike lanes will Millbrook build?", "twelve miles", "bike"),
    ("In which city did detectives find the stolen landscape painting?", "Lyon", "painting"),
    ("When does construction of the Millbrook bike lanes start?", "April", "bike"),
]


@pytest.fixture
def examples(tiny_index: Path, embedder: HashingEmbedder) -> list[Example]:
    assistant = Assistant(tiny_index, embedder, QASettings(entities=False))
    ids = {
        word: a.id
        for a in assistant.data.articles.values()
        for word in ("ferry", "Drought", "bike", "painting")
        if word in a.title
    }
    questions = [Quiz(f"q{i}", q, (a,), None, frozenset({ids[word]})) for i, (q, a, word) in enumerate(ASKED)]
    return list(collect(assistant, "tiny", questions, ("gold", "filtered")))


def test_collect_reads_every_question_both_ways(examples: list[Example], tmp_path: Path) -> None:
    assert [(e.question.id, e.mode) for e in examples] == [
        (f"q{i}", m) for i in range(len(ASKED)) for m in ("gold", "filtered")
    ]
    for e in examples:
        assert e.sentences, e.question.question
        assert [s.order for s in e.sentences] == list(range(len(e.sentences)))
        if e.mode == "filtered":  # the answering article is gone
            assert all(s.article_id not in e.question.answer_articles for s in e.sentences)
        assert e.rules is not None
    path = tmp_path / "examples.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in examples), encoding="utf-8")
    assert read_examples(path) == examples


def test_fitting_with_an_embedder_gives_the_span_model_its_type_features(
    examples: list[Example], embedder: HashingEmbedder
) -> None:
    """ "In which city ...": with the query embedder the type columns carry values; without it they
    are constant 0 (standardised to nothing), so dropping ``embed`` from training would show here."""
    from qa.reader.spans import SPAN_FEATURES

    at = [SPAN_FEATURES.index("type_sim"), SPAN_FEATURES.index("type_gap")]
    typed = fit_reader(examples, max_iter=30, embed=embedder.embed_query).span
    plain = fit_reader(examples, max_iter=30).span
    assert (typed.mean[at] != 0).any() and (typed.scale[at] != 1.0).all()
    assert (plain.mean[at] == 0).all() and (plain.coef[at] == 0).all()


def test_fit_a_few_steps_writes_a_model_that_loads_and_ranks(examples: list[Example], tmp_path: Path) -> None:
    from train.__main__ import write_model

    reader = fit_reader(examples, max_iter=30)
    write_model(reader, tmp_path, [], [], _meta())
    loaded = Reader.load(tmp_path)
    assert loaded.to_dict() == json.loads((tmp_path / WEIGHTS).read_text(encoding="utf-8"))
    assert (tmp_path / "MODEL_CARD.md").read_text(encoding="utf-8").startswith("# The learned reader")
    # in-sample, the fitted sentence model puts an answering sentence first for most questions
    firsts = []
    for e in examples:
        if e.mode != "gold":
            continue
        reading = loaded.read(e.question.question, e.sentences)
        assert reading.probs.shape == (len(e.sentences),)
        assert 0.0 <= reading.answerable <= 1.0
        firsts.append(e.question.answers[0].lower() in e.sentences[reading.order[0]].text.lower())
    assert sum(firsts) >= 4, firsts


def test_an_altered_model_is_refused(examples: list[Example], tmp_path: Path) -> None:
    from train.__main__ import write_model

    write_model(fit_reader(examples, max_iter=5), tmp_path, [], [], _meta())
    weights = tmp_path / WEIGHTS
    weights.write_text(weights.read_text(encoding="utf-8").replace("0", "1", 1), encoding="utf-8")
    with pytest.raises(ReaderModelError, match="sha256"):
        Reader.load(tmp_path)
    (tmp_path / CHECKSUMS).unlink()
    with pytest.raises(ReaderModelError, match="python -m train"):
        Reader.load(tmp_path)


def test_missing_datasets_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from train.__main__ import main

    assert main(["--datasets", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "--datasets" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_span_labels_and_threshold_helpers() -> None:
    assert span_label("Dana Whitfield", ["Dana Whitfield"])
    assert span_label("mayor Dana Whitfield", ["Dana Whitfield"])
    assert not span_label("The mayor of Port Ellis, Dana Whitfield, opened a ferry line", ["Dana Whitfield"])
    assert not span_label("Whitfield", ["Dana Whitfield"])
    assert auc([0.9, 0.8], [0.1, 0.85]) == pytest.approx(0.75)
    scores = list(np.linspace(0.0, 0.9, 10))
    assert threshold_for(scores, 0.10) == pytest.approx(0.1)  # declines only the lowest tenth


def _meta() -> dict[str, object]:
    return {
        "threshold_set": "tiny",
        "train_sets": ["tiny"],
        "test_sets": [],
        "examples": {"tiny": len(ASKED) * 2},
        "collect_seconds": 0,
        "fit_seconds": 0,
        "total_seconds": 0,
        "python": "3.11",
    }


def test_figures_and_their_table(examples: list[Example]) -> None:
    from train.evaluate import table
    from train.metrics import figures, score

    reader = fit_reader(examples, max_iter=30)
    rows = figures("tiny", score(reader, examples), 0.5, 0.53)
    assert rows.questions == len(ASKED)
    assert rows.nulls == sum(1 for e in examples if e.mode == "filtered" and not _holds(e))
    assert 0.0 <= rows.first_reader <= rows.candidates_hold <= 1.0
    text = table([rows])
    assert text.splitlines()[0].startswith("| | tiny (6) reader / rules")
    assert f"| answering sentence first | {rows.first_reader:.3f} / {rows.first_rules:.3f} |" in text


def _holds(e: Example) -> bool:
    return any(e.question.answers[0].lower() in s.text.lower() for s in e.sentences)

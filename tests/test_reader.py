"""The learned reader (qa/reader): features, the shipped weights, and reading hand-written cases."""

from __future__ import annotations

import ast
import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index.records import make_article
from qa.answer import Candidate
from qa.reader.features import ANSWER_FEATURES, SENTENCE_FEATURES, sentence_matrix
from qa.reader.model import CHECKSUMS, MODEL_DIR, WEIGHTS, Reader, ReaderModelError
from qa.reader.question import Asked
from qa.reader.records import SentenceIn, from_candidates
from qa.reader.spans import SPAN_FEATURES, candidates_in, span_matrix

CASES = Path(__file__).parent / "fixtures" / "reader" / "cases.json"


def _cases() -> list[tuple[str, str, str, int, list[SentenceIn]]]:
    found = []
    for case in json.loads(CASES.read_text(encoding="utf-8"))["cases"]:
        sentences = []
        for order, s in enumerate(case["sentences"]):
            entities = []
            for name, label in s["entities"]:
                start = s["text"].index(name)
                entities.append((start, start + len(name), label))
            fields = {k: s[k] for k in ("text", "dense", "keyword", "score", "rank", "headline")}
            sentences.append(SentenceIn(**fields, order=order, entities=tuple(entities)))
        found.append((case["question"], case["answer"], case["rules_short"], case["answering"], sentences))
    return found


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


@pytest.mark.parametrize(("question", "answer", "rules_short", "answering", "sentences"), _cases())
def test_the_shipped_reader_ranks_the_answering_sentence_first_and_cuts_the_answer(
    reader: Reader, question: str, answer: str, rules_short: str, answering: int, sentences: list[SentenceIn]
) -> None:
    """The answering sentence is not the rules' first (``order`` 0 is a headline or a sentence
    echoing the question); the reader moves it up and cuts the answer from it."""
    assert sentences[answering].order > 0
    reading = reader.read(question, sentences, rules_short)
    assert reading.order[0] == answering, reading.probs
    assert reading.probs[answering] > max(np.delete(reading.probs, answering))
    assert reading.best_span is not None and reading.best_span.text == answer
    assert sentences[reading.best_span.sentence].text[reading.best_span.start : reading.best_span.end] == answer
    assert not reading.abstain


def test_the_shipped_reader_finds_fewer_answers_among_the_distractors(reader: Reader) -> None:
    question, _, _, answering, sentences = _cases()[0]
    full = reader.read(question, sentences).answerable
    without = reader.read(question, [s for i, s in enumerate(sentences) if i != answering]).answerable
    assert without < full


def test_the_shipped_weights_fit_the_features_and_their_checksum() -> None:
    row = json.loads((MODEL_DIR / WEIGHTS).read_text(encoding="utf-8"))
    assert tuple(row["sentence"]["features"]) == SENTENCE_FEATURES
    assert tuple(row["span"]["features"]) == SPAN_FEATURES
    assert tuple(row["answer"]["features"]) == ANSWER_FEATURES
    assert (MODEL_DIR / "MODEL_CARD.md").exists()
    assert 0.0 < row["thresholds"]["answerable"] < 1.0


def test_an_altered_or_mismatched_model_is_refused(tmp_path: Path) -> None:
    shutil.copytree(MODEL_DIR, tmp_path / "m")
    weights = tmp_path / "m" / WEIGHTS
    row = json.loads(weights.read_text(encoding="utf-8"))
    row["sentence"]["intercept"] += 1.0
    weights.write_text(json.dumps(row), encoding="utf-8")
    with pytest.raises(ReaderModelError, match="sha256"):
        Reader.load(tmp_path / "m")
    row["sentence"]["features"] = row["sentence"]["features"][:-1]
    with pytest.raises(ReaderModelError, match="other features"):
        Reader.from_dict(row)
    (tmp_path / "m" / CHECKSUMS).unlink()
    with pytest.raises(ReaderModelError):
        Reader.load(tmp_path / "m")


def test_feature_rows_have_one_column_per_name() -> None:
    question, _, _, _, sentences = _cases()[1]
    asked = Asked.parse(question)
    assert sentence_matrix(asked, sentences).shape == (len(sentences), len(SENTENCE_FEATURES))
    assert sentence_matrix(asked, []).shape == (0, len(SENTENCE_FEATURES))
    spans, x = span_matrix(asked, sentences, np.linspace(0.9, 0.1, len(sentences)))
    assert x.shape == (len(spans), len(SPAN_FEATURES))
    assert len({(c.sentence, c.start, c.end) for c in spans}) == len(spans)


def _toy_embed(text: str) -> np.ndarray:
    """A stand-in embedder: "marinol" leans towards "drug", the rest do not."""
    axes = {"drug": [1.0, 0, 0, 0], "marinol": [0.8, 0, 0, 0.6], "schedule": [0, 1.0, 0, 0], "governor": [0, 0, 1.0, 0]}
    v = np.full(4, 0.1)
    for word in text.lower().split():
        v += np.array(axes.get(word.strip(","), [0.0] * 4))
    return v / np.linalg.norm(v)


def test_type_features_measure_each_span_against_the_asked_type() -> None:
    s = SentenceIn("Governor Ames moved Marinol, a Drug, to Schedule Three.", 0.5, 0.5, 0.5, 1, 0, False)
    asked = Asked.parse("Which drug will Governor Ames list?")
    assert asked.type_phrase == "drug"
    spans, x = span_matrix(asked, [s], np.array([0.9]), embed=_toy_embed)
    sim = dict(zip((c.text_in([s]) for c in spans), x[:, SPAN_FEATURES.index("type_sim")], strict=True))
    gap = x[:, SPAN_FEATURES.index("type_gap")]
    assert sim["Marinol"] > 0.7 and sim["Marinol"] > sim["Schedule Three"] and sim["Marinol"] > sim["Governor Ames"]
    # the gap counts from the best span that is not the question's own word: "Drug" is above it
    gaps = dict(zip((c.text_in([s]) for c in spans), gap, strict=True))
    assert sim["Drug"] > sim["Marinol"] and gaps["Marinol"] == 0.0 and gaps["Drug"] > 0.0
    assert gaps["Schedule Three"] < 0.0
    # no embedder, or a question that names no type: the columns are 0 and the rest is unchanged
    _, plain = span_matrix(asked, [s], np.array([0.9]))
    at = [SPAN_FEATURES.index("type_sim"), SPAN_FEATURES.index("type_gap")]
    assert not plain[:, at].any() and np.array_equal(np.delete(plain, at, 1), np.delete(x, at, 1))
    _, who = span_matrix(Asked.parse("Who moved Marinol?"), [s], np.array([0.9]), embed=_toy_embed)
    assert not who[:, at].any()


def test_span_candidates_cover_entities_numbers_names_and_noun_runs() -> None:
    s = SentenceIn(
        "The council of Millbrook voted on Tuesday to build twelve miles of bike lanes.", 0.5, 0.5, 0.5, 1, 0, False
    )
    texts = {s.text[c.start : c.end]: c.group for c in candidates_in(0, s)}
    assert texts["Tuesday"] == "date"
    assert texts["Millbrook"] == "name"
    assert texts["bike lanes"] == "run"
    assert "twelve" in texts and "of" not in texts


def test_asked_parses_the_question_once() -> None:
    asked = Asked.parse("The mayor of Port Ellis opened a ferry line. Which island does it serve?")
    assert asked.kind == "entity"
    assert asked.asking == {"island", "serve"}
    assert {"port", "ellis"} <= asked.names


class _Tagger:
    def entities(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        return [[(0, 7, "PERSON")] if t.startswith("Whitfield") else [] for t in texts]


def test_from_candidates_reads_the_answer_steps_records() -> None:
    text = "Ferry line opens\n\nWhitfield opened it. Tickets cost $12."
    article = make_article(text, title="Ferry line opens", published=date(2026, 3, 2), id="a1")
    first, second = text.index("Whitfield"), text.index("Tickets")
    found = [
        Candidate("a1", 0, 16, 0.9, 0.8, 0.7, 1),
        Candidate("a1", first, first + 20, 0.8, 0.6, 0.5, 1),
        Candidate("a1", second, len(text), 0.1, 0.1, 0.0, 2),
    ]
    sentences = from_candidates(found, {"a1": article}, _Tagger(), limit=2)
    assert [s.text for s in sentences] == ["Ferry line opens", "Whitfield opened it."]
    assert [s.headline for s in sentences] == [True, False]
    assert sentences[1].entities == ((0, 7, "PERSON"),)
    assert (sentences[1].order, sentences[1].rank, sentences[1].dense) == (1, 1, 0.6)


def test_the_reader_imports_only_index_and_qa() -> None:
    for path in Path(__file__).resolve().parents[1].joinpath("qa", "reader").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ("train", "eval", "ui", "torch", "sklearn"), (path.name, name)


def test_no_candidates_reads_as_unanswerable(reader: Reader) -> None:
    reading = reader.read("Who opened the new ferry line to Gull Island?", [])
    assert reading.order == () and reading.span is None and reading.best_span is None
    assert reading.answerable == 0.0 and reading.abstain


@pytest.mark.slow
def test_the_shipped_reader_with_the_packaged_embedder_picks_a_span_of_the_asked_type(reader: Reader) -> None:
    """ "Which bird": only the embedder knows that a heron is one and the Millbrook Trust is not.
    Without it, the reader takes the named organisation."""
    from index.embed import DEFAULT_MODEL, make_embedder

    text = "The Millbrook Trust said a heron nested on the roof of the Port Ellis town hall."
    names = (("The Millbrook Trust", "ORG"), ("Port Ellis", "GPE"))
    entities = tuple((text.index(n), text.index(n) + len(n), label) for n, label in names)
    sentences = [SentenceIn(text, 0.6, 0.5, 0.7, 1, 0, False, entities)]
    question = "Which bird nested on the roof of the Port Ellis town hall?"
    embed = make_embedder(DEFAULT_MODEL).embed_query
    typed, untyped = reader.read(question, sentences, None, embed), reader.read(question, sentences)
    assert typed.best_span is not None and "heron" in typed.best_span.text
    assert untyped.best_span is not None and untyped.best_span.text == "The Millbrook Trust"

"""The vector store suite, run against FAISS and Milvus Lite: exact top results, filters, add/delete, reload."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from index.build import add_articles, remove_articles
from index.embed import HashingEmbedder
from index.errors import CorruptIndexError
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import IndexData, load_index, load_keyword_index, read_manifest
from index.store.vectors import RowFilter, RowMask
from qa.question import Question
from qa.records import Filters
from qa.retrieve import Query, Retriever
from qa.settings import QASettings

HAVE_MILVUS = all(importlib.util.find_spec(m) is not None for m in ("pymilvus", "milvus_lite"))
NO_MILVUS = "pymilvus and milvus-lite are not installed (pip install 'newsqa[scale]'); CI installs them"
needs_milvus = pytest.mark.skipif(not HAVE_MILVUS, reason=NO_MILVUS)
KINDS = ["faiss", pytest.param("milvus", marks=needs_milvus)]
SOURCES = ("Coast Courier", "Farm Weekly", 'The "Quoted" Times', "Arts Daily")
TOPICS = ("ferry harbor island", "wheat drought harvest", "council bike lanes", "museum painting police", "rain storm")
QUESTIONS = ("When did the ferry line open?", "Which farmers lost their harvest?", "What did the council vote?")


def corpus(n: int = 24, offset: int = 0) -> list[Article]:
    """``n`` short articles over a few topics, sources and dates (one without a date)."""
    out = []
    for i in range(offset, offset + n):
        topic = TOPICS[i % len(TOPICS)]
        text = (
            f"Report {i} on {topic}.\n\nOfficials in town {i} spoke about the {topic} on day {i}. "
            f"Residents said the {topic.split()[0]} mattered to {i * 7} families. A second sentence follows here."
        )
        published = None if i % 11 == 5 else date(2026, 1, 1) + timedelta(days=3 * i)
        out.append(make_article(text, title=f"Report {i}", source=SOURCES[i % len(SOURCES)], published=published))
    return out


def build(root: Path, kind: str, articles: list[Article]) -> HashingEmbedder:
    embedder = HashingEmbedder(dim=64)
    # FAISS with float32 codes: the exact search that Milvus (float32 vectors) is compared with
    settings = IndexSettings(embedder=embedder.name, chunk_size=120, chunk_overlap=0, store=kind, chunk_codes="float32")  # type: ignore[arg-type]
    add_articles(root, articles, settings, embedder)
    return embedder


def brute_force(data: IndexData, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    scores = np.asarray(data.chunk_vectors, dtype=np.float32) @ query
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.sort(scores)[::-1][:k]
    return np.asarray(top[np.isfinite(top)])


def assert_same_ranking(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> None:
    """Same scores, and the same rows for each score; rows tied at the cut-off score may differ."""
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6, atol=1e-7)
    score_a, score_b = np.round(a[1].astype(np.float64), 5), np.round(b[1].astype(np.float64), 5)
    for score in set(score_a.tolist()) - set(score_a[-1:].tolist()):
        assert set(a[0][score_a == score].tolist()) == set(b[0][score_b == score].tolist())


@pytest.fixture(params=KINDS)
def built(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, HashingEmbedder, str]:
    root = tmp_path / f"index-{request.param}"
    return root, build(root, request.param, corpus()), request.param


def test_search_is_exact(built: tuple[Path, HashingEmbedder, str]) -> None:
    root, embedder, kind = built
    data = load_index(root)
    store = data.vector_store()
    assert store.kind == ("milvus" if kind == "milvus" else "flat")
    vectors = np.asarray(data.chunk_vectors)
    for question in QUESTIONS:
        q = embedder.embed_query(question)
        rows, scores = store.search(q, 10)
        assert len(rows) == 10 and len(set(rows.tolist())) == 10
        np.testing.assert_allclose(scores, brute_force(data, q, 10), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(vectors[rows] @ q, scores, rtol=1e-5, atol=1e-6)  # each score is its row's


@needs_milvus
def test_milvus_and_faiss_give_the_same_vectors_and_results(tmp_path: Path) -> None:
    embedder = build(tmp_path / "faiss", "faiss", corpus())
    build(tmp_path / "milvus", "milvus", corpus())
    faiss_data, milvus_data = load_index(tmp_path / "faiss"), load_index(tmp_path / "milvus")
    assert [c.id for c in faiss_data.chunks] == [c.id for c in milvus_data.chunks]
    np.testing.assert_array_equal(np.asarray(faiss_data.chunk_vectors), np.asarray(milvus_data.chunk_vectors))
    for question in [*QUESTIONS, *(a.title for a in corpus())]:
        q = embedder.embed_query(question)
        assert_same_ranking(faiss_data.vector_store().search(q, 10), milvus_data.vector_store().search(q, 10))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(sources=("Farm Weekly",)),
        Filters(sources=('The "Quoted" Times', "Arts Daily")),
        Filters(published_from=date(2026, 1, 20), published_to=date(2026, 2, 10)),
        Filters(sources=("Coast Courier",), published_to=date(2026, 2, 1)),
        Filters(sources=("Nobody",)),
    ],
)
def test_filters_run_inside_the_store(built: tuple[Path, HashingEmbedder, str], filters: Filters) -> None:
    root, embedder, kind = built
    data = load_index(root)
    retriever = Retriever(data, load_keyword_index(root, data.generation), QASettings(retrieval="dense"))
    q = embedder.embed_query(QUESTIONS[0])
    mask = retriever.allowed_rows(Query(Question.parse(QUESTIONS[0]), q, filters=filters))
    assert isinstance(mask, RowMask) and mask.where is not None
    rows, scores = retriever.dense(Query(Question.parse(QUESTIONS[0]), q, filters=filters), mask, 8)
    assert mask[rows].all() and len(rows) == min(8, int(mask.sum()))
    np.testing.assert_allclose(scores, brute_force(data, q, 8, mask), rtol=1e-5, atol=1e-6)
    if kind == "milvus":  # Milvus gets the filter alone, not the mask: it filters by the stored metadata
        assert_same_ranking(data.vector_store().search(q, 8, None, mask.where), (rows, scores))


def test_the_date_window_and_a_filter_intersect() -> None:
    march = RowMask.of(np.array([True, True, False, True]), RowFilter(None, 10, 20))
    farm = RowMask.of(np.array([True, False, True, True]), RowFilter(frozenset({"Farm", "Arts"}), 15, None))
    both = march & farm
    assert both.tolist() == [True, False, False, True]
    assert both.where == RowFilter(frozenset({"Farm", "Arts"}), 15, 20)
    march &= farm
    assert march.where == both.where
    assert (~march).where is None  # any other operation drops the filter: the store falls back to the mask
    assert (RowFilter(frozenset({"A"})) & RowFilter(frozenset({"B"}))).sources == frozenset()


@needs_milvus
def test_filter_expressions_quote_their_strings() -> None:
    from index.store.milvus import filter_expression

    where = RowFilter(frozenset({'The "Quoted" Times', "a\\b"}), 739000, 739010)
    assert filter_expression(where) == (
        'source in ["The \\"Quoted\\" Times", "a\\\\b"] and day >= 739000 and day >= 0 and day <= 739010'
    )
    assert filter_expression(RowFilter()) == ""
    assert filter_expression(RowFilter(frozenset())) is None


def test_add_and_delete_articles(built: tuple[Path, HashingEmbedder, str]) -> None:
    root, embedder, kind = built
    first = read_manifest(root)[0]
    report = add_articles(root, corpus(6, offset=100), embedder=embedder)
    assert report.added == 6
    gone = corpus()[:3]
    removed = remove_articles(root, [a.id for a in gone])
    assert removed.removed == 3
    generation, manifest = read_manifest(root)
    if kind == "milvus":
        entry = manifest["vectors"]
        assert (
            {k: entry[k] for k in ("kind", "uri", "collection", "generation", "keys")}
            == {
                "kind": "milvus",
                "uri": "chunks.milvus.db",  # the default: Milvus Lite inside the generation
                "collection": "newsqa_chunks",
                "generation": int(generation.name[4:]),
                "keys": "milvus_keys.npy",
            }
        )
        assert entry["index"]["type"] == "HNSW"  # approximate by default
        assert "milvus_keys.npy" in manifest["checksums"]
        assert "chunks.faiss" not in manifest["checksums"]
        assert not first.exists()  # two generations later, the first one (and its Lite database) is gone
    data = load_index(root)
    assert {c.article_id for c in data.chunks} == {a.id for a in [*corpus()[3:], *corpus(6, offset=100)]}
    assert data.chunk_vectors.shape[0] == len(data.chunks) == manifest["counts"]["chunks"]
    for article in [gone[0], corpus(6, offset=100)[0]]:
        q = embedder.embed_query(article.text)
        rows, scores = data.vector_store().search(q, 5)
        np.testing.assert_allclose(scores, brute_force(data, q, 5), rtol=1e-5, atol=1e-6)
        assert all(data.chunks[r].article_id != gone[0].id for r in rows.tolist())


_RELOAD = """
import json, sys
from qa.assistant import load_assistant
from qa.records import Filters
from qa.settings import QASettings
assistant = load_assistant(sys.argv[1], QASettings(retrieval="dense"))
out = [[p.chunk_id for p in assistant.ask(q, filters=Filters(sources=("Farm Weekly", "Arts Daily"))).passages]
       for q in json.loads(sys.argv[2])]
print(json.dumps(out))
"""


def test_a_new_process_sees_the_same_results(built: tuple[Path, HashingEmbedder, str]) -> None:
    from qa.assistant import load_assistant

    root, _, kind = built
    assistant = load_assistant(root, QASettings(retrieval="dense"))
    filters = Filters(sources=("Farm Weekly", "Arts Daily"))
    here = [[p.chunk_id for p in assistant.ask(q, filters=filters).passages] for q in QUESTIONS]
    assert all(here)
    store = assistant.data.vector_store()
    if kind == "milvus":
        store.close()  # type: ignore[attr-defined]  # Milvus Lite serves one process at a time
    out = subprocess.run(
        [sys.executable, "-c", _RELOAD, str(root), json.dumps(QUESTIONS)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here


@needs_milvus
def test_a_missing_collection_is_a_clear_error(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "ix"
    build(root, "milvus", corpus(4))
    generation, _ = read_manifest(root)
    from index.store.milvus import release

    release(str((generation / "chunks.milvus.db").resolve()))
    shutil.rmtree(generation / "chunks.milvus.db")
    with pytest.raises(CorruptIndexError, match="no Milvus Lite database"):
        load_index(root)

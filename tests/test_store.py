"""The saved index: save -> load identity, FAISS vs brute force, generations, mismatch and corruption."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.build import add_articles, remove_articles
from index.embed import HashingEmbedder
from index.errors import CorruptIndexError, IndexMismatchError, IndexNotFoundError
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import current_generation, load_index, load_keyword_index, read_manifest
from index.store.verify import manifest_checksum
from qa.question import Question
from qa.records import Filters
from qa.retrieve import Query, Retriever
from qa.settings import QASettings


def _settings(embedder: HashingEmbedder) -> IndexSettings:
    return IndexSettings(embedder=embedder.name, chunk_size=200, chunk_overlap=0)


def test_index_files_are_plain_and_described_by_the_manifest(tiny_index: Path) -> None:
    generation, manifest = read_manifest(tiny_index)
    assert manifest["counts"]["articles"] == 4
    assert manifest["embedder"] == {"name": "hashing-128", "dim": 128}
    names = {p.name for p in generation.iterdir()}
    assert {"manifest.json", "articles.jsonl", "chunks.jsonl", "chunks.faiss", "sentences.npy"} <= names
    assert not [p for p in generation.rglob("*") if p.suffix in {".pkl", ".pickle"}]
    chunk_lines = (generation / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(chunk_lines) == manifest["counts"]["chunks"]
    assert set(manifest["checksums"]) >= {"articles.jsonl", "chunks.jsonl", "chunks.faiss"}


def test_every_stored_chunk_and_sentence_points_into_its_article(tiny_index: Path) -> None:
    data = load_index(tiny_index)
    for chunk in data.chunks:
        assert data.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    for row, start, end in data.sentences.tolist():
        chunk = data.chunks[row]
        assert chunk.start <= start < end <= chunk.end


def test_faiss_search_agrees_with_numpy_brute_force(tiny_index: Path, embedder: HashingEmbedder) -> None:
    data = load_index(tiny_index)
    retriever = Retriever(data, load_keyword_index(tiny_index, data.generation), QASettings(retrieval="dense"))
    for question in ["ferry tickets price", "wheat drought minister", "stolen painting Verona"]:
        vector = embedder.embed_query(question)
        rows, scores = retriever.dense(Query(Question.parse(question), vector), None, len(data.chunks))
        brute = data.chunk_vectors @ vector
        assert np.allclose(scores, np.sort(brute)[::-1], atol=1e-5)
        assert np.allclose(brute[rows], scores, atol=1e-5)


def test_save_load_gives_identical_results(tmp_path: Path, articles: list[Article], embedder: HashingEmbedder) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    add_articles(one, articles, _settings(embedder), embedder)
    add_articles(two, articles, _settings(embedder), embedder)
    a, b = load_index(one), load_index(two)
    assert [c.to_dict() for c in a.chunks] == [c.to_dict() for c in b.chunks]
    assert np.array_equal(a.chunk_vectors, b.chunk_vectors)
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors)
    assert (one / a.generation / "articles.jsonl").read_bytes() == (two / b.generation / "articles.jsonl").read_bytes()


def test_incremental_add_embeds_only_new_articles(
    tmp_path: Path, articles: list[Article], embedder: HashingEmbedder
) -> None:
    root = tmp_path / "index"
    first = add_articles(root, articles[:2], _settings(embedder), embedder)
    again = add_articles(root, articles[:2], embedder=embedder)
    assert again.chunks_embedded == 0 and again.unchanged == 2 and again.generation == first.generation
    more = add_articles(root, articles, embedder=embedder)
    assert more.added == 2 and more.unchanged == 2
    assert more.chunks_embedded == more.chunks_total - first.chunks_total
    assert load_index(root).generation == more.generation


def test_changed_article_replaces_the_old_version(
    tmp_path: Path, articles: list[Article], embedder: HashingEmbedder
) -> None:
    root = tmp_path / "index"
    add_articles(root, articles, _settings(embedder), embedder)
    old = articles[0]
    new = make_article(old.text + " Update: the line was delayed by a storm.", title=old.title, url=old.url)
    assert new.id == old.id
    report = add_articles(root, [new], embedder=embedder)
    assert report.replaced == 1 and report.articles_total == 4
    data = load_index(root)
    assert data.articles[old.id].text.endswith("storm.")
    chunk_ids = [c.id for c in data.chunks]
    assert len(chunk_ids) == len(set(chunk_ids))
    for chunk in data.chunks:
        assert data.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    assert len(data.sentences) == len(data.sentence_vectors)


def test_duplicate_text_under_another_id_is_stored_once(
    tmp_path: Path, articles: list[Article], embedder: HashingEmbedder
) -> None:
    copy = replace(articles[1], id="syndicated-copy")
    report = add_articles(tmp_path / "i", [*articles, copy], _settings(embedder), embedder)
    assert report.duplicates == 1 and report.articles_total == 4


def test_remove_deletes_articles_and_reports_unknown_ids(tiny_index: Path, articles: list[Article]) -> None:
    report = remove_articles(tiny_index, [articles[0].id, "no-such-id"])
    assert report.removed == 1 and report.articles_total == 3
    assert [line.path for line in report.ingest] == ["no-such-id"]
    data = load_index(tiny_index)
    assert articles[0].id not in data.articles
    assert all(c.article_id != articles[0].id for c in data.chunks)


def test_a_write_keeps_the_previous_generation_and_cleans_older_ones(
    tmp_path: Path, articles: list[Article], embedder: HashingEmbedder
) -> None:
    root = tmp_path / "index"
    for article in articles:
        add_articles(root, [article], _settings(embedder), embedder)
    generations = sorted(p.name for p in root.iterdir() if p.name.startswith("gen-"))
    assert generations == ["gen-000003", "gen-000004"]
    assert current_generation(root) == root / "gen-000004"


def test_an_interrupted_write_leaves_the_last_good_index(
    tmp_path: Path, articles: list[Article], embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "index"
    add_articles(root, articles[:2], _settings(embedder), embedder)
    import index.store.generations as store

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(OSError):
        add_articles(root, articles[2:], embedder=embedder)
    monkeypatch.undo()
    data = load_index(root)
    assert len(data.articles) == 2
    assert add_articles(root, articles, embedder=embedder).added == 2


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="newsqa index"):
        load_index(tmp_path / "nothing")


def test_index_from_another_embedder_is_refused(tiny_index: Path) -> None:
    with pytest.raises(IndexMismatchError, match="hashing-128"):
        load_index(tiny_index, expect_embedder="all-MiniLM-L6-v2")
    with pytest.raises(IndexMismatchError):
        add_articles(tiny_index, [], embedder=HashingEmbedder(dim=64))


@pytest.mark.parametrize("victim", ["chunks.faiss", "chunks.jsonl", "sentence_vectors.npy", "articles.jsonl"])
def test_truncated_or_missing_files_are_detected(tiny_index: Path, victim: str) -> None:
    generation = current_generation(tiny_index)
    assert generation is not None
    path = generation / victim
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(CorruptIndexError, match=victim):
        load_index(tiny_index)
    path.unlink()
    with pytest.raises(CorruptIndexError, match="missing"):
        load_index(tiny_index)


def test_other_format_version_and_broken_manifest_are_clear_errors(tiny_index: Path) -> None:
    generation = current_generation(tiny_index)
    assert generation is not None
    manifest_path = generation / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        load_index(tiny_index)
    manifest_path.write_text("{not json")
    with pytest.raises(CorruptIndexError, match=r"manifest\.json"):
        load_index(tiny_index)


def test_source_and_date_filters_restrict_retrieval(tiny_index: Path, embedder: HashingEmbedder) -> None:
    from datetime import date

    data = load_index(tiny_index)
    retriever = Retriever(data, load_keyword_index(tiny_index, data.generation), QASettings())
    vector = embedder.embed_query("painting")
    by_source = retriever.retrieve(
        Query(Question.parse("painting"), vector, filters=Filters(sources=("Farm Weekly",))), k=10
    )
    assert by_source and {data.articles[p.article_id].source for p in by_source} == {"Farm Weekly"}
    window = Filters(published_from=date(2026, 3, 1), published_to=date(2026, 3, 31))
    in_march = retriever.retrieve(Query(Question.parse("painting"), vector, filters=window), k=10)
    assert {data.articles[p.article_id].published.month for p in in_march} == {3}  # type: ignore[union-attr]


def test_keyword_index_of_another_tokenizer_is_rebuilt_or_refused(tiny_index: Path, embedder: HashingEmbedder) -> None:
    from qa import Assistant

    generation = current_generation(tiny_index)
    assert generation is not None
    before = Assistant(tiny_index, embedder).ask("How much do the ferry tickets cost?")
    path = generation / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["keyword"] = {"tokenizer": "an-older-tokenizer"}
    manifest["manifest_checksum"] = manifest_checksum(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="an-older-tokenizer"):
        load_keyword_index(tiny_index, generation.name)
    after = Assistant(tiny_index, embedder).ask("How much do the ferry tickets cost?")  # rebuilt from the chunks
    assert after.answer == before.answer and [p.chunk_id for p in after.passages] == [
        p.chunk_id for p in before.passages
    ]

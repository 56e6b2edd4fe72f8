"""Milvus in place: an update inserts and retires only the changed articles' rows in the same collection;
a reader keeps its generation; approximate indexes find the exact top results; a killed write is undone."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.build import add_articles, remove_articles
from index.embed import HashingEmbedder
from index.records import content_hash
from index.settings import IndexSettings
from index.store.generations import load_index, read_manifest
from tests.test_milvus_store import corpus

HAVE_MILVUS = all(importlib.util.find_spec(m) is not None for m in ("pymilvus", "milvus_lite"))
pytestmark = pytest.mark.skipif(
    not HAVE_MILVUS, reason="pymilvus and milvus-lite are not installed (pip install 'newsqa[scale]'); CI installs them"
)


def shared_settings(tmp_path: Path, index: str = "auto") -> IndexSettings:
    """A Milvus Lite database outside the generations, shared by them (as a server is)."""
    return IndexSettings(
        embedder="hashing-64",
        chunk_size=120,
        chunk_overlap=0,
        store="milvus",
        milvus_uri=str(tmp_path / "shared.milvus.db"),
        milvus_index=index,  # type: ignore[arg-type]
    )


def rows_in_collection(root: Path, where: str = "") -> list[dict[str, Any]]:
    """Every row of the index's collection (all generations), read with a client of its own."""
    from index.store.milvus_client import connect

    entry = read_manifest(root)[1]["vectors"]
    client = connect(entry["uri"])
    try:
        return list(client.query(entry["collection"], filter=where, output_fields=["key", "article", "born", "died"]))
    finally:
        client.close()


def test_an_update_touches_only_the_changed_articles(tmp_path: Path) -> None:
    root, embedder = tmp_path / "ix", HashingEmbedder(dim=64)
    articles = corpus(12)
    add_articles(root, articles, shared_settings(tmp_path), embedder)
    first = load_index(root)
    first_entry = read_manifest(root)[1]["vectors"]
    assert first_entry["written"] == {"inserted": len(first.chunks), "retired": 0}

    first_vectors = np.asarray(first.chunk_vectors)
    text = articles[2].text + " A late correction about the ferry timetable."
    edited = replace(articles[2], text=text, content_hash=content_hash(text))
    new = corpus(1, offset=50)[0]
    add_articles(root, [edited, new], embedder=embedder)
    second = load_index(root)
    entry = read_manifest(root)[1]["vectors"]
    changed = {edited.id, new.id}
    assert entry["collection"] == first_entry["collection"]  # the same collection, updated in place
    # an edit keeps the chunks it did not change (same place, same vector): only the others are rewritten
    old_edit = first_vectors[[i for i, c in enumerate(first.chunks) if c.article_id == edited.id]]
    new_edit = np.asarray(second.chunk_vectors)[[i for i, c in enumerate(second.chunks) if c.article_id == edited.id]]
    kept = sum(np.array_equal(a, b) for a, b in zip(old_edit, new_edit, strict=False))
    assert 0 < kept < len(old_edit)
    assert entry["written"] == {
        "inserted": sum(c.article_id in changed for c in second.chunks) - kept,
        "retired": len(old_edit) - kept,
    }
    # the reader still holding the first generation sees it unchanged (the edited article's old rows too)
    np.testing.assert_array_equal(np.asarray(first.chunk_vectors), first_vectors)
    old_row = next(i for i, c in enumerate(first.chunks) if c.article_id == edited.id)
    rows, scores = first.vector_store().search(first_vectors[old_row], 1)
    assert rows.tolist() == [old_row] and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert len(first.vector_store()) == len(first.chunks)
    added = next(i for i, c in enumerate(second.chunks) if c.article_id == new.id)  # in the new generation only
    rows, scores = second.vector_store().search(np.asarray(second.chunk_vectors[added]), 1)
    assert rows.tolist() == [added] and scores[0] == pytest.approx(1.0, abs=1e-5)

    gone = articles[5]
    remove_articles(root, [gone.id])
    add_articles(root, corpus(1, offset=60), embedder=embedder)  # collects generation 2: rows only it saw go
    live = load_index(root)
    number = read_manifest(root)[1]["vectors"]["generation"]
    everything = rows_in_collection(root)
    assert not [r for r in everything if r["article"] == gone.id]  # the removed article's vectors are gone
    assert len([r for r in everything if r["born"] <= number < r["died"]]) == len(live.chunks)
    assert {r["article"] for r in everything if r["born"] <= number < r["died"]} == set(live.articles)
    assert all(r["died"] >= number - 1 for r in everything)  # nothing older than the kept generations
    for store in (first.store, second.store, live.store):
        store.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("index", ["FLAT", "HNSW", "IVF_FLAT"])
def test_each_index_type_finds_the_exact_top_results(tmp_path: Path, index: str) -> None:
    from index.store.milvus import open_collection, write_collection

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(12, 32))  # clustered, as chunk vectors of news topics are
    vectors = (centres[np.arange(600) % 12] + 0.6 * rng.normal(size=(600, 32))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    metadata = [("AP" if i % 3 else "Reuters", 739000 + i, f"a{i // 4}") for i in range(len(vectors))]
    folder = tmp_path / "gen-000001"
    folder.mkdir()
    entry = write_collection(folder, "gen-000001", shared_settings(tmp_path, index).to_dict(), vectors, metadata, 32)
    assert entry["index"]["type"] == index
    store = open_collection(folder, entry, 32)
    try:
        queries = (centres[np.arange(20) % 12] + 0.6 * rng.normal(size=(20, 32))).astype(np.float32)
        found = [set(store.search(q, 10)[0].tolist()) for q in queries]
        truth = [set(np.argsort(-(vectors @ q))[:10].tolist()) for q in queries]
        recall = np.mean([len(f & t) / 10 for f, t in zip(found, truth, strict=True)])
        assert recall == 1.0 if index == "FLAT" else recall >= 0.9, recall
        np.testing.assert_array_equal(store.vectors([5, 0, 599]), vectors[[5, 0, 599]])
    finally:
        store.close()


def test_a_killed_write_is_undone_by_the_next(tmp_path: Path) -> None:
    from index.store.milvus import write_collection

    root, embedder = tmp_path / "ix", HashingEmbedder(dim=64)
    settings = shared_settings(tmp_path)
    add_articles(root, corpus(8), settings, embedder)
    before = load_index(root)
    count = len(rows_in_collection(root))
    # a write of generation 2 that died before CURRENT moved: it retired every row and inserted others
    crashed = tmp_path / ".tmp-crashed"
    crashed.mkdir()
    other = np.asarray(before.chunk_vectors)[::-1].copy()
    metadata = [("X", -1, f"other-{i}") for i in range(len(other))]
    write_collection(crashed, "gen-000002", settings.to_dict(), other, metadata, 64)
    assert len(rows_in_collection(root)) == 2 * count
    before.store.close()  # type: ignore[union-attr]
    add_articles(root, corpus(1, offset=40), embedder=embedder)  # numbered 2 again
    after = load_index(root)
    assert read_manifest(root)[1]["vectors"]["generation"] == 2
    assert {r["article"] for r in rows_in_collection(root)} == set(after.articles)
    assert len(after.vector_store()) == len(after.chunks)
    after.store.close()  # type: ignore[union-attr]


class _NoDuplicateInserts:
    """A client that refuses to insert a key the collection holds: a Milvus server would store the
    row twice (Milvus Lite replaces it, so a plain Lite run cannot show the difference)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def insert(self, collection: str, rows: list[dict[str, Any]]) -> Any:
        held = self._client.get(collection, ids=[r["key"] for r in rows], output_fields=["key"])
        assert not held, f"insert of keys the collection holds: {[r['key'] for r in held][:3]}"
        return self._client.insert(collection, rows)


def test_an_article_removed_then_added_again_has_one_row_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its chunks get the keys of their retired rows back: those rows are replaced (upsert), not
    inserted a second time beside them (a server keeps both, and deleting one deletes both)."""
    from index.store import milvus_write

    connect = milvus_write.connect
    monkeypatch.setattr(milvus_write, "connect", lambda uri: _NoDuplicateInserts(connect(uri)))
    root, embedder = tmp_path / "ix", HashingEmbedder(dim=64)
    articles = corpus(6)
    add_articles(root, articles, shared_settings(tmp_path), embedder)
    back = articles[3]
    remove_articles(root, [back.id])
    removed = load_index(root)
    add_articles(root, [back], embedder=embedder)
    live = load_index(root)
    number = read_manifest(root)[1]["vectors"]["generation"]
    rows = rows_in_collection(root)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)), "a key is stored twice"
    theirs = [r for r in rows if r["article"] == back.id]
    assert theirs and all(r["born"] == number for r in theirs)
    assert len(live.vector_store()) == len(live.chunks)
    assert len(removed.vector_store()) == len(removed.chunks)  # the generation without it still lacks it
    for store in (removed.store, live.store):
        store.close()  # type: ignore[union-attr]

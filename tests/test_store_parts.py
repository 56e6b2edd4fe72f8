"""A generation's records read on demand (index/store/tables.py) and writes that add to a large index
without reading it again (index/update.py): lines copied as bytes, sentence codes streamed from
their memory map, BM25 segments hard-linked, and still every file checked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

import index.store.keyword as keyword_module
import index.store.rows as rows_module
import index.store.tables as tables_module
from index.build import add_articles, remove_articles
from index.embed import HashingEmbedder
from index.errors import CorruptIndexError
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import current_generation, load_index, load_keyword_index, read_manifest
from index.store.keyword import KeywordIndex
from index.store.rows import ChainedRows, QuantizedRows
from index.store.tables import ArticleTable, ChunkTable, chunk_texts


def _articles(n: int, seed: int, prefix: str) -> list[Article]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)] + ["Lavrov", "envoys", "Peru", "flood"]
    return [
        make_article(
            " ".join(" ".join(rng.choice(words, 10)).capitalize() + "." for _ in range(int(rng.integers(3, 12)))),
            title=f"{prefix} {i}",
            source=["Wire", "Daily"][i % 2],
            url=f"https://example.org/{prefix}/{i}",
        )
        for i in range(n)
    ]


def _settings(embedder: HashingEmbedder, growth: float = 2.0) -> IndexSettings:
    return IndexSettings(embedder=embedder.name, chunk_size=200, chunk_overlap=0, ivf_retrain_growth=growth)


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=32)


def _same_index(a: Path, b: Path) -> None:
    """Two indexes hold the same articles, chunks, sentences and vectors, and score BM25 alike."""
    x, y = load_index(a), load_index(b)
    assert dict(x.articles) == dict(y.articles) and list(x.chunks) == list(y.chunks)
    assert np.array_equal(x.sentences, y.sentences)
    assert np.array_equal(np.asarray(x.sentence_vectors), np.asarray(y.sentence_vectors))
    assert np.allclose(np.asarray(x.chunk_vectors), np.asarray(y.chunk_vectors), atol=2 / 255)
    kx, ky = load_keyword_index(a, x.generation), load_keyword_index(b, y.generation)
    for q in ["Lavrov envoys", "w1 w2 Peru", "flood"]:
        assert np.allclose(kx.scores(q), ky.scores(q), rtol=1e-6)


def test_a_loaded_index_reads_records_on_demand(tmp_path: Path, embedder: HashingEmbedder) -> None:
    articles = _articles(12, 0, "a")
    add_articles(tmp_path, articles, _settings(embedder), embedder)
    data = load_index(tmp_path)
    assert isinstance(data.articles, ArticleTable) and isinstance(data.chunks, ChunkTable)
    assert dict(data.articles) == {a.id: a for a in articles}
    for row, chunk in enumerate(data.chunks):
        assert (
            data.chunks.row(chunk.id) == row
            and chunk.text == data.articles[chunk.article_id].text[chunk.start : chunk.end]
        )
    assert list(chunk_texts(data.chunks)) == [c.text for c in data.chunks]
    with pytest.raises(KeyError):
        data.chunks.row(f"{articles[0].id}:999")
    with pytest.raises(KeyError):
        data.chunks.row("nobody:0")


def test_an_add_copies_the_old_lines_and_links_the_bm25_segments(
    tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables_module, "MMAP_FROM_BYTES", 0)  # records and sentence codes memory-mapped,
    monkeypatch.setattr(rows_module, "MMAP_FROM_BYTES", 0)  # as they are in a large index
    first, second = _articles(40, 1, "a"), _articles(4, 2, "b")
    add_articles(tmp_path / "parts", first, _settings(embedder), embedder)
    old = current_generation(tmp_path / "parts")
    assert old is not None
    loaded = load_index(tmp_path / "parts")
    assert isinstance(loaded.sentence_vectors, QuantizedRows) and isinstance(loaded.sentence_vectors.codes, np.memmap)
    add_articles(tmp_path / "parts", second, embedder=embedder)
    new = current_generation(tmp_path / "parts")
    assert new is not None and new != old
    for name in ("articles.jsonl", "chunks.jsonl"):  # the old lines, byte for byte, then the new ones
        assert (new / name).read_bytes().startswith((old / name).read_bytes())
    kept = [p.relative_to(old) for p in (old / "keyword").rglob("*.npy")]
    assert kept and all((new / p).stat().st_ino == (old / p).stat().st_ino for p in kept)
    add_articles(tmp_path / "whole", [*first, *second], _settings(embedder), embedder)
    _same_index(tmp_path / "parts", tmp_path / "whole")


def test_replacing_and_removing_articles_keep_the_bm25_segments_right(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    first = _articles(30, 3, "a")
    add_articles(tmp_path / "parts", first, _settings(embedder), embedder)
    edited = make_article(first[4].text + " Flood in Peru.", title=first[4].title, url=first[4].url)
    add_articles(tmp_path / "parts", [edited], embedder=embedder)
    remove_articles(tmp_path / "parts", [first[7].id])
    final = [edited if a.id == edited.id else a for a in first if a.id != first[7].id]
    final = [a for a in final if a.id != edited.id] + [edited]  # a replaced article moves to the end
    add_articles(tmp_path / "whole", final, _settings(embedder), embedder)
    _same_index(tmp_path / "parts", tmp_path / "whole")


def test_a_segment_altered_after_it_was_read_is_not_linked_into_the_next_generation(
    tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_articles(tmp_path, _articles(20, 4, "a"), _settings(embedder), embedder)
    live = current_generation(tmp_path)
    assert live is not None
    real_link = keyword_module.os.link

    def tampering_link(source: Path, target: Path) -> None:  # the segment changes once read, before the link
        data = bytearray(Path(source).read_bytes())
        data[-1] ^= 1
        with Path(source).open("r+b") as handle:  # in place: the very inode the new generation links
            handle.write(bytes(data))
        real_link(source, target)

    monkeypatch.setattr(keyword_module.os, "link", tampering_link)
    with pytest.raises(CorruptIndexError, match="changed since it was written"):
        add_articles(tmp_path, _articles(2, 5, "b"), embedder=embedder)
    assert current_generation(tmp_path) == live  # the last generation stays live


def test_a_store_trained_again_reads_its_rows_a_block_at_a_time(tmp_path: Path, embedder: HashingEmbedder) -> None:
    first, second = _articles(20, 6, "a"), _articles(25, 7, "b")
    add_articles(tmp_path / "parts", first, _settings(embedder, growth=1.0), embedder)  # every add trains again
    before = load_index(tmp_path / "parts")
    add_articles(tmp_path / "parts", second, embedder=embedder)
    _, manifest = read_manifest(tmp_path / "parts")
    assert manifest["vectors"]["trained_rows"] == manifest["counts"]["chunks"] > len(before.chunks)
    add_articles(tmp_path / "whole", [*first, *second], _settings(embedder, growth=1.0), embedder)
    _same_index(tmp_path / "parts", tmp_path / "whole")


def test_chained_rows_read_and_write_as_their_concatenation(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    parts = [QuantizedRows.quantize(rng.normal(size=(n, 16)).astype(np.float32)) for n in (7, 0, 5)]
    chained = ChainedRows(parts)
    whole = QuantizedRows.concat(parts)
    assert chained.shape == whole.shape == (12, 16)
    picked = np.array([11, 0, 6, 7, 3])
    assert np.array_equal(chained[picked], whole[picked]) and np.array_equal(chained[2:9], whole[2:9])
    assert np.array_equal(chained.take(picked).codes, whole.take(picked).codes)
    assert np.array_equal(chained[-1], whole[11]) and np.array_equal(chained[[-12, -6]], whole[[0, 6]])
    with pytest.raises(IndexError):
        chained[12]  # past the end: an error, not rows of uninitialised memory
    with pytest.raises(IndexError):
        chained.take(np.array([-13]))
    rows_module.save_sentences(tmp_path, np.zeros((12, 3), np.int64), chained)
    assert np.array_equal(np.load(tmp_path / "sentence_vectors.npy"), whole.codes)
    assert np.array_equal(np.load(tmp_path / "sentence_scales.npy"), whole.scales)


def test_a_dropped_article_table_frees_its_memory_map_at_once(tmp_path: Path, embedder: HashingEmbedder) -> None:
    """No reference cycle: a reloaded server's old generation is closed when dropped, not when the
    cyclic garbage collector next runs (its deleted files would hold the disk until then)."""
    import gc
    import weakref

    add_articles(tmp_path, _articles(6, 0, "a"), _settings(embedder), embedder)
    data = load_index(tmp_path)
    table = data.articles
    assert table.at(0).id == next(iter(table))  # the cache holds a parsed article
    gone = weakref.ref(table)
    gc.disable()
    try:
        del data, table
        assert gone() is None
    finally:
        gc.enable()


def test_keyword_index_of_a_table_is_built_from_texts_cut_on_demand(tmp_path: Path, embedder: HashingEmbedder) -> None:
    add_articles(tmp_path, _articles(10, 9, "a"), _settings(embedder), embedder)
    data = load_index(tmp_path)
    built = KeywordIndex.build(chunk_texts(data.chunks))
    assert np.allclose(built.scores("Lavrov w3"), load_keyword_index(tmp_path, data.generation).scores("Lavrov w3"))


def test_replacing_and_removing_in_a_large_index_keep_its_files_on_disk(
    tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables_module, "MMAP_FROM_BYTES", 0)  # records and sentence codes memory-mapped,
    monkeypatch.setattr(rows_module, "MMAP_FROM_BYTES", 0)  # as they are in a large index
    first = _articles(30, 10, "a")
    add_articles(tmp_path / "parts", first, _settings(embedder), embedder)
    add_articles(tmp_path / "parts", _articles(3, 11, "b"), embedder=embedder)  # a second part: chained codes
    edited = make_article(first[2].text + " Flood in Peru.", title=first[2].title, url=first[2].url)
    add_articles(tmp_path / "parts", [edited], embedder=embedder)
    remove_articles(tmp_path / "parts", [first[9].id, first[20].id])
    kept = [a for a in [*first, *_articles(3, 11, "b")] if a.id not in {edited.id, first[9].id, first[20].id}]
    add_articles(tmp_path / "whole", [*kept, edited], _settings(embedder), embedder)
    _same_index(tmp_path / "parts", tmp_path / "whole")
    data = load_index(tmp_path / "parts")
    from index.update import without

    less = without(data, {kept[0].id})  # what a replace or remove writes from: tables and mapped codes still
    assert isinstance(less.articles, ArticleTable) and isinstance(less.chunks, ChunkTable)
    assert not isinstance(less.sentence_vectors, np.ndarray) and len(less.articles) == len(data.articles) - 1
    picked = data.sentence_vectors.pick(np.array([5, 0, 3]))  # memory-mapped rows stay on disk until read
    assert np.array_equal(picked[:], np.asarray(data.sentence_vectors)[[5, 0, 3]])


def test_an_article_table_gives_its_sources_and_newest_articles_without_parsing_all(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    """What the browser chat lists (sources, example questions) at a million articles: columns and a
    few parsed records, not every record."""
    articles = [replace(a, published=date(2026, 1, 1 + i % 6)) for i, a in enumerate(_articles(12, 0, "a"))]
    add_articles(tmp_path, articles, _settings(embedder), embedder)
    table = load_index(tmp_path).articles
    assert isinstance(table, ArticleTable)
    assert table.source_names() == {a.source for a in articles}
    newest = table.newest(3)  # two articles a day: the two of Jan 6, and both of Jan 5 (a tie)
    assert sorted(a.id for a in newest) == sorted(a.id for a in articles if a.published >= date(2026, 1, 5))
    assert len(table.newest(100)) == len(articles)

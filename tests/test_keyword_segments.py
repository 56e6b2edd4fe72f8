"""BM25 in segments (index/store/postings.py, keyword.py): the same scores as bm25s, however the rows
were written (at once, added in parts, some removed), saved and memory-mapped, older layouts read."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

import index.store.postings as postings
from index.errors import CorruptIndexError
from index.store.keyword import KeywordIndex, _IrregularStemmer, _tokens

QUERIES = ["What did Lavrov say about the envoys?", "rain Peru flood", "w3 w7 w7 w11", "nothing known zzz"]


def _texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)] + ["Lavrov", "met", "envoys", "rain", "Peru", "flood", "the", "of"]
    return [" ".join(rng.choice(words, int(rng.integers(0, 30)))) for _ in range(n)]


def _bm25s_scores(texts: list[str], query: str) -> np.ndarray:
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(_tokens(texts, _IrregularStemmer()), show_progress=False)
    terms = [t for t in KeywordIndex.build([]).terms(query) if t in retriever.vocab_dict]
    return np.asarray(retriever.get_scores(terms), np.float32) if terms else np.zeros(len(texts), np.float32)


def _same(a: KeywordIndex, b: KeywordIndex) -> None:
    assert a.size == b.size
    for q in QUERIES:
        assert np.allclose(a.scores(q), b.scores(q), rtol=1e-6, atol=1e-7), q
        terms = a.terms(q)
        assert a.known(terms) == b.known(terms) and a.idf(terms) == pytest.approx(b.idf(terms))


def test_scores_are_bm25s_lucene_scores() -> None:
    texts = _texts(300, 0)
    kw = KeywordIndex.build(texts)
    for q in QUERIES:
        assert np.allclose(kw.scores(q), _bm25s_scores(texts, q), rtol=1e-6, atol=1e-7), q
    assert kw.scores("w7 w7")[0] == pytest.approx(2 * kw.scores("w7")[0])  # a term asked twice counts twice


def test_rows_added_in_parts_score_as_one_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "MAX_SEGMENT_ROWS", 100)  # several segments, merged where the rule says
    texts = _texts(400, 1)
    kw = KeywordIndex.build(texts[:50])
    for start in range(50, 400, 70):
        kw = kw.extend(None, texts[start : start + 70], texts[: start + 70])
    assert len(kw._scorer.segments) > 1 and all(len(s) <= 100 for s in kw._scorer.segments)
    _same(kw, KeywordIndex.build(texts))


def test_removed_rows_score_as_an_index_of_the_kept_ones() -> None:
    texts = _texts(200, 2)
    kept = np.random.default_rng(3).random(200) < 0.7
    kw = KeywordIndex.build(texts[:120]).extend(None, texts[120:], texts)
    more = _texts(20, 4)
    after = kw.extend(kept, more, [*(t for t, k in zip(texts, kept, strict=True) if k), *more])
    _same(after, KeywordIndex.build([*(t for t, k in zip(texts, kept, strict=True) if k), *more]))


def test_many_small_adds_keep_few_segments() -> None:
    texts = _texts(330, 5)
    kw = KeywordIndex.build(texts[:10])
    for start in range(10, 330, 10):
        kw = kw.extend(None, texts[start : start + 10], texts[: start + 10])
    assert len(kw._scorer.segments) <= 6  # logarithmic in the rows, not one a write
    _same(kw, KeywordIndex.build(texts))


def test_saved_segments_load_memory_mapped_and_are_linked_by_the_next_save(tmp_path: Path) -> None:
    texts = _texts(120, 6)
    KeywordIndex.build(texts[:100]).save(tmp_path / "one")
    loaded = KeywordIndex.load(tmp_path / "one")
    assert isinstance(loaded._scorer.segments[0].rows, np.memmap)
    _same(loaded, KeywordIndex.build(texts[:100]))
    assert postings.MERGE_RATIO * len(texts[100:]) <= 100  # the new rows stay a segment of their own
    extended = loaded.extend(None, texts[100:], texts)
    extended.save(tmp_path / "two")
    old, new = tmp_path / "one" / "seg-000000" / "rows.npy", tmp_path / "two" / "seg-000000" / "rows.npy"
    assert old.stat().st_ino == new.stat().st_ino  # kept as it was: hard-linked, not written again
    _same(KeywordIndex.load(tmp_path / "two"), KeywordIndex.build(texts))


def test_an_index_saved_by_bm25s_still_loads_and_is_counted_again_when_extended(tmp_path: Path) -> None:
    texts = _texts(80, 7)
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(_tokens(texts, _IrregularStemmer()), show_progress=False)
    retriever.save(str(tmp_path))
    (tmp_path / "size.txt").write_text("80")
    old = KeywordIndex.load(tmp_path)
    _same(old, KeywordIndex.build(texts))
    more = _texts(10, 8)
    _same(old.extend(None, more, [*texts, *more]), KeywordIndex.build([*texts, *more]))


def test_segments_that_disagree_are_a_corrupt_index(tmp_path: Path) -> None:
    KeywordIndex.build(_texts(50, 9)).save(tmp_path)
    np.save(tmp_path / "seg-000000" / "rows.npy", np.full(10, 999, np.int32))
    with pytest.raises(CorruptIndexError, match="keyword index unreadable"):
        KeywordIndex.load(tmp_path)


def test_a_dropped_index_is_freed_without_the_cyclic_collector(tmp_path: Path) -> None:
    import gc
    import weakref

    KeywordIndex.build(_texts(40, 10)).save(tmp_path)
    loaded = KeywordIndex.load(tmp_path)
    loaded.scores("Lavrov w3")  # the scores cache holds an entry
    gone = weakref.ref(loaded)
    gc.disable()
    try:
        del loaded
        assert gone() is None  # no cycle through the cache: its memory-mapped segments close at once
    finally:
        gc.enable()

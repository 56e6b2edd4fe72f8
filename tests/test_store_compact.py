"""The compact index (format 2) and incremental IVF adds: what is on disk, what loads back, what is not retrained."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

import index.store.rows as rows_module
import index.store.vectors as vectors_module
from index.build import add_articles, remove_articles
from index.embed import HashingEmbedder
from index.errors import CorruptIndexError
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import load_index, read_manifest
from index.store.rows import QuantizedRows
from index.store.vectors import build_store, extend_store
from index.store.verify import manifest_checksum


def _articles(n: int, seed: int, prefix: str) -> list[Article]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(400)]
    return [
        make_article(
            " ".join(" ".join(rng.choice(words, 12)).capitalize() + "." for _ in range(int(rng.integers(3, 9)))),
            title=f"{prefix} {i}",
            url=f"https://example.org/{prefix}/{i}",
        )
        for i in range(n)
    ]


def _settings(embedder: HashingEmbedder, growth: float = 2.0) -> IndexSettings:
    return IndexSettings(embedder=embedder.name, chunk_size=200, chunk_overlap=0, ivf_retrain_growth=growth)


def test_quantized_rows_stay_within_a_small_error_and_requantize_to_the_same_codes() -> None:
    x = np.random.default_rng(0).normal(size=(500, 64)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = QuantizedRows.quantize(x)
    assert q.codes.dtype == np.int8 and q.scales.dtype == np.float32
    assert np.abs(q[:] - x).max() <= q.scales.max() / 2 + 1e-7  # half a step at most
    again = QuantizedRows.quantize(q[:])  # a loaded index written again keeps its codes
    assert np.array_equal(again.codes, q.codes) and np.allclose(again.scales, q.scales, rtol=1e-6)
    picked = q.take(np.array([3, 1]))
    assert np.array_equal(picked[:], q[np.array([3, 1])])
    assert np.array_equal(QuantizedRows.concat([q, x[:2]])[500:], q[:2])


def test_format_2_files_are_compact_and_load_back(tiny_index: Path) -> None:
    generation, manifest = read_manifest(tiny_index)
    assert manifest["format_version"] == 2
    assert np.load(generation / "sentences.npy").dtype == np.int32
    assert np.load(generation / "sentence_vectors.npy").dtype == np.int8
    assert np.load(generation / "sentence_scales.npy").dtype == np.float32
    rows = [json.loads(line) for line in (generation / "chunks.jsonl").read_text().splitlines()]
    assert rows and all("text" not in r for r in rows)  # the text is a span of its article
    data = load_index(tiny_index)
    for chunk in data.chunks:
        assert data.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text and chunk.text
    assert isinstance(data.sentence_vectors, QuantizedRows)
    norms = np.linalg.norm(np.asarray(data.sentence_vectors), axis=1)
    assert np.allclose(norms[norms > 0], 1, atol=0.01)


def _downgrade(root: Path) -> None:
    """Rewrite the live generation as format 1 (text in chunks.jsonl, int64 rows, float16 vectors)."""
    generation, manifest = read_manifest(root)
    data = load_index(root)
    (generation / "chunks.jsonl").write_text("".join(json.dumps(c.to_dict()) + "\n" for c in data.chunks))
    np.save(generation / "sentences.npy", np.asarray(data.sentences, dtype=np.int64))
    np.save(generation / "sentence_vectors.npy", np.asarray(data.sentence_vectors).astype(np.float16))
    (generation / "sentence_scales.npy").unlink()
    checksums = {k: v for k, v in manifest["checksums"].items() if k != "sentence_scales.npy"}
    for name in ("chunks.jsonl", "sentences.npy", "sentence_vectors.npy"):
        checksums[name] = hashlib.sha256((generation / name).read_bytes()).hexdigest()
    old = {**manifest, "format_version": 1, "checksums": checksums}
    old["manifest_checksum"] = manifest_checksum(old)
    (generation / "manifest.json").write_text(json.dumps(old))


def test_format_1_index_still_loads_and_the_next_write_is_format_2(tiny_index: Path, embedder: HashingEmbedder) -> None:
    compact = load_index(tiny_index)
    _downgrade(tiny_index)
    old = load_index(tiny_index)
    assert old.chunks == compact.chunks and np.array_equal(old.sentences, compact.sentences)
    assert np.abs(np.asarray(old.sentence_vectors) - np.asarray(compact.sentence_vectors)).max() < 2e-3
    add_articles(tiny_index, _articles(2, 5, "late"), embedder=embedder)
    assert read_manifest(tiny_index)[1]["format_version"] == 2
    assert load_index(tiny_index).chunks[: len(old.chunks)] == old.chunks


def test_large_sentence_vectors_are_memory_mapped_and_still_checked(
    tiny_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows_module, "MMAP_FROM_BYTES", 0)
    data = load_index(tiny_index)
    assert isinstance(data.sentence_vectors, QuantizedRows)
    assert isinstance(data.sentence_vectors.codes, np.memmap)
    generation, _ = read_manifest(tiny_index)
    path = generation / "sentence_vectors.npy"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptIndexError, match=r"sentence_vectors\.npy: checksum differs"):
        load_index(tiny_index)


def _vectors(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, 16)).astype(np.float32)
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def _centroids(store: vectors_module.FaissStore) -> np.ndarray:
    quantizer: Any = faiss.downcast_index(store.index.quantizer)
    return np.asarray(faiss.rev_swig_ptr(quantizer.get_xb(), quantizer.ntotal * quantizer.d)).copy()


def test_extend_store_adds_to_the_trained_lists_and_searches_like_a_fresh_assignment(tmp_path: Path) -> None:
    x, new = _vectors(2000, 1), _vectors(300, 2)
    store = build_store(x, "ivf")
    store.save(tmp_path / "v.faiss")
    mapped = vectors_module.read_store(tmp_path / "v.faiss", store.save(tmp_path / "v.faiss"), 16)
    grown = extend_store(mapped, None, new, growth=2.0)
    assert grown is not None and len(grown) == 2300 and grown.trained_rows == 2000
    assert np.array_equal(_centroids(grown), _centroids(store))  # no k-means ran
    assert np.array_equal(grown.vectors(np.arange(2000, 2300)), new)  # new rows after the old ones
    again = extend_store(store, np.arange(100, 2000), new, growth=2.0)  # rows 0..99 removed
    assert again is not None and np.array_equal(again.vectors(np.arange(1900)), x[100:])
    for q in new[:20]:  # a new row is found by its own vector
        assert grown.search(q, 1)[0][0] in range(2000, 2300)
    assert extend_store(store, None, _vectors(2001, 3), growth=2.0) is None  # grown past 2x: train anew
    assert extend_store(build_store(x, "flat"), None, new, growth=2.0) is None


def test_add_articles_to_an_ivf_index_does_not_retrain_until_it_has_grown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "APPROX_FROM", 50)  # IVF from 50 chunks, for a small test
    trained: list[int] = []
    real_train = faiss.IndexIVFFlat.train

    def counting_train(self: Any, x: np.ndarray) -> Any:
        trained.append(len(x))
        return real_train(self, x)

    monkeypatch.setattr(faiss.IndexIVFFlat, "train", counting_train)
    embedder, root = HashingEmbedder(dim=32), tmp_path / "index"
    add_articles(root, _articles(60, 1, "a"), _settings(embedder, growth=1.5), embedder)
    first = read_manifest(root)[1]["vectors"]
    assert first["kind"] == "ivf" and len(trained) == 1
    add_articles(root, _articles(10, 2, "b"), embedder=embedder)
    data = load_index(root)
    assert len(trained) == 1 and read_manifest(root)[1]["vectors"]["trained_rows"] == first["trained_rows"]
    remove_articles(root, [next(iter(data.articles))])
    assert len(trained) == 1
    after = load_index(root)
    for row in (0, len(after.chunks) - 1):  # rows still match their chunks after renumbering
        assert np.allclose(after.chunk_vectors[row], embedder.embed_chunks([after.chunks[row].text], [[]])[0][0])
    add_articles(root, _articles(40, 3, "c"), embedder=embedder)  # past 1.5x the trained rows
    assert len(trained) == 2 and read_manifest(root)[1]["vectors"]["trained_rows"] == len(load_index(root).chunks)

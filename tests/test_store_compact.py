"""The compact index (formats 2 and 3) and incremental adds to trained stores: what is on disk, what loads
back, what is not retrained."""

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
from index.store.codes import DEFAULT_CODES, ChunkCodes, codes_of
from index.store.extend import extend_store
from index.store.generations import load_index, read_manifest
from index.store.rows import QuantizedRows
from index.store.vectors import build_store
from index.store.verify import FORMAT_VERSION, manifest_checksum


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
    return IndexSettings(
        embedder=embedder.name, chunk_size=200, chunk_overlap=0, ivf_retrain_growth=growth, chunk_codes="int8"
    )


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


def test_current_format_files_are_compact_and_load_back(tiny_index: Path) -> None:
    generation, manifest = read_manifest(tiny_index)
    assert manifest["format_version"] == FORMAT_VERSION == 4
    assert manifest["vectors"]["codes"] == DEFAULT_CODES
    assert codes_of(faiss.read_index(str(generation / "chunks.faiss")), "flat") == DEFAULT_CODES
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
    norms = np.linalg.norm(np.asarray(data.chunk_vectors), axis=1)
    assert np.allclose(norms, 1, atol=0.01)


def _downgrade(root: Path, version: int) -> None:
    """Rewrite the live generation as format 2 (float32 chunk vectors in an ``IndexFlatIP``, no codes in
    the manifest) or 1 (that, and the text in chunks.jsonl, int64 rows, float16 sentence vectors)."""
    generation, manifest = read_manifest(root)
    data = load_index(root)
    flat = faiss.IndexFlatIP(data.dim)
    flat.add(np.asarray(data.chunk_vectors, dtype=np.float32))
    faiss.write_index(flat, str(generation / "chunks.faiss"))
    names, checksums = ["chunks.faiss"], dict(manifest["checksums"])
    if version == 1:
        (generation / "chunks.jsonl").write_text("".join(json.dumps(c.to_dict()) + "\n" for c in data.chunks))
        np.save(generation / "sentences.npy", np.asarray(data.sentences, dtype=np.int64))
        np.save(generation / "sentence_vectors.npy", np.asarray(data.sentence_vectors).astype(np.float16))
        (generation / "sentence_scales.npy").unlink()
        checksums.pop("sentence_scales.npy")
        names += ["chunks.jsonl", "sentences.npy", "sentence_vectors.npy"]
    for name in names:
        checksums[name] = hashlib.sha256((generation / name).read_bytes()).hexdigest()
    old = {**manifest, "format_version": version, "checksums": checksums, "vectors": {"kind": "flat"}}
    old["manifest_checksum"] = manifest_checksum(old)
    (generation / "manifest.json").write_text(json.dumps(old))


@pytest.mark.parametrize("version", [1, 2])
def test_older_formats_still_load_and_the_next_write_is_the_current_format(
    tiny_index: Path, embedder: HashingEmbedder, version: int
) -> None:
    compact = load_index(tiny_index)
    _downgrade(tiny_index, version)
    old = load_index(tiny_index)
    assert old.store is not None and old.store.kind == "flat" and isinstance(old.store, vectors_module.FaissStore)
    assert old.store.codes == "float32"
    assert old.chunks == compact.chunks and np.array_equal(old.sentences, compact.sentences)
    assert np.array_equal(np.asarray(old.chunk_vectors), np.asarray(compact.chunk_vectors))
    assert np.abs(np.asarray(old.sentence_vectors) - np.asarray(compact.sentence_vectors)).max() < 2e-3
    add_articles(tiny_index, _articles(2, 5, "late"), embedder=embedder)
    _, manifest = read_manifest(tiny_index)
    assert manifest["format_version"] == FORMAT_VERSION and manifest["vectors"]["codes"] == DEFAULT_CODES
    new = load_index(tiny_index)
    assert new.chunks[: len(old.chunks)] == old.chunks
    n = len(old.chunks)  # the float32 rows, coded now: within half an int8 step of what they were (or equal)
    assert np.abs(np.asarray(new.chunk_vectors)[:n] - np.asarray(old.chunk_vectors)).max() <= 1.4 / 255


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


@pytest.mark.parametrize("codes", ["float32", "int8"])
def test_extend_store_adds_to_the_trained_lists_and_searches_like_a_fresh_assignment(
    tmp_path: Path, codes: ChunkCodes
) -> None:
    x, new = _vectors(2000, 1), _vectors(300, 2)
    step = 0.0 if codes == "float32" else 1.4 / 255  # half an int8 step of a unit vector's widened range
    store = build_store(x, "ivf", codes=codes)
    store.save(tmp_path / "v.faiss")
    mapped = vectors_module.read_store(tmp_path / "v.faiss", store.save(tmp_path / "v.faiss"), 16)
    grown = extend_store(mapped, None, new, growth=2.0, codes=codes)
    assert grown is not None and len(grown) == 2300 and grown.trained_rows == 2000 and grown.codes == codes
    assert np.array_equal(_centroids(grown), _centroids(store))  # no k-means ran
    assert np.abs(grown.vectors(np.arange(2000, 2300)) - new).max() <= step  # new rows after the old ones
    again = extend_store(store, np.arange(100, 2000), new, growth=2.0, codes=codes)  # rows 0..99 removed
    # kept rows are coded again under the same ranges: the very same stored rows
    assert again is not None and np.array_equal(again.vectors(np.arange(1900)), store.vectors(np.arange(100, 2000)))
    for q in new[:20]:  # a new row is found by its own vector
        assert grown.search(q, 1)[0][0] in range(2000, 2300)
    assert extend_store(store, None, _vectors(2001, 3), growth=2.0, codes=codes) is None  # past 2x: train anew
    assert extend_store(store, None, new, growth=2.0, codes="float16") is None  # other codes: a new store


def test_an_int8_flat_store_keeps_its_ranges_until_it_has_grown() -> None:
    x, new = _vectors(1000, 1), _vectors(300, 2)
    store = build_store(x, "flat", codes="int8")
    grown = extend_store(store, np.arange(50, 1000), new, growth=2.0, codes="int8")
    assert grown is not None and grown.kind == "flat" and grown.trained_rows == 1000
    assert np.array_equal(grown.vectors(np.arange(950)), store.vectors(np.arange(50, 1000)))  # no drift
    assert np.abs(grown.vectors(np.arange(950, 1250)) - new).max() <= 1.4 / 255
    assert extend_store(store, None, _vectors(1001, 3), growth=2.0, codes="int8") is None
    assert extend_store(build_store(x, "flat", codes="float32"), None, new, growth=2.0, codes="float32") is None


def test_add_articles_to_an_ivf_index_does_not_retrain_until_it_has_grown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "APPROX_FROM", 50)  # IVF from 50 chunks, for a small test
    trained: list[int] = []
    real_train = faiss.IndexIVFScalarQuantizer.train  # the int8 IVF index

    def counting_train(self: Any, x: np.ndarray) -> Any:  # k-means runs unless the lists' centroids are given
        if self.quantizer.ntotal != self.nlist:
            trained.append(len(x))
        return real_train(self, x)

    monkeypatch.setattr(faiss.IndexIVFScalarQuantizer, "train", counting_train)
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
        embedded = embedder.embed_chunks([after.chunks[row].text], [[]])[0][0]
        assert np.abs(after.chunk_vectors[row] - embedded).max() <= 1.4 / 255
    add_articles(root, _articles(40, 3, "c"), embedder=embedder)  # past 1.5x the trained rows
    assert len(trained) == 2 and read_manifest(root)[1]["vectors"]["trained_rows"] == len(load_index(root).chunks)


def test_rows_outside_the_int8_ranges_train_them_again(tmp_path: Path) -> None:
    """A store trained on one article's rows has narrow ranges: the next article's rows would be
    clipped (cosine 0.6 to 0.8 to their vectors, found in review), so the ranges are trained again."""
    one = _vectors(2, 4)
    store = build_store(one, "flat", codes="int8")
    assert extend_store(store, None, _vectors(2, 5), growth=2.0, codes="int8") is None
    assert extend_store(store, None, one[:1], growth=2.0, codes="int8") is not None  # inside: kept
    embedder, root = HashingEmbedder(dim=32), tmp_path / "index"
    settings = IndexSettings(embedder=embedder.name, chunk_size=200, chunk_overlap=0, chunk_codes="int8")
    add_articles(root, _articles(1, 6, "a"), settings, embedder)
    add_articles(root, _articles(1, 7, "b"), embedder=embedder)
    data = load_index(root)
    embedded = embedder.embed_chunks([c.text for c in data.chunks], [[] for _ in data.chunks])[0]
    stored = np.asarray(data.chunk_vectors, dtype=np.float32)
    cosines = (stored * embedded).sum(axis=1) / np.linalg.norm(stored, axis=1) / np.linalg.norm(embedded, axis=1)
    assert cosines.min() > 0.99, cosines


def test_an_ivf_store_trains_its_ranges_again_but_not_its_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors_module, "APPROX_FROM", 50)
    narrow = _vectors(400, 8) * 0.5  # rows of half length: the ranges are narrower than the new rows need
    store = build_store(narrow, "ivf", codes="int8")
    new = _vectors(50, 9)
    grown = extend_store(store, None, new, growth=2.0, codes="int8")
    assert grown is not None and grown.kind == "ivf" and grown.trained_rows == 400
    assert np.array_equal(_centroids(grown), _centroids(store))  # the same lists: no k-means
    assert np.abs(grown.vectors(np.arange(400, 450)) - new).max() <= 1.4 / 255 * 2
    assert np.abs(grown.vectors(np.arange(400)) - narrow).max() <= 1.4 / 255 * 2


def test_a_mapped_store_altered_while_articles_are_embedded_is_not_written_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store large enough to be memory-mapped is read again when articles are added to it: a file
    altered since it was loaded (and checked) must not become part of a new, valid-looking generation
    (found in review: it did, with the old rows moved by up to 1.5)."""
    import index.store.generations as generations_module

    monkeypatch.setattr(generations_module, "MMAP_FROM_BYTES", 0)  # every store is memory-mapped
    embedder, root = HashingEmbedder(dim=32), tmp_path / "index"
    add_articles(root, _articles(20, 1, "a"), _settings(embedder), embedder)
    live = (root / "CURRENT").read_text()

    class Altering(HashingEmbedder):
        def embed_chunks(self, texts: Any, spans: Any) -> Any:
            path = root / live.strip() / "chunks.faiss"
            raw = bytearray(path.read_bytes())
            raw[len(raw) // 2 : len(raw) // 2 + 100] = bytes(100)
            path.write_bytes(bytes(raw))
            return super().embed_chunks(texts, spans)

    with pytest.raises(CorruptIndexError, match="changed since it was loaded"):
        add_articles(root, _articles(2, 2, "b"), embedder=Altering(dim=32))
    assert (root / "CURRENT").read_text() == live  # nothing written over the last generation

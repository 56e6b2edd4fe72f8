"""The vector store seam: flat and IVF FAISS stores agree with NumPy, filter, save and reload (tiny synthetic data)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.build import add_articles
from index.embed import HashingEmbedder
from index.errors import SettingsError
from index.records import Article
from index.settings import IndexSettings
from index.store.codes import DEFAULT_CODES, ChunkCodes
from index.store.generations import read_manifest
from index.store.vectors import FaissStore, StoredRows, build_store, read_store


def _vectors(n: int = 3000, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    x = centres[rng.integers(0, 40, n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# the most a stored row may differ from the row given, per component: float16 keeps ~11 bits; int8 is
# at most half a step of a per-dimension range (<= 2 * 1.4 / 255 with its margins for unit vectors); a wrong
# row is ~0.3 off
TOLERANCE = {"float32": 0.0, "float16": 1e-3, "int8": 1.4 / 255}
SCORE_TOLERANCE = {"float32": 1e-6, "float16": 1e-3, "int8": 5e-3}  # an inner product with a unit query (32 dims)


def _brute(x: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    scores = x @ q
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    return np.argsort(-scores, kind="stable")[:k]


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("codes", ["float32", "float16", "int8"])
def test_search_agrees_with_numpy(kind: str, codes: ChunkCodes) -> None:
    x = _vectors()
    store = build_store(x, kind, nprobe=64 if kind == "ivf" else 0, codes=codes)  # type: ignore[arg-type]
    assert store.kind == kind and store.codes == codes and len(store) == len(x)
    stored = store.vectors(np.arange(len(x)))
    assert np.abs(stored - x).max() <= TOLERANCE[codes]
    hits = 0
    for q in x[:50]:
        rows, scores = store.search(q, 10)
        assert np.allclose(scores, stored[rows] @ q, atol=1e-5)  # FAISS scores the stored rows
        assert list(scores) == sorted(scores, reverse=True)
        if kind == "flat":  # exact search over the stored rows: every row found scores (on the rows
            # given) within twice the coding error of the exact 10th best
            assert rows.tolist() == _brute(stored, q, 10).tolist()
            exact = x @ q
            assert np.sort(exact)[-10] - exact[rows].min() <= 2 * SCORE_TOLERANCE[codes]
        hits += len(set(rows.tolist()) & set(_brute(x, q, 10).tolist()))  # against the rows given
    # int8 swaps near ties: these clusters hold ~75 rows a few thousandths apart (0.94 measured)
    assert hits / 500 >= (1.0 if (kind, codes) == ("flat", "float32") else 0.9 if codes == "int8" else 0.95)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("allowed_every", [7, 500])  # a broad filter (IVF probes) and a narrow one (exact)
def test_filters_return_only_allowed_rows(kind: str, allowed_every: int) -> None:
    x = _vectors()
    store = build_store(x, kind)  # type: ignore[arg-type]
    allowed = np.zeros(len(x), bool)
    allowed[::allowed_every] = True
    rows, _ = store.search(x[1], 10, allowed)
    assert len(rows) == min(10, int(allowed.sum()))
    assert allowed[rows].all()
    if allowed_every == 500:  # searched exactly: the same rows as NumPy
        assert rows.tolist() == _brute(x, x[1], 10, allowed)[: len(rows)].tolist()
    assert store.search(x[1], 10, np.zeros(len(x), bool))[0].size == 0


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("mapped", [False, True])
@pytest.mark.parametrize("codes", ["float32", "int8"])
def test_save_and_read_back_give_identical_results(tmp_path: Path, kind: str, mapped: bool, codes: ChunkCodes) -> None:
    x = _vectors()
    store = build_store(x, kind, codes=codes)  # type: ignore[arg-type]
    entry = store.save(tmp_path / "v.faiss")
    assert entry["kind"] == kind and entry["codes"] == codes
    source = tmp_path / "v.faiss" if mapped else (tmp_path / "v.faiss").read_bytes()
    again = read_store(source, entry, x.shape[1])
    assert again.codes == codes
    for q in x[:5]:
        assert np.array_equal(store.search(q, 10)[0], again.search(q, 10)[0])
    assert np.array_equal(again.vectors([3, 1]), store.vectors([3, 1]))
    assert np.abs(again.vectors([3, 1]) - x[[3, 1]]).max() <= TOLERANCE[codes]
    assert again.all_finite()
    rows = again.as_array()
    assert rows.shape == x.shape and np.array_equal(rows[[2, 5]], store.vectors([2, 5]))
    assert isinstance(rows, StoredRows) == (kind == "ivf" or codes != "float32")  # float32 flat: a view


def test_int8_codes_take_a_quarter_of_the_bytes(tmp_path: Path) -> None:
    x = _vectors(3000, dim=384)
    sizes = {}
    for codes in ("float32", "float16", "int8"):
        build_store(x, "flat", codes=codes).save(tmp_path / codes)  # type: ignore[arg-type]
        sizes[codes] = (tmp_path / codes).stat().st_size / len(x)
    assert 1536 <= sizes["float32"] < 1540 and 768 <= sizes["float16"] < 772 and 384 <= sizes["int8"] < 388


def test_read_refuses_a_file_that_is_not_what_the_manifest_says(tmp_path: Path) -> None:
    x = _vectors(300)
    build_store(x, "flat", codes="int8").save(tmp_path / "v.faiss")
    with pytest.raises(ValueError, match="manifest says ivf"):
        read_store(tmp_path / "v.faiss", {"kind": "ivf", "codes": "int8", "nprobe": 4}, x.shape[1])
    with pytest.raises(ValueError, match="int8 codes, the manifest says float32"):
        read_store(tmp_path / "v.faiss", {"kind": "flat"}, x.shape[1])  # formats 1 and 2 hold float32
    with pytest.raises(ValueError, match="dimension"):
        read_store(tmp_path / "v.faiss", {"kind": "flat", "codes": "int8"}, 7)
    with pytest.raises(ValueError, match="kind"):
        read_store(tmp_path / "v.faiss", {"kind": "hnsw"}, x.shape[1])


def test_auto_kind_follows_corpus_size() -> None:
    assert build_store(_vectors(100), "auto").kind == "flat"
    assert isinstance(build_store(np.zeros((0, 8), np.float32)), FaissStore)


def test_the_manifest_records_the_store_kind(tmp_path: Path, articles: list[Article]) -> None:
    embedder = HashingEmbedder(64)
    assert IndexSettings().chunk_codes == DEFAULT_CODES
    add_articles(tmp_path / "ix", articles, IndexSettings(embedder="hashing-64", chunk_codes="int8"), embedder)
    _, manifest = read_manifest(tmp_path / "ix")
    chunks = manifest["counts"]["chunks"]
    assert manifest["vectors"] == {"kind": "flat", "codes": "int8", "trained_rows": chunks}
    add_articles(tmp_path / "f32", articles, IndexSettings(embedder="hashing-64", chunk_codes="float32"), embedder)
    assert read_manifest(tmp_path / "f32")[1]["vectors"] == {"kind": "flat", "codes": "float32"}


def test_asking_does_not_import_the_ui_or_plotting() -> None:
    heavy = "('gradio', 'matplotlib', 'ui.web')"
    code = f"import sys, ui.cli, qa.assistant; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_rows_read_from_a_store_outlive_it() -> None:
    # a view of FAISS's memory must keep the index alive: once freed, the rows read garbage (5.28 off
    # before the fix) or crash the process, so the check runs in a child process
    code = (
        "import gc, numpy as np; from index.store.vectors import build_store; "
        "x = np.random.default_rng(0).normal(size=(50000, 64)).astype(np.float32); "
        "rows = np.asarray(build_store(x, 'flat', codes='float32').as_array())[100:200]; gc.collect(); "
        "junk = [np.ones(10**6) for _ in range(20)]; print(float(np.abs(rows - x[100:200]).max()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "0.0", out.stderr[-300:]


def test_unknown_chunk_codes_are_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="chunk_codes='int4': must be one of float32, float16, int8"):
        IndexSettings(chunk_codes="int4")  # type: ignore[arg-type]

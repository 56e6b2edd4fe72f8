"""The int8 ONNX embedder: made offline from the installed weights, close to the float model,
cached with a checksum, rebuilt when damaged, and enough to answer without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.build import add_articles
from index.embed import int8 as onnx_embed
from index.embed import make_embedder
from index.embed.int8 import OnnxInt8Embedder, ensure_int8_model
from index.embed.sbert import SentenceTransformerEmbedder
from index.records import Article
from index.settings import IndexSettings

pytestmark = pytest.mark.slow

TEXTS = [
    "Lavrov called for an urgent ceasefire in Gaza and the opening of humanitarian corridors.",
    "Wheat farmers lost half of their harvest. Rain had not fallen since May.",
    "The council voted 7 to 2 to build twelve miles of protected bike lanes.",
]
SPANS = [[(0, 88)], [(0, 41), (42, 72)], [(0, 71)]]


@pytest.fixture(scope="module")
def int8() -> OnnxInt8Embedder:
    embedder = make_embedder("all-MiniLM-L6-v2:int8")
    assert isinstance(embedder, OnnxInt8Embedder)
    return embedder


def test_int8_vectors_stay_close_to_the_float_model(int8: OnnxInt8Embedder) -> None:
    float_model = SentenceTransformerEmbedder()
    assert int8.name == "all-MiniLM-L6-v2:int8" and int8.dim == float_model.dim == 384
    chunks, sentences = int8.embed_chunks(TEXTS, SPANS)
    ref_chunks, ref_sentences = float_model.embed_chunks(TEXTS, SPANS)
    assert chunks.shape == ref_chunks.shape and sentences.shape == ref_sentences.shape == (4, 384)
    assert np.allclose(np.linalg.norm(chunks, axis=1), 1.0, atol=1e-5)
    assert float((chunks * ref_chunks).sum(axis=1).min()) > 0.97
    assert float((sentences * ref_sentences).sum(axis=1).min()) > 0.95
    query = int8.embed_query("What did Lavrov call for?")
    assert float(query @ float_model.embed_query("What did Lavrov call for?")) > 0.97
    # the query finds its own chunk, and a sentence vector is its own sentence's
    assert int(np.argmax(chunks @ query)) == 0
    own = float_model._get_model().encode(["Rain had not fallen since May."], normalize_embeddings=True)[0]
    assert float(sentences[2] @ own) > float(sentences[1] @ own)


def test_vectors_are_repeatable_and_barely_depend_on_batch_neighbours(int8: OnnxInt8Embedder) -> None:
    """Dynamic int8 quantization scales activations per batch, so a text's vector moves a little
    with its neighbours (sorted by length, padded); the same batch always gives the same vectors."""
    together, _ = int8.embed_chunks(TEXTS, SPANS)
    assert np.array_equal(together, int8.embed_chunks(TEXTS, SPANS)[0])
    alone = np.stack([int8.embed_chunks([t], [s])[0][0] for t, s in zip(TEXTS, SPANS, strict=True)])
    assert float((together * alone).sum(axis=1).min()) > 0.98


def test_the_cached_model_is_reused_and_a_damaged_one_rebuilt(
    int8: OnnxInt8Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert int8.dim == 384  # the cache entry exists
    entry, meta = ensure_int8_model("all-MiniLM-L6-v2")
    assert meta["sha256"] and (entry / "model.onnx").stat().st_size > 1_000_000

    def no_export(model: str, target: Path) -> None:
        raise AssertionError("a valid cache entry must not be exported again")

    with monkeypatch.context() as patch:
        patch.setattr(onnx_embed, "export_int8", no_export)
        assert ensure_int8_model("all-MiniLM-L6-v2")[0] == entry
    model = entry / "model.onnx"
    good = model.read_bytes()
    model.write_bytes(good[: len(good) // 2])  # a crash mid-copy, a full disk
    rebuilt, meta = ensure_int8_model("all-MiniLM-L6-v2")
    assert rebuilt == entry and model.read_bytes() == good
    assert not list(entry.parent.glob(".export-*"))  # no work folder left behind


def test_asking_an_int8_index_does_not_import_torch(
    tmp_path: Path, articles: list[Article], int8: OnnxInt8Embedder
) -> None:
    root = tmp_path / "idx"
    add_articles(root, articles, IndexSettings(chunk_size=300, chunk_overlap=0), int8)
    script = (
        "import sys, json\n"
        "from qa import load_assistant\n"
        f"a = load_assistant({str(root)!r})\n"
        "ans = a.ask('Which growers suffered from the lack of rainfall?')\n"
        "print(json.dumps([a.data.articles[ans.passages[0].article_id].title, 'torch' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    title, torch_loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert title == "Drought hits wheat farmers"
    assert torch_loaded is False

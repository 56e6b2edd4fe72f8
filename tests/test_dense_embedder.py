"""An embedder with a Dense (projection) layer after pooling (issue 16): sentence vectors go through it too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dense_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The packaged MiniLM with a 64-d Dense projection and Normalize after its pooling, saved locally."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense, Normalize

    from index.embed.base import packaged_model_path

    base = SentenceTransformer(str(packaged_model_path()), device="cpu")
    torch.manual_seed(0)
    dense = Dense(384, 64, bias=False, activation_function=torch.nn.Identity())
    model = SentenceTransformer(modules=[base[0], base[1], dense, Normalize()], device="cpu")
    path = tmp_path_factory.mktemp("dense") / "minilm-dense64"
    model.save(str(path))
    return str(path)


def test_sentence_vectors_have_the_chunk_vectors_dimension(dense_model: str, tmp_path: Path) -> None:
    from index.build import add_articles
    from index.embed.sbert import SentenceTransformerEmbedder
    from index.records import make_article
    from index.settings import IndexSettings

    embedder = SentenceTransformerEmbedder(dense_model)
    text = "The ferry line opened on Monday. Tickets cost $12. The first boat left at seven."
    chunks, sentences = embedder.embed_chunks([text], [[(0, 32), (33, 50)]])
    assert chunks.shape == (1, 64) and sentences.shape == (2, 64) and embedder.dim == 64
    assert np.allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-5)
    # a sentence's vector is near the model's own vector for that sentence (same space)
    alone = embedder.embed_query("Tickets cost $12.")
    assert float(sentences[1] @ alone) > 0.5
    report = add_articles(tmp_path / "idx", [make_article(text, title="Ferry")],
                          IndexSettings(embedder=dense_model), embedder)  # fmt: skip
    assert report.added == 1

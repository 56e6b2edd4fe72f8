"""The embedder's build (for int8: opset, recipe, onnxruntime version, model checksum) is kept in the
index manifest (issue 16), so that an upgrade that changes query vectors is detected, not a silent drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import add_articles
from index.embed import HashingEmbedder
from index.errors import IndexMismatchError
from index.settings import IndexSettings
from index.store.generations import current_generation, load_index

from .conftest import tiny_articles


class BuiltEmbedder(HashingEmbedder):
    """The hashing embedder, reporting a build as the int8 embedder does."""

    def __init__(self, sha256: str) -> None:
        super().__init__(dim=64)
        self._sha = sha256

    @property
    def build(self) -> dict[str, str]:
        return {"runtime": "onnxruntime-int8", "opset": "17", "recipe": "2", "sha256": self._sha}


def test_the_build_is_recorded_and_a_changed_build_is_refused(tmp_path: Path) -> None:
    from index.embed.base import check_embedder_build

    root = tmp_path / "idx"
    settings = IndexSettings(embedder="hashing", chunk_size=400, chunk_overlap=0)
    articles = tiny_articles()
    add_articles(root, articles[:2], settings, BuiltEmbedder("aaa"))
    generation = current_generation(root)
    assert generation is not None
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["embedder"]["build"]["sha256"] == "aaa" and manifest["embedder"]["build"]["opset"] == "17"
    assert load_index(root).embedder_build["sha256"] == "aaa"
    add_articles(root, articles[2:3], embedder=BuiltEmbedder("aaa"))  # same build: added
    with pytest.raises(IndexMismatchError, match=r"the embedding model changed since the index was built.*--rebuild"):
        add_articles(root, articles[3:], embedder=BuiltEmbedder("bbb"))
    check_embedder_build(root, load_index(root).embedder_build, BuiltEmbedder("aaa"))
    with pytest.raises(IndexMismatchError, match="sha256 'aaa' -> 'bbb'"):
        check_embedder_build(root, load_index(root).embedder_build, BuiltEmbedder("bbb"))
    check_embedder_build(root, {}, BuiltEmbedder("bbb"))  # an index from before builds were recorded: no check


def test_an_assistant_refuses_an_index_built_by_another_build(tmp_path: Path) -> None:
    from qa import Assistant, QASettings

    root = tmp_path / "idx"
    add_articles(
        root, tiny_articles(), IndexSettings(embedder="hashing", chunk_size=400, chunk_overlap=0), BuiltEmbedder("aaa")
    )
    assert (
        not Assistant(root, BuiltEmbedder("aaa"), QASettings(entities=False))
        .ask("Who opened the ferry line?")
        .abstained
    )
    with pytest.raises(IndexMismatchError, match="sha256 'aaa' -> 'bbb'"):
        Assistant(root, BuiltEmbedder("bbb"), QASettings(entities=False))

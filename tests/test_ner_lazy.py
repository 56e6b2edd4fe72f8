"""The named-entity model loads cheaply: only its NER pipe, the default tokenizer, in the
background when the question is known to ask for a name (issue 16 item 12)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from index.records import make_article
from qa import QASettings
from qa.assistant import load_assistant
from qa.ner import MODEL_PACKAGE, NOT_LOADED, EntityTagger
from tests.conftest import small_index

SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Berlin, and the European Central Bank raised rates.",
    "US forces captured President Nicolás Maduro in Caracas on Saturday, officials said.",
    "Rory McIlroy won the Masters at Augusta National for a second straight year.",
    "The ship docked at Tenerife in the Canary Islands after the storm over the Atlantic.",
    "Microsoft cut 4,800 jobs, The Wall Street Journal reported on Jan. 8, 2026.",
    "“Stopping the bloodshed” is the aim, Sergey Lavrov told the UN Security Council.",
    "Dr. Smith's visit to St. Louis, Mo., can't wait until Sept. 3rd at 5 p.m.",
]


def test_only_the_ner_pipe_is_loaded() -> None:
    """The old tagger loaded all six pipes and switched four off: twice the load, and ran tok2vec,
    which only the tagger and the parser read."""
    tagger = EntityTagger()
    assert tagger.components == ()  # nothing loads before the first sentence
    assert tagger.entities(["Angela Merkel visited Paris."]) is not None
    assert tagger.components == ("ner",)


def test_the_lean_model_tags_as_the_full_pipeline_did() -> None:
    """NER has its own token-to-vector layer, and the language's default tokenizer is the saved one:
    leaving the rest out changes no entity (checked on 6,000 realtimeqa 2026 sentences when made)."""
    import sys

    lean = EntityTagger().entities(SENTENCES)
    hide_torch = "torch" not in sys.modules  # as EntityTagger does: thinc would import torch
    if hide_torch:
        sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        full = __import__(MODEL_PACKAGE).load()
    finally:
        if hide_torch and sys.modules.get("torch", False) is None:
            del sys.modules["torch"]
    full.select_pipes(enable=["tok2vec", "ner"])
    assert lean == [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in full.pipe(SENTENCES)]
    assert sum(map(len, lean)) >= 15  # the sentences name things: the comparison is not vacuous
    saved = full.tokenizer.to_bytes(exclude=["vocab"])
    default = __import__(MODEL_PACKAGE).load(exclude=list(NOT_LOADED)).tokenizer.to_bytes(exclude=["vocab"])
    assert default == saved, "the model's tokenizer is no longer the language default: stop excluding it"


def test_preload_loads_in_the_background_and_entities_wait_for_it() -> None:
    tagger = EntityTagger()
    tagger.preload()
    loading = [t for t in threading.enumerate() if t.name == "entity-tagger-load"]
    assert loading, "preload starts a thread"
    found = tagger.entities(["Angela Merkel visited Paris."])  # waits for the load, never loads twice
    assert found is not None and ("PERSON" in {label for _, _, label in found[0]})
    for thread in loading:
        thread.join(timeout=60)
    assert tagger.components == ("ner",)
    missing = EntityTagger(package="no_such_spacy_model_package")
    missing.preload()
    assert missing.entities(["Berlin"]) is None and not missing.available


@pytest.mark.parametrize(
    ("asking", "entities", "preloads"),
    [
        (["Who met Emmanuel Macron in Berlin?"], True, True),
        (["Where did Angela Merkel meet him?"], True, True),
        (["Which bank raised rates?"], True, True),
        (["What did the bank do?"], True, False),
        (["How many jobs were cut?"], True, False),
        ([], True, False),
        (["   "], True, False),  # a question ask refuses needs no model
        (["Who met Emmanuel Macron in Berlin?"], False, False),  # entities off: no tagger at all
    ],
)
def test_load_assistant_preloads_the_tagger_only_for_name_questions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asking: list[str], entities: bool, preloads: bool
) -> None:
    started: list[EntityTagger] = []
    monkeypatch.setattr(EntityTagger, "preload", lambda self: started.append(self))
    embedder = HashingEmbedder(dim=64)
    root = small_index(tmp_path / "index", [make_article("Angela Merkel met Emmanuel Macron in Berlin.")], embedder)
    assistant = load_assistant(root, QASettings(entities=entities), embedder, asking=asking)
    assert bool(started) is preloads
    if preloads:
        assert started == [assistant.tagger]  # the tagger the answers use, not another

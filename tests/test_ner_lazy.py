"""The named-entity model loads cheaply: only its NER pipe and the language's default tokenizer,
on the first sentence that needs it (issue 16 item 12)."""

from __future__ import annotations

from qa.ner import MODEL_PACKAGE, EntityTagger
from qa.ner_worker import NOT_LOADED

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

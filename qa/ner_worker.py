"""spaCy's named-entity pipe, loaded without torch; and a worker process that serves it over pipes.

``load_pipeline`` is what ``qa.ner.EntityTagger`` loads in its own process. Run as a script
(``python -P qa/ner_worker.py PACKAGE``), this file loads the same pipeline in a process of
its own and answers requests on stdin, one JSON line each: a list of texts in, a list of
``[start, end, label]`` lists out (``null`` when the package is not installed). A cold
``newsqa ask`` that asks for a name starts it first, so that spaCy loads on the second core
while the index loads on the first (docs/benchmarks/cold_cli.md). The worker ends when its
stdin closes, which happens when the process that started it exits.

It imports nothing from the project: run by its path, it must not import ``qa`` (whose
package imports the index), and ``-P`` keeps the folder of this file out of ``sys.path``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# what the model package holds and NER does not read: the other pipes, and the saved tokenizer
# (the language's default tokenizer, built anyway when the pipeline is made, is the same one)
NOT_LOADED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "tokenizer")


def load_pipeline(package: str) -> Any:
    """The ``ner`` pipe of ``package`` (a spaCy model package), or None when it is not installed."""
    # spaCy's thinc imports torch when it can (seconds of start-up) and does not need it for this
    # CPU model: hide torch while spaCy loads, unless something loaded it already
    hide_torch = "torch" not in sys.modules
    if hide_torch:
        sys.modules["torch"] = None  # type: ignore[assignment]  # "import torch" now fails fast
    try:
        module = __import__(package)
        return module.load(exclude=list(NOT_LOADED))
    except ImportError:
        return None
    finally:
        if hide_torch and sys.modules.get("torch", False) is None:
            del sys.modules["torch"]  # a later "import torch" works as usual


def tag(nlp: Any, texts: list[str]) -> list[list[list[Any]]]:
    """``[start, end, label]`` of every entity of each text."""
    return [[[e.start_char, e.end_char, e.label_] for e in doc.ents] for doc in nlp.pipe(texts)]


def serve(package: str) -> None:
    """Load the pipeline, then answer one request line after another until stdin closes."""
    import warnings

    warnings.filterwarnings("ignore")  # the caller's stderr is not the place for spaCy's notes
    nlp = load_pipeline(package)
    for line in sys.stdin:
        texts = json.loads(line)
        reply = None if nlp is None else tag(nlp, [str(t) for t in texts])
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(sys.argv[1])

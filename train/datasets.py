"""The dev sets the reader is trained and evaluated on: a datasets folder -> cached ``Example`` files.

Which set may be trained on is fixed here (``TRAIN_SETS``), after the datasets folder's README.md:
realtimeqa_reading, realtimeqa_2023 and realtimeqa_2025 train; realtimeqa_2026 and quail_news
(text-based questions) are test sets, only reported on.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from train.collect import Example, Mode, collect, load_questions, read_examples, reading_corpus


class DatasetsMissingError(RuntimeError):
    """The datasets folder (or one of its files) is not there."""


@dataclass(frozen=True)
class DevSet:
    """A dev set: its folder name, the ``meta`` subset used, the modes collected, trainable or not."""

    name: str
    subset: str | None
    modes: tuple[Mode, ...]
    trainable: bool


SETS: dict[str, DevSet] = {
    s.name: s
    for s in (
        DevSet("realtimeqa_reading", None, ("gold", "filtered"), True),
        DevSet("realtimeqa_2023", None, ("gold", "filtered"), True),
        DevSet("realtimeqa_2025", None, ("gold", "filtered"), True),
        DevSet("realtimeqa_2026", None, ("gold",), False),
        DevSet("quail_news", "text_based", ("gold",), False),
    )
}
TRAIN_SETS = tuple(name for name, s in SETS.items() if s.trainable)
TEST_SETS = tuple(name for name, s in SETS.items() if not s.trainable)


def _require(path: Path) -> Path:
    if not path.exists():
        raise DatasetsMissingError(
            f"{path}: not found. The development datasets live outside the repository, in a folder "
            "of their own (format: eval/README.md), and are never copied into it: pass --datasets DIR."
        )
    return path


def _index(dev: DevSet, datasets: Path, indexes: Path, scratch: Path) -> Path:
    """The set's index under ``indexes`` (``idx-NAME``), built there when missing; realtimeqa_reading's
    (its passages, one article each) under ``scratch``."""
    from index.embed import DEFAULT_MODEL, make_embedder

    root = (scratch if dev.name == "realtimeqa_reading" else indexes) / f"idx-{dev.name}"
    if dev.name == "realtimeqa_reading":
        from index.build import add_articles
        from index.settings import IndexSettings
        from index.store.generations import current_generation

        if current_generation(root) is None:
            _, articles = reading_corpus(_require(datasets / dev.name / "qa.jsonl"))
            add_articles(root, articles, IndexSettings(embedder=DEFAULT_MODEL), make_embedder(DEFAULT_MODEL))
        return root
    from eval.corpus import build_or_reuse, choose_embedder, load_articles

    path = _require(datasets / dev.name / "articles.jsonl")
    embedder = choose_embedder(None, root)
    build_or_reuse(path, load_articles(path), root, embedder)
    return root


def examples(name: str, datasets: Path, indexes: Path, scratch: Path) -> list[Example]:
    """The set's examples, collected once into ``scratch/examples/NAME.jsonl`` and read from there after."""
    dev = SETS[name]
    cached = scratch / "examples" / f"{name}.jsonl"
    if cached.exists():
        return read_examples(cached)
    qa_path = _require(datasets / name / "qa.jsonl")
    if name == "realtimeqa_reading":
        questions, _ = reading_corpus(qa_path)
    else:
        questions = load_questions(qa_path, dev.subset)
    root = _index(dev, datasets, indexes, scratch)
    from qa import load_assistant

    assistant = load_assistant(root)
    assistant.warm_up()
    started = time.perf_counter()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    found: list[Example] = []
    with partial.open("w", encoding="utf-8") as handle:
        for example in collect(assistant, name, questions, dev.modes):
            handle.write(example.to_json() + "\n")
            found.append(example)
    partial.replace(cached)
    print(f"collected {name}: {len(found)} examples in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return found

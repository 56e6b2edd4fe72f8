"""Train the reader: ``python -m train --datasets DIR --out qa/models/reader``.

    python -m train --datasets DATASETS --out qa/models/reader \
        [--indexes DIR] [--scratch DIR]

1. collects each dev set's candidate sentences through the project's own retrieval and answer
   step (cached in ``--scratch``, outside the repository: they hold dataset text; indexes are
   read from ``--indexes``/idx-SET and built there when missing);
2. evaluates across years: fit on realtimeqa_reading + 2023, report 2025; fit on reading + 2025,
   report 2023;
3. fits on all training sets (train/datasets.py: reading, 2023, 2025; never 2026 or quail),
   chooses the answerable threshold on quail_news's text-based questions (the highest that
   declines at most 10% of its answerable questions) and reports every set;
4. writes ``reader.json`` (weights), ``checksums.json`` (sha256), ``figures.json`` and
   ``MODEL_CARD.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from qa.reader.model import CHECKSUMS, MODEL_DIR, WEIGHTS, Reader
from qa.settings import QASettings
from train.card import model_card
from train.datasets import TEST_SETS, TRAIN_SETS, DatasetsMissingError, examples
from train.evaluate import DEFAULT_SCRATCH, table
from train.fit import fit_reader
from train.metrics import SetFigures, figures, query_embedder, score, threshold_for

ANSWERABLE_DECLINED = 0.10  # the answerable threshold declines at most this share of quail's answerable questions
SPAN_THRESHOLD = 0.3  # under it the answer is the best sentence, not a short phrase
THRESHOLD_SET = "quail_news"


def cross_years(train_sets: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Each training year held out in turn (realtimeqa_reading always trains): (held, fitted on)."""
    return [(held, tuple(n for n in train_sets if n != held)) for held in train_sets if held != "realtimeqa_reading"]


def write_model(
    reader: Reader, out: Path, rows: Sequence[SetFigures], cross: Sequence[SetFigures], meta: dict[str, object]
) -> None:
    """The weights, their checksum, the figures and the model card, into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    raw = (json.dumps(reader.to_dict(), indent=1) + "\n").encode("utf-8")
    (out / WEIGHTS).write_bytes(raw)
    sums = {WEIGHTS: hashlib.sha256(raw).hexdigest()}
    (out / CHECKSUMS).write_text(json.dumps(sums, indent=2) + "\n", encoding="utf-8")
    report = {"meta": meta, "final": [r.to_dict() for r in rows], "cross_year": [r.to_dict() for r in cross]}
    (out / "figures.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "MODEL_CARD.md").write_text(model_card(reader, table(rows), table(cross), meta), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description="Train the reader (qa/reader).")
    parser.add_argument("--datasets", type=Path, required=True, help="the development datasets folder")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--indexes", type=Path, default=None, help="folder of idx-SET indexes (default: --scratch)")
    parser.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH)
    parser.add_argument(
        "--train-sets", nargs="+", default=list(TRAIN_SETS), choices=TRAIN_SETS, help="default: all three"
    )
    args = parser.parse_args(argv)
    if not args.datasets.is_dir():
        print(
            f"error: --datasets {args.datasets}: not found; pass the development datasets folder (eval/README.md)",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    try:
        indexes = args.indexes or args.scratch
        data = {n: examples(n, args.datasets, indexes, args.scratch) for n in (*args.train_sets, *TEST_SETS)}
    except DatasetsMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    collected = time.perf_counter() - started
    rules_threshold = QASettings().abstain_below
    embed = query_embedder()
    cross: list[SetFigures] = []
    for held, fitted_on in cross_years(args.train_sets):
        reader = fit_reader([e for n in fitted_on for e in data[n]], SPAN_THRESHOLD, embed=embed)
        scored = score(reader, data[held], embed)
        gold = [s.answerable for s in scored if s.example.mode == "gold" and s.example.question.answerable]
        threshold = threshold_for(gold, ANSWERABLE_DECLINED)  # the held-out year's own, for its AUC-like figures
        cross.append(
            replace(figures(held, scored, threshold, rules_threshold), name=f"{held} (fit on {' + '.join(fitted_on)})")
        )
    fit_started = time.perf_counter()
    reader = fit_reader([e for n in args.train_sets for e in data[n]], SPAN_THRESHOLD, embed=embed)
    fit_seconds = time.perf_counter() - fit_started
    chooser = score(reader, data[THRESHOLD_SET], embed)
    answerable = [s.answerable for s in chooser if s.example.question.answerable]
    reader = replace(reader, answerable_threshold=threshold_for(answerable, ANSWERABLE_DECLINED))
    rows = [figures(n, score(reader, data[n], embed), reader.answerable_threshold, rules_threshold) for n in data]
    meta: dict[str, object] = {
        "examples": {n: len(v) for n, v in data.items()},
        "train_sets": list(args.train_sets),
        "test_sets": list(TEST_SETS),
        "threshold_set": THRESHOLD_SET,
        "answerable_threshold": round(reader.answerable_threshold, 4),
        "span_threshold": SPAN_THRESHOLD,
        "collect_seconds": round(collected, 1),
        "fit_seconds": round(fit_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
    }
    write_model(reader, args.out, rows, cross, meta)
    print(table(rows))
    print(table(cross))
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

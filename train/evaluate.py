"""Report the shipped reader beside the current rules, per dev set: ``python -m train.evaluate``.

    python -m train.evaluate --datasets DATASETS [--indexes DIR] [--scratch DIR]

Reads every set's examples (collected once, cached in ``--scratch``, outside the repository),
scores the reader in qa/models/reader/ and the rules' own answers on the same questions,
and prints one table per figure. The answerable threshold is the shipped one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from qa.reader.model import MODEL_DIR, Reader
from qa.settings import QASettings
from train.datasets import SETS, examples
from train.metrics import SetFigures, figures, query_embedder, score

# collected candidates hold dataset text: cached outside the checkout, never in it
DEFAULT_SCRATCH = Path(__file__).resolve().parents[2] / "reader-scratch"

ROWS: tuple[tuple[str, str, str], ...] = (
    ("answering sentence first", "first_reader", "first_rules"),
    ("short answer holds the answer", "short_reader", "short_rules"),
    ("... with at most 12 words", "short_reader_12", "short_rules_12"),
    ("the best span holds the answer (reader) / short answer (rules)", "span_reader", "short_rules"),
    ("answerable declined", "declined_reader", "declined_rules"),
    ("unanswerable declined", "nulls_declined_reader", "nulls_declined_rules"),
    ("answerable-vs-unanswerable AUC", "auc_reader", "auc_rules"),
)


def table(rows: Sequence[SetFigures]) -> str:
    """A Markdown table: one row per figure, a reader / rules column pair per set."""

    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else "–"

    head = "| | " + " | ".join(f"{f.name} ({f.questions}) reader / rules" for f in rows) + " |"
    lines = [head, "|---" * (len(rows) + 1) + "|"]
    lines.append("| a candidate holds the answer | " + " | ".join(cell(f.candidates_hold) for f in rows) + " |")
    for label, mine, theirs in ROWS:
        pairs = [f"{cell(getattr(f, mine))} / {cell(getattr(f, theirs))}" for f in rows]
        lines.append(f"| {label} | " + " | ".join(pairs) + " |")
    return "\n".join(lines)


def evaluate(reader: Reader, datasets: Path, indexes: Path, scratch: Path, names: Sequence[str]) -> list[SetFigures]:
    """The reader's and the rules' figures on each named set."""
    rules_threshold = QASettings().abstain_below
    embed = query_embedder()
    return [
        figures(
            name,
            score(reader, examples(name, datasets, indexes, scratch), embed),
            reader.answerable_threshold,
            rules_threshold,
        )
        for name in names
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, required=True, help="the development datasets folder")
    parser.add_argument("--indexes", type=Path, default=None, help="folder of idx-SET indexes (default: --scratch)")
    parser.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    reader = Reader.load(args.model)
    rows = evaluate(reader, args.datasets, args.indexes or args.scratch, args.scratch, args.sets)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

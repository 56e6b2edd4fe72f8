"""The command line of the evaluation: ``python -m eval run ...`` -> report files, exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from index.errors import NewsQAError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Score newsqa against gold questions.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="build or reuse an index, answer every gold question, write a report")
    run.add_argument("--articles", type=Path, required=True, help="articles: a JSONL file, a text file or a folder")
    run.add_argument("--gold", type=Path, required=True, help="gold questions (JSONL, see eval/README.md)")
    run.add_argument("--out", type=Path, required=True, help="folder for report.md, report.json, rows.jsonl, plots")
    run.add_argument("--index", type=Path, help="index folder to build or reuse (default: OUT/index)")
    run.add_argument("--k", type=int, default=5, help="cutoff of the headline recall@k (default 5)")
    run.add_argument("--subset", help="keep the questions whose meta.SUBSET is true (e.g. text_based)")
    run.add_argument("--limit", type=int, help="only the first N questions")
    run.add_argument("--embedder", help="embedder for a new index: 'hashing' (fast, for tests) or a model name")
    run.add_argument(
        "--rename-duplicate-ids", action="store_true", help="a duplicate question id becomes ID~LINE (with a warning)"
    )
    ablation = commands.add_parser("ablation", help="one row of metrics per cumulative change (issue 5)")
    ablation.add_argument("--articles", type=Path, required=True)
    ablation.add_argument("--gold", type=Path, required=True)
    ablation.add_argument("--index", type=Path, required=True, help="index folder to build or reuse")
    ablation.add_argument("--out", type=Path, required=True, help="folder for ablation.md and ablation.json")
    ablation.add_argument("--subset", help="keep the questions whose meta.SUBSET is true (e.g. text_based)")
    calibrate = commands.add_parser("calibrate", help="choose the abstention threshold on gold sets (issue 5)")
    calibrate.add_argument(
        "--set",
        action="append",
        nargs=4,
        metavar=("NAME", "ARTICLES", "GOLD", "INDEX"),
        required=True,
        help="a gold set: name, articles, gold questions, index folder (repeatable)",
    )
    calibrate.add_argument("--subset", action="append", default=[], metavar="NAME=SUBSET", help="e.g. quail=text_based")
    calibrate.add_argument("--max-false-abstention", type=float, default=0.10)
    calibrate.add_argument("--out", type=Path, required=True, help="folder for calibration.md and calibration.json")
    seed = commands.add_parser("seed-gold", help="rewrite eval/data/seed_gold.jsonl (article id via the ingest)")
    seed.add_argument("--out", type=Path, help="where to write it (default: eval/data/seed_gold.jsonl)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "seed-gold":
        from eval.seed import SEED_GOLD, write_seed_gold

        print(write_seed_gold(args.out or SEED_GOLD))
        return 0
    if args.command == "calibrate":
        from eval.calibrate import GoldSet, calibrate

        subsets = dict(item.split("=", 1) for item in args.subset)
        sets = [GoldSet(n, Path(a), Path(g), Path(i), subsets.get(n)) for n, a, g, i in args.set]
        try:
            sweep = calibrate(sets, args.out, args.max_false_abstention)
        except NewsQAError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print((args.out / "calibration.md").read_text(encoding="utf-8"))
        return 0 if sweep["chosen"] else 1
    if args.command == "ablation":
        from eval.ablation import run_ablation

        try:
            table = run_ablation(args.articles, args.gold, args.index, args.out, args.subset)
        except NewsQAError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print((args.out / "ablation.md").read_text(encoding="utf-8"))
        return 0 if table["rows"] else 1
    from eval.report import write_report
    from eval.run import EvalConfig, run_eval

    if args.k < 1 or args.k > 10:
        print("error: --k must be between 1 and 10", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    config = EvalConfig(
        args.articles, args.gold, args.out, args.index, args.k, args.subset, args.limit, args.embedder,
        args.rename_duplicate_ids,
    )  # fmt: skip
    try:
        result = run_eval(config)
        report = write_report(result)
    except NewsQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    main_name, figures = next(iter(report["systems"].items()))
    o = figures["overall"]
    print(
        f"{main_name}: recall@{args.k} {_f(o[f'recall@{args.k}'])}, answer accuracy {_f(o['answer_accuracy'])}, "
        f"answer in quote {_f(o['answer_in_quote'])}, quote exactness {_f(o['quote_exactness'])}, "
        f"null abstention {_f(o['null_abstention'])}, false abstention {_f(o['false_abstention'])}, "
        f"latency p50/p95 {_f(o['latency_p50_ms'], 0)}/{_f(o['latency_p95_ms'], 0)} ms"
    )
    print(f"report: {args.out / 'report.md'}")
    return 0


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"

"""Time ``newsqa ask`` in fresh processes, a name question beside one that needs no name -> table, cold_cli.md.

``python -m eval.cold_cli --index DIR [--baseline-src OLD_CHECKOUT]``

A "who" question is the only kind that loads the named-entity model (spaCy) in a cold
process; a "what" question in the same run is the floor it is compared with. The commands
of each round run one after the other (who, what, then the baseline's), so a busy machine
slows every column alike; the figures are medians. ``--baseline-src`` times the same
commands from another checkout of the project (e.g. ``git archive`` of an older commit),
run with the same Python and the same index. Each answer is printed with ``--json``; the
table shows whether it was declined, since a declined question may skip the answer step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# questions of realtimeqa 2026 with no time words (a CLI call is asked today, whatever the
# articles' dates): one wants a person, one a description
WHO = "Who wrote the Declaration of Independence?"
WHAT = "What was the dress code at the Met Gala fundraiser?"
DOC = Path("docs/benchmarks/cold_cli.md")
KEPT = "<!-- hand-written below: kept as it is when this script rewrites the figures above -->"


@dataclass(frozen=True)
class Timed:
    """One command's runs: wall seconds of each, and whether its answer was declined."""

    label: str
    seconds: tuple[float, ...]
    declined: bool
    answer: str

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def ask_command(question: str, index: Path) -> list[str]:
    """``newsqa ask --json`` as a module run by this Python (the installed script, in any checkout)."""
    return [sys.executable, "-m", "ui.cli", "ask", question, "--index", str(index), "--json"]


def run_once(command: list[str], src: Path | None) -> tuple[float, dict[str, object]]:
    """Wall seconds from process start to exit, and the answer's JSON; ``src``: the checkout to run."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    clock = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=src)
    took = time.perf_counter() - clock
    return took, json.loads(done.stdout)


def measure(
    index: Path, runs: int, who: str, what: str, baseline: Path | None, label: str = "baseline"
) -> list[Timed]:
    """``runs`` rounds of each command, interleaved; the first round is a warm-up of the disk cache."""
    plan: list[tuple[str, str, Path | None]] = [
        ("who (this checkout)", who, None),
        ("what (this checkout)", what, None),
    ]
    if baseline is not None:
        plan += [(f"who ({label})", who, baseline), (f"what ({label})", what, baseline)]
    seconds: dict[str, list[float]] = {label: [] for label, _, _ in plan}
    last: dict[str, dict[str, object]] = {}
    for round_ in range(runs + 1):
        for label, question, src in plan:
            took, answer = run_once(ask_command(question, index), src)
            if round_:  # round 0 reads the files into the page cache for every command alike
                seconds[label].append(took)
            last[label] = answer
    return [
        Timed(label, tuple(seconds[label]), bool(last[label]["abstained"]), str(last[label]["answer"]))
        for label, _, _ in plan
    ]


def render(rows: Sequence[Timed], index: Path, baseline: Path | None, who: str, what: str) -> str:
    """The Markdown page: the table, the questions and how it was run."""
    floor = next(r for r in rows if r.label == "what (this checkout)").median
    lines = [
        "# Cold `newsqa ask`: a name question vs one that needs no name",
        "",
        "Made by `python -m eval.cold_cli --index INDEX"  # the folders' names only: they are this machine's
        + (" --baseline-src BASELINE`" if baseline else "`")
        + f" (INDEX: {Path(index).name}"
        + (f", BASELINE: a checkout of {Path(baseline).name}" if baseline else "")
        + ")"
        + f"; {len(rows[0].seconds)} runs of each command, interleaved, after one warm-up round.",
        "Wall time from process start to exit, medians; the machine has 2 cores shared with other jobs,",
        "so absolute figures move between runs: compare the columns of one run.",
        "",
        f"- who: “{who}”",
        f"- what: “{what}”",
        "",
        "| command | median s | min s | max s | vs what (this checkout) | declined | answer |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.median:.2f} | {min(r.seconds):.2f} | {max(r.seconds):.2f} | "
            f"{r.median - floor:+.2f} s | {'yes' if r.declined else 'no'} | {r.answer[:40]} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.cold_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an existing index folder")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5)")
    parser.add_argument("--who", default=WHO, help="the question that asks for a name")
    parser.add_argument("--what", default=WHAT, help="the question that needs no name")
    parser.add_argument("--baseline-src", type=Path, default=None, help="another checkout to time beside this one")
    parser.add_argument("--baseline-label", default="baseline", help="what the baseline checkout is, for the table")
    parser.add_argument("--out", type=Path, default=DOC, help=f"where the Markdown goes (default {DOC})")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    baseline = args.baseline_src.resolve() if args.baseline_src else None
    rows = measure(args.index.resolve(), args.runs, args.who, args.what, baseline, args.baseline_label)
    text = render(rows, args.index, args.baseline_src, args.who, args.what)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    if KEPT in old:  # the notes under the marker stay
        text += "\n" + KEPT + old.split(KEPT, 1)[1]
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

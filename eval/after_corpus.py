"""Questions about news the corpus does not have yet: how often the assistant says the articles don't say.

``python -m eval.after_corpus --articles A.jsonl --gold QA.jsonl --index DIR [--days 30] [--out FILE]``

Each dated, answerable gold question (a weekly news quiz: "Which golfer won his second
consecutive Masters?") is asked on its quiz date with the search restricted to articles
published at least ``--days`` days before it (``Filters(published_to=...)``; undated
articles are left out too, since nothing says they came before). The quiz asks about that
week's news, so the articles that answer it are out of reach: the corpus ends before the
event. Each answer is one of

- declined: the assistant said the articles don't say (the right response);
- answered, holding the gold answer: older articles happened to say it (a recurring event,
  a fact that held before; not wrong);
- answered with something else: the failure this measures.

The same questions asked on the whole corpus give the answerable-declined rate beside it,
so a change that declines more is seen to cost (or not) answers that are there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from eval.corpus import choose_embedder
from eval.gold import GoldQuestion, load_gold, require_file
from eval.metrics import contains_answer
from index.errors import NewsQAError
from qa import Filters, QASettings, load_assistant
from qa.dates import date_intent

DEFAULT_DAYS = 30  # the realtimeqa evidence was published within 21 days before each quiz


@dataclass(frozen=True)
class Outcome:
    """One question asked on the cut corpus (and on the whole one)."""

    id: str
    timed: bool  # the question names a time ("this week", a date)
    declined: bool
    holds_gold: bool
    declined_on_whole: bool

    @property
    def wrong(self) -> bool:
        return not self.declined and not self.holds_gold


def outcomes(index: Path, questions: Sequence[GoldQuestion], days: int, settings: QASettings) -> list[Outcome]:
    """Ask each dated answerable question twice: on the corpus cut ``days`` before its date, and whole."""
    assistant = load_assistant(index, settings=settings, embedder=choose_embedder(None, index))
    found = []
    for gold in questions:
        if gold.question_date is None or not gold.answerable:
            continue
        cut = Filters(published_to=gold.question_date - timedelta(days=days))
        late = assistant.ask(gold.question, today=gold.question_date, filters=cut)
        whole = assistant.ask(gold.question, today=gold.question_date)
        timed = date_intent(gold.question, gold.question_date).has_window
        holds = not late.abstained and contains_answer(late.answer, gold.answers)
        found.append(Outcome(gold.id, timed, late.abstained, holds, whole.abstained))
    return found


def summary(rows: Sequence[Outcome]) -> dict[str, object]:
    """Shares of each outcome, over all questions and over those that name a time."""

    def shares(part: Sequence[Outcome]) -> dict[str, object]:
        n = len(part)
        rate = (lambda k: round(k / n, 3)) if n else (lambda k: None)
        return {
            "questions": n,
            "declined": rate(sum(r.declined for r in part)),
            "answered, holding the gold answer": rate(sum(r.holds_gold for r in part)),
            "answered with something else": rate(sum(r.wrong for r in part)),
            "declined on the whole corpus": rate(sum(r.declined_on_whole for r in part)),
        }

    return {"all": shares(rows), "naming a time": shares([r for r in rows if r.timed])}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.after_corpus", description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, required=True, help="the articles the index was built from")
    parser.add_argument("--gold", type=Path, required=True, help="dated gold questions (meta.question_date)")
    parser.add_argument("--index", type=Path, required=True, help="an existing index of --articles")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"default {DEFAULT_DAYS}")
    parser.add_argument("--reader", choices=("rules", "trained"), default=QASettings().reader, help="[qa] reader")
    parser.add_argument("--rename-duplicate-ids", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here too")
    args = parser.parse_args(argv)
    try:
        require_file(args.articles, "--articles")
        questions = load_gold(require_file(args.gold, "--gold"), None, None, args.rename_duplicate_ids)
    except (OSError, ValueError, NewsQAError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not (args.index / "CURRENT").is_file():
        print(f"error: --index {args.index}: no index there; build it with python -m eval run", file=sys.stderr)
        return 2
    rows = outcomes(args.index, questions, args.days, QASettings(reader=args.reader))
    report = {
        "gold": args.gold.parent.name or str(args.gold),
        "days": args.days,
        "reader": args.reader,
        **summary(rows),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

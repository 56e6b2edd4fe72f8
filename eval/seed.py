"""The seed gold set, about the bundled sample article: questions -> eval/data/seed_gold.jsonl.

Written by the team (not taken from any dataset). The article id is computed by the
same ingest the index runs, never typed by hand, so a change to the ingest (which may
change the id of a text file without a url) is fixed by regenerating the file:
``python -m eval seed-gold``; a test fails while the file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from index.read.ingest import ingest_paths

SEED_ARTICLE = Path(__file__).resolve().parents[1] / "qa" / "data" / "sample" / "lavrov-gaza-ceasefire.txt"
SEED_GOLD = Path(__file__).resolve().parent / "data" / "seed_gold.jsonl"

# (id, type, question, acceptable answers); type "null": the article does not say
SEED_QUESTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("seed-01", "what-said", "What did Lavrov call for?", ("urgent ceasefire",)),
    (
        "seed-02",
        "who",
        "Who did Sergey Lavrov meet with?",
        ("heads of diplomatic missions of Arab countries", "Arab ambassadors"),
    ),
    ("seed-03", "where", "Where did Lavrov meet the Arab ambassadors?", ("Moscow",)),
    ("seed-04", "what-said", "What did the Arab diplomats express?", ("gratitude",)),
    ("seed-05", "what-said", "What did Lavrov stress the need to do?", ("intensify international efforts",)),
    (
        "seed-06",
        "who",
        "Which organization's representative attended the meeting with Lavrov?",
        ("League of Arab States",),
    ),
    (
        "seed-07",
        "what-said",
        "What did the Arab diplomats reject?",
        ("politicizing work on this issue", "politicizing"),
    ),
    (
        "seed-08",
        "factoid",
        "What was the aim of the steps Russia took in the UN Security Council?",
        ("stopping the bloodshed",),
    ),
    ("seed-09", "who", "Who is the Russian Foreign Minister?", ("Sergey Lavrov", "Lavrov")),
    ("seed-10", "factoid", "What kind of corridors does Russia support opening in Gaza?", ("humanitarian corridors",)),
    ("seed-11", "null", "What is the capital of Peru?", ()),
    ("seed-12", "null", "How many people died in Gaza?", ()),
    ("seed-13", "null", "When will the ceasefire in Gaza take effect?", ()),
    ("seed-14", "null", "How much humanitarian aid did Russia send to Gaza?", ()),
    ("seed-15", "null", "Who won the football World Cup final?", ()),
)


def seed_article_id() -> str:
    """The id the index gives the seed article (through the ingest code)."""
    result = ingest_paths([SEED_ARTICLE])
    return result.articles[0].id


def seed_rows() -> list[dict[str, Any]]:
    """The seed gold set as rows of the gold JSONL format."""
    article = seed_article_id()
    return [
        {
            "id": qid,
            "question": question,
            "answers": list(answers),
            "article_ids": [article] if kind != "null" else [],
            "evidence": [],
            "type": kind,
            "meta": {"source": "written by the newsqa team about qa/data/sample/lavrov-gaza-ceasefire.txt"},
        }
        for qid, kind, question, answers in SEED_QUESTIONS
    ]


def render_seed_gold() -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in seed_rows())


def write_seed_gold(path: Path = SEED_GOLD) -> Path:
    """(Re)write the seed gold file; returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_seed_gold(), encoding="utf-8")
    return path

"""Read a gold question set: QA.jsonl path -> list[GoldQuestion] (validated, filtered, in file order).

The format is the Gold format of eval/README.md (a dataset's ``qa.jsonl``): one JSON
object a line with ``id``, ``question``, ``answers``, ``article_ids``, ``type`` and an
optional ``meta`` holding ``question_date``, ``other_articles_with_answer`` and ``choices``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from index.errors import BadInputError

NULL_TYPE = "null"  # questions the articles cannot answer: the right response is to abstain


@dataclass(frozen=True)
class GoldQuestion:
    """One gold question; ``relevant`` = evidence articles + other articles with the answer."""

    id: str
    question: str
    answers: tuple[str, ...]
    article_ids: tuple[str, ...]
    type: str
    question_date: date | None = None
    other_articles: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def answerable(self) -> bool:
        return self.type != NULL_TYPE

    @property
    def relevant(self) -> frozenset[str]:
        return frozenset(self.article_ids) | frozenset(self.other_articles)


def require_file(path: Path, what: str) -> Path:
    """``path`` if it exists, else a BadInputError that says which file is missing and where data lives."""
    if not path.exists():
        raise BadInputError(
            f"{what} {path}: not found. The development datasets are kept outside the repository "
            f"and never copied into it (format: eval/README.md); pass their path."
        )
    return path


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInputError(f"{where}: {name!r} must be a list of strings")
    return tuple(value)


def parse_question(row: Any, where: str) -> GoldQuestion:
    """One JSON object -> GoldQuestion; ``where`` (file:line) names the culprit in errors."""
    if not isinstance(row, dict):
        raise BadInputError(f"{where}: expected a JSON object")
    for key in ("id", "question", "type"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise BadInputError(f"{where}: {key!r} must be a non-empty string")
    meta = row.get("meta") or {}
    if not isinstance(meta, dict):
        raise BadInputError(f"{where}: 'meta' must be an object")
    answers = _strings(row.get("answers", []), where, "answers")
    article_ids = _strings(row.get("article_ids", []), where, "article_ids")
    if row["type"] != NULL_TYPE and (not answers or not article_ids):
        raise BadInputError(f"{where}: an answerable question needs 'answers' and 'article_ids'")
    raw_date = meta.get("question_date")
    try:
        asked = date.fromisoformat(str(raw_date)[:10]) if raw_date else None
    except ValueError as exc:
        raise BadInputError(f"{where}: meta.question_date {raw_date!r} is not an ISO date") from exc
    return GoldQuestion(
        id=row["id"],
        question=row["question"],
        answers=answers,
        article_ids=article_ids,
        type=row["type"],
        question_date=asked,
        other_articles=_strings(meta.get("other_articles_with_answer") or [], where, "meta.other_articles_with_answer"),
        choices=_strings(meta.get("choices") or [], where, "meta.choices"),
        meta=meta,
    )


def load_gold(
    path: Path | str, subset: str | None = None, limit: int | None = None, rename_duplicates: bool = False
) -> list[GoldQuestion]:
    """The questions of ``path``; ``subset`` keeps those whose ``meta[subset]`` is true; ``limit`` the first N.

    A duplicate id is an error, unless ``rename_duplicates``: then the later question keeps its
    place under the id ``ID~LINE`` and a warning names it (a published set with a clash).
    """
    path = require_file(Path(path), "gold file")
    questions: list[GoldQuestion] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(f"{where}: not valid JSON ({exc.msg})") from exc
            question = parse_question(row, where)
            if question.id in seen and rename_duplicates:
                renamed = f"{question.id}~{number}"
                print(f"warning: {where}: duplicate question id {question.id!r} renamed {renamed!r}", file=sys.stderr)
                question = replace(question, id=renamed)
            elif question.id in seen:
                raise BadInputError(f"{where}: duplicate question id {question.id!r} (--rename-duplicate-ids)")
            seen.add(question.id)
            if subset is None or question.meta.get(subset):
                questions.append(question)
    if not questions:
        raise BadInputError(f"{path}: no questions" + (f" with meta.{subset} true" if subset else ""))
    return questions[:limit] if limit is not None else questions

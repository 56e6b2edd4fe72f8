"""Read files and folders into Articles, with a report line per file: paths -> IngestResult.

(Minimal first version: plain text and JSONL. Being replaced by the full version.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from index.records import Article, make_article


@dataclass(frozen=True)
class FieldMap:
    """Names of the record fields in JSON, JSONL and CSV inputs (defaults: our own names)."""

    id: str = "id"
    title: str = "title"
    text: str = "text"
    source: str = "source"
    url: str = "url"
    published: str = "published"
    author: str = "author"


@dataclass(frozen=True)
class IngestLine:
    """One line of the ingest report: a file (or a record in it) accepted or rejected."""

    path: str
    status: Literal["accepted", "rejected", "duplicate"]
    articles: int = 0
    reason: str = ""


@dataclass(frozen=True)
class IngestResult:
    articles: tuple[Article, ...]
    report: tuple[IngestLine, ...] = field(default_factory=tuple)


def ingest_paths(paths: Sequence[Path | str], fields: FieldMap | None = None) -> IngestResult:
    fields = fields or FieldMap()
    articles: list[Article] = []
    report: list[IngestLine] = []
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])
    for path in files:
        if path.suffix == ".jsonl":
            found = []
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    pub = row.get(fields.published)
                    found.append(
                        make_article(
                            row[fields.text],
                            title=row.get(fields.title) or "",
                            source=row.get(fields.source) or "",
                            url=row.get(fields.url) or "",
                            published=date.fromisoformat(pub[:10]) if pub else None,
                            id=row.get(fields.id),
                        )
                    )
            articles.extend(found)
            report.append(IngestLine(str(path), "accepted", len(found)))
        else:
            text = path.read_text(encoding="utf-8")
            title = text.strip().splitlines()[0]
            articles.append(make_article(text, title=title, source=path.name))
            report.append(IngestLine(str(path), "accepted", 1))
    return IngestResult(tuple(articles), tuple(report))

"""Read files, folders, uploads and pasted text into Articles, with a report line per file: -> IngestResult.

Formats, by extension (a file without one is sniffed): plain text ``.txt`` and Markdown
``.md`` (title from the first line; site navigation cut from the end, see
``index.read.clean``), HTML ``.html/.htm`` (trafilatura: main text plus title, date, author,
url, site name), ``.json``, ``.jsonl/.ndjson``, ``.csv/.tsv`` (fields
``id,title,text,source,url,published,author``; other names through ``FieldMap``), and
RSS/Atom feeds ``.rss/.atom/.xml``. Folders are read recursively in sorted order,
skipping hidden files and folders; other extensions get a "rejected: unsupported type"
line.

Nothing is skipped silently and nothing in the input makes ingest raise: every file gets
exactly one report line (accepted, rejected or duplicate, with the reason), and record
files get one more line per record that was rejected, duplicated or needed a note
(``path:line N``, ``path:record N``, ``path:entry N``). Articles with the same text are
kept once; later copies are reported as duplicates of the first. Files over
``max_bytes`` are rejected without being read, except JSONL, which is streamed and
capped per line. The only error raised is ``BadInputError`` when none of the paths given
exists: there is nothing to ingest at all, most likely a typo.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from index.errors import BadInputError
from index.read.clean import strip_boilerplate
from index.read.feed import parse_feed
from index.read.formats import (
    Found,
    declared_charset,
    decode_bytes,
    parse_date,
    parse_html,
    parse_text,
    short_title,
)
from index.read.tabular import FieldMap, parse_csv, parse_json, parse_jsonl, read_lines
from index.records import Article, make_article

__all__ = ["DEFAULT_MAX_BYTES", "FieldMap", "IngestLine", "IngestResult", "ingest_bytes", "ingest_paths", "ingest_text"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
RECORD_LINES_MAX = 1000  # per file: past this, the file line still counts every record

Kind = Literal["text", "markdown", "html", "json", "jsonl", "csv", "feed", "sniff"]
KINDS: dict[str, Kind] = {
    ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".shtml": "html",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonlines": "jsonl",
    ".csv": "csv", ".tsv": "csv", ".rss": "feed", ".atom": "feed", ".xml": "feed", "": "sniff",
}  # fmt: skip
SUPPORTED = " ".join(sorted(k for k in KINDS if k))


@dataclass(frozen=True)
class IngestLine:
    """One line of the ingest report: a file (or a record in it) accepted, rejected or duplicate."""

    path: str
    status: Literal["accepted", "rejected", "duplicate"]
    articles: int = 0
    reason: str = ""


@dataclass(frozen=True)
class IngestResult:
    articles: tuple[Article, ...]
    report: tuple[IngestLine, ...] = field(default_factory=tuple)


def _sniff(text: str, kind: Kind) -> Kind:
    """A text file that is really a saved web page or feed, or an extension-less file's format."""
    head = text.lstrip()[:1000].lower()
    if head.startswith(("<!doctype html", "<html")) or (kind == "sniff" and "<body" in head):
        return "html"
    if kind == "text":
        return "text"
    if head.startswith("<?xml") or "<rss" in head or "<feed" in head:
        return "feed"
    if head.startswith(("{", "[")):
        return "json"
    return "text"


def parse_bytes(kind: Kind, data: bytes, where: str, name: str, fields: FieldMap) -> tuple[list[Found], str]:
    """Parse one file's bytes by kind; return what it holds and a note for the whole file."""
    if kind == "jsonl":
        return parse_jsonl(read_lines(io.BytesIO(data), len(data) + 1), where, fields), ""
    text, note = decode_bytes(data, declared_charset(data) if kind in ("html", "feed", "sniff") else None)
    if not text.strip():
        raise BadInputError("empty (whitespace only)")
    if kind in ("text", "sniff"):
        kind = _sniff(text, kind)
    if kind == "html":
        return parse_html(text, where, name), note
    if kind == "feed":
        return parse_feed(data, where, name), note
    if kind == "json":
        if name.lower().endswith(".json"):
            return parse_json(text, where, fields), note
        try:
            return parse_json(text, where, fields), note
        except BadInputError:  # an extension-less file that only looked like JSON
            return parse_text(text, where, name), note
    if kind == "csv":
        return parse_csv(text, where, fields), note
    return parse_text(text, where, name, markdown=kind == "markdown"), note


class _Ingest:
    """Collects articles and report lines across files, keeping each text and each id once."""

    def __init__(self, fields: FieldMap, max_bytes: int) -> None:
        self.fields = fields
        self.max_bytes = max_bytes
        self.articles: list[Article] = []
        self.report: list[IngestLine] = []
        self.by_hash: dict[str, str] = {}
        self.by_id: dict[str, str] = {}

    def result(self) -> IngestResult:
        return IngestResult(tuple(self.articles), tuple(self.report))

    def reject(self, where: str, reason: str) -> None:
        self.report.append(IngestLine(where, "rejected", 0, reason))

    def add_file(self, path: Path) -> None:
        where = str(path)
        kind = KINDS.get(path.suffix.lower())
        if kind is None:
            self.reject(where, f"unsupported type {path.suffix!r} (supported: {SUPPORTED})")
            return
        if not path.is_file():
            self.reject(where, "not a regular file")
            return
        try:
            size = path.stat().st_size
            if kind == "jsonl":  # streamed: only each line is capped
                with path.open("rb") as handle:
                    found, note = parse_jsonl(read_lines(handle, self.max_bytes), where, self.fields), ""
            elif size == 0:
                raise BadInputError("empty file (0 bytes)")
            elif size > self.max_bytes:
                raise BadInputError(f"too large: {size:,} bytes > max_bytes {self.max_bytes:,} (not read)")
            else:
                found, note = parse_bytes(kind, path.read_bytes(), where, path.name, self.fields)
        except BadInputError as exc:
            self.reject(where, str(exc))
            return
        except OSError as exc:
            self.reject(where, f"unreadable: {exc.strerror or exc}")
            return
        self.take(where, found, note)

    def take(self, where: str, found: list[Found], note: str = "") -> None:
        """Keep the new articles of one file and write its report lines."""
        lines: list[IngestLine] = []
        kept = rejected = duplicates = 0
        for item in found:
            if item.article is None:
                rejected += 1
                lines.append(IngestLine(item.where, "rejected", 0, item.reason))
                continue
            first = self._first_copy(item.article, item.where)
            if first:
                duplicates += 1
                lines.append(IngestLine(item.where, "duplicate", 0, first))
                continue
            kept += 1
            self.articles.append(item.article)
            if item.reason:
                lines.append(IngestLine(item.where, "accepted", 1, item.reason))
        if len(found) == 1 and found[0].where == where:  # a one-article file: its line is the file line
            line = lines[0] if lines else IngestLine(where, "accepted", 1)
            reason = "; ".join(filter(None, [note, line.reason]))
            self.report.append(IngestLine(where, line.status, line.articles, reason))
            return
        status: Literal["accepted", "rejected", "duplicate"] = (
            "accepted" if kept else "duplicate" if duplicates and not rejected else "rejected"
        )
        counts = f"{kept} article(s) from {len(found)} record(s)" if found else "no records"
        extra = [f"{rejected} rejected" if rejected else "", f"{duplicates} duplicate(s)" if duplicates else "", note]
        self.report.append(IngestLine(where, status, kept, "; ".join(filter(None, [counts, *extra]))))
        self.report.extend(lines[:RECORD_LINES_MAX])
        if len(lines) > RECORD_LINES_MAX:
            self.reject(where, f"{len(lines) - RECORD_LINES_MAX} more record line(s) not shown")

    def _first_copy(self, article: Article, where: str) -> str:
        """Why ``article`` is a copy of one already kept ("" when it is new); registers new ones."""
        if article.content_hash in self.by_hash:
            return f"same text as {self.by_hash[article.content_hash]}"
        if article.id in self.by_id:
            return f"id {article.id!r} already used by {self.by_id[article.id]} (different text); kept the first"
        self.by_hash[article.content_hash] = where
        self.by_id[article.id] = where
        return ""


def _walk(folder: Path) -> Iterator[Path]:
    """Files under ``folder``, recursively, in sorted order; hidden files and folders skipped."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def ingest_paths(
    paths: Sequence[Path | str],
    fields: FieldMap | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_file: Callable[[int, Path], None] | None = None,
) -> IngestResult:
    """Read files and folders into articles; every file gets a report line.

    Raises ``BadInputError`` only when paths are given and none of them exists; a missing
    path next to existing ones gets a "rejected: no such file or directory" line.
    ``on_file(n, path)`` is called before the n-th file (from 1) is read: progress.
    """
    run = _Ingest(fields or FieldMap(), max_bytes)
    targets = [Path(p) for p in paths]
    if targets and not any(p.exists() for p in targets):
        raise BadInputError(f"no such file or directory: {', '.join(map(str, targets))}")
    files = 0
    for target in targets:
        if not target.exists():
            run.reject(str(target), "no such file or directory")
            continue
        for path in _walk(target) if target.is_dir() else [target]:
            files += 1
            if on_file is not None:
                on_file(files, path)
            run.add_file(path)
    return run.result()


def ingest_bytes(
    name: str, data: bytes, fields: FieldMap | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> IngestResult:
    """Read one uploaded file (its name gives the format) into articles, with its report lines."""
    run = _Ingest(fields or FieldMap(), max_bytes)
    kind = KINDS.get(Path(name).suffix.lower())
    if kind is None:
        run.reject(name, f"unsupported type {Path(name).suffix!r} (supported: {SUPPORTED})")
    elif not data:
        run.reject(name, "empty file (0 bytes)")
    elif len(data) > max_bytes and kind != "jsonl":
        run.reject(name, f"too large: {len(data):,} bytes > max_bytes {max_bytes:,}")
    else:
        try:
            if kind == "jsonl":
                found, note = parse_jsonl(read_lines(io.BytesIO(data), max_bytes), name, run.fields), ""
            else:
                found, note = parse_bytes(kind, data, name, Path(name).name, run.fields)
        except BadInputError as exc:
            run.reject(name, str(exc))
        else:
            run.take(name, found, note)
    return run.result()


def ingest_text(
    text: str,
    title: str = "",
    source: str = "",
    url: str = "",
    published: date | str | None = None,
    author: str = "",
) -> IngestResult:
    """One pasted article: navigation tail cut, title from the first line unless given.

    Example:
        >>> ingest_text("Ferry line opens\\n\\nThe mayor opened a ferry line on Monday.").articles[0].title
        'Ferry line opens'
    """
    run = _Ingest(FieldMap(), DEFAULT_MAX_BYTES)
    where = f"pasted text{f' ({title})' if title else ''}"
    body = strip_boilerplate(text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not body:
        run.reject(where, "empty text")
        return run.result()
    day, note = parse_date(published)
    first = next(line for line in body.split("\n") if line.strip())
    article = make_article(
        body, title=short_title(title or first.lstrip("#")), source=source, url=url, published=day, author=author
    )
    run.take(where, [Found(where, article, note)])
    return run.result()

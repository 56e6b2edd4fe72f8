"""Record formats: JSON, JSONL and CSV rows -> Found articles (one per record, named by line or record number).

Field names come from a ``FieldMap`` (our own names by default). A record's own id is
kept as the article id; without one, ``make_article`` derives the deterministic id.
JSONL is read line by line from a stream, so its size is not capped, only each line's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import IO

from index.errors import BadInputError
from index.read.formats import Found, decode_bytes, normalize_newlines, parse_date, short_title
from index.records import make_article

_LIST_KEYS = ("articles", "items", "data", "records", "entries", "results", "documents", "docs", "posts", "news")
_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class FieldMap:
    """Names of the record fields in JSON, JSONL and CSV inputs (defaults: our own names).

    Map other names by naming them here, e.g. for records like
    ``{"guid": ..., "headline": ..., "body": ..., "link": ..., "date": ...}``::

        FieldMap(id="guid", title="headline", text="body", url="link", published="date")

    or on the command line: ``newsqa index FILE --fields id=guid,title=headline,text=body``.
    CSV column names match case-insensitively.
    """

    id: str = "id"
    title: str = "title"
    text: str = "text"
    source: str = "source"
    url: str = "url"
    published: str = "published"
    author: str = "author"


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def record_article(row: object, fields: FieldMap, where: str) -> Found:
    """One record (a mapping of field names to values) -> an article, or the reason it is not one."""
    if not isinstance(row, Mapping):
        return Found(where, None, f"not a record: a JSON {type(row).__name__}, not an object")
    raw = row.get(fields.text)
    if raw is None:
        names = ", ".join(str(k) for k in list(row)[:8]) or "none"
        return Found(where, None, f"missing text field {fields.text!r} (fields: {names})")
    if isinstance(raw, list) and all(isinstance(part, str) for part in raw):
        raw = "\n\n".join(raw)  # a list of paragraphs
    if not isinstance(raw, str):
        return Found(where, None, f"text field {fields.text!r} is a {type(raw).__name__}, not a string")
    text = normalize_newlines(raw).strip()
    if not text:
        return Found(where, None, "empty text")
    published, note = parse_date(row.get(fields.published))
    article = make_article(
        text,
        title=short_title(_scalar(row.get(fields.title))),
        source=_scalar(row.get(fields.source)),
        url=_scalar(row.get(fields.url)),
        published=published,
        author=_scalar(row.get(fields.author)),
        id=_scalar(row.get(fields.id)) or None,
    )
    return Found(where, article, note)


def _record_list(data: object, fields: FieldMap, depth: int = 0) -> list[object] | None:
    """The list of records in a JSON document: the document itself, or a list held by an object."""
    if isinstance(data, list):
        return data
    if not isinstance(data, dict) or depth > 2:
        return None
    lists = [v for v in data.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    for key in _LIST_KEYS:
        value = data.get(key)
        if isinstance(value, list) and value in lists:
            return value
    if lists:
        return lists[0]
    for value in data.values():
        found = _record_list(value, fields, depth + 1)
        if found is not None:
            return found
    return None


def parse_json(text: str, where: str, fields: FieldMap) -> list[Found]:
    """A JSON document: one object with a text field, a list of objects, or an object holding a list."""
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise BadInputError("JSON nested too deeply to read") from exc
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # several documents, one per line: JSON Lines named .json
            return parse_jsonl(read_lines(io.BytesIO(text.encode("utf-8")), len(text) * 4 + 1), where, fields)
        raise BadInputError(f"malformed JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise BadInputError(f"unreadable JSON: {exc}") from exc
    if isinstance(data, dict) and fields.text in data:
        return [record_article(data, fields, where)]
    rows = _record_list(data, fields)
    if rows is None:
        raise BadInputError(
            f"no records: expected an object with a {fields.text!r} field, a list of objects, "
            "or an object holding such a list"
        )
    return [record_article(row, fields, f"{where}:record {n}") for n, row in enumerate(rows, 1)]


def read_lines(handle: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line number, bytes)``, or ``(line number, None)`` for a line longer than ``limit`` bytes.

    Never holds more than ``limit + 1`` bytes of one line in memory.
    """
    number = 0
    while raw := handle.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(limit + 1)
            yield number, None
        else:
            yield number, raw


def parse_jsonl(lines: Iterable[tuple[int, bytes | None]], where: str, fields: FieldMap) -> list[Found]:
    """JSON Lines: one record per non-blank line; a bad line is reported and the rest read on."""
    found = []
    for number, raw in lines:
        here = f"{where}:line {number}"
        if raw is None:
            found.append(Found(here, None, "line longer than max_bytes"))
            continue
        if not raw.strip():
            continue
        try:
            text, note = decode_bytes(raw)
            row = json.loads(text)
        except BadInputError as exc:
            found.append(Found(here, None, str(exc)))
            continue
        except RecursionError:
            found.append(Found(here, None, "JSON nested too deeply to read"))
            continue
        except json.JSONDecodeError as exc:
            found.append(Found(here, None, f"malformed JSON ({exc.msg}, column {exc.colno})"))
            continue
        except ValueError as exc:
            found.append(Found(here, None, f"unreadable JSON: {exc}"))
            continue
        record = record_article(row, fields, here)
        if note and record.article is not None:
            record = Found(here, record.article, "; ".join(filter(None, [note, record.reason])))
        found.append(record)
    return found


def _delimiter(header: str, wanted: set[str]) -> str:
    """The delimiter that splits the header line into the most known field names."""

    def score(delim: str) -> tuple[int, int]:
        cells = {c.strip().strip("\"'").lower() for c in header.split(delim)}
        return len(cells & wanted), header.count(delim)

    return max(_DELIMITERS, key=score)


def parse_csv(text: str, where: str, fields: FieldMap) -> list[Found]:
    """CSV (or TSV) with a header row; records are named by the line they start on."""
    text = text.lstrip("\ufeff")
    header_line = text.split("\n", 1)[0]
    names = {f.name: str(getattr(fields, f.name)) for f in dataclass_fields(fields)}
    wanted = {name.lower() for name in names.values()}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header_line, wanted))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise BadInputError(f"no CSV header row: {exc}") from exc
    if fields.text.lower() not in header:
        raise BadInputError(
            f"no {fields.text!r} column (columns: {', '.join(header[:10])}); "
            "map yours with FieldMap(text=COLUMN) or --fields text=COLUMN"
        )
    columns = {name: header.index(name.lower()) for name in names.values() if name.lower() in header}
    found = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the reader cannot go on past a broken record
            found.append(Found(f"{where}:line {start}", None, f"malformed CSV, reading stopped: {exc}"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        record = {name: row[i] for name, i in columns.items() if i < len(row)}
        found.append(record_article(record, fields, f"{where}:line {start}"))
    return found

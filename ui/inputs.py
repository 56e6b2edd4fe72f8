"""The page's fields and settings: parse_day (-> date), make_filters (-> Filters), login_from_env, remove_uploads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from index.errors import SettingsError
from qa.records import Filters


def parse_day(value: object, label: str) -> date | None:
    """A date from a date field (ISO string, datetime, or epoch seconds); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).date()
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise SettingsError(f"{label}: {text!r} is not a date; use YYYY-MM-DD") from exc


def make_filters(sources: Sequence[str] | None, published_from: object, published_to: object) -> Filters:
    start, end = parse_day(published_from, "Published from"), parse_day(published_to, "Published to")
    if start and end and start > end:
        raise SettingsError(f"the date range is empty: {start} is after {end}")
    return Filters(tuple(sources or ()), start, end)


def login_from_env() -> tuple[str, str] | None:
    """``(NEWSQA_USER, NEWSQA_PASSWORD)`` when both are set, else None (no login)."""
    user, password = os.environ.get("NEWSQA_USER"), os.environ.get("NEWSQA_PASSWORD")
    if user and password:
        return user, password
    if user or password:
        raise SettingsError("set both NEWSQA_USER and NEWSQA_PASSWORD to require a login, or neither")
    return None


def remove_uploads(paths: Sequence[str]) -> None:
    """Delete uploaded files once read: those inside Gradio's upload folder (``GRADIO_TEMP_DIR``,
    default ``$TMPDIR/gradio``), with the folder Gradio made for each when it is left empty."""
    root = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()
    for name in paths:
        path = Path(name).resolve()
        if path != root and path.is_relative_to(root) and path.is_file():
            path.unlink(missing_ok=True)
            if path.parent != root and not any(path.parent.iterdir()):
                path.parent.rmdir()

"""Hostile and malformed questions at every door (issue 16): cleaned or refused with a message, never a traceback."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embed import HashingEmbedder
from index.errors import SettingsError
from qa import Assistant
from qa.settings import QASettings
from ui import web as ui_app
from ui.cli import main

from .conftest import tiny_articles

CLEAN = "How much do the ferry tickets cost?"
RULES = QASettings(reader="rules")  # the rule reader: these tests are about the doors, not the reader


class StrictEmbedder(HashingEmbedder):
    """Refuses what a real tokenizer refuses (text that is not valid Unicode) and controls it would mis-read."""

    def embed_query(self, text: str) -> np.ndarray:
        text.encode("utf-8")  # raises on lone surrogates, as the ONNX tokenizer's TypeError did
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)
        return super().embed_query(text)


@pytest.fixture
def assistant(tiny_index: Path, embedder: HashingEmbedder) -> Assistant:
    return Assistant(tiny_index, StrictEmbedder(embedder.dim), RULES)


@pytest.fixture
def cli_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({**a.to_dict(), "text": a.text}) for a in tiny_articles()) + "\n")
    index = tmp_path / "idx"
    assert main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"]) == 0
    (tmp_path / "rules.toml").write_text('[qa]\nreader = "rules"\n')
    capsys.readouterr()
    return index


def _cli(index: Path, *args: str) -> list[str]:
    return ["--config", str(index.parent / "rules.toml"), *args, "--index", str(index)]


@pytest.mark.parametrize(
    "dirty",
    [
        "How much do the ferry tickets cost?\udcff",  # an invalid byte, as Python's argv decoding keeps it
        "How much do the \ud800ferry tickets cost?",  # a lone surrogate, as JSON can carry one
        "How much do the\x01\x07 ferry tickets cost?",  # control characters
        "How much do the \x1b[31mferry\x1b[0m tickets cost?",  # a terminal colour sequence
        "How much do the \x1b]0;pwned\x07ferry tickets cost?",  # an OSC (window title) sequence
    ],
)
def test_dirty_questions_get_the_clean_questions_answer(assistant: Assistant, dirty: str) -> None:
    clean = assistant.ask(CLEAN, today="undated")
    answer = assistant.ask(dirty, today="undated")
    assert answer.answer == clean.answer and answer.quotes == clean.quotes


def test_only_invalid_bytes_is_an_empty_question(assistant: Assistant) -> None:
    from qa.errors import EmptyQuestionError

    with pytest.raises(EmptyQuestionError, match="the question is empty"):
        assistant.ask("\udcff\udcfe\x07")


def test_cli_ask_with_invalid_utf8_answers(cli_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    question = (CLEAN + " \xff").encode("latin-1").decode("utf-8", "surrogateescape")  # as argv arrives
    assert main(_cli(cli_index, "ask", question, "--json")) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["quotes"][0]["text"] == "Tickets cost $12."
    out.encode("utf-8")


def test_cli_chat_survives_invalid_utf8_on_stdin(
    cli_index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = (CLEAN + " \xff\n").encode("latin-1") + b"Who opened the ferry line?\n\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(typed), encoding="utf-8", errors="strict"))
    assert main(_cli(cli_index, "chat")) == 0
    out = capsys.readouterr().out
    assert "Tickets cost $12." in out and "Dana Whitfield" in out


def test_browser_chat_and_answer_endpoint_clean_a_lone_surrogate(assistant: Assistant) -> None:
    handlers = ui_app.ChatHandlers(assistant)
    *_, (_, chat, _) = handlers.respond("How much do the \ud800ferry tickets cost?", [])
    assert "Tickets cost $12." in chat[-1]["content"]
    json.dumps(chat, ensure_ascii=False).encode("utf-8")
    answer = handlers.answer_json("How much do the \ud800ferry tickets cost?")
    json.dumps(answer, ensure_ascii=False).encode("utf-8")
    assert answer["quotes"][0]["text"] == "Tickets cost $12."


@pytest.mark.parametrize("bad", [None, 42, b"How much do the ferry tickets cost?", ["a question"]])
def test_a_question_that_is_not_a_string_is_a_type_error(assistant: Assistant, bad: object) -> None:
    with pytest.raises(TypeError, match=r"the question must be a str \(text\), not "):
        assistant.ask(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="the question must be a str"):
        assistant.ask_many([CLEAN, bad])  # type: ignore[list-item]


def test_today_is_a_date_a_datetime_or_an_iso_string(assistant: Assistant) -> None:
    from datetime import date, datetime

    from qa.assistant import resolve_today

    assert resolve_today("2026-01-08") == date(2026, 1, 8)
    assert resolve_today(datetime(2026, 1, 8, 23, 59)) == date(2026, 1, 8)
    assert resolve_today(date(2026, 1, 8)) == date(2026, 1, 8)
    assert resolve_today("undated") is None and resolve_today(None) == date.today()
    by_string = assistant.ask(CLEAN, today="2026-03-10")  # type: ignore[arg-type]
    by_datetime = assistant.ask(CLEAN, today=datetime(2026, 3, 10, 9, 30))
    assert by_string.quotes == by_datetime.quotes == assistant.ask(CLEAN, today=date(2026, 3, 10)).quotes
    with pytest.raises(SettingsError, match="'next week' is not a date"):
        resolve_today("next week")
    with pytest.raises(TypeError, match="today must be"):
        resolve_today(20260108)  # type: ignore[arg-type]


def test_an_empty_date_range_is_an_error_in_the_api_and_the_cli(
    assistant: Assistant, cli_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date

    from qa.records import Filters

    with pytest.raises(SettingsError, match="the date range is empty: 2026-03-05 is after 2026-03-01"):
        Filters(published_from=date(2026, 3, 5), published_to=date(2026, 3, 1))
    Filters(published_from=date(2026, 3, 1), published_to=date(2026, 3, 1))  # one day is a range
    code = main(_cli(cli_index, "ask", CLEAN, "--from", "2026-03-05", "--to", "2026-03-01"))
    assert code == 2
    assert "newsqa: error: the date range is empty: 2026-03-05 is after 2026-03-01" in capsys.readouterr().err


def test_ask_and_chat_print_no_escape_sequences_from_articles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from index.records import make_article

    from .conftest import small_index

    hostile = make_article(
        "Harbor town opens new ferry line.\n\nThe mayor of Port Ellis opened a ferry line on Monday. "
        "Tickets cost \x1b[2J\x1b[H$12.\x07 The line carries 400 passengers a day.",
        title="Ferry \x1b]0;pwned\x07line opens\x1b[31m",
        source="Coast\x1b]2;owned\x1b\\ Courier\x9b",
        url="https://example.org/ferry\x1b[8m",
        published=date(2026, 3, 2),
    )
    index = small_index(tmp_path / "idx", [hostile], HashingEmbedder(dim=128))
    (tmp_path / "rules.toml").write_text('[qa]\nreader = "rules"\n')
    question = "What do the tickets cost?"
    assert main(_cli(index, "ask", question)) == 0
    typed = iter([question, ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    assert main(_cli(index, "chat")) == 0
    out = capsys.readouterr().out
    assert "$12" in out and "Coast" in out and "Courier" in out and "https://example.org/ferry" in out
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 for c in out), repr(out)

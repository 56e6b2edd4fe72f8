"""Hostile and malformed questions at every door (issue 16): cleaned or refused with a message, never a traceback."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embed import HashingEmbedder
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

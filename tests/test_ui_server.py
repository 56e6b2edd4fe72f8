"""The chat server end to end: launched on 127.0.0.1, called through gradio_client (offline, hashing embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from qa.assistant import Assistant
from tests.conftest import serving
from ui import web as ui_app


@pytest.fixture
def assistant(tiny_index: Path, embedder: HashingEmbedder) -> Assistant:
    return Assistant(tiny_index, embedder)


@pytest.fixture
def server(assistant: Assistant) -> Iterator[str]:
    with serving(ui_app.build_app(assistant)) as url:
        yield url


def _last_html(chat: list[dict]) -> str:  # type: ignore[type-arg]
    content = chat[-1]["content"]
    return str(content[0]["text"] if isinstance(content, list) else content)


@pytest.mark.timeout(120)
def test_chat_answers_with_the_highlighted_quote(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    cleared, chat = client.predict("Who opened the ferry line?", [], None, None, None, api_name="/chat")
    assert cleared == ""
    assert chat[-2]["role"] == "user" and chat[-1]["role"] == "assistant"
    html = _last_html(chat)
    assert "<mark>The mayor of Port Ellis, Dana Whitfield, opened a ferry line to Gull Island on Monday.</mark>" in html
    assert 'href="#nq-1-src-1"' in html and "Coast Courier" in html

    answer = client.predict("How much do tickets cost?", api_name="/answer")
    assert answer["abstained"] is False
    assert answer["quotes"][0]["text"] == "Tickets cost $12."


@pytest.mark.timeout(120)
def test_errors_come_back_as_a_chat_message(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    _, chat = client.predict("Who opened the ferry line?", [], "not a date", None, None, api_name="/chat")
    html = _last_html(chat)
    assert "Could not answer." in html and "is not a date" in html and "Traceback" not in html


def test_server_binds_to_localhost_with_safe_settings(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    demo = ui_app.build_app(assistant)
    monkeypatch.setattr(demo, "launch", lambda **kw: seen.update(kw))
    ui_app.launch(demo)
    assert seen["server_name"] == "127.0.0.1" and seen["share"] is False and seen["allowed_paths"] == []
    assert seen["auth"] is None and seen["max_file_size"] == ui_app.MAX_FILE_BYTES
    assert demo._queue.max_size == ui_app.QUEUE_SIZE  # a bounded queue
    import os

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_login_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSQA_USER", raising=False)
    monkeypatch.delenv("NEWSQA_PASSWORD", raising=False)
    assert ui_app.login_from_env() is None
    monkeypatch.setenv("NEWSQA_USER", "ann")
    with pytest.raises(ui_app.SettingsError):
        ui_app.login_from_env()
    monkeypatch.setenv("NEWSQA_PASSWORD", "secret")
    assert ui_app.login_from_env() == ("ann", "secret")


def test_respond_keeps_the_conversation_and_rewrites_follow_ups(assistant: Assistant) -> None:
    handlers = ui_app.ChatHandlers(assistant)
    steps = list(handlers.respond("What did the agriculture minister call for?", []))
    assert "Searching the articles" in steps[0][1][-1]["content"]  # progress first
    _, chat, exchanges = steps[-1]
    assert "emergency loans" in chat[-1]["content"]
    *_, (_, chat, exchanges) = handlers.respond("Why did he call for them?", exchanges)
    assert len(chat) == 4
    # the rewrite happened: "he" became the minister named in the first answer's quote
    assert "Searched for: “Why did Tomas Brandt call for them?”" in chat[-1]["content"]


def test_unexpected_errors_are_logged_and_shown_generically(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(assistant, "chat", boom)
    *_, (_, chat, _) = ui_app.ChatHandlers(assistant).respond("Who opened the ferry line?", [])
    assert ui_app.GENERIC_ERROR in chat[-1]["content"] and "secret internals" not in chat[-1]["content"]
    assert "secret internals" in caplog.text


def test_adding_articles_indexes_them_and_reports_rejections(assistant: Assistant, tmp_path: Path) -> None:
    handlers = ui_app.ChatHandlers(assistant)
    bad_type = tmp_path / "virus.exe"
    bad_type.write_bytes(b"MZ")
    too_big = tmp_path / "big.txt"
    too_big.write_bytes(b"x" * (ui_app.MAX_FILE_BYTES + 1))
    good = tmp_path / "lighthouse.txt"
    good.write_text("Lighthouse reopens after repairs.\n\nThe old lighthouse at Cape Morrow reopened on Sunday.\n")
    html = handlers.add([str(bad_type), str(too_big), str(good)], "", "", "")
    assert "virus.exe" in html and "not an accepted type" in html
    assert "big.txt" in html and "over the" in html
    assert "1 article added" in html
    html = handlers.add(
        [], "The bakery on Elm Street won a national bread prize on Tuesday.", "Bakery wins prize", "Elm Gazette"
    )
    assert "1 article added" in html and "the index now holds 6" in html
    assert "Elm Gazette" in handlers.sources()
    answer = assistant.ask("Which bakery won a bread prize?")
    assert not answer.abstained and "Elm Street" in answer.answer
    assert any("bakery on Elm Street" in c.quote.text for c in answer.quotes)

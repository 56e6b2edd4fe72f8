"""The browser's HTTP endpoint ``/answer`` with bad questions: the user's error comes back, no traceback is logged."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from qa.assistant import Assistant
from qa.settings import QASettings
from ui import web as ui_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tiny_index: Path, embedder: HashingEmbedder) -> Iterator[str]:
    demo = ui_app.build_app(Assistant(tiny_index, embedder, QASettings(reader="rules")))
    port = _free_port()
    ui_app.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("   ", "the question is empty"),
        ("x" * 2001, "the question is 2001 characters long; the limit is 2000"),
    ],
)
def test_answer_endpoint_returns_the_users_error_without_a_traceback(
    server: str, question: str, message: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    with pytest.raises(Exception, match=message) as raised:
        client.predict(question, api_name="/answer")
    assert "upstream Gradio app has raised an exception" not in str(raised.value)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err + caplog.text
    assert client.predict("How much do tickets cost?", api_name="/answer")["quotes"][0]["text"] == "Tickets cost $12."

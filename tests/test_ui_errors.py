"""The browser's HTTP endpoint ``/answer`` with bad questions: the user's error comes back, no traceback is logged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from qa.assistant import Assistant
from qa.settings import QASettings
from tests.conftest import serving
from ui import web as ui_app


@pytest.fixture
def server(tiny_index: Path, embedder: HashingEmbedder) -> Iterator[str]:
    with serving(ui_app.build_app(Assistant(tiny_index, embedder, QASettings(reader="rules")))) as url:
        yield url


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

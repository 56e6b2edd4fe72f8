"""The browser chat after articles are added (issue 16): a new page load and the source filter see them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.embed import HashingEmbedder
from qa.assistant import Assistant
from qa.settings import QASettings
from tests.conftest import serving
from ui import web as ui_app


@pytest.fixture
def served(tiny_index: Path, embedder: HashingEmbedder) -> Iterator[tuple[str, ui_app.ChatHandlers, Any]]:
    assistant = Assistant(tiny_index, embedder, QASettings(reader="rules"))
    demo = ui_app.build_app(assistant)
    with serving(demo) as url:
        yield url, ui_app.ChatHandlers(assistant), demo


def _on_load(demo: Any) -> list[Any]:
    """The functions the page runs when it loads (Gradio's ``load`` event)."""
    fns = getattr(demo, "fns", {})
    return [f for f in fns.values() if any(t[1] == "load" for t in f.targets)]


@pytest.mark.timeout(120)
def test_a_new_source_can_be_filtered_and_a_page_load_shows_the_new_count(
    served: tuple[str, ui_app.ChatHandlers, Any],
) -> None:
    from gradio_client import Client

    url, handlers, demo = served
    html = handlers.add([], "The bakery on Elm Street won a national bread prize on Tuesday.", "Bakery", "Elm Gazette")
    assert "1 article added" in html
    client = Client(url, verbose=False)
    _, chat = client.predict("Which bakery won a bread prize?", ["Elm Gazette"], None, None, None, api_name="/chat")
    content = chat[-1]["content"]
    text = str(content[0]["text"] if isinstance(content, list) else content)
    assert "Elm Street" in text and "not in the list of choices" not in text
    loads = [f for f in _on_load(demo) if any(getattr(o, "elem_id", None) == "nq-corpus" for o in f.outputs)]
    assert loads, "no load event refreshes the header"
    header, sources = loads[0].fn()
    assert "5 articles indexed" in header
    assert "Elm Gazette" in sources["choices"] or ("Elm Gazette", "Elm Gazette") in sources["choices"]

"""scripts/soak.py in miniature: clients on /answer while articles are added and removed; nothing fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "soak.py"


@pytest.mark.timeout(180)
def test_a_short_soak_has_no_errors_and_answers_from_one_generation() -> None:
    spec = importlib.util.spec_from_file_location("soak", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module
    spec.loader.exec_module(module)
    result = module.soak(clients=3, minutes=0.25, every=1.0, embedder_name="hashing")
    assert result["answers"] > 10 and result["writes"] >= 5
    assert result["errors"] == 0, result["first_errors"]
    assert result["mixed_generations"] == 0
    assert result["gradio_temp_files"][1] <= result["gradio_temp_files"][0]


def test_uploaded_files_are_removed_once_indexed(
    tiny_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.embed import HashingEmbedder
    from qa.assistant import Assistant
    from qa.settings import QASettings
    from ui import web

    uploads = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    (uploads / "3f2a").mkdir(parents=True)
    upload = uploads / "3f2a" / "lighthouse.txt"
    upload.write_text("Lighthouse reopens after repairs.\n\nThe old lighthouse at Cape Morrow reopened on Sunday.\n")
    refused = uploads / "virus.exe"
    refused.write_bytes(b"MZ")
    mine = tmp_path / "mine.txt"  # a file outside the upload folder is never touched
    mine.write_text("The bakery on Elm Street won a national bread prize on Tuesday.")
    handlers = web.ChatHandlers(Assistant(tiny_index, HashingEmbedder(dim=128), QASettings(reader="rules")))
    html = handlers.add([str(upload), str(refused), str(mine)], "", "", "")
    assert "2 articles added" in html
    assert not upload.exists() and not (uploads / "3f2a").exists() and not refused.exists()
    assert mine.exists()

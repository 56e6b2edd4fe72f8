"""The named-entity model in a process of its own (qa/ner_worker.py): a cold name question from
the CLI loads spaCy there, beside the index, instead of after it (issue 16 item 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.ner import EntityTagger
from ui.cli import main

from .conftest import tiny_articles
from .test_ner_lazy import SENTENCES


def _gone(pid: int, within: float = 10.0) -> bool:
    """True once no process ``pid`` runs (a zombie child of another process counts as gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_the_worker_tags_as_the_model_loaded_here() -> None:
    here = EntityTagger().entities(SENTENCES)
    tagger = EntityTagger()
    assert tagger.start_worker()
    worker = tagger._worker
    assert worker is not None
    assert tagger.entities(SENTENCES) == here
    assert sum(map(len, here)) >= 15  # the sentences name things: the comparison is not vacuous
    assert tagger.components == ()  # the model never loaded in this process
    tagger.stop_worker()
    assert worker.returncode is not None and tagger._worker is None


def test_a_worker_that_died_leaves_the_model_to_load_here() -> None:
    tagger = EntityTagger()
    assert tagger.start_worker()
    assert tagger._worker is not None
    tagger._worker.kill()
    tagger._worker.wait()
    assert tagger.entities(["Angela Merkel visited Paris."]) == [[(0, 13, "PERSON"), (22, 27, "GPE")]]
    assert tagger.components == ("ner",) and tagger._worker is None


def test_a_worker_that_hangs_is_stopped_and_the_model_loads_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that reads requests and never answers (stuck loading on a busy machine) must not hang
    the question: after ``WORKER_WAIT`` it is killed and the model loads in this process."""
    from qa import ner

    monkeypatch.setattr(ner, "WORKER_WAIT", 0.5)
    tagger = EntityTagger()
    silent = "import sys, time\nfor line in sys.stdin:\n    time.sleep(3600)\n"
    tagger._worker = subprocess.Popen(
        [sys.executable, "-c", silent], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
    )
    worker = tagger._worker
    started = time.monotonic()
    assert tagger.entities(["Angela Merkel visited Paris."]) == [[(0, 13, "PERSON"), (22, 27, "GPE")]]
    assert time.monotonic() - started < 60  # the wait, then the model loaded here
    assert tagger._worker is None and worker.poll() is not None  # killed, not left running
    assert tagger.components == ("ner",)


def test_a_missing_model_package_is_reported_by_the_worker() -> None:
    tagger = EntityTagger("no_such_model_package_for_newsqa")
    assert tagger.start_worker()
    assert tagger.entities(["Angela Merkel visited Paris."]) is None
    assert tagger.available is False
    tagger.stop_worker()


def test_the_worker_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    """No process is left behind by a CLI call: the worker's input closes when its parent exits."""
    script = (
        "from qa.ner import EntityTagger\n"
        "t = EntityTagger()\n"
        "t.start_worker()\n"
        "print(t._worker.pid, flush=True)\n"
        "print(t.entities(['Angela Merkel visited Paris.']), flush=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    pid, tagged = done.stdout.splitlines()
    assert "PERSON" in tagged
    assert _gone(int(pid))


@pytest.fixture
def corpus_index(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({**a.to_dict(), "text": a.text}) for a in tiny_articles()) + "\n")
    index = tmp_path / "idx"
    assert main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"]) == 0
    return index


def test_the_cli_starts_the_worker_only_for_questions_that_need_names(
    corpus_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[str] = []
    monkeypatch.setattr(EntityTagger, "start_worker", lambda self: started.append("started") or False)
    assert main(["ask", "What did the agriculture minister call for?", "--index", str(corpus_index)]) == 0
    assert started == []
    assert main(["ask", "Who called for emergency loans?", "--index", str(corpus_index)]) == 0
    assert started == ["started"]
    config = corpus_index.parent / "newsqa.toml"
    config.write_text("[qa]\nentities = false\n")  # no entity check: no model to start
    assert main(["--config", str(config), "ask", "Who called for emergency loans?", "--index", str(corpus_index)]) == 0
    assert started == ["started"]
    capsys.readouterr()

"""The command line, run in-process: index, ask (text and JSON), remove, errors as messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ui.cli import main

from .conftest import tiny_articles


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    rows = [{**a.to_dict(), "text": a.text} for a in tiny_articles()]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_index_then_ask_as_json(tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "idx"
    assert main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "4 added" in out and "gen-000001" in out
    assert main(["ask", "What did the agriculture minister call for?", "--index", str(index), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["abstained"] is False and "emergency loans" in answer["answer"]
    source = {r["id"]: r for r in map(json.loads, corpus.read_text().splitlines())}
    for quote in answer["quotes"]:
        assert source[quote["article_id"]]["text"][quote["start"] : quote["end"]] == quote["text"]


def test_ask_prints_quotes_with_citations(tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "idx"
    main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"])
    capsys.readouterr()
    assert main(["ask", "How much do the ferry tickets cost?", "--index", str(index), "--today", "2026-03-10"]) == 0
    out = capsys.readouterr().out
    assert "[1] “" in out and "Coast Courier" in out and "2026-03-02" in out


def test_second_index_run_embeds_nothing(tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "idx"
    main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"])
    capsys.readouterr()
    main(["index", str(corpus), "--index", str(index), "--quiet"])
    out = capsys.readouterr().out
    assert "0 added" in out and "4 unchanged" in out and "embedded" not in out


def test_remove(tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "idx"
    main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"])
    victim = tiny_articles()[0].id
    assert main(["remove", victim, "--index", str(index)]) == 0
    assert "1 removed; 3 articles" in capsys.readouterr().out
    assert main(["remove", victim, "--index", str(index)]) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "   ", "--index", "{index}"], "question is empty"),
        (["ask", "Who?", "--index", "{missing}"], "no index at"),
        (["--config", "{missing}", "ask", "Who?"], "settings file not found"),
    ],
)
def test_user_errors_are_one_line_messages(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    index = tmp_path / "idx"
    main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"])
    capsys.readouterr()
    argv = [a.format(index=index, missing=tmp_path / "nope") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsqa: error:") and message in err and "Traceback" not in err


def test_config_file_sets_qa_settings_and_rejects_unknown_keys(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "idx"
    main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"])
    good = tmp_path / "good.toml"
    good.write_text("[qa]\npassages = 2\nretrieval = 'dense'\n")
    capsys.readouterr()
    assert main(["--config", str(good), "ask", "ferry tickets", "--index", str(index), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["passages"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[qa]\npasages = 2\n")
    assert main(["--config", str(bad), "ask", "ferry", "--index", str(index)]) == 2
    assert "unknown setting(s) pasages" in capsys.readouterr().err


def test_index_in_resumable_shards_without_ray(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "idx"
    argv = ["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet", "--workers", "0"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "shards embedded, 0 already done" in out and "4 articles" in out
    assert main(argv) == 2  # an index exists: --workers builds a new one only with --rebuild
    assert "--rebuild" in capsys.readouterr().err
    assert main([*argv, "--rebuild"]) == 0
    assert "0 shards embedded" in capsys.readouterr().out  # every shard was already done
    assert main(["ask", "What did the agriculture minister call for?", "--index", str(index), "--json"]) == 0
    assert "emergency loans" in json.loads(capsys.readouterr().out)["answer"]


def test_index_in_milvus_lite_then_ask(tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pymilvus", reason="pymilvus is not installed (pip install 'newsqa[scale]')")
    pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install 'newsqa[scale]')")
    index = tmp_path / "idx"
    argv = ["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet", "--store", "milvus"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["ask", "How much do the ferry tickets cost?", "--index", str(index), "--json"]) == 0
    assert "$12" in json.loads(capsys.readouterr().out)["answer"]
    assert main(["index", str(corpus), "--index", str(tmp_path / "x"), "--milvus-uri", "a.db"]) == 2
    assert "--milvus-uri needs --store milvus" in capsys.readouterr().err


def test_other_settings_on_an_existing_index_are_refused(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "idx"
    assert main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["index", str(corpus), "--index", str(index), "--embedder", "hashing-64", "--quiet"]) == 2
    assert "embedder='hashing-64' (index: 'hashing')" in capsys.readouterr().err
    assert main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"]) == 0


def test_chat_rewrites_a_follow_up_and_a_bad_question_is_a_message(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "idx"
    main(["index", str(corpus), "--index", str(index), "--embedder", "hashing", "--quiet"])
    capsys.readouterr()
    typed = iter(["What did the agriculture minister call for?", "Why did he call for them?", "x" * 2001, ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    assert main(["chat", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "emergency loans" in out
    assert "(understood as: Why did Tomas Brandt call for them?)" in out  # "he", from the first answer
    assert "newsqa: the question is 2001 characters long" in out  # the chat goes on after it

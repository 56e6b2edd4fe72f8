"""The cold CLI benchmark's table (eval/cold_cli.py); the timing itself is a script, not a test."""

from __future__ import annotations

from pathlib import Path

from eval.cold_cli import Timed, ask_command, render


def test_the_table_compares_each_command_with_the_what_question() -> None:
    rows = [
        Timed("who (this checkout)", (2.0, 2.5, 3.0), False, "Thomas Jefferson"),
        Timed("what (this checkout)", (1.5, 1.75, 2.0), False, "a theme"),
        Timed("who (baseline)", (4.0, 4.25, 9.0), True, "The articles don't say."),
    ]
    text = render(rows, Path("idx"), Path("/tmp/old"), "Who?", "What?")
    assert "| who (this checkout) | 2.50 | 2.00 | 3.00 | +0.75 s | no | Thomas Jefferson |" in text
    assert "| what (this checkout) | 1.75 | 1.50 | 2.00 | +0.00 s | no | a theme |" in text
    assert "| who (baseline) | 4.25 | 4.00 | 9.00 | +2.50 s | yes |" in text
    assert "--baseline-src BASELINE" in text and "a checkout of old" in text and "3 runs" in text
    assert "/tmp" not in text  # the page is committed: no folder of the machine it ran on


def test_the_command_is_newsqa_ask_with_json() -> None:
    command = ask_command("Who?", Path("idx"))
    assert command[1:] == ["-m", "ui.cli", "ask", "Who?", "--index", "idx", "--json"]

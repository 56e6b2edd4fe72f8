"""Imports go one way: index <- qa <- (ui, eval, qa.cli). Checked on the source, statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("index", "qa", "ui", "eval")
# package -> packages it must never import
FORBIDDEN = {
    "index": {"qa", "ui", "eval"},
    "qa": {"ui", "eval"},
    "ui": {"eval"},
    "eval": {"ui"},
}
# the CLI is a door like ui/ (DESIGN.md: "qa.cli  ui/  eval/"): it may start the UI
DOORS = {ROOT / "qa" / "cli.py": {"ui"}}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_flow(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    bad = imported_packages(path) & (FORBIDDEN[package] - DOORS.get(path, set()))
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} against the flow in DESIGN.md"


def test_the_checker_sees_violations(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import os\nfrom qa.assistant import Assistant\ndef f():\n    import ui.app\n")
    assert imported_packages(sample) == {"qa", "ui"}

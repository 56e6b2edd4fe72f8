"""Ingest hardening (issue 16): runs that index nothing, pages with no article, boilerplate, slow pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "pages"


def test_a_run_whose_every_file_is_rejected_fails_and_creates_no_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text("The harbour reopened on Monday after repairs. " * 40000)  # about 1.8 MB
    index = tmp_path / "idx"
    code = main(["index", str(tmp_path / "one.txt"), str(tmp_path / "two.txt"), "--index", str(index),
                 "--embedder", "hashing", "--max-mb", "1", "--quiet"])  # fmt: skip
    assert code != 0
    err = capsys.readouterr().err
    assert "no articles to index: every file was rejected" in err and "one.txt: too large" in err
    assert not index.exists()
    (tmp_path / "small.txt").write_text("The harbour reopened on Monday after repairs.")
    code = main(["index", str(tmp_path / "one.txt"), str(tmp_path / "small.txt"), "--index", str(index),
                 "--embedder", "hashing", "--max-mb", "1", "--quiet"])  # fmt: skip
    assert code == 0 and "1 added" in capsys.readouterr().out  # one file in is a run that did something


def test_a_page_with_no_article_is_rejected_and_a_footer_year_is_no_date(tmp_path: Path) -> None:
    from datetime import date

    from index.read.ingest import ingest_paths

    result = ingest_paths([FIXTURES / "nav-only.html"])
    assert not result.articles
    [line] = result.report
    assert line.status == "rejected" and "no article text found" in line.reason
    [article] = ingest_paths([FIXTURES / "dateline.html"]).articles
    assert article.published == date(2026, 3, 4)  # from the dateline, not "© 2024"
    undated = tmp_path / "undated.html"
    undated.write_text((FIXTURES / "dateline.html").read_text().replace("March 4, 2026 — ", ""))
    [article] = ingest_paths([undated]).articles
    assert article.published is None  # the footer's "© 2024" is not a publication date

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


def test_boilerplate_lines_are_removed_from_page_text() -> None:
    from index.read.ingest import ingest_paths

    [article] = ingest_paths([FIXTURES / "boilerplate.html"]).articles
    for junk in ("Photos: The life", "Getty Images", "Read more:", "TIMELINE:", "Sign up for our", "https://"):
        assert junk not in article.text, junk
    for kept in ("Marta Lindqvist climbed", "I will miss the storms", "volunteer group", "She plans to move"):
        assert kept in article.text, kept


@pytest.mark.parametrize(
    ("page", "source"),
    [
        ("site-suffix.html", "Paradigm"),
        ("pipe-suffix.html", "theparadigm.example"),
        ("boilerplate.html", "The Paradigm"),
    ],
)
def test_titles_lose_the_site_name_and_the_outlet_comes_from_the_page(page: str, source: str) -> None:
    from index.read.ingest import ingest_paths

    [article] = ingest_paths([FIXTURES / page]).articles
    assert article.title == "Lighthouse keeper retires after forty years"
    assert article.source == source  # og:site_name, the URL's domain, JSON-LD publisher: never the file name


def test_line_filter_keeps_article_sentences_that_mention_the_same_words() -> None:
    from index.read.lines import drop_boilerplate_lines

    text = (
        "The council will read more than 300 letters before it votes.\n"
        "She said the timeline for the work was too short.\n"
        "Readers can subscribe to the council's minutes, the clerk said, but few do.\n"
        "Read more: Council votes on harbour plan\n"
        "Subscribe to our newsletter\n"
        "www.example.org/harbour\n"
        "(Photo: Jo Reyes/AP)\n"
    )
    assert drop_boilerplate_lines(text) == "\n".join(text.split("\n")[:3])


def _stall(*args: object, **kwargs: object) -> None:
    import time

    time.sleep(30)  # a page whose parse never ends, as a 20 MB link list made trafilatura run for minutes


@pytest.mark.timeout(60)
def test_a_page_that_stalls_the_parser_is_skipped_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import trafilatura

    from index.read import page
    from index.read.ingest import ingest_paths

    monkeypatch.setattr(page, "IN_PROCESS_CHARS", 0)  # every page goes to a worker, even this small one
    [before] = ingest_paths([FIXTURES / "boilerplate.html"]).articles
    monkeypatch.setattr(page, "PAGE_SECONDS", 1.0)
    monkeypatch.setattr(trafilatura, "bare_extraction", _stall)
    (tmp_path / "ok.txt").write_text("The harbour reopened on Monday after repairs, the council said.")
    started = time.perf_counter()
    result = ingest_paths([FIXTURES / "boilerplate.html", tmp_path / "ok.txt"])
    assert time.perf_counter() - started < 10
    stalled, ok = result.report
    assert stalled.status == "rejected" and "skipped: parsing the HTML took over 1 s" in stalled.reason
    assert ok.status == "accepted" and len(result.articles) == 1
    monkeypatch.undo()
    assert ingest_paths([FIXTURES / "boilerplate.html"]).articles[0] == before  # the worker's article is the same


def test_newsqa_index_shows_which_file_it_is_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    (tmp_path / "a.txt").write_text("The harbour reopened on Monday after repairs, the council said.")
    (tmp_path / "b.txt").write_text("The bakery on Elm Street won a national bread prize on Tuesday.")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # progress is for a terminal
    assert main(["index", str(tmp_path), "--index", str(tmp_path / "idx"), "--embedder", "hashing"]) == 0
    err = capsys.readouterr().err
    assert "reading file 1: a.txt" in err and "reading file 2: b.txt" in err
    assert main(["index", str(tmp_path / "a.txt"), "--index", str(tmp_path / "idx"), "--quiet"]) == 0
    assert "reading" not in capsys.readouterr().err  # --quiet: nothing

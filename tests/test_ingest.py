"""Ingest: every format, every ugly input of the reliability issue, boilerplate removal, and fuzzing."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.errors import BadInputError
from index.read.clean import strip_boilerplate
from index.read.ingest import FieldMap, IngestLine, IngestResult, ingest_bytes, ingest_paths, ingest_text
from index.records import make_article
from tests.conftest import SEED

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def line_for(result: IngestResult, path: Path | str) -> IngestLine:
    matches = [line for line in result.report if line.path == str(path)]
    assert len(matches) == 1, (path, result.report)
    return matches[0]


def one(path: Path, **kwargs: object) -> IngestResult:
    return ingest_paths([path], **kwargs)  # type: ignore[arg-type]


# --- the seed article and boilerplate removal -------------------------------------------


def test_seed_article_loses_its_navigation_tail_and_keeps_the_author_mark() -> None:
    result = one(SEED)
    (article,) = result.articles
    assert article.text.endswith("on this issue.\n\nO.M")
    for tail in ("You might also like", "Latest news", "Muslim World League", "Dele...", "pistachio"):
        assert tail not in article.text
    assert "urgent ceasefire" in article.text and "humanitarian corridors" in article.text
    assert article.title.startswith("Lavrov affirms Russia support for urgent ceasefire")
    assert SEED.read_text(encoding="utf-8").startswith(article.text)
    line = line_for(result, SEED)
    assert (line.status, line.articles) == ("accepted", 1)
    assert "site navigation" in line.reason


BODY = (
    "Harbor town opens new ferry line\n\n"
    "The mayor of Port Ellis, Dana Whitfield, opened a ferry line to Gull Island on Monday.\n\n"
    "She said the line would carry 400 passengers a day and that tickets would cost $12.\n\n"
    "The service will run twice a day until the end of October, the operator said."
)


@pytest.mark.parametrize(
    "tail",
    [
        "\n\nRelated articles\nCouncil Votes To Extend Parking Hours\nStorm Damages Pier At Marina",
        "\n\nYou may also like:\nFishing fleet returns early as prices fall",
        "\n\nShare this article\n\nSign up for our newsletter",
        "\n\nMore from Coast Courier\nCouncil votes to extend parking hours\nStorm damages the pier",
        "\n\nLatest news\n" + " ".join(f"Headline number {n} about something that happene..." for n in range(8)),
        "\n\nCouncil votes to extend harbor parking hours after a long...\nStorm damages pier at Gull Island mar…",
        "\n\n" + " ".join(f"Minister discusses cooperation with mission {n} in the capi..." for n in range(6)),
    ],
)
def test_navigation_tails_are_cut(tail: str) -> None:
    assert strip_boilerplate(BODY + tail + "\n") == BODY


@pytest.mark.parametrize(
    "text",
    [
        BODY + "\n\nResidents who want to read more about the timetable can visit the harbor office.",
        # an inline "Read more" link line in the middle, with the article going on after it
        BODY.replace("\n\nShe said", "\n\nRead more\n\nShe said"),
        # a marker right under the title is not after the body
        BODY.replace("line\n\nThe mayor", "line\n\nLatest news\n\nThe mayor"),
        BODY + "\n\nReporting by Jane Doe; Editing by John Smith",
        # lists end articles too: award winners, tour dates
        BODY
        + "\n\nBest Picture: The Harbor\n\nBest Actor: Sam Reed (The Harbor)\n\nBest Actress: Ana Ruiz (Gull Island)",
        BODY + "\n\nAug. 5-6 — Foxborough, Massachusetts\n\nAug. 10-11 — Baltimore, Maryland\n\nOct. 2-3 — Lima, Peru",
        BODY + "\n\nThe wait, she said, goes on...",
        BODY + "\n\nO.M",
    ],
)
def test_article_text_that_looks_like_navigation_is_kept(text: str) -> None:
    assert strip_boilerplate(text) == text


def test_text_without_prose_is_left_alone() -> None:
    text = "Latest news\nCouncil Votes To Extend Parking Hours\nStorm Damages Pier At Marina\nMore Headlines Here Today"
    assert strip_boilerplate(text) == text


@given(st.lists(st.sampled_from([*BODY.split("\n"), "Latest news", "Read more", "Top Stories Of The Day", "x..."])))
def test_strip_boilerplate_returns_a_prefix(lines: list[str]) -> None:
    text = "\n".join(lines)
    cleaned = strip_boilerplate(text)
    assert text.startswith(cleaned) and cleaned == cleaned.rstrip()


# --- formats ---------------------------------------------------------------------------


def test_plain_text_and_markdown_titles() -> None:
    result = ingest_paths([FIXTURES / "bike-lanes.md", FIXTURES / "harbor-ferry.txt"])
    titles = {a.source: a.title for a in result.articles}
    assert titles == {
        "bike-lanes.md": "City council approves bike lanes",
        "harbor-ferry.txt": "Harbor town opens new ferry line",
    }
    ferry = next(a for a in result.articles if a.source == "harbor-ferry.txt")
    assert ferry.text.endswith("tickets would cost $12.") and "Related articles" not in ferry.text


def test_markdown_front_matter_gives_metadata() -> None:
    (article,) = one(FIXTURES / "wheat-drought.markdown").articles
    assert (article.title, article.source, article.url, article.published) == (
        "Drought hits wheat farmers",
        "Farm Weekly",
        "https://example.org/drought",
        date(2026, 3, 5),
    )
    assert article.text.startswith("Wheat farmers") and "---" not in article.text


def test_html_main_text_and_metadata_without_scripts_navigation_or_banners() -> None:
    (article,) = one(FIXTURES / "museum-painting.html").articles
    assert "Detectives found it in a private collection in Lyon" in article.text
    for junk in ("tracker", "function", "cookies", "Accept", "Home", "Sport", "Copyright", "newsletter", "Sculptor"):
        assert junk not in article.text, junk
    assert article.title == "Museum recovers stolen painting"
    assert (article.source, article.author, article.url) == ("Arts Daily", "Clara Vint", "https://example.org/painting")
    assert article.published == date(2025, 11, 14)


def test_json_object_holding_a_list_keeps_record_ids_and_parses_dates() -> None:
    path = FIXTURES / "wire.json"
    result = one(path)
    by_id = {a.id: a for a in result.articles}
    assert set(by_id) == {"wire-001", "wire-002"}
    assert by_id["wire-001"].published == date(2026, 2, 1)
    assert by_id["wire-002"].published == date(2026, 3, 7)  # "March 7, 2026"
    assert line_for(result, path) == IngestLine(str(path), "accepted", 2, "2 article(s) from 3 record(s); 1 rejected")
    assert line_for(result, f"{path}:record 3").reason.startswith("missing text field 'text'")


def test_single_json_object_without_id_gets_the_deterministic_id() -> None:
    (article,) = one(FIXTURES / "single.json").articles
    expected = make_article(article.text, title="Library extends hours", published=date(2026, 5, 20))
    assert article.id == expected.id and article.content_hash == expected.content_hash


def test_jsonl_bad_lines_are_reported_and_good_ones_kept() -> None:
    path = FIXTURES / "mixed.jsonl"
    result = one(path)
    assert [a.id for a in result.articles] == ["j-1", "j-7"]
    assert result.articles[1].published is None
    assert line_for(result, path).articles == 2
    expected = {
        2: ("rejected", "malformed JSON"),
        3: ("rejected", "missing text field 'text'"),
        5: ("rejected", "empty text"),
        6: ("rejected", "not a record"),
        7: ("duplicate", f"same text as {path}:line 1"),
        8: ("accepted", "published 'next week' is not a date"),
    }
    for number, (status, reason) in expected.items():
        line = line_for(result, f"{path}:line {number}")
        assert line.status == status and line.reason.startswith(reason), line
    assert not any(line.path == f"{path}:line 4" for line in result.report)  # a blank line is no record


def test_csv_with_multiline_field_and_csv_with_mapped_columns() -> None:
    path = FIXTURES / "records.csv"
    result = one(path)
    assert [a.id for a in result.articles] == ["c-1", "c-2"]
    assert (
        result.articles[1].text
        == "The first paragraph of the story.\n\nA second paragraph, inside the same quoted field."
    )
    assert line_for(result, f"{path}:line 6").reason == "empty text"
    assert line_for(one(FIXTURES / "mapped.csv"), FIXTURES / "mapped.csv").status == "rejected"
    fields = FieldMap(title="Headline", text="Body", url="Link", published="Date")
    (panda,) = ingest_paths([FIXTURES / "mapped.csv"], fields).articles
    assert (panda.title, panda.url, panda.published) == (
        "Zoo welcomes twin pandas",
        "https://example.org/pandas",
        date(2026, 6, 2),
    )
    assert panda.text.endswith("both are healthy.")


def test_feeds_give_one_article_per_entry_with_html_stripped() -> None:
    rss = FIXTURES / "feed.rss"
    result = ingest_paths([rss, FIXTURES / "feed.atom"])
    dam, ski = result.articles
    dam_text = "Engineers found small cracks in the Hollow Creek dam during a routine inspection."
    assert dam.text == dam_text + "\nRepairs will start in May."
    assert (dam.source, dam.url, dam.published) == ("Valley Gazette", "https://example.org/dam", date(2026, 3, 2))
    assert (ski.title, ski.author, ski.source, ski.published) == (
        "Ski season opens early",
        "Ana Ruiz",
        "Hill Herald",
        date(2026, 3, 3),
    )
    assert line_for(result, f"{rss}:entry 2").status == "rejected"


# --- encodings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "cafe-latin1.txt",
            "The owner of Café Étoile in Montréal, Zoé Lefèvre, won the city's prize for the best crème brûlée",
        ),
        ("lavrov-arabic-cp1256.txt", "التقى وزير الخارجية الروسي سيرغي لافروف في موسكو"),
        ("windows-1252.txt", "The council passed the mayor’s budget on Monday — with a €2 million surplus"),
        ("bom-utf8.txt", "Tram line extended\n\nThe tram line in Kessel"),
    ],
)
def test_encodings_come_out_right(name: str, expected: str) -> None:
    (article,) = one(FIXTURES / name).articles
    assert expected in article.text and "\r" not in article.text and "\ufeff" not in article.text


def test_invalid_utf8_keeps_the_text_and_says_so() -> None:
    result = one(FIXTURES / "broken-utf8.txt")
    (article,) = result.articles
    assert "Naïve forecast criticised" in article.text and "office’s" in article.text
    assert "invalid UTF-8" in line_for(result, FIXTURES / "broken-utf8.txt").reason


def test_utf16_with_bom() -> None:
    (article,) = ingest_bytes("note.txt", "Zoë’s story\n\nIt was told in UTF-16.".encode("utf-16")).articles
    assert article.text == "Zoë’s story\n\nIt was told in UTF-16."


# --- ugly inputs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("zero.txt", "empty file (0 bytes)"),
        ("blank.md", "empty (whitespace only)"),
        ("image.txt", "not text: binary data"),
        ("slides.pdf", "unsupported type '.pdf'"),
        ("not-json.json", "malformed JSON"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(name: str, reason: str) -> None:
    result = one(FIXTURES / name)
    line = line_for(result, FIXTURES / name)
    assert result.articles == () and line.status == "rejected" and line.reason.startswith(reason), line


def test_too_large_files_are_rejected_without_being_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024)
    small = tmp_path / "small.txt"
    small.write_text(BODY)
    line = line_for(ingest_paths([huge]), huge)
    assert line.status == "rejected" and line.reason.startswith("too large: 104,857,600 bytes > max_bytes")
    capped = ingest_paths([small, tmp_path / "huge.txt"], max_bytes=len(BODY) - 1)
    assert capped.articles == () and line_for(capped, small).reason.startswith("too large")
    assert len(ingest_paths([small], max_bytes=len(BODY)).articles) == 1
    assert ingest_bytes("up.txt", BODY.encode(), max_bytes=10).report[0].reason.startswith("too large")


def test_jsonl_is_streamed_and_an_overlong_line_costs_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    good = json.dumps({"id": "ok-1", "text": "A short good record."})
    with path.open("wb") as handle:
        handle.write(good.encode() + b"\n")
        handle.write(b'{"text": "' + b"x" * 5000 + b'"}\n')
        handle.write(json.dumps({"id": "ok-2", "text": "Another good record."}).encode() + b"\n")
        handle.write(b"\x00" * 3000)  # and a last line of NUL bytes without newline
    result = ingest_paths([path], max_bytes=1000)
    assert [a.id for a in result.articles] == ["ok-1", "ok-2"]
    assert line_for(result, f"{path}:line 2").reason == "line longer than max_bytes"
    assert line_for(result, f"{path}:line 4").status == "rejected"


def test_deeply_nested_and_huge_json(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    assert line_for(one(deep), deep).reason == "JSON nested too deeply to read"
    digits = tmp_path / "digits.json"
    digits.write_text('{"text": "x", "n": ' + "9" * 10_000 + "}")
    assert line_for(one(digits), digits).reason.startswith("unreadable JSON")
    deep_line = tmp_path / "deep.jsonl"
    deep_line.write_text('{"text": "kept"}\n' + "[" * 100_000 + "\n")
    result = one(deep_line)
    assert [a.text for a in result.articles] == ["kept"]
    assert line_for(result, f"{deep_line}:line 2").reason == "JSON nested too deeply to read"
    many = tmp_path / "many.json"
    many.write_text(json.dumps({"items": [{"text": f"Record number {n} of many."} for n in range(20_000)]}))
    result = one(many)
    assert len(result.articles) == 20_000 and line_for(result, many).articles == 20_000


def test_duplicates_are_kept_once_and_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY)
    (tmp_path / "b.txt").write_text(BODY + "\n\n")  # same content hash
    rows = [
        {"id": "r1", "text": "First text."},
        {"id": "r1", "text": "Other text."},
        {"id": "r2", "text": "First text."},
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(map(json.dumps, rows)))
    result = ingest_paths([tmp_path])
    assert [a.id for a in result.articles] == [result.articles[0].id, "r1"]
    assert line_for(result, tmp_path / "b.txt") == IngestLine(
        str(tmp_path / "b.txt"), "duplicate", 0, f"same text as {tmp_path / 'a.txt'}"
    )
    assert "id 'r1' already used" in line_for(result, f"{tmp_path / 'c.jsonl'}:line 2").reason
    assert line_for(result, f"{tmp_path / 'c.jsonl'}:line 3").reason == f"same text as {tmp_path / 'c.jsonl'}:line 1"


def test_folders_recurse_skip_hidden_and_report_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "story.txt").write_text(BODY)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "junk.txt").write_text("Hidden folder text that must not be read.")
    (tmp_path / ".hidden.txt").write_text("Hidden file text that must not be read.")
    result = ingest_paths([tmp_path, tmp_path / "gone.txt"])
    assert [line.path for line in result.report] == [
        str(tmp_path / "sub" / "deeper" / "story.txt"),
        str(tmp_path / "gone.txt"),
    ]
    assert result.report[1] == IngestLine(str(tmp_path / "gone.txt"), "rejected", 0, "no such file or directory")
    with pytest.raises(BadInputError, match="no such file"):
        ingest_paths([tmp_path / "gone.txt"])


def test_fixture_folder_every_file_one_line_and_no_good_article_lost(tmp_path: Path) -> None:
    folder = shutil.copytree(FIXTURES, tmp_path / "corpus")
    result = ingest_paths([folder])
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    statuses = {p.name: line_for(result, p).status for p in files}  # exactly one line per file
    rejected = {"zero.txt", "blank.md", "image.txt", "slides.pdf", "not-json.json", "mapped.csv"}
    assert {n for n, s in statuses.items() if s == "rejected"} == rejected
    assert {n for n, s in statuses.items() if s == "duplicate"} == {"harbor-ferry_copy.txt"}
    expected_titles = {
        "City council approves bike lanes", "Tram line extended", "Naïve forecast criticised", "Café owner wins award",
        "Ski season opens early", "Dam inspection finds cracks", "Harbor town opens new ferry line",
        "لافروف يؤكد دعم روسيا لوقف إطلاق النار", "Port cranes arrive", "School roof repaired",
        "Museum recovers stolen painting", "Ferry fares rise", "Two lines", "Library extends hours",
        "Drought hits wheat farmers", "Mayor’s “quiet” budget passes", "Rail strike ends", "Bridge reopens",
    }  # fmt: skip
    assert sorted(a.title for a in result.articles) == sorted(expected_titles)
    assert len({a.content_hash for a in result.articles}) == len(result.articles)
    again = ingest_paths([folder])
    assert again == result  # deterministic: same articles, same ids, same report


def test_pasted_text_and_uploaded_bytes() -> None:
    pasted = ingest_text(BODY + "\n\nLatest news\nSomething Else Entirely Happened Today", source="Coast Courier")
    (article,) = pasted.articles
    assert article.text == BODY and article.title == "Harbor town opens new ferry line"
    assert article.source == "Coast Courier" and pasted.report[0].status == "accepted"
    assert ingest_text(" \n ").report[0] == IngestLine("pasted text", "rejected", 0, "empty text")
    dated = ingest_text("Short note about the port budget.", title="Port", published="2026-01-02").articles[0]
    assert (dated.title, dated.published) == ("Port", date(2026, 1, 2))
    html = (FIXTURES / "museum-painting.html").read_bytes()
    uploaded = ingest_bytes("page.html", html)
    assert uploaded.articles[0].title == "Museum recovers stolen painting"
    assert ingest_bytes("page", html).articles[0].title == "Museum recovers stolen painting"  # sniffed
    assert ingest_bytes("x.docx", b"PK\x03\x04").report[0].status == "rejected"


# --- fuzzing ---------------------------------------------------------------------------

NAMES = ["f.txt", "f.md", "f.html", "f.json", "f.jsonl", "f.csv", "f.rss", "f", "f.bin"]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(name: str, data: bytes) -> None:
    result = ingest_bytes(name, data, max_bytes=4096)
    file_lines = [line for line in result.report if line.path == name]
    assert len(file_lines) == 1
    assert all(line.path.startswith(name) for line in result.report)
    assert file_lines[0].articles == len(result.articles)
    for article in result.articles:
        assert article.text.strip() and article.text == article.text.strip()
        assert article.content_hash == make_article(article.text).content_hash
    assert [a.id for a in ingest_bytes(name, data, max_bytes=4096).articles] == [a.id for a in result.articles]


@FUZZ
@given(st.sampled_from(NAMES), st.binary(max_size=600))
def test_ingest_never_raises_on_arbitrary_bytes(name: str, data: bytes) -> None:
    _check(name, data)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["id", "text", "title", "published", "items", "x"]), inner, max_size=5)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.sampled_from(["f.json", "f.jsonl", "f"]), st.lists(JSONISH, min_size=1, max_size=4), st.integers(0, 40))
def test_ingest_never_raises_on_json_like_text(name: str, docs: list[object], cut: int) -> None:
    text = "\n".join(json.dumps(doc) for doc in docs)
    _check(name, text.encode())
    _check(name, text[: len(text) - cut].encode())  # truncated: malformed

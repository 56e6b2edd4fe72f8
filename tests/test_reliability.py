"""Index lifecycle and reliability: no re-embedding, SIGKILL at random points, every kind of
corruption, concurrent questions during an update, and store round-trips of arbitrary text.

The harness (``kill_trials``, ``concurrency_run`` in eval/reliability.py, ``corruption_cases`` in
eval/corruption.py) is also run, with more repetitions, by ``scripts/reliability_report.py`` for
docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval.corruption import INCONSISTENT, corruption_cases
from eval.reliability import changed, concurrency_run, generated_articles, kill_trials, write_jsonl
from eval.reliability import run_cli as run_cli_with
from index.build import add_articles, remove_articles
from index.embed import HashingEmbedder
from index.errors import BadInputError, CorruptIndexError
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import current_generation, load_index, read_manifest
from qa.settings import QASettings
from ui.cli import main


def run_cli(argv: Sequence[str]) -> int:
    """``newsqa ARGV`` in this process, its output swallowed."""
    return run_cli_with(main, argv)


class CountingEmbedder:
    """Wraps an embedder and counts what it is asked to embed."""

    def __init__(self, inner: HashingEmbedder) -> None:
        self.inner = inner
        self.chunk_calls = 0
        self.chunk_texts = 0
        self.queries = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_query(self, text: str) -> np.ndarray:
        self.queries += 1
        return self.inner.embed_query(text)

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        self.chunk_calls += 1
        self.chunk_texts += len(texts)
        return self.inner.embed_chunks(texts, spans)


# ---------------------------------------------------------------- 1. incremental index, no re-embedding


def test_loading_and_asking_never_embeds_a_chunk(tiny_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.assistant
    from qa.assistant import load_assistant

    counter = CountingEmbedder(HashingEmbedder(dim=128))
    monkeypatch.setattr(qa.assistant, "make_embedder", lambda name: counter)
    assistant = load_assistant(tiny_index)
    for question in ["How much do ferry tickets cost?", "Who called for emergency loans?", "Where was the painting?"]:
        assistant.ask(question)
    assert run_cli(["ask", "Who opened the ferry line?", "--index", str(tiny_index)]) == 0
    assert run_cli(["ask", "What did the council approve?", "--index", str(tiny_index), "--json"]) == 0
    assert not assistant.reload()  # nothing changed on disk: nothing reloaded
    # one embedding per question, plus its best sentences embedded alone (QASettings.rescore)
    assert 5 <= counter.queries <= 5 * (1 + QASettings().rescore)
    assert counter.chunk_calls == 0


def test_cli_index_embeds_only_new_and_changed_articles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.build

    counter = CountingEmbedder(HashingEmbedder(dim=64))
    monkeypatch.setattr(index.build, "make_embedder", lambda name: counter)
    root, first = tmp_path / "index", generated_articles(30, seed=1)
    feed = write_jsonl(tmp_path / "feed.jsonl", first)
    assert run_cli(["index", str(feed), "--index", str(root), "--embedder", "hashing-64", "--quiet"]) == 0
    built = load_index(root)
    assert counter.chunk_texts == len(built.chunks) and len(built.articles) == 30

    counter.chunk_texts = 0
    assert run_cli(["index", str(feed), "--index", str(root), "--quiet"]) == 0  # the same feed again
    assert counter.chunk_texts == 0 and current_generation(root) == root / built.generation

    edited, extra = changed(first[3]), generated_articles(1, seed=2, prefix="late")[0]
    write_jsonl(feed, [*first[:3], edited, *first[4:], extra])
    assert run_cli(["index", str(feed), "--index", str(root), "--quiet"]) == 0
    data = load_index(root)
    new_rows = [c for c in data.chunks if c.article_id in (edited.id, extra.id)]
    assert counter.chunk_texts == len(new_rows)  # only the changed and the new article were embedded
    assert len(data.articles) == 31 and data.articles[edited.id].text == edited.text
    for chunk in data.chunks:  # the old version's chunks are gone, the new ones point into the new text
        assert data.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    # untouched articles keep their stored vectors (not embedded again: counted above), within the
    # int8 codes' step when the new rows widened the ranges and every row was coded again; a row of
    # another chunk would be about 0.3 off
    kept = data.chunk_vectors[[i for i, c in enumerate(data.chunks) if c.article_id == first[0].id]]
    before = built.chunk_vectors[[i for i, c in enumerate(built.chunks) if c.article_id == first[0].id]]
    assert np.abs(np.asarray(kept) - np.asarray(before)).max() <= 0.01


def test_cli_remove_deletes_and_reports_unknown_ids(tiny_index: Path, articles: list[Article]) -> None:
    before = current_generation(tiny_index)
    assert run_cli(["remove", "no-such-id", "--index", str(tiny_index)]) == 1
    assert current_generation(tiny_index) == before  # nothing to remove: no new generation
    assert run_cli(["remove", articles[1].id, articles[2].id, "--index", str(tiny_index)]) == 0
    data = load_index(tiny_index)
    assert set(data.articles) == {articles[0].id, articles[3].id}
    assert {c.article_id for c in data.chunks} == set(data.articles)


# ---------------------------------------------------------------- 2. crash safety: SIGKILL at random points


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_the_old_or_the_new_index(tmp_path: Path) -> None:
    results = kill_trials(main, tmp_path, trials=24)  # each one asserts old-or-new, loadable, and a clean next run
    assert len(results) == 24
    phases = {r.phase for r in results}
    # the trials aim at every phase in turn; at least the long ones must have been hit
    assert {"before writing", "writing files"} <= phases, phases


def test_leftovers_of_a_killed_writer_are_ignored_then_cleaned(tiny_index: Path, articles: list[Article]) -> None:
    live = current_generation(tiny_index)
    assert live is not None
    shutil.copytree(live, tiny_index / ".tmp-gen-000009-4242")
    (tiny_index / ".tmp-gen-000009-4242" / "chunks.faiss").write_bytes(b"half a file")
    shutil.copytree(live, tiny_index / "gen-000007")  # renamed, but the pointer never moved to it
    (tiny_index / ".CURRENT.4242").write_text("gen-000007\n")
    assert load_index(tiny_index).generation == live.name
    remove_articles(tiny_index, [articles[0].id])
    names = sorted(p.name for p in tiny_index.iterdir() if p.name != ".lock")
    assert names == ["CURRENT", live.name, "gen-000002"]  # the next writer removed the dead one's files first


# ---------------------------------------------------------------- 3. corruption and mismatch


def test_every_damaged_file_and_inconsistency_is_a_clear_error(tmp_path: Path, tiny_index: Path) -> None:
    results = corruption_cases(tmp_path, tiny_index)
    live = current_generation(tiny_index)
    assert live is not None
    assert len(results) >= 4 * 12 + len(INCONSISTENT) + 6  # 12 files: 6 + the 6 of keyword/
    missed = [f"{r.case}: {r.error or 'no error'}: {r.message}" for r in results if not r.detected]
    assert not missed, "\n".join(missed)
    kinds = {r.case: r.error for r in results}
    assert kinds["manifest of another format version"] == "IndexMismatchError"
    assert kinds["an index built with another embedder"] == "IndexMismatchError"
    assert kinds["chunks.faiss altered"] == "CorruptIndexError"


def test_a_broken_index_is_replaced_by_rebuild(tiny_index: Path, articles: list[Article]) -> None:
    (tiny_index / "CURRENT").write_bytes(b"\x00garbage")
    with pytest.raises(CorruptIndexError, match="CURRENT"):
        add_articles(tiny_index, articles[:1], embedder=HashingEmbedder(dim=128))
    settings = IndexSettings(embedder="hashing-128", chunk_size=200, chunk_overlap=0)
    add_articles(tiny_index, articles, settings, HashingEmbedder(dim=128), rebuild=True)
    assert len(load_index(tiny_index).articles) == 4


def test_checksums_are_verified_before_faiss_reads_a_byte(tiny_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import faiss

    calls: list[str] = []
    for name in ("read_index", "deserialize_index"):
        real = getattr(faiss, name)
        monkeypatch.setattr(faiss, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    load_index(tiny_index)
    assert calls, "the spy must see FAISS read an intact index"
    calls.clear()
    live = current_generation(tiny_index)
    assert live is not None
    data = bytearray((live / "chunks.faiss").read_bytes())
    data[20] ^= 0xFF  # the header: handed to FAISS, this could crash or mislead it
    (live / "chunks.faiss").write_bytes(bytes(data))
    with pytest.raises(CorruptIndexError, match=r"chunks\.faiss.*checksum"):
        load_index(tiny_index)
    assert calls == []


def test_a_reader_racing_two_writers_gets_the_new_generation(
    tiny_index: Path, articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.store.generations as store

    real = store._verified_bytes
    raced: list[bool] = []

    def racing(generation: Path, relative: str, checksum: str, root: Path) -> bytes:
        if not raced:  # two writes land while the first file is read: this generation is collected
            raced.append(True)
            remove_articles(tiny_index, [articles[0].id])
            remove_articles(tiny_index, [articles[1].id])
        return real(generation, relative, checksum, root)

    monkeypatch.setattr(store, "_verified_bytes", racing)
    data = load_index(tiny_index)
    assert set(data.articles) == {articles[2].id, articles[3].id}


# ---------------------------------------------------------------- 4. concurrency


def test_concurrent_questions_during_an_update_each_see_one_generation(tmp_path: Path) -> None:
    result = concurrency_run(tmp_path, threads=8, per_thread=25)
    assert result.errors == []
    assert len(result.latencies_ms) == 200
    assert result.inconsistent == 0
    assert len(result.by_generation) == 2 and min(result.by_generation.values()) >= 40, result.by_generation
    assert result.quotes_checked > 100  # the answers quote: the check is not vacuous


def test_limit_query_threads_sets_this_threads_faiss_pool() -> None:
    import faiss

    from index.threads import limit_query_threads

    seen: list[int] = []

    def worker() -> None:
        limit_query_threads(1)
        seen.append(faiss.omp_get_max_threads())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [1]
    with pytest.raises(ValueError):
        limit_query_threads(0)


# ---------------------------------------------------------------- 5. store round-trips of arbitrary text

_text = st.text(st.characters(codec="utf-8"), max_size=600)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(_text, min_size=1, max_size=4),
    titles=st.lists(st.text(max_size=40), min_size=4, max_size=4),
    day=st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2100, 12, 31))),
)
def test_any_article_text_survives_save_and_load_unchanged(
    texts: list[str], titles: list[str], day: date | None
) -> None:
    embedder = HashingEmbedder(dim=32)
    articles = [
        make_article(t, title=titles[i], source=titles[-1 - i], url=f"u{i}", published=day) for i, t in enumerate(texts)
    ]
    # one ordinary article: an index whose every chunk is word-less (":") fails in bm25s (index/store/keyword.py)
    articles.append(make_article("Ordinary words for the keyword index.", title="plain", url="u-plain"))
    expected: dict[str, Article] = {}
    for article in articles:  # the same text twice is kept once, the first copy
        if article.content_hash not in {a.content_hash for a in expected.values()}:
            expected[article.id] = article
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "index"
        add_articles(root, articles, IndexSettings(embedder=embedder.name, chunk_size=50, chunk_overlap=10), embedder)
        data = load_index(root)
        assert data.articles == expected
        for chunk in data.chunks:
            assert data.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
        again = load_index(root)
        assert again.chunks == data.chunks and np.array_equal(again.sentence_vectors, data.sentence_vectors)


def test_text_that_cannot_be_stored_is_refused_before_embedding(tiny_index: Path) -> None:
    before = current_generation(tiny_index)
    good = make_article("A lone surrogate cannot be written as UTF-8.", title="bad", url="u-bad")
    bad = Article(**{**good.__dict__, "text": "A lone surrogate \ud800 cannot be written as UTF-8."})
    counter = CountingEmbedder(HashingEmbedder(dim=128))
    with pytest.raises(BadInputError, match="surrogate"):
        add_articles(tiny_index, [bad], embedder=counter)  # type: ignore[arg-type]
    assert counter.chunk_calls == 0 and current_generation(tiny_index) == before
    _, manifest = read_manifest(tiny_index)
    assert manifest["counts"]["articles"] == 4


def test_a_manifest_edited_by_hand_is_detected(tiny_index: Path) -> None:
    live = current_generation(tiny_index)
    assert live is not None
    path = live / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["settings"]["chunk_size"] = 999  # valid JSON, plausible value, wrong
    path.write_text(json.dumps(manifest))
    with pytest.raises(CorruptIndexError, match=r"manifest\.json: its own checksum"):
        load_index(tiny_index)
    del manifest["manifest_checksum"]  # an index written before the manifest had its own checksum
    path.write_text(json.dumps({**manifest, "settings": {**manifest["settings"], "chunk_size": 200}}))
    assert len(load_index(tiny_index).articles) == 4

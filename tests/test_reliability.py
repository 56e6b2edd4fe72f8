"""Index lifecycle and reliability: no re-embedding, SIGKILL at random points, every kind of
corruption, concurrent questions during an update, and store round-trips of arbitrary text.

The harness functions (``kill_trials``, ``corruption_cases``, ``concurrency_run``) are also
run, with more repetitions, by ``scripts/reliability_report.py`` for docs/RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import multiprocessing
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.build import add_articles, remove_articles
from index.embed import HashingEmbedder
from index.errors import BadInputError, CorruptIndexError, NewsQAError
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import (
    _manifest_checksum,
    current_generation,
    load_index,
    load_keyword_index,
    read_manifest,
)
from qa.settings import QASettings

FIX = "newsqa index --rebuild"
_WORDS = (
    "harbor",
    "ferry",
    "council",
    "drought",
    "wheat",
    "museum",
    "painting",
    "police",
    "minister",
    "election",
    "budget",
    "river",
    "storm",
    "school",
    "hospital",
    "railway",
    "bridge",
    "market",
    "price",
    "strike",
    "union",
    "court",
    "judge",
    "mayor",
    "senator",
    "treaty",
    "border",
)
_NAMES = ("Dana Whitfield", "Tomas Brandt", "Amira Haddad", "Kenji Sato", "Lucia Ortega", "Piotr Nowak")


# ---------------------------------------------------------------- corpus and helpers


def generated_articles(n: int, seed: int, prefix: str = "story") -> list[Article]:
    """``n`` deterministic news-like articles (3 to 9 sentences each), urls ``https://example.org/{prefix}-{i}``."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        sentences = []
        for _ in range(rng.randint(3, 9)):
            who, what = rng.choice(_NAMES), " ".join(rng.sample(_WORDS, 5))
            sentences.append(f"{who} said the {what} plan would cost {rng.randint(2, 900)} million.")
        out.append(
            make_article(
                " ".join(sentences),
                title=f"{prefix.title()} {i}: {rng.choice(_WORDS)}",
                source=rng.choice(["Wire", "Courier", "Times"]),
                url=f"https://example.org/{prefix}-{i}",
                published=date(2026, 1 + i % 12, 1 + i % 28),
            )
        )
    return out


def changed(article: Article, note: str = "Update: figures revised.") -> Article:
    """The same article (same url, so same id) with new text: every old offset moves."""
    return make_article(
        f"{note} {article.text}", article.title, article.source, article.url, article.published, article.author
    )


def write_jsonl(path: Path, articles: Sequence[Article]) -> Path:
    rows = [{k: v for k, v in a.to_dict().items() if k not in ("id", "content_hash")} for a in articles]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


Fingerprint = tuple[tuple[tuple[str, str], ...], int, int]


def fingerprint(root: Path) -> Fingerprint:
    """What must be identical between two states: (id, content hash) pairs, chunk and sentence counts."""
    data = load_index(root)
    load_keyword_index(root, data.generation)
    pairs = tuple(sorted((a.id, a.content_hash) for a in data.articles.values()))
    return pairs, len(data.chunks), len(data.sentences)


def run_cli(argv: Sequence[str]) -> int:
    """``newsqa ARGV`` in this process, its output swallowed."""
    from ui.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


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
    assert np.array_equal(  # untouched articles keep their stored vectors
        data.chunk_vectors[[i for i, c in enumerate(data.chunks) if c.article_id == first[0].id]],
        built.chunk_vectors[[i for i, c in enumerate(built.chunks) if c.article_id == first[0].id]],
    )


def test_cli_remove_deletes_and_reports_unknown_ids(tiny_index: Path, articles: list[Article]) -> None:
    before = current_generation(tiny_index)
    assert run_cli(["remove", "no-such-id", "--index", str(tiny_index)]) == 1
    assert current_generation(tiny_index) == before  # nothing to remove: no new generation
    assert run_cli(["remove", articles[1].id, articles[2].id, "--index", str(tiny_index)]) == 0
    data = load_index(tiny_index)
    assert set(data.articles) == {articles[0].id, articles[3].id}
    assert {c.article_id for c in data.chunks} == set(data.articles)


# ---------------------------------------------------------------- 2. crash safety: SIGKILL at random points

PHASES = ("before writing", "writing files", "renamed, pointer not moved", "after pointer swap", "finished")


@dataclass(frozen=True)
class KillTrial:
    """One killed run: what was attempted, where it died, what the index then held."""

    n: int
    op: str
    delay_ms: float
    phase: str  # from the files left on disk
    state: str  # "old" or "new": the state the index loaded in after the kill
    leftovers: int  # temporary folders and files the killed writer left


def _cli_in_child(argv: list[str]) -> None:
    """Target of the forked indexer: ``newsqa ARGV``, output discarded."""
    import os

    from ui.cli import main

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os._exit(main(argv))


def _kill_context() -> Any:
    # a fork server that has already imported everything: each indexer starts in milliseconds,
    # so the random delay lands in the indexing itself, not in Python's start-up
    ctx = multiprocessing.get_context("forkserver")
    preload = ["ui.cli", "index.build", "index.read.ingest", "faiss", "bm25s", "tests.test_reliability"]
    ctx.set_forkserver_preload(preload)
    return ctx


def _watch(root: Path, before: str | None, proc: Any) -> dict[str, float]:
    """Poll the index folder while ``proc`` runs; when each phase was first seen (seconds from start)."""
    seen: dict[str, float] = {}
    started = time.perf_counter()
    while proc.is_alive():
        now = time.perf_counter() - started
        names = [p.name for p in root.iterdir()]
        if any(n.startswith(".tmp-") for n in names):
            seen.setdefault("tmp", now)
        if any(n.startswith("gen-") and n > (before or "") for n in names):
            seen.setdefault("renamed", now)
        with contextlib.suppress(OSError, CorruptIndexError):
            live = current_generation(root)
            if live is not None and live.name != before:
                seen.setdefault("swapped", now)
        time.sleep(0.0005)
    seen["exit"] = time.perf_counter() - started
    return seen


def _phase(root: Path, old_gen: str, finished: bool) -> tuple[str, int]:
    names = [p.name for p in root.iterdir()]
    leftovers = sum(n.startswith((".tmp-", ".CURRENT.")) for n in names)
    live = current_generation(root)
    if finished:
        return "finished", leftovers
    if live is not None and live.name != old_gen:
        return "after pointer swap", leftovers
    if any(n.startswith("gen-") and n > old_gen for n in names):
        return "renamed, pointer not moved", leftovers
    if any(n.startswith(".tmp-") for n in names):
        return "writing files", leftovers
    return "before writing", leftovers


def kill_trials(workdir: Path, trials: int, seed: int = 6, articles: int = 240) -> list[KillTrial]:
    """SIGKILL ``newsqa index`` / ``newsqa remove`` at random points, ``trials`` times.

    Three operations cycle on one index: add a batch of ``articles`` new articles with 10
    changed ones, remove the batch, put the 10 originals back. Each is first run once to
    the end, which gives its target state and when its phases begin; each trial then picks
    a phase (in turn) and a random moment in it (seeded), kills the process there and
    checks that the index loads and equals the state before or after the operation
    exactly. A normal run of the same operation must then succeed, leave no temporary
    files and reach the target state.
    """
    ctx = _kill_context()
    base, batch = generated_articles(60, seed=seed), generated_articles(articles, seed=seed + 1, prefix="batch")
    files = {
        "add": write_jsonl(workdir / "add.jsonl", [*batch, *(changed(a) for a in base[:10])]),
        "restore": write_jsonl(workdir / "restore.jsonl", base[:10]),
    }
    root = workdir / "index"
    ops = {
        "add": ["index", str(files["add"]), "--index", str(root), "--quiet"],
        "remove": ["remove", *(a.id for a in batch), "--index", str(root)],
        "restore": ["index", str(files["restore"]), "--index", str(root), "--quiet"],
    }
    cycle = ["add", "remove", "restore"]
    base_file = write_jsonl(workdir / "base.jsonl", base)
    assert run_cli(["index", str(base_file), "--index", str(root), "--embedder", "hashing", "--quiet"]) == 0

    targets: dict[str, Fingerprint] = {}
    timings: dict[str, dict[str, float]] = {}
    for op in cycle:  # calibration: one full run of each, watched
        before = current_generation(root)
        proc = ctx.Process(target=_cli_in_child, args=(ops[op],))
        proc.start()
        timings[op] = _watch(root, before.name if before else None, proc)
        proc.join()
        assert proc.exitcode == 0, f"{op} failed with exit code {proc.exitcode}"
        targets[op] = fingerprint(root)

    rng = random.Random(seed)
    results: list[KillTrial] = []
    for n in range(trials):
        op = cycle[n % 3]
        t = timings[op]
        edges = [0.0, t.get("tmp", t["exit"]), t.get("renamed", t["exit"]), t.get("swapped", t["exit"]), t["exit"]]
        aim = n // 3 % 4  # phases in turn: preparing/embedding, writing, rename-to-swap, after the swap
        low, high = edges[aim], max(edges[aim + 1], edges[aim] + 0.004)
        if aim == 2:  # the rename-to-swap window is about a millisecond: aim around it
            low, high = max(0.0, low - 0.003), high + 0.001
        if aim == 3:  # after the swap: collecting old generations; the process exits soon after
            high = low + (high - low) / 2
        delay = rng.uniform(low, high)
        old_gen = current_generation(root)
        assert old_gen is not None
        old = fingerprint(root)
        snapshot = workdir / "before"
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(root, snapshot)

        for _ in range(4):  # a run faster than its calibration is undone and killed again, earlier
            proc = ctx.Process(target=_cli_in_child, args=(ops[op],))
            proc.start()
            started = time.perf_counter()
            while proc.is_alive() and time.perf_counter() - started < delay:
                time.sleep(0.0002)
            ran = time.perf_counter() - started
            finished = not proc.is_alive()
            proc.kill()
            proc.join()
            finished = finished or proc.exitcode == 0
            if not finished:
                break
            shutil.rmtree(root)
            shutil.copytree(snapshot, root)
            # the same distance from the end as aimed: the late phases (write, swap) are the run's tail
            delay = max(0.0, ran - (t["exit"] - delay) - 0.002)

        phase, leftovers = _phase(root, old_gen.name, finished)
        now = fingerprint(root)  # must load, whatever the moment of death
        if now not in (old, targets[op]):
            raise AssertionError(f"trial {n} ({op}, killed {phase}): the index is neither the old nor the new state")
        results.append(KillTrial(n, op, round(delay * 1000, 1), phase, "old" if now == old else "new", leftovers))

        assert run_cli(ops[op]) in (0, 1), f"trial {n}: the run after the kill failed"  # remove: 1 = already gone
        assert fingerprint(root) == targets[op]
        names = [p.name for p in root.iterdir()]
        assert not [x for x in names if x.startswith((".tmp-", ".CURRENT."))], names
        assert len([x for x in names if x.startswith("gen-")]) <= 2, names
    return results


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_the_old_or_the_new_index(tmp_path: Path) -> None:
    results = kill_trials(tmp_path, trials=24)  # each one asserts old-or-new, loadable, and a clean next run
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


@dataclass(frozen=True)
class CaseResult:
    """One damaged index and what loading it said."""

    case: str
    error: str  # the exception class, or "" when loading succeeded (a failure)
    message: str
    names_file: bool
    names_fix: bool

    @property
    def detected(self) -> bool:
        return self.error in ("CorruptIndexError", "IndexMismatchError") and self.names_file and self.names_fix


def _reseal(generation: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Recompute the manifest's checksums after files were changed: a consistent but wrong index."""
    path = generation / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name in manifest["checksums"]:
        if (generation / name).is_file():
            manifest["checksums"][name] = hashlib.sha256((generation / name).read_bytes()).hexdigest()
    if edit is not None:
        edit(manifest)
    manifest["manifest_checksum"] = _manifest_checksum(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _damages() -> dict[str, Callable[[Path], None]]:
    def truncate(p: Path) -> None:
        p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])

    def flip(p: Path) -> None:
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0x04
        p.write_bytes(bytes(data))

    return {"truncated": truncate, "emptied": lambda p: p.write_bytes(b""), "altered": flip, "missing": Path.unlink}


def _inconsistent(generation: Path, case: str) -> None:
    """Files rewritten by a (hypothetical) buggy writer, checksums resealed."""
    import faiss

    def rows(name: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in (generation / name).read_text(encoding="utf-8").splitlines()]

    def put(name: str, items: list[dict[str, Any]]) -> None:
        (generation / name).write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")

    edit: Callable[[dict[str, Any]], None] | None = None
    if case == "a chunk that is not a span of its article":
        chunks = rows("chunks.jsonl")
        chunks[1]["start"] += 1
        put("chunks.jsonl", chunks)
    elif case == "a chunk of an article that is not stored":
        put("articles.jsonl", rows("articles.jsonl")[1:])
        edit = lambda m: m["counts"].update(articles=m["counts"]["articles"] - 1)  # noqa: E731
    elif case == "a sentence pointing past the last chunk":
        sentences = np.load(generation / "sentences.npy")
        sentences[-1, 0] = 10_000
        np.save(generation / "sentences.npy", sentences)
    elif case == "sentence vectors of another dimension":
        vectors = np.load(generation / "sentence_vectors.npy")
        np.save(generation / "sentence_vectors.npy", vectors[:, :-1])
    elif case == "chunk vectors of another dimension":
        index = faiss.read_index(str(generation / "chunks.faiss"))
        other = faiss.IndexFlatIP(index.d // 2)
        other.add(np.ascontiguousarray(index.reconstruct_n(0, index.ntotal)[:, : index.d // 2]))
        faiss.write_index(other, str(generation / "chunks.faiss"))
    elif case == "a vector that is not a number":
        vectors = np.load(generation / "sentence_vectors.npy")
        vectors[0, 0] = np.nan
        np.save(generation / "sentence_vectors.npy", vectors)
    elif case.startswith("counts disagree: "):
        key = case.removeprefix("counts disagree: ")
        edit = lambda m: m["counts"].update({key: m["counts"][key] + 1})  # noqa: E731
    elif case == "manifest dimension disagrees":
        edit = lambda m: m["embedder"].update(dim=m["embedder"]["dim"] + 1)  # noqa: E731
    elif case == "manifest lacks the checksum of chunks.faiss":
        edit = lambda m: m["checksums"].pop("chunks.faiss")  # noqa: E731
    elif case == "manifest checksum entry outside the generation":
        edit = lambda m: m["checksums"].update({"../../etc/passwd": "0" * 64})  # noqa: E731
    elif case == "manifest of another format version":
        edit = lambda m: m.update(format_version=2)  # noqa: E731
    else:
        raise ValueError(case)
    _reseal(generation, edit)


INCONSISTENT = (
    "a chunk that is not a span of its article",
    "a chunk of an article that is not stored",
    "a sentence pointing past the last chunk",
    "sentence vectors of another dimension",
    "chunk vectors of another dimension",
    "a vector that is not a number",
    "counts disagree: articles",
    "counts disagree: chunks",
    "counts disagree: sentences",
    "manifest dimension disagrees",
    "manifest lacks the checksum of chunks.faiss",
    "manifest checksum entry outside the generation",
    "manifest of another format version",
)
_CASE_FILE = {  # the file each whole-index case must name
    "a chunk that is not a span of its article": "chunks.jsonl",
    "a chunk of an article that is not stored": "chunks.jsonl",
    "a sentence pointing past the last chunk": "sentences.npy",
    "sentence vectors of another dimension": "sentence_vectors.npy",
    "chunk vectors of another dimension": "chunks.faiss",
    "a vector that is not a number": "sentence_vectors.npy",
    "manifest dimension disagrees": "chunks.faiss",  # "vectors of dimension 128, the manifest says 129"
}


def _attempt(root: Path, case: str, expect_file: str, expect_embedder: str | None = None) -> CaseResult:
    try:
        data = load_index(root, expect_embedder=expect_embedder)
        load_keyword_index(root, data.generation)
    except NewsQAError as exc:
        message = str(exc)
        return CaseResult(case, type(exc).__name__, message, expect_file in message, FIX in message)
    return CaseResult(case, "", "loaded without complaint", False, False)


def corruption_cases(workdir: Path, template: Path) -> list[CaseResult]:
    """Damage a copy of the index at ``template`` in every way listed in the module docstring; load each."""
    results: list[CaseResult] = []
    live = current_generation(template)
    assert live is not None
    victims = ["manifest.json", *sorted(p.relative_to(live).as_posix() for p in live.rglob("*") if p.is_file())]
    victims = list(dict.fromkeys(victims))
    counter = iter(range(10**6))

    def fresh() -> tuple[Path, Path]:
        root = workdir / f"case-{next(counter)}"
        shutil.copytree(template, root)
        return root, root / live.name

    for victim in victims:
        for damage, apply in _damages().items():
            root, generation = fresh()
            apply(generation / victim)
            results.append(_attempt(root, f"{victim} {damage}", victim))
    for case in INCONSISTENT:
        root, generation = fresh()
        _inconsistent(generation, case)
        results.append(_attempt(root, case, _CASE_FILE.get(case, "manifest.json")))
    pointer_cases: dict[str, bytes | None] = {
        "CURRENT names a generation that does not exist": b"gen-000042\n",
        "CURRENT holds binary garbage": bytes(range(256)),
        "CURRENT holds a path outside the index": b"../../etc\n",
        "CURRENT is empty": b"",
        "the live generation folder was deleted": None,
    }
    for case, content in pointer_cases.items():
        root, generation = fresh()
        if content is None:
            shutil.rmtree(generation)
        else:
            (root / "CURRENT").write_bytes(content)
        results.append(_attempt(root, case, "CURRENT"))
    root, _ = fresh()
    results.append(_attempt(root, "an index built with another embedder", "manifest.json", "hashing-64"))
    return results


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


@dataclass
class ConcurrencyResult:
    """Questions answered from several threads while the index was updated."""

    threads: int
    questions: int
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    by_generation: dict[str, int] = field(default_factory=dict)
    quotes_checked: int = 0
    inconsistent: int = 0  # answers whose quotes and passages fit no single generation

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else 0.0


def concurrency_run(
    workdir: Path, threads: int = 8, per_thread: int = 25, limit_threads: bool = True, embedder: Any = None
) -> ConcurrencyResult:
    """``threads`` threads ask ``per_thread`` questions each of one Assistant while an update
    (every article's text changed, 40 added; ``add_articles`` then ``reload``) runs.

    The first quarter of the questions is answered before the update starts and the last
    fifth after it is live, so both generations are certainly served; the rest overlap it.
    """
    from index.threads import limit_query_threads
    from qa.assistant import Assistant

    embedder = embedder or HashingEmbedder(dim=256)
    first = generated_articles(120, seed=11, prefix="news")
    root = workdir / "index"
    add_articles(root, first, IndexSettings(embedder=embedder.name, chunk_size=400, chunk_overlap=0), embedder)
    texts: dict[str, dict[str, str]] = {}

    def snapshot() -> None:
        data = load_index(root)
        texts[data.generation] = {a.id: a.text for a in data.articles.values()}

    snapshot()
    assistant = Assistant(root, embedder)
    rng = random.Random(5)
    questions = [
        f"What did {rng.choice(_NAMES)} say about the {' '.join(rng.sample(_WORDS, 2))} plan?"
        for _ in range(threads * per_thread)
    ]
    result = ConcurrencyResult(threads, len(questions))
    lock = threading.Lock()
    answered = [0]
    start_update, update_done = threading.Event(), threading.Event()
    answers: list[Any] = []

    def updater() -> None:
        start_update.wait()
        try:
            add_articles(root, [*(changed(a) for a in first), *generated_articles(40, seed=12, prefix="extra")])
            snapshot()
            assistant.reload()
        except Exception as exc:  # recorded, never swallowed: it fails the run
            result.errors.append(f"update: {exc!r}")
        finally:
            update_done.set()

    def client(k: int) -> None:
        if limit_threads:
            limit_query_threads(1)
        mine = questions[k * per_thread : (k + 1) * per_thread]
        for i, question in enumerate(mine):
            if i >= per_thread - per_thread // 5:
                update_done.wait()
            clock = time.perf_counter()
            try:
                answer = assistant.ask(question)
            except Exception as exc:  # recorded, never swallowed: it fails the run
                with lock:
                    result.errors.append(f"{question}: {exc!r}")
                continue
            elapsed = (time.perf_counter() - clock) * 1000
            with lock:
                result.latencies_ms.append(elapsed)
                answers.append(answer)
                answered[0] += 1
                if answered[0] >= len(questions) // 4:
                    start_update.set()

    workers = [threading.Thread(target=updater), *(threading.Thread(target=client, args=(k,)) for k in range(threads))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    for answer in answers:
        spans = [(q.quote.article_id, q.quote.start, q.quote.end, q.quote.text) for q in answer.quotes]
        spans += [(p.article_id, p.start, p.end, p.text) for p in answer.passages]
        result.quotes_checked += len(answer.quotes)
        fits = [g for g, t in texts.items() if all(a in t and t[a][s:e] == x for a, s, e, x in spans)]
        if len(fits) != 1:
            result.inconsistent += 1
        else:
            result.by_generation[fits[0]] = result.by_generation.get(fits[0], 0) + 1
    return result


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

"""The reliability harness: SIGKILLed writers and concurrent questions during an update, on generated
news-like articles with a hashing embedder (no model). Run by tests/test_reliability.py and, with more
repetitions, by ``python scripts/reliability_report.py`` for docs/RELIABILITY.md; the corruption cases
are in :mod:`eval.corruption`.

The CLI is passed in (``ui.cli.main``): ``eval`` imports nothing from ``ui``.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import random
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from index.build import add_articles
from index.embed import HashingEmbedder
from index.errors import CorruptIndexError
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import current_generation, load_index, load_keyword_index

Cli = Callable[[list[str]], int]  # the console script's main: argv -> exit status
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


def run_cli(cli: Cli, argv: Sequence[str]) -> int:
    """``newsqa ARGV`` in this process (``cli`` is the console script's ``main``), its output swallowed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli(list(argv))


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


def _cli_in_child(cli: Cli, argv: list[str]) -> None:
    """Target of the forked indexer: ``newsqa ARGV``, output discarded; its exit status is the CLI's."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.exit(cli(argv))


def _kill_context(cli: Cli) -> Any:
    # a fork server that has already imported everything: each indexer starts in milliseconds,
    # so the random delay lands in the indexing itself, not in Python's start-up
    ctx = multiprocessing.get_context("forkserver")
    preload = [cli.__module__, "index.build", "index.read.ingest", "faiss", "bm25s", __name__]
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


def _aim(t: dict[str, float], aim: int, rng: random.Random) -> float:
    """A random moment (seconds from the start) inside phase ``aim`` of a run timed as ``t``: 0
    preparing/embedding, 1 writing, 2 the rename-to-swap window, 3 after the swap."""
    edges = [0.0, t.get("tmp", t["exit"]), t.get("renamed", t["exit"]), t.get("swapped", t["exit"]), t["exit"]]
    low, high = edges[aim], max(edges[aim + 1], edges[aim] + 0.004)
    if aim == 2:  # the rename-to-swap window is about a millisecond: aim around it
        low, high = max(0.0, low - 0.003), high + 0.001
    if aim == 3:  # after the swap: collecting old generations; the process exits soon after
        high = low + (high - low) / 2
    return rng.uniform(low, high)


def _kill_once(
    ctx: Any, cli: Cli, argv: list[str], delay: float, took: float, root: Path, snapshot: Path
) -> tuple[float, bool]:
    """Run ``newsqa ARGV`` and SIGKILL it ``delay`` seconds in; (the delay used, whether it finished first).
    A run faster than its calibration (``took`` seconds) is undone from ``snapshot`` and killed again, earlier."""
    for _ in range(4):
        proc = ctx.Process(target=_cli_in_child, args=(cli, argv))
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
        delay = max(0.0, ran - (took - delay) - 0.002)
    return delay, finished


def kill_trials(cli: Cli, workdir: Path, trials: int, seed: int = 6, articles: int = 240) -> list[KillTrial]:
    """SIGKILL ``newsqa index`` / ``newsqa remove`` (``cli``: the console script's ``main``, run in a
    forked process) at random points, ``trials`` times.

    Three operations cycle on one index: add a batch of ``articles`` new articles with 10
    changed ones, remove the batch, put the 10 originals back. Each is first run once to
    the end, which gives its target state and when its phases begin; each trial then picks
    a phase (in turn) and a random moment in it (seeded), kills the process there and
    checks that the index loads and equals the state before or after the operation
    exactly. A normal run of the same operation must then succeed, leave no temporary
    files and reach the target state.
    """
    ctx = _kill_context(cli)
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
    assert run_cli(cli, ["index", str(base_file), "--index", str(root), "--embedder", "hashing", "--quiet"]) == 0

    targets: dict[str, Fingerprint] = {}
    timings: dict[str, dict[str, float]] = {}
    for op in cycle:  # calibration: one full run of each, watched
        before = current_generation(root)
        proc = ctx.Process(target=_cli_in_child, args=(cli, ops[op]))
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
        delay = _aim(t, n // 3 % 4, rng)
        old_gen = current_generation(root)
        assert old_gen is not None
        old = fingerprint(root)
        snapshot = workdir / "before"
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(root, snapshot)

        delay, finished = _kill_once(ctx, cli, ops[op], delay, t["exit"], root, snapshot)
        phase, leftovers = _phase(root, old_gen.name, finished)
        now = fingerprint(root)  # must load, whatever the moment of death
        if now not in (old, targets[op]):
            raise AssertionError(f"trial {n} ({op}, killed {phase}): the index is neither the old nor the new state")
        results.append(KillTrial(n, op, round(delay * 1000, 1), phase, "old" if now == old else "new", leftovers))

        assert run_cli(cli, ops[op]) in (0, 1), f"trial {n}: the run after the kill failed"  # remove: 1 = already gone
        assert fingerprint(root) == targets[op]
        names = [p.name for p in root.iterdir()]
        assert not [x for x in names if x.startswith((".tmp-", ".CURRENT."))], names
        assert len([x for x in names if x.startswith("gen-")]) <= 2, names
    return results


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

    _check_generations(answers, texts, result)
    return result


def _check_generations(answers: Sequence[Any], texts: dict[str, dict[str, str]], result: ConcurrencyResult) -> None:
    """Count, for each answer, the one generation whose texts all its quotes and passages fit."""
    for answer in answers:
        spans = [(q.quote.article_id, q.quote.start, q.quote.end, q.quote.text) for q in answer.quotes]
        spans += [(p.article_id, p.start, p.end, p.text) for p in answer.passages]
        result.quotes_checked += len(answer.quotes)
        fits = [g for g, t in texts.items() if all(a in t and t[a][s:e] == x for a, s, e, x in spans)]
        if len(fits) != 1:
            result.inconsistent += 1
        else:
            result.by_generation[fits[0]] = result.by_generation.get(fits[0], 0) + 1

"""Soak the browser chat's HTTP endpoint: clients ask over ``/answer`` while articles are added and removed.

Starts the chat server (``ui.web``) on 127.0.0.1 over a fresh index, runs ``--clients``
threads that each ask ``/answer`` through ``gradio_client`` for ``--minutes`` (in a child
process, so that the server's memory is measured alone), and a writer in the server's
process that adds or removes an article every ``--every`` seconds (then reloads, as the
chat's "Add" button does). Reports errors, p50/p95 latency, whether every answer's quotes
fit one index generation, the server's RSS (at start, after warm-up, at the end, and every
30 s between), its open file handles, and files left in Gradio's temporary folder. Exit
status 1 when anything failed.

    python scripts/soak.py [--clients 20] [--minutes 10] [--every 3] [--embedder hashing]

The hashing embedder (default) measures the server and the index; ``--embedder
all-MiniLM-L6-v2:int8`` measures the real model too.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from eval.reliability import generated_articles
from index.build import add_articles, remove_articles
from index.embed import make_embedder
from index.settings import IndexSettings
from qa.assistant import Assistant
from qa.settings import QASettings
from ui import web

RSS_EVERY = 30.0  # seconds between samples of the server's RSS
TIMEOUT = 60.0  # seconds a client waits; the default 20 s timed out connecting and answering on a busy 2-core box
QUESTIONS = ("How much would the plan cost?", "Who said the plan would cost millions?", "What did Lavrov call for?")


@dataclass
class Tally:
    """What the clients and the writer saw (appended under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    generations: list[dict[str, str]] = field(default_factory=list)  # article id -> text, one per generation
    writes: int = 0
    quoted: list[list[tuple[str, int, int, str]]] = field(default_factory=list)  # each answer's quotes
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MB), every sample


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _gradio_temp_files() -> int:
    root = Path(os.environ.get("GRADIO_TEMP_DIR", Path(tempfile.gettempdir()) / "gradio"))
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def _client(url: str, stop: threading.Event, tally: Tally, n: int) -> None:
    from gradio_client import Client

    client: Client | None = None
    i = n
    while not stop.is_set():
        if client is None:  # 20 clients connecting at once to a busy 2-core server may time out: counted, retried
            try:
                client = Client(url, verbose=False, httpx_kwargs={"timeout": TIMEOUT}, analytics_enabled=False)
            except Exception as exc:  # a soak counts every failure, whatever it is
                with tally.lock:
                    tally.errors.append(f"connect: {type(exc).__name__}: {exc}")
                continue
        question = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        started = time.perf_counter()
        try:
            answer = client.predict(question, api_name="/answer")
        except Exception as exc:  # a soak counts every failure, whatever it is
            with tally.lock:
                tally.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        quotes = [(q["article_id"], q["start"], q["end"], q["text"]) for q in answer.get("quotes", [])]
        with tally.lock:
            tally.latencies.append(elapsed)
            tally.quoted.append(quotes)


def _run_clients(url: str, clients: int, seconds: float, results: Path) -> None:
    """The clients (``--clients-of URL``), in a process of their own, so that the server's RSS is the
    server's alone; their latencies, errors and each answer's quotes go to ``results`` (JSON)."""
    tally = Tally()
    stop = threading.Event()
    threads = [threading.Thread(target=_client, args=(url, stop, tally, n)) for n in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    results.write_text(json.dumps({"latencies": tally.latencies, "errors": tally.errors, "quoted": tally.quoted}))


def _fits_one_generation(quotes: list[tuple[str, int, int, str]], generations: list[dict[str, str]]) -> bool:
    return not quotes or any(all(g.get(a, "")[s:e] == text for a, s, e, text in quotes) for g in generations)


def _writer(assistant: Assistant, stop: threading.Event, tally: Tally, every: float) -> None:
    extra = generated_articles(200, seed=7, prefix="soak")
    added: list[str] = []
    i = 0
    while not stop.wait(every):
        if len(added) < 3 or i % 2 == 0:
            article = extra[i % len(extra)]
            add_articles(assistant.index_dir, [article], embedder=assistant.embedder)
            added.append(article.id)
        else:
            remove_articles(assistant.index_dir, [added.pop(0)])
        assistant.reload()
        i += 1
        with tally.lock:
            tally.generations.append({a.id: a.text for a in assistant.data.articles.values()})
            tally.writes += 1


def soak(clients: int, minutes: float, every: float, embedder_name: str) -> dict[str, Any]:
    """Run the soak; returns the figures (see the module docstring)."""
    root = Path(tempfile.mkdtemp(prefix="newsqa-soak-")) / "index"
    embedder = make_embedder(embedder_name)
    add_articles(root, generated_articles(60, seed=3), IndexSettings(embedder=embedder.name), embedder)
    assistant = Assistant(root, embedder, QASettings(reader="rules"))
    tally = Tally(generations=[{a.id: a.text for a in assistant.data.articles.values()}])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    demo = web.build_app(assistant)
    web.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True)
    url = f"http://127.0.0.1:{port}/"
    stop = threading.Event()
    rss_start, files_start, temp_start = _rss_mb(), _open_files(), _gradio_temp_files()
    seconds = minutes * 60
    results = root.parent / "clients.json"
    command = [sys.executable, __file__, "--clients-of", url, "--clients", str(clients), "--minutes", str(minutes)]
    clients_process = subprocess.Popen([*command, "--results", str(results)])
    writer = threading.Thread(target=_writer, args=(assistant, stop, tally, every))
    writer.start()
    started = time.monotonic()
    warm_up = min(60.0, minutes * 6)  # the first tenth (at most a minute): clients connect, caches fill
    while not stop.wait(min(RSS_EVERY, warm_up)):
        now = time.monotonic() - started
        tally.rss.append((round(now), round(_rss_mb())))
        if now >= seconds:
            stop.set()
    clients_process.wait(timeout=600)
    writer.join()
    demo.close()
    seen = json.loads(results.read_text())
    tally.latencies, tally.errors = seen["latencies"], seen["errors"]
    mixed = sum(not _fits_one_generation([tuple(q) for q in quotes], tally.generations) for quotes in seen["quoted"])
    rss_warm = next((mb for at, mb in tally.rss if at >= warm_up), rss_start)
    latencies = sorted(tally.latencies)
    return {
        "clients": clients,
        "minutes": minutes,
        "answers": len(latencies),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:3],
        "mixed_generations": mixed,
        "writes": tally.writes,
        "p50_ms": round(statistics.median(latencies)) if latencies else 0,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))]) if latencies else 0,
        "rss_mb": (round(rss_start), round(rss_warm), round(_rss_mb())),  # start, after warm-up, end
        "rss_samples": tally.rss,  # (seconds, MB) every RSS_EVERY seconds: flat or still growing
        "open_files": (files_start, _open_files()),
        "gradio_temp_files": (temp_start, _gradio_temp_files()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between index writes")
    parser.add_argument("--embedder", default="hashing")
    parser.add_argument("--clients-of", metavar="URL", help=argparse.SUPPRESS)  # the clients' own process
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clients_of:
        _run_clients(args.clients_of, args.clients, args.minutes * 60, args.results)
        return 0
    result = soak(args.clients, args.minutes, args.every, args.embedder)
    for key, value in result.items():
        print(f"{key}: {value}")
    return 1 if result["errors"] or result["mixed_generations"] else 0


if __name__ == "__main__":
    sys.exit(main())

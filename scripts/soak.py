"""Soak the browser chat's HTTP endpoint: clients ask over ``/answer`` while articles are added and removed.

Starts the chat server (``ui.web``) on 127.0.0.1 over a fresh index, runs ``--clients``
threads that each ask ``/answer`` through ``gradio_client`` for ``--minutes``, and a writer
that adds or removes an article every ``--every`` seconds (then reloads, as the chat's
"Add" button does). Reports errors, p50/p95 latency, whether every answer's quotes fit one
index generation, RSS (at start, after warm-up, at the end) and open file handles, and files left in Gradio's
temporary folder. Exit status 1 when anything failed.

    python scripts/soak.py [--clients 20] [--minutes 10] [--every 3] [--embedder hashing]

The hashing embedder (default) measures the server and the index; ``--embedder
all-MiniLM-L6-v2:int8`` measures the real model too.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
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

QUESTIONS = ("How much would the plan cost?", "Who said the plan would cost millions?", "What did Lavrov call for?")


@dataclass
class Tally:
    """What the clients and the writer saw (appended under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mixed: int = 0
    generations: list[dict[str, str]] = field(default_factory=list)  # article id -> text, one per generation
    writes: int = 0


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


def _fits_one_generation(answer: dict[str, Any], generations: list[dict[str, str]]) -> bool:
    quotes = answer.get("quotes", [])
    return not quotes or any(
        all(g.get(q["article_id"], "")[q["start"] : q["end"]] == q["text"] for q in quotes) for g in generations
    )


def _client(url: str, stop: threading.Event, tally: Tally, n: int) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    i = n
    while not stop.is_set():
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
        with tally.lock:
            tally.latencies.append(elapsed)
            snapshot = list(tally.generations)
        if not _fits_one_generation(answer, snapshot):
            with tally.lock:
                tally.mixed += 1


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
    threads = [threading.Thread(target=_client, args=(url, stop, tally, n)) for n in range(clients)]
    threads.append(threading.Thread(target=_writer, args=(assistant, stop, tally, every)))
    for thread in threads:
        thread.start()
    warm_up = min(30.0, minutes * 6)  # the first tenth (at most 30 s): clients connect, caches fill
    time.sleep(warm_up)
    rss_warm = _rss_mb()
    time.sleep(max(0.0, minutes * 60 - warm_up))
    stop.set()
    for thread in threads:
        thread.join()
    demo.close()
    latencies = sorted(tally.latencies)
    return {
        "clients": clients,
        "minutes": minutes,
        "answers": len(latencies),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:3],
        "mixed_generations": tally.mixed,
        "writes": tally.writes,
        "p50_ms": round(statistics.median(latencies)) if latencies else 0,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))]) if latencies else 0,
        "rss_mb": (round(rss_start), round(rss_warm), round(_rss_mb())),  # start, after warm-up, end
        "open_files": (files_start, _open_files()),
        "gradio_temp_files": (temp_start, _gradio_temp_files()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between index writes")
    parser.add_argument("--embedder", default="hashing")
    args = parser.parse_args()
    result = soak(args.clients, args.minutes, args.every, args.embedder)
    for key, value in result.items():
        print(f"{key}: {value}")
    return 1 if result["errors"] or result["mixed_generations"] else 0


if __name__ == "__main__":
    sys.exit(main())

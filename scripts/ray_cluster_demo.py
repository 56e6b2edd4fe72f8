"""A two-node Ray cluster on this machine: bulk embedding placed on both nodes, one node killed, a resumed run.

Starts a head node (``ray start --head``) and a worker node (``ray start --address``), two
separate sets of processes with one CPU each, then runs ``index.distributed.embed_to_shards``
against the cluster from a driver process, three times:

1. both nodes up; once ``--kill-after`` shards are on disk, the worker node is SIGKILLed
   (its ``ray start --block`` process group: raylet and model workers). The run then either
   finishes on the head node alone or is stopped after ``--stall`` seconds without a new shard;
   with ``--driver-dies-after N`` the driver is SIGKILLed too once N shards are on disk;
2. the worker node is started again and the same command re-run: finished shards are skipped;
3. a third run embeds nothing.

Prints a JSON report (shards per node, times, shards redone) and stops every Ray process it
started. Usage (a few minutes on 2 busy cores, the default int8 model):

    .venv/bin/python scripts/ray_cluster_demo.py --articles /path/articles.jsonl --limit 160 --shard-size 10
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAY = str(Path(sys.executable).with_name("ray"))
OFFLINE = {"RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
# Ray 2.60 nodes authenticate to each other: one token of this run's own, for the nodes and the drivers
ENV = {**os.environ, **OFFLINE, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
ENV["PYTHONPATH"] = str(ROOT)  # the nodes' workers import this checkout's newsqa
NODE_ARGS = ["--num-cpus", "1", "--object-store-memory", "200000000", "--disable-usage-stats"]

DRIVER = """
import json, sys, time
from index.distributed import embed_to_shards
from index.read.ingest import ingest_paths
from index.settings import IndexSettings
path, limit, shards, size, address = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
articles = ingest_paths([path]).articles[:limit]
started = time.perf_counter()
log = lambda k, folder: print(json.dumps({"shard": k, "at": round(time.perf_counter() - started, 1)}), flush=True)
settings = IndexSettings()
report = embed_to_shards(articles, shards, settings, workers=2, ray_address=address, shard_size=size, on_shard=log)
print(json.dumps({"done": True, "embedded": list(report.embedded), "skipped": list(report.skipped),
                  "chunks": report.chunks_embedded, "seconds": round(report.seconds, 1)}), flush=True)
"""


def start_node(port: int, head: bool, temp_dir: Path) -> subprocess.Popen[bytes]:
    """A Ray node in its own process group (``ray start --block``: the group is the node), ready once it has joined."""
    where = [f"--port={port}", "--head", f"--temp-dir={temp_dir}", "--include-dashboard=false"]
    where += [f"--ray-client-server-port={port + 1000}", f"--dashboard-port={port + 2000}"]  # not another Ray's
    node = subprocess.Popen(
        [RAY, "start", *(where if head else [f"--address=127.0.0.1:{port}"]), "--block", *NODE_ARGS],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wanted = 1 if head else 2
    deadline = time.time() + 180
    while time.time() < deadline and alive_nodes(port) < wanted:
        time.sleep(2)
    return node


def stop_node(node: subprocess.Popen[bytes] | None) -> None:
    """End a node started here: its whole process group (raylet, GCS, workers), and nothing else."""
    if node is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(node.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        node.wait(30)
    time.sleep(3)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(node.pid, signal.SIGKILL)
    node.wait()


def _ask_cluster(port: int, expression: str) -> str:
    code = f"import ray; ray.init(address='127.0.0.1:{port}', log_to_driver=False); print({expression})"
    out = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""


def alive_nodes(port: int) -> int:
    return int(_ask_cluster(port, "sum(n['Alive'] for n in ray.nodes())") or 0)


def node_ids(port: int) -> list[str]:
    return _ask_cluster(port, "' '.join(n['NodeID'] for n in ray.nodes() if n['Alive'])").split()


def run_driver(args: argparse.Namespace, shards: Path, kill: subprocess.Popen[bytes] | None) -> dict[str, object]:
    """One embedding run; with ``kill``, that node's process group is SIGKILLed after ``--kill-after`` shards."""
    argv = [str(args.articles), str(args.limit), str(shards), str(args.shard_size), f"127.0.0.1:{args.port}"]
    started = time.perf_counter()
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, *argv], env=ENV, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, driver.stdout or []), lines.put(None)], daemon=True).start()
    written: list[dict[str, object]] = []
    summary: dict[str, object] = {}
    killed_at: float | None = None
    last = time.perf_counter()
    while True:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if killed_at is not None and time.perf_counter() - last > args.stall:
                driver.send_signal(signal.SIGINT)  # no shard for --stall seconds since the kill: the run is stuck
                summary = {"done": False, "stopped_after_stall_s": args.stall}
                break
            continue
        if line is None:
            break
        if not line.startswith("{"):  # Ray's own messages
            continue
        event = json.loads(line)
        if "shard" not in event:
            summary = event
            continue
        written.append(event)
        last = time.perf_counter()
        if kill is not None and killed_at is None and len(written) >= args.kill_after:
            os.killpg(kill.pid, signal.SIGKILL)
            killed_at = last - started
        if kill is not None and args.driver_dies_after and len(written) >= args.driver_dies_after:
            driver.kill()  # the whole job fails too: the next run must resume from the shards on disk
            summary = {"done": False, "driver_killed_after_shards": len(written)}
            break
    try:
        driver.wait(60)
    except subprocess.TimeoutExpired:
        driver.kill()
        driver.wait()
    return {
        "wall_s": round(time.perf_counter() - started, 1),
        "exit_code": driver.returncode,
        "worker_node_killed_at_s": None if killed_at is None else round(killed_at, 1),
        "shards_written": [e["shard"] for e in written],
        "shard_times_s": [e["at"] for e in written],
        **summary,
    }


def per_node(shards: Path, names: dict[str, str]) -> dict[str, list[int]]:
    from index.distributed import shard_nodes

    placed: dict[str, list[int]] = {}
    for shard, node in sorted(shard_nodes(shards).items()):
        placed.setdefault(names.get(node.split("@")[0], node), []).append(shard)
    return placed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, required=True, help="a JSONL corpus, read in place")
    parser.add_argument("--limit", type=int, default=160, help="first N articles")
    parser.add_argument("--shard-size", type=int, default=10)
    parser.add_argument("--port", type=int, default=6391)
    parser.add_argument("--kill-after", type=int, default=4, help="kill the worker node after this many shards")
    parser.add_argument("--stall", type=float, default=120, help="stop run 1 after this long without a shard")
    parser.add_argument("--driver-dies-after", type=int, default=0, help="also SIGKILL run 1's driver after N shards")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="newsqa-ray-demo-"))
    shards = work / "shards"
    report: dict[str, object] = {"articles": args.limit, "shard_size": args.shard_size}
    head = worker = None
    try:
        head = start_node(args.port, True, work / "ray")
        head_id = node_ids(args.port)[0]
        worker = start_node(args.port, False, work / "ray")
        names = {head_id: "head"} | {n: "worker-1" for n in node_ids(args.port) if n != head_id}
        report["nodes_before_run_1"] = alive_nodes(args.port)
        report["run_1"] = run_driver(args, shards, kill=worker)
        report["placed_after_run_1"] = per_node(shards, names)
        report["nodes_after_kill"] = alive_nodes(args.port)
        worker.wait(10)
        worker = start_node(args.port, False, work / "ray")
        names |= {n: "worker-2 (restarted)" for n in node_ids(args.port) if n not in names}
        report["nodes_before_run_2"] = alive_nodes(args.port)
        report["run_2"] = run_driver(args, shards, kill=None)
        report["run_3"] = run_driver(args, shards, kill=None)
        report["placed_final"] = per_node(shards, names)
        report["shards_per_node"] = dict(Counter(n for n, s in report["placed_final"].items() for _ in s))  # type: ignore[attr-defined]
    finally:
        stop_node(worker)
        stop_node(head)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Recall and latency of the Milvus store's index types: N synthetic chunk vectors -> recall@10 vs FLAT, ms per query.

The vectors are built as ``eval.bench`` builds them (a + 0.5·b + noise, from the real chunk
vectors of an index), written through ``index.store.milvus.write_collection`` into a Milvus
Lite database once per index type, and searched through ``MilvusStore.search``, the path
questions take (with the generation filter every search carries). Recall@10 is measured
against FLAT (exact), unfiltered and with a source filter that admits about a fifth of the rows.

Usage: ``python -m eval.milvus_bench --source-index INDEX [--n 50000] [--queries 200]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench import synthetic
from eval.bench_scale import percentile
from index.store.generations import load_index
from index.store.vectors import RowFilter

INDEX_TYPES = ("FLAT", "HNSW", "IVF_FLAT")
SOURCES = ("AP", "Reuters", "BBC", "CNN", "NPR")


def measure(vectors: np.ndarray, queries: np.ndarray, index: str, work: Path) -> dict[str, Any]:
    """Write ``vectors`` with index type ``index``; search every query, unfiltered and filtered."""
    from index.store.milvus import open_collection, write_collection

    folder = work / f"gen-{index}"
    folder.mkdir()
    metadata = [(SOURCES[i % len(SOURCES)], 739_000 + i % 365, f"a{i // 5}") for i in range(len(vectors))]
    settings = {"milvus_uri": str(work / f"{index}.milvus.db"), "milvus_index": index}
    started = time.perf_counter()
    entry = write_collection(folder, "gen-000001", settings, vectors, metadata, vectors.shape[1])
    write_s = time.perf_counter() - started
    store = open_collection(folder, entry, vectors.shape[1])
    try:
        where = RowFilter(frozenset({"BBC"}))
        store.search(queries[0], 10)  # the first search loads the index
        times, hits, filtered = [], [], []
        for q in queries:
            t = time.perf_counter()
            hits.append(store.search(q, 10)[0])
            times.append(time.perf_counter() - t)
            filtered.append(store.search(q, 10, where=where)[0])
    finally:
        store.close()
    return {
        "index": index,
        "params": {"build": entry["index"]["build"], "search": entry["index"]["search"]},
        "write_s": write_s,
        "p50_ms": 1000 * percentile(times, 50),
        "p95_ms": 1000 * percentile(times, 95),
        "hits": hits,
        "filtered": filtered,
    }


def recall(found: Sequence[np.ndarray], truth: Sequence[np.ndarray]) -> float:
    return float(
        np.mean([len(set(f.tolist()) & set(t.tolist())) / max(len(t), 1) for f, t in zip(found, truth, strict=True)])
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source-index", type=Path, required=True, help="an index whose chunk vectors seed the data")
    parser.add_argument("--n", type=int, default=50_000, help="synthetic vectors")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    source = load_index(args.source_index)
    pool = np.array(source.chunk_vectors, dtype=np.float32)  # a copy: the loaded rows may be a view of the store
    del source
    vectors, queries = synthetic(pool, args.n, seed=1), synthetic(pool, args.queries, seed=2)
    exact = [np.argsort(-(vectors @ q), kind="stable")[:10] for q in queries]
    with tempfile.TemporaryDirectory(prefix="newsqa-milvus-bench-") as tmp:
        results = [measure(vectors, queries, index, Path(tmp)) for index in INDEX_TYPES]
    flat = results[0]
    rows = []
    for r in results:
        rows.append(
            {
                "index": r["index"],
                "params": r["params"],
                "recall@10 vs FLAT": round(recall(r["hits"], flat["hits"]), 4),
                "recall@10 vs FLAT, source filter (1/5 of rows)": round(recall(r["filtered"], flat["filtered"]), 4),
                "write s": round(r["write_s"], 1),
                "search p50 / p95 ms": [round(r["p50_ms"], 1), round(r["p95_ms"], 1)],
            }
        )
    report = {"n": args.n, "dim": int(vectors.shape[1]), "queries": args.queries, "results": rows}
    report["FLAT vs NumPy exact"] = round(recall(flat["hits"], exact), 4)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

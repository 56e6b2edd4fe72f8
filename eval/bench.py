"""Benchmark indexing, querying, cold start and the vector store against a naive baseline -> table, BENCHMARKS.md, PNG.

python -m eval.bench --articles PATH [--source-index INDEX] [--build-articles 60] [--scales 1000,10000,100000]
                     [--large 1000000 --large-parts 10 --large-dir DIR] [--synthetic 1000000] [--out docs]

Every figure is measured in the same run as the naive baseline (``SentenceTransformer.encode``
with default settings and a flat FAISS index, as a tutorial writes it) and reported as a ratio.
Larger indexes are made by replicating the embedded dev articles (new ids, the same vectors
plus tiny noise, each copy cut to its first chunks): up to 100,000 in memory, the large points
(1,000,000) in parts through ``add_articles`` (``eval.bench_large``, which also measures each
index's queries in a fresh process); the store alone is measured on synthetic vectors derived
from real ones. The dev data is read where it lies, never copied.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench_scale import Row, keep_sections, large_point, percentile, plot, query_rows, run_step
from index.embed import DEFAULT_MODEL
from index.records import Article, Chunk
from index.store.generations import IndexData, load_index, save_index
from index.store.rows import QuantizedRows

COPY_CHUNKS = 4  # a replicated article keeps its first chunks: ~3.5 chunks/article, as issue 7 sizes 100k


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def search_seconds(store: Any, query: np.ndarray) -> float:
    t = time.perf_counter()
    store.search(query, 10)
    return time.perf_counter() - t


def naive_build(texts: list[str], model: Any) -> float:
    """The tutorial way: encode everything with defaults, add to a flat index. Returns seconds."""
    import faiss

    started = time.perf_counter()
    vectors = model.encode(texts)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return time.perf_counter() - started


def bench_build(
    articles: list[Article], embedder_name: str, model_path: str | None, work: Path, repeats: int = 2
) -> list[Row]:
    """Build throughput of ``add_articles`` vs the naive baseline on the same chunks.

    The runs take turns (naive, newsqa, newsqa with the float model, naive, ...) so that a
    neighbour's load on the machine falls on all of them; each figure is the median. With
    an ``:int8`` embedder the float model's build is reported too, to attribute the gain.
    """
    from index.build import add_articles
    from index.chunk import Chunker
    from index.embed import make_embedder
    from index.settings import IndexSettings

    settings = IndexSettings(embedder=embedder_name)
    texts = [c.text for a in articles for c in Chunker(settings.chunk_size, settings.chunk_overlap).chunk(a)]
    builds = {embedder_name: make_embedder(embedder_name)}
    if embedder_name.endswith(":int8"):
        builds[embedder_name.removesuffix(":int8")] = make_embedder(embedder_name.removesuffix(":int8"))
    for embedder in builds.values():
        embedder.embed_query("warm up")  # model load is not build time, for any side
    naive_model = None
    if model_path is not None:
        from sentence_transformers import SentenceTransformer

        naive_model = SentenceTransformer(model_path, device="cpu")
        naive_model.encode(["warm up"])
    took: dict[str, list[float]] = {name: [] for name in ["naive", *builds]}
    sizes: dict[str, float] = {}
    for repeat in range(repeats):
        if naive_model is not None:
            took["naive"].append(naive_build(texts, naive_model))
        for name, embedder in builds.items():
            target = work / f"build-{len(took[name])}-{name.replace(':', '-')}"
            report = add_articles(target, articles, IndexSettings(embedder=name), embedder)
            took[name].append(report.seconds)
            sizes[name] = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) / max(report.chunks_total, 1)
            shutil.rmtree(target)
        print(f"build run {repeat + 1}/{repeats}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in took.items() if v))
    base_s = statistics.median(took["naive"]) if took["naive"] else None
    rows: list[Row] = []
    for name in builds:
        seconds = statistics.median(took[name])
        label = "newsqa" if name == embedder_name else "newsqa, float model"
        rows.append(
            Row(
                "build",
                f"{label} ({name}): chunks/s ({len(texts)} chunks)",
                len(texts) / seconds,
                "1/s",
                len(texts) / base_s if base_s else None,
            )
        )
        rows.append(
            Row(
                "build",
                f"{label} ({name}): articles/s ({len(articles)} articles)",
                len(articles) / seconds,
                "1/s",
                len(articles) / base_s if base_s else None,
            )
        )
    rows.append(Row("build", f"newsqa ({embedder_name}): index bytes per chunk", sizes[embedder_name], "B", 384 * 4))
    return rows


def replicate(source: IndexData, n_articles: int, seed: int = 0) -> IndexData:
    """``n_articles`` articles made of copies of ``source``'s: new ids, first chunks only, vectors + tiny noise."""
    rng = np.random.default_rng(seed)
    originals = list(source.articles.values())
    by_article: dict[str, list[int]] = {}
    for row, chunk in enumerate(source.chunks):
        by_article.setdefault(chunk.article_id, []).append(row)
    sentence_rows: dict[int, list[int]] = {}
    for i, row in enumerate(source.sentences[:, 0].tolist()):
        sentence_rows.setdefault(row, []).append(i)
    articles: dict[str, Article] = {}
    chunks: list[Chunk] = []
    picked: list[int] = []
    sentences: list[tuple[int, int, int]] = []
    picked_sentences: list[int] = []
    for i in range(n_articles):
        base = originals[i % len(originals)]
        copy = i // len(originals)
        keep = by_article.get(base.id, [])[:COPY_CHUNKS] if copy else by_article.get(base.id, [])
        if not keep:
            continue
        cut = max(source.chunks[r].end for r in keep)
        text = base.text[:cut]
        new = replace(base, id=f"{base.id}~{copy}" if copy else base.id, title=f"{base.title} ({copy})", text=text)
        articles[new.id] = new
        for r in keep:
            old = source.chunks[r]
            row = len(chunks)
            chunks.append(Chunk(f"{new.id}:{old.id.rsplit(':', 1)[1]}", new.id, old.text, old.start, old.end))
            picked.append(r)
            for s in sentence_rows.get(r, []):
                sentences.append((row, int(source.sentences[s, 1]), int(source.sentences[s, 2])))
                picked_sentences.append(s)
    vectors = np.asarray(source.chunk_vectors[np.asarray(picked)], dtype=np.float32)
    vectors += rng.normal(0, 0.01, vectors.shape).astype(np.float32)  # copies are near, not identical, for IVF
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return IndexData(
        settings=source.settings,
        articles=articles,
        chunks=chunks,
        chunk_vectors=vectors,
        sentences=np.asarray(sentences, dtype=np.int64).reshape(-1, 3),
        sentence_vectors=QuantizedRows.quantize(source.sentence_vectors).take(np.asarray(picked_sentences, np.int64)),
        embedder_name=source.embedder_name,
        dim=source.dim,
    )


def bench_scales(
    source: IndexData, scales: list[int], questions: list[str], work: Path, cold_runs: int
) -> tuple[list[Row], list[tuple[int, float, float, float]]]:
    """Each scale replicated in memory and written with ``save_index``, its queries measured in a fresh
    process: rows, and one plot point (articles, full answer p50, p95, peak RSS) a scale."""
    rows: list[Row] = []
    points: list[tuple[int, float, float, float]] = []
    for scale in scales:
        target = work / f"scale-{scale}"
        t = time.perf_counter()
        save_index(target, replicate(source, scale))
        rows.append(Row("scale", f"{scale} articles: write index (no embedding)", time.perf_counter() - t, "s"))
        figures = run_step(["query", "--index", str(target), "--questions", str(work / "questions.jsonl")])
        rows += query_rows(figures, f"{scale} articles", target)
        points.append((scale, *figures["answer_ms"], figures["peak_rss_mb"]))
        if cold_runs and scale == min(scales):
            rows += bench_cold(target, questions[0], cold_runs)
        shutil.rmtree(target)
        print(render(rows[-7:], []), flush=True)
    return rows, points


def bench_cold(index_dir: Path, question: str, runs: int) -> list[Row]:
    """``newsqa ask`` in a fresh process vs importing torch and loading the model alone."""
    ask = [sys.executable, "-m", "ui.cli", "ask", question, "--index", str(index_dir)]
    load = "from index.embed.sbert import SentenceTransformerEmbedder as E; E().embed_query('x')"
    model = [sys.executable, "-c", load]
    env_runs = {"ask": ask, "model": model}
    took: dict[str, list[float]] = {}
    for key, cmd in env_runs.items():
        took[key] = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            took[key].append(time.perf_counter() - t)
    base = statistics.median(took["model"])
    return [
        Row("cold", "import torch + load model + one query (median)", base, "s"),
        Row("cold", "newsqa ask on an existing index (median)", statistics.median(took["ask"]), "s", base),
    ]


def synthetic(pool: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` normalised vectors near real ones: a + 0.5·b + noise for random real vectors a, b."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, pool.shape[1]), np.float32)
    for start in range(0, n, 200_000):
        m = min(200_000, n - start)
        block = pool[rng.integers(0, len(pool), m)] + 0.5 * pool[rng.integers(0, len(pool), m)]
        block += rng.normal(0, 0.35 / np.sqrt(pool.shape[1]), block.shape).astype(np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def bench_store(pool: np.ndarray, n: int, queries: int, work: Path) -> list[Row]:
    """Build time, bytes per vector, search p95 and recall@10 (vs exact float32 search) of the IVF store
    (default codes: int8) at ``n`` vectors."""
    import faiss

    from index.store.vectors import build_store

    faiss.omp_set_num_threads(1)  # queries run one thread each (index/threads.py)
    x = synthetic(pool, n, seed=1)
    q = synthetic(pool, queries, seed=2)
    exact = build_store(x, "flat", codes="float32")  # the truth: exact search over the float rows
    flat_times = [search_seconds(exact, v) for v in q]
    truth = [set(exact.search(v, 10)[0].tolist()) for v in q]
    del exact
    faiss.omp_set_num_threads(2)  # building uses both cores
    started = time.perf_counter()
    store = build_store(x, "ivf")
    build_s = time.perf_counter() - started
    store.save(work / "v.faiss")
    per_vector = (work / "v.faiss").stat().st_size / n
    faiss.omp_set_num_threads(1)
    times = [search_seconds(store, v) for v in q]
    recall = np.mean([len(set(store.search(v, 10)[0].tolist()) & t) / 10 for v, t in zip(q, truth, strict=True)])
    (work / "v.faiss").unlink()
    label = f"{n:,} vectors"
    return [
        Row("store", f"{label}: IVF build (nprobe {store.nprobe}, {store.codes} codes)", build_s, "s"),
        Row("store", f"{label}: bytes per vector on disk", per_vector, "B", 384 * 4),
        Row(
            "store",
            f"{label}: IVF search p95 vs flat",
            1000 * percentile(times, 95),
            "ms",
            1000 * percentile(flat_times, 95),
        ),
        Row("store", f"{label}: recall@10 vs exact", float(recall), ""),
    ]


def large_notes(large: str, parts: int) -> list[str]:
    """What the large points are, when there are any."""
    if not large.strip(","):
        return []
    return [
        f"Large points ({large} articles): written in {parts} parts, each an add_articles call (the path newsqa "
        "index takes to add to an existing index: tables copied, BM25 segments kept, IVF lists reused until the "
        "index doubles). Article i is dev article i mod 994 (the dev corpus itself first); copy c has id ID~c, its "
        f"text cut after its first {COPY_CHUNKS} chunks with a line '(copy c)' after it (distinct texts: the same "
        "text under two ids is a duplicate). The model is replaced by the source index's own vectors "
        "(eval.bench_large.LookupEmbedder: a chunk found by its text or first characters, its vector plus N(0, "
        "0.01) noise; its sentences' vectors as they are), so build times exclude embedding. Then 1,000 more "
        "copies are added the same way, timed, and the IVF list centroids compared before and after.",
    ]


def render(rows: list[Row], notes: list[str]) -> str:
    lines = ["| section | figure | value | naive baseline | ratio |", "|---|---|---|---|---|"]
    for r in rows:
        base = f"{r.baseline:.4g} {r.unit}" if r.baseline is not None else ""
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else ""
        lines.append(f"| {r.section} | {r.name} | {r.value:.4g} {r.unit} | {base} | {ratio} |")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def bench_notes(args: argparse.Namespace, questions: int) -> list[str]:
    """The notes under the table: how each section was measured."""
    return [
        "Machine: a 2-core x86 machine running other jobs at the same time; timings are noisy, "
        "ratios are within one run.",
        f"Build: the first {args.build_articles} dev articles, median of {args.build_repeats} turns taken in "
        "alternation; newsqa's build also pools per-sentence vectors (same forward pass), writes BM25 and the "
        "checksummed index; the baseline only encodes (SentenceTransformer.encode, defaults) and adds to "
        "IndexFlatIP. ':int8' is the same model run by onnxruntime with int8 weights (index/embed/int8.py).",
        f"Scales: replicated dev articles (new ids, copies cut to their first {COPY_CHUNKS} chunks, same chunk and "
        "sentence vectors plus N(0, 0.01) noise on chunk vectors); scale 1000 is the dev corpus itself (full length).",
        "Store: synthetic vectors a + 0.5·b + noise from random real dev chunk vectors a, b (uniform random vectors "
        "have no neighbourhoods and make recall meaningless); 200 queries drawn the same way; one search thread.",
        "Query figures come from a fresh process a scale (python -m eval.bench_large query): the index loaded, "
        f"one warm-up, then {questions} dev questions; its peak RSS is that process's VmHWM before the recall "
        "figure (whose exact search reads every row); recall@10 is on the same questions' vectors.",
        *large_notes(args.large, args.large_parts),
        f"This process (it builds the smaller scales in memory) peaked at {peak_rss_mb():.0f} MB; "
        f"load average at the end {os.getloadavg()[0]:.1f}.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, required=True, help="dev articles (JSONL), read in place")
    parser.add_argument("--gold", type=Path, help="questions (JSONL, 'question' key); default: qa.jsonl beside it")
    parser.add_argument("--source-index", type=Path, help="an index of --articles to replicate (else built here)")
    parser.add_argument("--embedder", default=DEFAULT_MODEL)
    parser.add_argument("--build-articles", type=int, default=60, help="articles embedded for build throughput")
    parser.add_argument("--build-repeats", type=int, default=2, help="turns of each build (median reported)")
    parser.add_argument("--scales", default="1000,10000,100000", help="article counts for query latency")
    parser.add_argument("--synthetic", default="1000000", help="vector counts for the store alone ('' skips)")
    parser.add_argument("--large", default="1000000", help="article counts written in parts ('' skips)")
    parser.add_argument("--large-parts", type=int, default=10, help="add_articles calls a large point takes")
    parser.add_argument("--large-dir", type=Path, help="where large indexes are written (default: a temporary folder)")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    if not args.articles.is_file():
        print(f"error: no articles file at {args.articles} (pass --articles PATH to the dev JSONL)", file=sys.stderr)
        return 2
    from index.embed import PACKAGED_MODEL, make_embedder
    from index.embed.base import packaged_model_path
    from index.read.ingest import ingest_paths

    articles = ingest_paths([args.articles]).articles
    gold = args.gold or args.articles.with_name("qa.jsonl")
    lines = gold.read_text().splitlines()[: args.queries] if gold.is_file() else []
    questions = [json.loads(line)["question"] for line in lines] or [a.title for a in articles[: args.queries]]
    model_path = packaged_model_path() if args.embedder.removesuffix(":int8") == PACKAGED_MODEL else None
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="newsqa-bench-") as tmp:
        work = Path(tmp)
        rows += bench_build(list(articles[: args.build_articles]), args.embedder, model_path, work, args.build_repeats)
        print(render(rows, []), flush=True)
        if args.source_index:
            source = load_index(args.source_index)
        else:
            from index.build import add_articles

            add_articles(work / "source", articles, embedder=make_embedder(args.embedder))
            source = load_index(work / "source")
        source_dir = args.source_index or work / "source"
        asked = work / "questions.jsonl"
        asked.write_text("".join(json.dumps({"question": q}) + "\n" for q in questions), encoding="utf-8")
        scales = [int(s) for s in args.scales.split(",") if s]
        scale_rows, plotted = bench_scales(source, scales, questions, work, args.cold_runs)
        rows += scale_rows
        for n in [int(s) for s in args.large.split(",") if s]:
            folder = args.large_dir or work
            large, point = large_point(source_dir, folder / f"large-{n}", n, args.large_parts, asked)
            rows += large
            plotted.append(point)
            print(render(large, []), flush=True)
        pool = np.asarray(source.chunk_vectors, dtype=np.float32)
        for n in [int(s) for s in args.synthetic.split(",") if s]:
            rows += bench_store(pool, n, 200, work)
            print(render(rows[-4:], []), flush=True)
    notes = bench_notes(args, len(questions))
    text = render(rows, notes)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    header = "# Benchmarks (generated by `python -m eval.bench`)\n\n"
    kept = keep_sections(args.out / "BENCHMARKS.md")  # sections other benchmarks write
    image = "\n![latency and peak memory against index size](benchmarks.png)\n"
    (args.out / "BENCHMARKS.md").write_text(header + text + image + kept, encoding="utf-8")
    plot(plotted, args.out / "benchmarks.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Large points for ``eval.bench``, each step in a process of its own -> one JSON object of figures.

python -m eval.bench_large build --source-index SRC --index DIR --articles N [--parts P]
python -m eval.bench_large query --index DIR --questions FILE [--queries 30] [--recall-sample 30]
python -m eval.bench_large add --source-index SRC --index DIR --articles 1000

``build`` writes N replicated dev articles in P parts through ``add_articles``, the path
``newsqa index`` takes to add to an existing index; only the model is replaced, by
``LookupEmbedder`` (the source index's own vectors: embedding 4 million chunks takes about a day
on two cores). ``query`` measures one fresh process: index load, retrieval and full answer
latency, its peak memory (``ru_maxrss``, the build's memory not counted), the BM25 index's
memory, and recall@10 of the approximate store against exact search. ``add`` adds articles
to a built index and says whether the IVF lists were trained again. Each prints its figures
as the last line of stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import resource
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from index.records import Article, content_hash
from index.store.generations import IndexData, load_index, read_manifest

COPY_CHUNKS = 4  # a replicated article keeps its first chunks: ~4 chunks an article, as eval.bench's scales
NOISE = 0.01  # N(0, NOISE) added to each copy's chunk vector: copies are near, not identical, for IVF
_PREFIXES = (200, 40)  # leading characters that find a chunk whose end a copy's cut changed


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), MB. Not ``ru_maxrss``: Linux carries that across
    exec, so a process started by a large one (eval.bench after its 100,000-article scale) would
    report its parent's size at the fork."""
    status = Path("/proc/self/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_parts_mb() -> dict[str, float]:
    """This process's resident memory now: anonymous (its own) and file-backed (mapped files), MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: int(fields.get(k, "0 kB").split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile")}


def originals(source: IndexData) -> tuple[list[Article], dict[str, int]]:
    """The source's articles that have chunks, and where each one's first ``COPY_CHUNKS`` chunks end."""
    ends: dict[str, list[int]] = {}
    for chunk in source.chunks:
        ends.setdefault(chunk.article_id, []).append(chunk.end)
    kept = [a for a in source.articles.values() if a.id in ends]
    return kept, {a: max(e[:COPY_CHUNKS]) for a, e in ends.items()}


def copies(bases: list[Article], cuts: dict[str, int], start: int, stop: int) -> list[Article]:
    """Articles ``start`` to ``stop`` of the replicated corpus: the first len(bases) are the dev articles
    themselves; copy c of an article has id ``ID~c``, its text cut after its first chunks and marked
    "(copy c)" (a text of its own: the same text under two ids is a duplicate to ``add_articles``)."""
    out = []
    for i in range(start, stop):
        base, copy = bases[i % len(bases)], i // len(bases)
        if not copy:
            out.append(base)
            continue
        text = f"{base.text[: cuts[base.id]]}\n\n(copy {copy})"
        title = f"{base.title} ({copy})"
        out.append(replace(base, id=f"{base.id}~{copy}", title=title, text=text, content_hash=content_hash(text)))
    return out


class LookupEmbedder:
    """The source index's vectors for the chunks and sentences it holds, in place of the model.

    A chunk is found by its text (or, when a copy's cut changed its end, its first characters);
    its vector gets N(0, NOISE) noise and is normalised again. A sentence is found by its chunk
    and offsets; one the source lacks (a copy's mark) takes its chunk's vector.
    """

    def __init__(self, source: IndexData, seed: int = 0) -> None:
        self.name = source.embedder_name
        self.dim = source.dim
        self.build = dict(source.embedder_build)
        self._chunks = np.asarray(source.chunk_vectors, dtype=np.float32)
        self._sentences = np.asarray(source.sentence_vectors, dtype=np.float32)
        self._by_text: dict[str, int] = {}
        for row, chunk in enumerate(source.chunks):
            self._by_text.setdefault(chunk.text, row)
            for size in _PREFIXES:
                self._by_text.setdefault(f"{size}\x00{chunk.text[:size]}", row)
        starts = np.array([c.start for c in source.chunks], dtype=np.int64)
        self._sentence = {
            (int(r), int(s - starts[r]), int(e - starts[r])): k for k, (r, s, e) in enumerate(source.sentences.tolist())
        }
        self._rng = np.random.default_rng(seed)
        self.missed = 0  # chunks found by neither their text nor its first characters

    def embed_query(self, text: str) -> np.ndarray:
        raise NotImplementedError("LookupEmbedder stands in for the model at indexing only")

    def _row(self, text: str) -> int:
        row = self._by_text.get(text)
        for size in _PREFIXES:
            row = self._by_text.get(f"{size}\x00{text[:size]}") if row is None else row
        if row is None:  # a chunk the source lacks: a source row picked by its text's checksum
            self.missed += 1
            return zlib.crc32(text.encode("utf-8")) % len(self._chunks)
        return row

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[Any, Any]:
        rows = [self._row(t) for t in texts]
        vectors = self._chunks[rows] + self._rng.normal(0, NOISE, (len(rows), self.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        picked = [(i, self._sentence.get((row, a, b))) for i, row in enumerate(rows) for a, b in spans[i]]
        sentences = np.stack([self._sentences[k] if k is not None else vectors[i] for i, k in picked] or [])
        return vectors, sentences.reshape(-1, self.dim).astype(np.float32)


def _ivf(index_dir: Path) -> dict[str, Any]:
    """The live store's kind, lists, trained rows and a hash of its list centroids (the k-means result)."""
    import faiss

    generation, manifest = read_manifest(index_dir)
    entry = dict(manifest["vectors"])
    index: Any = faiss.read_index(str(generation / "chunks.faiss"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    if entry.get("kind") == "ivf":
        quantizer: Any = faiss.downcast_index(index.quantizer)
        centroids = faiss.rev_swig_ptr(quantizer.get_xb(), quantizer.ntotal * quantizer.d)
        entry |= {"nlist": int(index.nlist), "centroids_sha256": hashlib.sha256(centroids.tobytes()).hexdigest()}
    return entry | {"articles": manifest["counts"]["articles"], "chunks": manifest["counts"]["chunks"]}


def build(source_dir: Path, index_dir: Path, n: int, parts: int) -> dict[str, Any]:
    from eval.bench_scale import bytes_per_chunk
    from index.build import add_articles
    from index.settings import IndexSettings

    source = load_index(source_dir)
    bases, cuts = originals(source)
    embedder = LookupEmbedder(source)
    settings = IndexSettings(**{k: v for k, v in source.settings.items() if k != "chunk_codes"})
    bounds = np.linspace(0, n, parts + 1).astype(int)
    started = time.perf_counter()
    took = []
    done = _ivf(index_dir)["articles"] if (index_dir / "CURRENT").is_file() else 0  # a run stopped midway resumes
    for part, (a, b) in enumerate(itertools.pairwise(bounds)):
        if b <= done:
            continue
        report = add_articles(index_dir, copies(bases, cuts, max(int(a), done), int(b)), settings, embedder)
        took.append(report.seconds)
        print(
            f"part {part + 1}/{parts}: {report.added} articles in {report.seconds:.0f} s; {report.chunks_total} "
            f"chunks; peak RSS {peak_rss_mb():.0f} MB; {_ivf(index_dir)}",
            file=sys.stderr,
            flush=True,
        )
    store = _ivf(index_dir)
    return {
        "seconds": time.perf_counter() - started,
        "part_seconds": took,
        "bytes_per_chunk": bytes_per_chunk(index_dir, store["chunks"]),
        "build_peak_rss_mb": peak_rss_mb(),
        "lookup_missed": embedder.missed,
        "store": store,
    }


def query(index_dir: Path, questions: list[str], recall_sample: int) -> dict[str, Any]:
    from eval.bench_scale import approx_recall, percentile
    from index.embed import make_embedder
    from index.store.generations import load_keyword_index
    from qa.assistant import Assistant
    from qa.question import Question
    from qa.retrieve import Query

    generation, manifest = read_manifest(index_dir)
    embedder = make_embedder(manifest["embedder"]["name"])
    embedder.embed_query("warm up")  # the model's load is not the index's
    before = rss_parts_mb()
    t = time.perf_counter()
    keyword = load_keyword_index(index_dir, generation.name)
    keyword_seconds = time.perf_counter() - t
    keyword_mb = rss_parts_mb()["RssAnon"] - before["RssAnon"]
    del keyword
    t = time.perf_counter()
    assistant = Assistant(index_dir, embedder)
    load_seconds = time.perf_counter() - t
    loaded = rss_parts_mb()
    assistant.warm_up()
    # undated: asked as of today, questions from a quiz of 2026 would be declined by the time checks
    # before any sentence is read (12 of the first 30 on 2026-12-01), timing less than an answer
    assistant.ask(questions[-1], today="undated")  # long evicted from the BM25 scores kept when its own turn comes
    per_retrieval, per_answer, declined = [], [], 0
    # every full answer first, then every retrieval: the BM25 scores of the last few questions are kept,
    # and a full answer right after its own retrieval would reuse them
    for q in questions:
        t = time.perf_counter()
        declined += assistant.ask(q, today="undated").abstained
        per_answer.append(time.perf_counter() - t)
    for q in questions:
        t = time.perf_counter()
        vector = embedder.embed_query(q)
        assistant.retriever.retrieve(Query(Question.parse(q, None, assistant.keyword), vector))
        per_retrieval.append(time.perf_counter() - t)
    figures: dict[str, Any] = {
        "chunks": len(assistant.data.chunks),
        "kind": assistant.data.vector_store().kind,
        "load_seconds": load_seconds,
        "keyword_load_seconds": keyword_seconds,
        "keyword_anon_mb": keyword_mb,
        "keyword_disk_mb": sum(p.stat().st_size for p in (generation / "keyword").rglob("*") if p.is_file()) / 2**20,
        "rss_after_load_mb": loaded,
        "retrieval_ms": [1000 * percentile(per_retrieval, q) for q in (50, 95)],
        "answer_ms": [1000 * percentile(per_answer, q) for q in (50, 95)],
        "answers_declined": declined,
        "peak_rss_mb": peak_rss_mb(),  # before the recall figure, whose exact search reads every row
        "rss_after_queries_mb": rss_parts_mb(),
    }
    store = assistant.data.vector_store()
    if store.kind == "ivf":
        vectors = np.stack([embedder.embed_query(q) for q in questions[:recall_sample]])
        t = time.perf_counter()
        figures["recall_at_10"] = approx_recall(store, vectors)
        figures["recall_queries"], figures["recall_seconds"] = len(vectors), time.perf_counter() - t
    return figures


def add(source_dir: Path, index_dir: Path, n: int) -> dict[str, Any]:
    from index.build import add_articles

    source = load_index(source_dir)
    bases, cuts = originals(source)
    before = _ivf(index_dir)
    new = copies(bases, cuts, before["articles"], before["articles"] + n)
    report = add_articles(index_dir, new, embedder=LookupEmbedder(source, seed=1))
    after = _ivf(index_dir)
    return {
        "seconds": report.seconds,
        "lookup_seconds": report.embed_seconds,
        "added": report.added,
        "chunks_embedded": report.chunks_embedded,
        "before": before,
        "after": after,
        "kmeans_trained_again": before.get("centroids_sha256") != after.get("centroids_sha256")
        or before.get("trained_rows") != after.get("trained_rows"),
        "peak_rss_mb": peak_rss_mb(),
        "rss_at_end_mb": rss_parts_mb(),  # its own (anonymous) and mapped files' pages, after the write
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_large", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["build", "query", "add"])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--source-index", type=Path, help="an embedded index of the dev articles (build, add)")
    parser.add_argument("--articles", type=int, default=1000, help="articles to write (build) or add (add)")
    parser.add_argument("--parts", type=int, default=10, help="add_articles calls the build takes")
    parser.add_argument("--questions", type=Path, help="JSONL with a 'question' key (query)")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--recall-sample", type=int, default=30, help="questions whose recall@10 is measured")
    args = parser.parse_args(argv)
    if args.step == "query":
        lines = args.questions.read_text(encoding="utf-8").splitlines()[: args.queries]
        figures = query(args.index, [json.loads(line)["question"] for line in lines], args.recall_sample)
    elif args.step == "build":
        figures = build(args.source_index, args.index, args.articles, args.parts)
    else:
        figures = add(args.source_index, args.index, args.articles)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

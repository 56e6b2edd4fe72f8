"""The corpus under evaluation: articles path -> Articles, and an index built from them (or reused).

The articles are read with the same ingest the users' ``newsqa index`` runs, so article
ids and texts are the ones the index holds. An index named with ``--index`` is reused
when it holds exactly these articles (same ids, same content hashes); articles missing
from it or changed are added incrementally; an index holding other articles is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from index.build import build_index
from index.embed import DEFAULT_MODEL, Embedder, make_embedder
from index.errors import BadInputError, IndexMismatchError
from index.read.ingest import ingest_paths
from index.records import Article
from index.settings import IndexSettings
from index.store.generations import current_generation, load_index, read_manifest

BUILD_STATS = "eval-build.json"  # written next to CURRENT by the eval that built the index


@dataclass(frozen=True)
class BuildCost:
    """What building the index cost; ``reused`` when this run embedded nothing."""

    seconds: float
    embed_seconds: float
    chunks_embedded: int
    chunks_total: int
    articles_total: int
    reused: bool

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0


def load_articles(path: Path) -> dict[str, Article]:
    """The articles of ``path`` (a JSONL file, a text file or a folder) by id, as the index ingests them."""
    if not path.exists():
        raise BadInputError(
            f"articles {path}: not found. The development datasets are kept outside the repository "
            f"and never copied into it (format: eval/README.md); pass their path."
        )
    result = ingest_paths([path])
    rejected = [line for line in result.report if line.status == "rejected"]
    if rejected:
        raise BadInputError("; ".join(f"{line.path}: {line.reason}" for line in rejected))
    if not result.articles:
        raise BadInputError(f"articles {path}: no article found")
    return {a.id: a for a in result.articles}


def _stored_cost(root: Path) -> BuildCost | None:
    path = root / BUILD_STATS
    if not path.is_file():
        return None
    row = json.loads(path.read_text(encoding="utf-8"))
    return BuildCost(**{**row, "reused": True})


def index_embedder(root: Path) -> str | None:
    """Name of the embedder that built the index at ``root``, or None when there is no index."""
    if current_generation(root) is None:
        return None
    _, manifest = read_manifest(root)
    return str(manifest["embedder"]["name"])


def build_or_reuse(
    articles_path: Path, articles: dict[str, Article], root: Path, embedder: Embedder, progress: bool = False
) -> BuildCost:
    """Make the index at ``root`` hold exactly ``articles``, embedding only what it lacks.

    A reused index reports the cost recorded by the eval run that built it (if any), with
    ``reused=True``.
    """
    if current_generation(root) is not None:
        stored = load_index(root)
        if stored.embedder_name != embedder.name:
            raise IndexMismatchError(
                f"--index {root}: built with embedder {stored.embedder_name!r}, not {embedder.name!r}; "
                "name another --index folder"
            )
        extra = set(stored.articles) - set(articles)
        if extra:
            raise IndexMismatchError(
                f"--index {root}: holds {len(extra)} article(s) that are not in {articles_path}; "
                "name another --index folder"
            )
        if all(
            a.id in stored.articles and stored.articles[a.id].content_hash == a.content_hash for a in articles.values()
        ):
            return _stored_cost(root) or BuildCost(0.0, 0.0, 0, len(stored.chunks), len(stored.articles), True)
    started = time.perf_counter()
    report = build_index([articles_path], root, IndexSettings(embedder=embedder.name), embedder, progress=progress)
    cost = BuildCost(
        seconds=time.perf_counter() - started,
        embed_seconds=report.embed_seconds,
        chunks_embedded=report.chunks_embedded,
        chunks_total=report.chunks_total,
        articles_total=report.articles_total,
        reused=False,
    )
    stats = {k: v for k, v in asdict(cost).items() if k != "reused"}
    (root / BUILD_STATS).write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return cost


def choose_embedder(name: str | None, root: Path) -> Embedder:
    """``--embedder`` if given, else the existing index's embedder, else the default model."""
    return make_embedder(name or index_embedder(root) or DEFAULT_MODEL)

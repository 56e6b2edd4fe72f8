"""Index settings: one frozen dataclass, validated when built, saved in the manifest."""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from index.embed import DEFAULT_MODEL
from index.errors import SettingsError
from index.store.codes import DEFAULT_CODES, ChunkCodes, check_codes


@dataclass(frozen=True)
class IndexSettings:
    """How articles become an index.

    ``embedder``: ``"all-MiniLM-L6-v2"`` (packaged, offline), ``"hashing"`` (tests), a
    local path or any sentence-transformers model name. ``chunk_size`` is in characters:
    MiniLM reads 256 word pieces, about 1,000 characters of English news.

    ``store``: where the chunk vectors live: ``"faiss"`` (a file in each generation) or
    ``"milvus"`` (a collection per generation, ``index/store/milvus.py``). ``milvus_uri``:
    empty for Milvus Lite inside each generation folder, a ``.db`` path for one Milvus Lite
    file, or ``http://host:19530`` for a Milvus server (its token comes from the
    ``NEWSQA_MILVUS_TOKEN`` environment variable, never from the manifest).
    ``milvus_collection``: the collection's name (one per index on a server). ``milvus_index``:
    its vector index, ``"auto"`` (HNSW), ``"HNSW"``, ``"IVF_FLAT"`` or ``"FLAT"`` (exact).

    ``chunk_codes``: how ``chunks.faiss`` holds the chunk vectors: ``"float32"`` (1,536 bytes a
    vector), ``"float16"`` (768) or ``"int8"`` (384, scores within ~0.003) (``index/store/codes.py``).
    """

    embedder: str = DEFAULT_MODEL
    chunk_size: int = 800
    chunk_overlap: int = 120
    batch_size: int = 64
    store: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str = ""
    milvus_collection: str = "newsqa_chunks"
    milvus_index: Literal["auto", "HNSW", "IVF_FLAT", "FLAT"] = "auto"
    # an IVF index adds rows to its trained lists until it holds this many times the rows its
    # k-means was trained on, then the next write trains it anew (index/store/vectors.py)
    ivf_retrain_growth: float = 2.0
    chunk_codes: ChunkCodes = DEFAULT_CODES

    def __post_init__(self) -> None:
        if not self.embedder.strip():
            raise SettingsError("embedder: must name a model")
        if self.chunk_size < 50 or not 0 <= self.chunk_overlap < self.chunk_size:
            raise SettingsError(
                f"chunk_size={self.chunk_size}, chunk_overlap={self.chunk_overlap}: "
                "need chunk_size >= 50 and 0 <= chunk_overlap < chunk_size"
            )
        if self.batch_size < 1:
            raise SettingsError(f"batch_size={self.batch_size}: must be at least 1")
        if not self.ivf_retrain_growth >= 1:
            raise SettingsError(f"ivf_retrain_growth={self.ivf_retrain_growth}: must be at least 1")
        try:
            check_codes(self.chunk_codes)
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc
        if self.store not in ("faiss", "milvus"):
            raise SettingsError(f"store={self.store!r}: must be 'faiss' or 'milvus'")
        if self.milvus_index not in ("auto", "HNSW", "IVF_FLAT", "FLAT"):
            raise SettingsError(f"milvus_index={self.milvus_index!r}: must be auto, HNSW, IVF_FLAT or FLAT")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", self.milvus_collection):
            raise SettingsError(
                f"milvus_collection={self.milvus_collection!r}: "
                "letters, digits and underscores, not starting with a digit"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def override(settings: Any, values: dict[str, Any], where: str) -> Any:
    """Return ``settings`` with ``values`` replaced, rejecting unknown keys (named by ``where``)."""
    known = {f.name for f in fields(settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SettingsError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        return replace(settings, **values)
    except TypeError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


def read_toml(path: Path) -> dict[str, Any]:
    """Read a settings TOML file (tables ``[index]`` and ``[qa]``)."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"{path}: settings file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc

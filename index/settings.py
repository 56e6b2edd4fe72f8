"""Index settings: one frozen dataclass, validated when built, saved in the manifest."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from index.embed import DEFAULT_MODEL
from index.errors import SettingsError


@dataclass(frozen=True)
class IndexSettings:
    """How articles become an index.

    ``embedder``: ``"all-MiniLM-L6-v2"`` (packaged, offline), ``"hashing"`` (tests), a
    local path or any sentence-transformers model name. ``chunk_size`` is in characters:
    MiniLM reads 256 word pieces, about 1,000 characters of English news.
    """

    embedder: str = DEFAULT_MODEL
    chunk_size: int = 800
    chunk_overlap: int = 120
    batch_size: int = 64

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

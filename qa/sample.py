"""The bundled sample corpus and its default index, built on first use: () -> index path."""

from __future__ import annotations

import os
from pathlib import Path

from index.build import build_index
from index.embed import Embedder
from index.store.generations import current_generation

SAMPLE_DIR = Path(__file__).parent / "data" / "sample"


def sample_files() -> list[Path]:
    """The bundled sample articles (plain text)."""
    return sorted(SAMPLE_DIR.glob("*.txt"))


def newsqa_home() -> Path:
    """Where newsqa keeps its own data: ``$NEWSQA_HOME``, else ``$XDG_DATA_HOME/newsqa``."""
    if os.environ.get("NEWSQA_HOME"):
        return Path(os.environ["NEWSQA_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "newsqa"


def default_index_dir() -> Path:
    return newsqa_home() / "sample-index"


def ensure_sample_index(embedder: Embedder | None = None, progress: bool = False) -> Path:
    """Return the sample index, building it from the bundled articles if it does not exist."""
    root = default_index_dir()
    if current_generation(root) is None:
        build_index(sample_files(), root, embedder=embedder, progress=progress)
    return root

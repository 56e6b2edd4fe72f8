"""A deterministic test double for the embedder: texts -> hashed bag-of-words vectors (no model, no torch)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from index.embed.base import Spans, normalise

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Deterministic bag-of-words vectors from hashed tokens: a fast stand-in for tests.

    Example:
        >>> e = HashingEmbedder(dim=64)
        >>> v = e.embed_query("Lavrov ceasefire")
        >>> v.shape, round(float(v @ e.embed_query("ceasefire Lavrov")), 3)
        ((64,), 1.0)
    """

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self._dim
            vec[bucket] += 1.0 if digest[4] & 1 else -1.0
        return vec

    def embed_query(self, text: str) -> np.ndarray:
        vec: np.ndarray = normalise(self._vector(text)[None, :])[0]
        return vec

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, np.ndarray]:
        empty = np.zeros((0, self._dim), np.float32)
        chunk_vecs = normalise(np.stack([self._vector(t) for t in texts])) if texts else empty
        rows = [self._vector(text[a:b]) for text, text_spans in zip(texts, spans, strict=True) for a, b in text_spans]
        span_vecs = normalise(np.stack(rows)) if rows else np.zeros((0, self._dim), np.float32)
        return chunk_vecs, span_vecs

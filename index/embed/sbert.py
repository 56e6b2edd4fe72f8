"""The real model through sentence-transformers and torch: texts -> chunk and sentence vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embed.base import PACKAGED_MODEL, Spans, model_location, normalise, pool_spans
from index.errors import SettingsError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


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
        if not span_rows:
            return normalise(chunk_vecs), np.zeros((0, chunk_vecs.shape[1]), np.float32)
        return normalise(chunk_vecs), normalise(after_pooling(model, np.stack(span_rows)))


def after_pooling(model: SentenceTransformer, vectors: np.ndarray) -> np.ndarray:
    """Pooled ``vectors`` through the model's modules after its Pooling (a Dense projection,
    Normalize, ...), as its chunk vectors went: sentence vectors land in the same space."""
    import torch

    names = [type(module).__name__ for module in model]
    tail = list(model)[names.index("Pooling") + 1 :] if "Pooling" in names else []
    if not tail:
        return vectors
    features: dict[str, Any] = {"sentence_embedding": torch.from_numpy(np.ascontiguousarray(vectors, np.float32))}
    with torch.no_grad():
        for module in tail:
            features = module(features)
    return np.asarray(features["sentence_embedding"].float().numpy(), dtype=np.float32)

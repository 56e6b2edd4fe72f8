"""Embedding: texts -> normalised vectors, behind one protocol (``Embedder``) and one factory.

- ``base``: the protocol, the packaged model's location, pooling of sentence spans;
- ``hashing``: a deterministic test double; ``sbert``: the model run by torch;
- ``int8``: the same model as int8 ONNX (the default: no torch at question time).
"""

from __future__ import annotations

from index.embed.base import DEFAULT_MODEL, PACKAGED_MODEL, Embedder, Spans
from index.embed.hashing import HashingEmbedder

__all__ = ["DEFAULT_MODEL", "PACKAGED_MODEL", "Embedder", "HashingEmbedder", "Spans", "make_embedder"]


def make_embedder(name: str) -> Embedder:
    """The composition point for embedders: ``hashing[-DIM]``, ``MODEL:int8`` (ONNX) or a
    sentence-transformers model."""
    if name.startswith("hashing"):
        _, _, dim = name.partition("-")
        return HashingEmbedder(int(dim) if dim else 256)
    if name.endswith(":int8"):
        from index.embed.int8 import OnnxInt8Embedder

        return OnnxInt8Embedder(name.removesuffix(":int8"))
    from index.embed.sbert import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name)

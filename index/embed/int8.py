"""The default embedder: a sentence-transformers model run as int8 ONNX. OnnxInt8Embedder.

Embedding is the whole cost of building an index on a CPU. Measured on this project's
two-core machine (``python -m eval.bench``), MiniLM quantized to int8 with per-channel
weight scales runs about 1.8x faster than the same model in PyTorch, and its vectors
keep a cosine of 0.99 to the float32 ones. The dev-set evaluation is in the closing note
of issue 7 and in ``docs/BENCHMARKS.md``.

Nothing is downloaded: the int8 model is made once, on this machine, from the installed
weights (``torch.onnx.export`` then ``onnxruntime``'s dynamic quantization, a few
seconds), and kept in a cache directory (``$NEWSQA_CACHE``, else
``$XDG_CACHE_HOME/newsqa``, else ``~/.cache/newsqa``) keyed by the model files and the
library versions. A cached model is checked against the checksum written beside it; a
damaged one is rebuilt. Answering questions then needs onnxruntime and the tokenizer,
and not torch, so ``newsqa ask`` starts in a fraction of the time.

Per-channel scales matter: one scale per weight matrix (the quantizer's default) gave a
mean cosine of 0.83 to 0.95 here. ``reduce_range`` keeps the products inside what AVX2's
int8 instructions add up without saturating. For BERT-like models the attention is fused
first (``_fuse_attention``), another 1.2x.

Dynamic quantization scales activations per batch, so a chunk's vector moves a little
with the chunks batched with it (cosine above 0.98 to the same chunk embedded alone); the
same batch always gives the same vectors. An index does not record which build of the
int8 model made it: after an upgrade of torch or onnxruntime, queries use the new build
(vectors within a cosine of about 0.99 of the old), until ``newsqa index --rebuild``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embed.base import PACKAGED_MODEL, Spans, model_location, normalise, pool_spans
from index.errors import SettingsError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

INT8_SUFFIX = ":int8"
OPSET = 17  # the ONNX opset of the exported graph
RECIPE = 2  # bump when the export or quantization steps change: old cache entries are then ignored
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"


def cache_root() -> Path:
    """``$NEWSQA_CACHE``, else ``$XDG_CACHE_HOME/newsqa``, else ``~/.cache/newsqa``."""
    if os.environ.get("NEWSQA_CACHE"):
        return Path(os.environ["NEWSQA_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsqa"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def _cache_key(model: str) -> str:
    """Names the cache entry: the model (its files' sizes and times, for a local one) and the
    versions of what makes and runs the int8 model."""
    location = model_location(model)
    files: list[tuple[str, int, int]] = []
    if Path(location).is_dir():
        for path in sorted(Path(location).rglob("*")):
            if path.is_file():
                stat = path.stat()
                files.append((str(path.relative_to(location)), stat.st_size, int(stat.st_mtime)))
    versions = {dist: _version(dist) for dist in ("torch", "transformers", "onnxruntime", "sentence-transformers")}
    blob = json.dumps({"model": location, "files": files, "versions": versions, "recipe": RECIPE}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """onnxruntime's quantizer logs advice on the root logger at WARNING; hide it for the call."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _fuse_attention(float_path: Path, config: Any) -> Path:
    """For a BERT-like encoder, onnxruntime's fused Attention, LayerNorm and Gelu ops, which the
    quantizer turns into QAttention: 1.3x the speed of the plain graph here (its Where and
    MatMul nodes for the masked softmax took a quarter of the time). Other encoders: as is."""
    if getattr(config, "model_type", None) != "bert":
        return float_path
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(float_path),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    if not fused.get_fused_operator_statistics().get("Attention"):
        return float_path
    path = float_path.with_name("fused.onnx")
    fused.save_model_to_file(str(path))
    return path


def export_int8(model: str, target: Path) -> None:
    """Write ``model.onnx`` (int8), ``tokenizer.json`` and ``meta.json`` for ``model`` into ``target``.

    Needs torch, transformers, onnx and onnxruntime; reads only installed or local files
    (or the Hugging Face cache, for a model named by its hub id).
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    location = model_location(model)
    try:
        # eager attention exports as plain MatMul/Softmax, which onnxruntime fuses below
        st = SentenceTransformer(location, device="cpu", model_kwargs={"attn_implementation": "eager"})
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot load embedding model {model!r}: {exc}") from exc
    names = [type(module).__name__ for module in st]
    modules: list[Any] = list(st)  # sentence-transformers modules, untyped
    pooling: dict[str, Any] = modules[1].get_config_dict() if len(modules) > 1 else {}
    prompts = {key: value for key, value in (st.prompts or {}).items() if value}
    if names[:2] != ["Transformer", "Pooling"] or pooling.get("pooling_mode") != "mean" or prompts:
        raise SettingsError(
            f"{model!r} cannot run as int8 ONNX: only mean-pooled models without prompts can "
            f"(it has {names}, pooling {pooling.get('pooling_mode')!r}, prompts {sorted(prompts)}); "
            f"use --embedder {model!r} without {INT8_SUFFIX}"
        )
    encoder = modules[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        """The encoder's last hidden state from (input_ids, attention_mask): what pooling needs."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return out

    float_path = target / "float.onnx"
    example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
    dynamic = {0: "batch", 1: "tokens"}
    # the tracer warns about Python branches on shapes; the exported graph is checked against
    # the float model by tests/test_onnx_embed.py, batches of mixed lengths included
    with torch.no_grad(), warnings.catch_warnings(), _quiet_root_logger():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(),
            example,
            str(float_path),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "hidden": dynamic},
            opset_version=OPSET,
            dynamo=False,
        )
        fused_path = _fuse_attention(float_path, encoder.config)
        quantize_dynamic(
            str(fused_path),
            str(target / MODEL_FILE),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": 1},  # FLOAT, where shape inference loses a type
        )
    for path in {float_path, fused_path}:
        path.unlink()
    st.tokenizer.backend_tokenizer.save(str(target / TOKENIZER_FILE))
    meta = {
        "model": model,
        "dim": int(pooling.get("embedding_dimension") or modules[0].get_word_embedding_dimension()),
        "max_seq_length": int(st.max_seq_length or 512),
        "normalize": "Normalize" in names,
        "sha256": _sha256(target / MODEL_FILE),
    }
    (target / META_FILE).write_text(json.dumps(meta, indent=1))


def _valid(entry: Path) -> dict[str, Any] | None:
    """The entry's metadata if its files are all there and the model matches its checksum."""
    try:
        meta: dict[str, Any] = json.loads((entry / META_FILE).read_text())
        if (entry / TOKENIZER_FILE).is_file() and _sha256(entry / MODEL_FILE) == meta["sha256"]:
            return meta
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def ensure_int8_model(model: str) -> tuple[Path, dict[str, Any]]:
    """The cache entry for ``model`` (made now if missing or damaged) and its metadata."""
    root = cache_root()
    entry = root / f"{Path(model).name}-int8-{_cache_key(model)}"
    meta = _valid(entry)
    if meta is not None:
        return entry, meta
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
    try:
        export_int8(model, work)
        if entry.exists() and _valid(entry) is None:  # damaged (checked above), or half-written by no one
            shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            with contextlib.suppress(OSError):  # another process put a whole entry there first
                os.replace(work, entry)  # atomic: readers see no entry or a whole one
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = _valid(entry)
    if meta is None:
        raise SettingsError(f"could not write the int8 model for {model!r} to {entry}")
    return entry, meta


class OnnxInt8Embedder:
    """``model`` run by onnxruntime with int8 weights; same protocol as ``SentenceTransformerEmbedder``.

    Chunks are embedded in batches sorted by length, on all cores; a query runs on one
    thread (questions are answered in parallel, see ``index/threads.py``).
    """

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 32) -> None:
        self._model = model
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._loaded: tuple[Tokenizer, dict[str, Any], Path] | None = None
        self._sessions: dict[int, onnxruntime.InferenceSession] = {}

    @property
    def name(self) -> str:
        return self._model + INT8_SUFFIX

    def _load(self) -> tuple[Tokenizer, dict[str, Any], Path]:
        with self._lock:
            if self._loaded is None:
                from tokenizers import Tokenizer

                entry, meta = ensure_int8_model(self._model)
                tokenizer = Tokenizer.from_file(str(entry / TOKENIZER_FILE))
                tokenizer.no_padding()
                tokenizer.enable_truncation(meta["max_seq_length"])
                self._loaded = (tokenizer, meta, entry)
            return self._loaded

    def _session(self, threads: int) -> onnxruntime.InferenceSession:
        """0 threads: onnxruntime's default (every core), for batches; 1 for a query."""
        _, _, entry = self._load()
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                self._sessions[threads] = onnxruntime.InferenceSession(
                    str(entry / MODEL_FILE), options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[threads]

    @property
    def dim(self) -> int:
        return int(self._load()[1]["dim"])

    @property
    def build(self) -> dict[str, str]:
        """What makes this model's vectors, recorded in the index manifest (see ``check_embedder_build``)."""
        meta = self._load()[1]
        return {
            "runtime": "onnxruntime-int8",
            "opset": str(OPSET),
            "recipe": str(RECIPE),
            "onnxruntime": _version("onnxruntime"),
            "sha256": str(meta["sha256"]),
        }

    def _hidden(self, ids: Sequence[Sequence[int]], threads: int) -> list[np.ndarray]:
        """Last hidden states, one (tokens, dim) array per sequence, in the given order."""
        session = self._session(threads)
        order = np.argsort([-len(row) for row in ids], kind="stable")
        out: list[np.ndarray] = [np.zeros((0, 0), np.float32)] * len(ids)
        for begin in range(0, len(ids), self._batch_size):
            batch = order[begin : begin + self._batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = np.zeros((len(batch), width), np.int64)
            mask = np.zeros((len(batch), width), np.int64)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            hidden = session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            for row, i in enumerate(batch):
                out[i] = hidden[row, : len(ids[i])]
        return out

    def embed_query(self, text: str) -> np.ndarray:
        tokenizer, _, _ = self._load()
        (hidden,) = self._hidden([tokenizer.encode(text).ids], threads=1)
        vec: np.ndarray = normalise(hidden.mean(axis=0, keepdims=True))[0]
        return vec

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, np.ndarray]:
        tokenizer, meta, _ = self._load()
        dim = int(meta["dim"])
        if not texts:
            return np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32)
        encoded = tokenizer.encode_batch(list(texts))
        hidden = self._hidden([e.ids for e in encoded], threads=0)
        chunk_vecs = np.stack([h.mean(axis=0) for h in hidden])
        span_rows: list[np.ndarray] = []
        for i, tokens in enumerate(hidden):
            offsets = np.asarray(encoded[i].offsets).reshape(-1, 2)
            special = np.asarray(encoded[i].special_tokens_mask)
            span_rows.extend(pool_spans(tokens, offsets, special, spans[i], chunk_vecs[i]))
        span_vecs = normalise(np.stack(span_rows)) if span_rows else np.zeros((0, dim), np.float32)
        return normalise(chunk_vecs), span_vecs

"""Every kind of index damage and mismatch, each loaded once: ``corruption_cases(workdir, template)``.

Each file of a generation truncated, emptied, altered and missing; files rewritten consistently
but wrong (checksums resealed); the ``CURRENT`` pointer broken; an index of another embedder.
Each must be a ``CorruptIndexError`` or ``IndexMismatchError`` that names the file and the fix.
Run by tests/test_reliability.py and scripts/reliability_report.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import NewsQAError
from index.store.codes import codes_of
from index.store.generations import current_generation, load_index, load_keyword_index
from index.store.vectors import build_store
from index.store.verify import manifest_checksum

FIX = "newsqa index --rebuild"


@dataclass(frozen=True)
class CaseResult:
    """One damaged index and what loading it said."""

    case: str
    error: str  # the exception class, or "" when loading succeeded (a failure)
    message: str
    names_file: bool
    names_fix: bool

    @property
    def detected(self) -> bool:
        return self.error in ("CorruptIndexError", "IndexMismatchError") and self.names_file and self.names_fix


def _reseal(generation: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Recompute the manifest's checksums after files were changed: a consistent but wrong index."""
    path = generation / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name in manifest["checksums"]:
        if (generation / name).is_file():
            manifest["checksums"][name] = hashlib.sha256((generation / name).read_bytes()).hexdigest()
    if edit is not None:
        edit(manifest)
    manifest["manifest_checksum"] = manifest_checksum(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _damages() -> dict[str, Callable[[Path], object]]:
    def truncate(p: Path) -> None:
        p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])

    def flip(p: Path) -> None:
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0x04
        p.write_bytes(bytes(data))

    return {"truncated": truncate, "emptied": lambda p: p.write_bytes(b""), "altered": flip, "missing": Path.unlink}


def _inconsistent(generation: Path, case: str) -> None:
    """Files rewritten by a (hypothetical) buggy writer, checksums resealed."""
    import faiss

    def rows(name: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in (generation / name).read_text(encoding="utf-8").splitlines()]

    def put(name: str, items: list[dict[str, Any]]) -> None:
        (generation / name).write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")

    edit: Callable[[dict[str, Any]], None] | None = None
    if case == "a chunk that is not a span of its article":
        chunks = rows("chunks.jsonl")
        chunks[1]["end"] += 1_000_000  # format 2 cuts the text from the article: an end past it
        put("chunks.jsonl", chunks)
    elif case == "a chunk of an article that is not stored":
        put("articles.jsonl", rows("articles.jsonl")[1:])
        edit = lambda m: m["counts"].update(articles=m["counts"]["articles"] - 1)  # noqa: E731
    elif case == "a sentence pointing past the last chunk":
        sentences = np.load(generation / "sentences.npy")
        sentences[-1, 0] = 10_000
        np.save(generation / "sentences.npy", sentences)
    elif case == "sentence vectors of another dimension":
        vectors = np.load(generation / "sentence_vectors.npy")
        np.save(generation / "sentence_vectors.npy", vectors[:, :-1])
    elif case == "chunk vectors of another dimension":  # the same kind and codes, half the dimensions
        index = faiss.read_index(str(generation / "chunks.faiss"))
        half = np.ascontiguousarray(index.reconstruct_n(0, index.ntotal)[:, : index.d // 2])
        build_store(half, "flat", codes=codes_of(index, "flat")).save(generation / "chunks.faiss")
    elif case == "a vector that is not a number":
        scales = np.load(generation / "sentence_scales.npy")  # int8 codes hold no NaN; their scales can
        scales[0] = np.nan
        np.save(generation / "sentence_scales.npy", scales)
    elif case.startswith("counts disagree: "):
        key = case.removeprefix("counts disagree: ")
        edit = lambda m: m["counts"].update({key: m["counts"][key] + 1})  # noqa: E731
    elif case == "manifest dimension disagrees":
        edit = lambda m: m["embedder"].update(dim=m["embedder"]["dim"] + 1)  # noqa: E731
    elif case == "manifest lacks the checksum of chunks.faiss":
        edit = lambda m: m["checksums"].pop("chunks.faiss")  # noqa: E731
    elif case == "manifest checksum entry outside the generation":
        edit = lambda m: m["checksums"].update({"../../etc/passwd": "0" * 64})  # noqa: E731
    elif case == "manifest of another format version":
        edit = lambda m: m.update(format_version=99)  # noqa: E731
    else:
        raise ValueError(case)
    _reseal(generation, edit)


INCONSISTENT = (
    "a chunk that is not a span of its article",
    "a chunk of an article that is not stored",
    "a sentence pointing past the last chunk",
    "sentence vectors of another dimension",
    "chunk vectors of another dimension",
    "a vector that is not a number",
    "counts disagree: articles",
    "counts disagree: chunks",
    "counts disagree: sentences",
    "manifest dimension disagrees",
    "manifest lacks the checksum of chunks.faiss",
    "manifest checksum entry outside the generation",
    "manifest of another format version",
)
_CASE_FILE = {  # the file each whole-index case must name
    "a chunk that is not a span of its article": "chunks.jsonl",
    "a chunk of an article that is not stored": "chunks.jsonl",
    "a sentence pointing past the last chunk": "sentences.npy",
    "sentence vectors of another dimension": "sentence_vectors.npy",
    "chunk vectors of another dimension": "chunks.faiss",
    "a vector that is not a number": "sentence_vectors.npy",
    "manifest dimension disagrees": "chunks.faiss",  # "vectors of dimension 128, the manifest says 129"
}


def _attempt(root: Path, case: str, expect_file: str, expect_embedder: str | None = None) -> CaseResult:
    try:
        data = load_index(root, expect_embedder=expect_embedder)
        load_keyword_index(root, data.generation)
    except NewsQAError as exc:
        message = str(exc)
        return CaseResult(case, type(exc).__name__, message, expect_file in message, FIX in message)
    return CaseResult(case, "", "loaded without complaint", False, False)


def corruption_cases(workdir: Path, template: Path) -> list[CaseResult]:
    """Damage a copy of the index at ``template`` in every way listed in the module docstring; load each."""
    results: list[CaseResult] = []
    live = current_generation(template)
    assert live is not None
    victims = ["manifest.json", *sorted(p.relative_to(live).as_posix() for p in live.rglob("*") if p.is_file())]
    victims = list(dict.fromkeys(victims))
    counter = iter(range(10**6))

    def fresh() -> tuple[Path, Path]:
        root = workdir / f"case-{next(counter)}"
        shutil.copytree(template, root)
        return root, root / live.name

    for victim in victims:
        for damage, apply in _damages().items():
            root, generation = fresh()
            apply(generation / victim)
            results.append(_attempt(root, f"{victim} {damage}", victim))
    for case in INCONSISTENT:
        root, generation = fresh()
        _inconsistent(generation, case)
        results.append(_attempt(root, case, _CASE_FILE.get(case, "manifest.json")))
    pointer_cases: dict[str, bytes | None] = {
        "CURRENT names a generation that does not exist": b"gen-000042\n",
        "CURRENT holds binary garbage": bytes(range(256)),
        "CURRENT holds a path outside the index": b"../../etc\n",
        "CURRENT is empty": b"",
        "the live generation folder was deleted": None,
    }
    for case, content in pointer_cases.items():
        root, generation = fresh()
        if content is None:
            shutil.rmtree(generation)
        else:
            (root / "CURRENT").write_bytes(content)
        results.append(_attempt(root, case, "CURRENT"))
    root, _ = fresh()
    results.append(_attempt(root, "an index built with another embedder", "manifest.json", "hashing-64"))
    return results

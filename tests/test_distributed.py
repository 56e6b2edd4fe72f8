"""Distributed bulk embedding: Ray shards equal the single-process index; a killed run resumes, redoing no shard."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.build import add_articles
from index.distributed import embed_to_shards, index_from_shards, shard_is_complete, shard_nodes
from index.records import Article, make_article
from index.settings import IndexSettings
from index.store.generations import IndexData, load_index
from tests.conftest import tiny_articles

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = IndexSettings(embedder="hashing-128", chunk_size=200, chunk_overlap=0)
SHARD_SIZE = 5
needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="ray is not installed: pip install 'ray[data]==2.60.0' (CI installs it)",
)


def corpus() -> list[Article]:
    """24 articles (several chunks each) plus one exact duplicate: 5 shards of 5."""
    articles = [
        make_article(
            f"{a.text}\n\nFollow-up {i}. {a.text}", title=f"{a.title} ({i})", source=a.source, url=f"{a.url}/{i}"
        )
        for i in range(6)
        for a in tiny_articles()
    ]
    return [*articles, articles[3]]


def assert_same_index(expected: IndexData, got: IndexData, atol: float = 0.0) -> None:
    assert got.articles == expected.articles
    assert got.chunks == expected.chunks
    assert np.array_equal(got.sentences, expected.sentences)
    assert got.embedder_name == expected.embedder_name and got.dim == expected.dim
    assert np.allclose(np.asarray(got.chunk_vectors), np.asarray(expected.chunk_vectors), rtol=0, atol=atol)
    assert np.allclose(got.sentence_vectors, expected.sentence_vectors, rtol=0, atol=max(atol, 1e-3))


def stamps(shard_dir: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every finished shard's manifest: a redone shard gets a new file."""
    return {p.parent.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in shard_dir.glob("shard-*/manifest.json")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> IndexData:
    """The corpus indexed by the single-process path."""
    root = tmp_path_factory.mktemp("single") / "index"
    add_articles(root, corpus(), SETTINGS)
    return load_index(root)


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """One local Ray instance (2 CPUs, no dashboard, no usage stats) for the whole module."""
    import ray

    from index.distributed import connect_ray

    started = connect_ray(workers=2)
    yield str(ray.get_runtime_context().gcs_address)
    if started:
        ray.shutdown()


@needs_ray
def test_ray_shards_equal_single_process(tmp_path: Path, reference: IndexData, ray_address: str) -> None:
    report = embed_to_shards(corpus(), tmp_path / "shards", SETTINGS, workers=2, shard_size=SHARD_SIZE)
    assert (report.shards_total, report.embedded, report.skipped) == (5, (0, 1, 2, 3, 4), ())
    assert report.articles == 24 and report.chunks_embedded == len(reference.chunks)
    import ray

    node = ray.get_runtime_context().get_node_id()  # the test's one-node instance: every shard says where it ran
    assert {k: n.split("@")[0] for k, n in shard_nodes(tmp_path / "shards").items()} == dict.fromkeys(range(5), node)
    built = index_from_shards(tmp_path / "shards", corpus(), tmp_path / "index", SETTINGS, shard_size=SHARD_SIZE)
    assert (built.articles_total, built.duplicates, built.chunks_total) == (24, 1, len(reference.chunks))
    assert_same_index(reference, load_index(tmp_path / "index"), atol=1e-6)


_KILLED_RUN = """
import sys, time
from index.distributed import embed_to_shards
from tests.test_distributed import SETTINGS, SHARD_SIZE, corpus

def slow(index, folder):
    print(index, flush=True)
    time.sleep(30)  # the parent kills this process here, with later shards embedded but not written

address = sys.argv[2]
embed_to_shards(corpus(), sys.argv[1], SETTINGS, workers=2, ray_address=address, shard_size=SHARD_SIZE, on_shard=slow)
"""


@needs_ray
@pytest.mark.timeout(180)
def test_killed_ray_run_resumes_without_redoing_shards(tmp_path: Path, reference: IndexData, ray_address: str) -> None:
    shards = tmp_path / "shards"
    with (tmp_path / "child.log").open("w") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_RUN, str(shards), ray_address],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()  # one shard written and reported
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert line.strip().isdigit(), f"the child run failed:\n{(tmp_path / 'child.log').read_text()[-3000:]}"
    first = int(line)
    before = stamps(shards)
    assert set(before) == {f"shard-{first:06d}"}
    (shards / ".tmp-shard-000004-99999").mkdir()  # what a kill in the middle of a write leaves

    report = embed_to_shards(corpus(), shards, SETTINGS, workers=2, shard_size=SHARD_SIZE)
    assert report.skipped == (first,)
    assert report.embedded == tuple(k for k in range(5) if k != first)
    assert {name: stamps(shards)[name] for name in before} == before  # 0 shards redone
    assert not list(shards.glob(".tmp-*"))
    index_from_shards(shards, corpus(), tmp_path / "index", SETTINGS, shard_size=SHARD_SIZE)
    assert_same_index(reference, load_index(tmp_path / "index"), atol=1e-6)

    again = embed_to_shards(corpus(), shards, SETTINGS, workers=2, shard_size=SHARD_SIZE)
    assert again.embedded == () and again.skipped == (0, 1, 2, 3, 4)  # nothing to do: Ray not even used


def test_failed_run_resumes_in_process(tmp_path: Path, reference: IndexData) -> None:
    """``workers=0`` (no Ray): a run that dies after shard 2 leaves shards 0-2, which the re-run keeps."""
    shards = tmp_path / "shards"

    def fail_after_two(index: int, folder: Path) -> None:
        if index == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        embed_to_shards(corpus(), shards, SETTINGS, workers=0, shard_size=SHARD_SIZE, on_shard=fail_after_two)
    before = stamps(shards)
    report = embed_to_shards(corpus(), shards, SETTINGS, workers=0, shard_size=SHARD_SIZE)
    assert (report.skipped, report.embedded) == ((0, 1, 2), (3, 4))
    assert {name: stamps(shards)[name] for name in before} == before
    assert shard_nodes(shards) == dict.fromkeys(range(5), "")  # embedded in this process, on no Ray node
    index_from_shards(shards, corpus(), tmp_path / "index", SETTINGS, shard_size=SHARD_SIZE)
    assert_same_index(reference, load_index(tmp_path / "index"), atol=1e-6)


def test_altered_or_stale_shards_are_redone(tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    embed_to_shards(corpus(), shards, SETTINGS, workers=0, shard_size=SHARD_SIZE)
    vectors = shards / "shard-000001" / "chunk_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-4] + b"\0\0\0\0")  # a flipped float: the checksum no longer matches
    report = embed_to_shards(corpus(), shards, SETTINGS, workers=0, shard_size=SHARD_SIZE)
    assert (report.embedded, report.skipped) == ((1,), (0, 2, 3, 4))

    edited = corpus()
    edited[7] = make_article(edited[7].text + " Corrected.", title=edited[7].title, url=edited[7].url)
    report = embed_to_shards(edited, shards, SETTINGS, workers=0, shard_size=SHARD_SIZE)
    assert report.embedded == (1,)  # only the shard holding the changed article

    other = IndexSettings(embedder="hashing-128", chunk_size=300, chunk_overlap=0)
    assert not shard_is_complete(shards, 0, "not-the-key")
    assert embed_to_shards(edited, shards, other, workers=0, shard_size=SHARD_SIZE).embedded == (0, 1, 2, 3, 4)


def test_index_from_missing_shards_is_an_error(tmp_path: Path) -> None:
    from index.errors import CorruptIndexError

    embed_to_shards(corpus()[:10], tmp_path / "shards", SETTINGS, workers=0, shard_size=SHARD_SIZE)
    with pytest.raises(CorruptIndexError, match="shard-000002"):
        index_from_shards(tmp_path / "shards", corpus(), tmp_path / "index", SETTINGS, shard_size=SHARD_SIZE)


@needs_ray
@pytest.mark.slow
def test_ray_with_the_real_model_equals_single_process(tmp_path: Path, ray_address: str) -> None:
    # the float model: int8 vectors move a little with their batch neighbours (tests/test_onnx_embed.py)
    settings = IndexSettings(embedder="all-MiniLM-L6-v2")
    articles = tiny_articles()
    add_articles(tmp_path / "single", articles, settings)
    report = embed_to_shards(articles, tmp_path / "shards", settings, workers=1, shard_size=2)
    assert report.embedded == (0, 1)
    index_from_shards(tmp_path / "shards", articles, tmp_path / "index", settings, shard_size=2)
    # other batches pad differently: equal to float tolerance, not bit for bit
    assert_same_index(load_index(tmp_path / "single"), load_index(tmp_path / "index"), atol=1e-4)


def test_one_run_at_a_time_per_shard_folder(tmp_path: Path) -> None:
    import fcntl

    from index.errors import SettingsError

    shards = tmp_path / "shards"
    shards.mkdir()
    with (shards / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a run still going in another process holds it
        with pytest.raises(SettingsError, match="another run"):
            embed_to_shards(corpus(), shards, SETTINGS, workers=0, shard_size=SHARD_SIZE)
    assert embed_to_shards(corpus(), shards, SETTINGS, workers=0, shard_size=SHARD_SIZE).embedded == (0, 1, 2, 3, 4)

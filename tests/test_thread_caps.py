"""Questions answered side by side use one thread each in every library that multiplies
matrices: FAISS's OpenMP (tests/test_reliability.py), NumPy's BLAS, onnxruntime (issue 16 item 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def test_a_question_caps_every_blas_pool_at_one_thread() -> None:
    """In a fresh process whose BLAS would use 4 threads (set by the environment, so the test means
    the same on any machine): after one question's ``limit_query_threads(1)``, every BLAS loaded
    (NumPy's OpenBLAS, FAISS's) runs on one. The old cap left NumPy's at 4."""
    script = (
        "import json, numpy, faiss\n"
        "from threadpoolctl import threadpool_info\n"
        "from index.threads import limit_query_threads\n"
        "before = [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n"
        "limit_query_threads(1)\n"
        "after = [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n"
        "print(json.dumps([before, after]))\n"
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="4", OMP_NUM_THREADS="4")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout)
    assert before and max(before) > 1  # the cap has something to do (a BLAS may cap 4 at the core count)
    assert after == [1] * len(before)


@pytest.mark.slow
def test_the_query_embedding_runs_on_one_onnxruntime_thread() -> None:
    from index.embed import make_embedder
    from index.embed.int8 import OnnxInt8Embedder

    embedder = make_embedder("all-MiniLM-L6-v2:int8")
    assert isinstance(embedder, OnnxInt8Embedder)
    embedder.embed_query("Who opened the bridge?")
    assert list(embedder._sessions) == [1]  # questions get the one-thread session, never the batch one
    options = embedder._sessions[1].get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)

"""Cap the compute threads a question may use: limit_query_threads(threads) -> None.

Several questions are answered at once (the Gradio queue, ``ask`` from many threads), and
each library that multiplies matrices brings its own thread pool sized to the machine:
torch's intra-op pool (the query embedding) and OpenMP (FAISS search). Eight concurrent
questions on two cores then start eight times two busy threads that spin and steal each
other's time: measured here, one FAISS search over 200k vectors took 4x longer with two
OpenMP threads than with one, on a two-core machine. One thread per question, with the
questions themselves in parallel, uses the cores fully without oversubscribing them.

FAISS's OpenMP setting belongs to the calling thread (libgomp keeps it per thread), so
this must run in every thread that searches; it is cheap enough to call per question.
torch's setting is process-wide; it is applied once torch is loaded. NumPy's BLAS
(OpenBLAS, a process-wide pool) scores a filtered IVF search's rows exactly (up to
``EXACT_FILTER_MAX`` rows, ``index/store/vectors.py``) and the best sentences: it is capped
once per process (threadpoolctl, ~1.5 ms a call). The
query embedding runs in an onnxruntime session of one intra-op thread
(``index/embed/int8.py``). Indexing is the
opposite case (one large batch per call): a process that only builds an index should
keep the libraries' defaults.
"""

from __future__ import annotations

import sys
from functools import cache


def limit_query_threads(threads: int = 1) -> None:
    """Let FAISS (in the calling thread) and torch (process-wide, if loaded) use ``threads`` threads.

    Example:
        >>> limit_query_threads(1)
        >>> import faiss; faiss.omp_get_max_threads()
        1
    """
    import faiss

    if threads < 1:
        raise ValueError(f"threads={threads}: must be at least 1")
    faiss.omp_set_num_threads(threads)
    torch = sys.modules.get("torch")  # never import torch here: the hashing embedder needs none
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _limit_blas(threads)


@cache
def _limit_blas(threads: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")

"""numpy-blocked: numpy-dot over row blocks small enough to stay in cache.

``X @ W`` and then ``X.T @ residual`` each stream all of X; once X outgrows the
caches, that is two reads of X from memory, and for a few outputs k reading memory
is the whole cost. Both products are sums over rows, so they can be taken block of
rows by block of rows: the block's residual, then the block's share of Xᵀ R, added
up. The block is still in cache when the second product reads it, so X comes from
memory once. This is how far plain numpy gets with cache blocking: every operation
is still a numpy call on a whole block, and the price is a few microseconds of Python
per block.

Blocks are ``BLOCK_BYTES`` (1 MiB), which fit one core's L2 cache, and numpy
releases the GIL inside every product, so two cores are kept busy the plain-Python
way: two Python threads, each taking every other block into its own partial sums,
added at the end. Each core streams its own blocks from memory and reads them again
from its own L2. While they run, BLAS is held to one thread (threadpoolctl), so that
each product stays on the core that called it: OpenBLAS would otherwise split the
larger products (k > 1) over its own threads too. More Python threads do not help:
numpy holds the GIL between and around its calls, and a block takes seven of them,
so beyond two threads they queue for the GIL rather than for memory
(``MAX_THREADS``). ``prepare`` takes the BLAS thread count the harness pinned, at
most ``MAX_THREADS`` and no more than the cores other work leaves free (see
gradrace/_load.py: on a loaded machine a second thread would wait for a core, and the
call for it), and starts the thread pool once, untimed.

What that buys at 1 GB of X, on two cores and on sixteen, is measured in
docs/performance.md.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from gradrace import _load
from gradrace.bench.implementation import (
    PER_ROW,
    Cost,
    Implementation,
    Term,
    on_every_core,
    params_at,
)
from gradrace.implementations.numpy_dot import GEMV

#: Bytes of X per block: within one core's L2 cache (1 MiB on the machines we measured).
BLOCK_BYTES = 1 << 20

#: Python threads at most: beyond two, the threads wait for the GIL, not for memory.
MAX_THREADS = 2


def block_rows(n: int, itemsize: int = 8) -> int:
    """Rows of X per block: ``BLOCK_BYTES`` of X, and at least one row."""
    return max(1, BLOCK_BYTES // (n * itemsize))


def _blocks(X, Y, W, b, starts, rows):
    """Xᵀ R (n, k) and 1ᵀ R (k,) over the blocks of ``rows`` rows beginning at ``starts``."""
    residual = np.empty((min(rows, X.shape[0]), W.shape[1]), dtype=X.dtype)  # (B, k)  reused
    XtR = np.zeros(W.shape, dtype=X.dtype)  # (n, k)
    rsum = np.zeros(b.shape, dtype=X.dtype)  # (k,)
    for start in starts:
        Xb = X[start : start + rows]  # (B, n)  a view; from memory, once
        Rb = np.matmul(Xb, W, out=residual[: len(Xb)])  # (B, k)
        Rb += b  # (B, k)
        Rb -= Y[start : start + rows]  # (B, k)  residual of the block's rows
        XtR += Xb.T @ Rb  # (n, k)  reads the block again, from cache
        rsum += Rb.sum(axis=0)  # (k,)
    return XtR, rsum


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    """Threads kept for the life of the process, so a call does not pay to start them."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="numpy-blocked")


os.register_at_fork(after_in_child=_pool.cache_clear)  # a forked child has none of the threads


@functools.cache
def _blas():
    """The loaded BLAS libraries, found once (about a millisecond), to hold them to one thread."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def gradient(X, Y, W, b, lam, threads=1):
    """The timed call: blocks shared round-robin over ``threads`` threads (this one included)."""
    m, n = X.shape
    rows = block_rows(n, X.itemsize)
    starts = range(0, m, rows)
    if threads > 1 and len(starts) >= 2 * threads:
        shares = [starts[t::threads] for t in range(threads)]
        with _blas().limit(limits=1):  # each product on the thread that called it
            others = [_pool(threads - 1).submit(_blocks, X, Y, W, b, s, rows) for s in shares[1:]]
            parts = [_blocks(X, Y, W, b, shares[0], rows)] + [f.result() for f in others]
    else:
        parts = [_blocks(X, Y, W, b, starts, rows)]
    XtR = functools.reduce(np.add, (p[0] for p in parts))  # (n, k)  in thread order
    rsum = functools.reduce(np.add, (p[1] for p in parts))  # (k,)
    dW = XtR / m + (lam / m) * W  # (n, k)
    db = rsum / m  # (k,)    the bias is not regularized
    return dW, db


def blas_threads() -> int:
    """Threads the BLAS library may use now (as the harness pinned them), at least 1."""
    from threadpoolctl import threadpool_info

    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(1, min(counts, default=1))


def prepare(X, Y, W, b, lam):
    """Take as many threads as BLAS may use (at most ``MAX_THREADS``, and no more than the
    cores free now), and start the pool outside the timing."""
    threads = min(blas_threads(), MAX_THREADS)
    if threads > 1 and X.shape[0] >= 2 * threads * block_rows(X.shape[1], X.itemsize):
        threads = _load.threads_to_use(threads)
    if threads > 1:
        _pool(threads - 1).submit(int).result()
        _blas()
    return X, Y, W, b, lam, threads


IMPLEMENTATION = Implementation(
    name="numpy-blocked",
    gradient=gradient,
    prepare=prepare,
    with_params=params_at(2, 3),
    description="numpy-dot over 1 MiB row blocks that stay in each core's cache, on two "
    "Python threads: X from memory once.",
    cost=Cost(
        passes="~1 from memory: each 1 MiB block of rows is read for X_b @ W, then from the "
        "core's L2 for X_bᵀ r_b; one Python thread per core, each with its own blocks",
        temporaries="(block rows, k) residual and (n, k) partial sums per thread",
        flops="4·m·n·k through BLAS, block by block",
        overhead="a few numpy calls per block (fitted per block); per sample and output, the "
        "block's residual through numpy's elementwise steps on each thread (fitted)",
        elements=lambda m, n, k: m * n + 8 * m * k,
        parallel=True,
        fitted=(
            Term("per block of X (1 MiB)", lambda m, n, k, s: -(-m // block_rows(int(n), s))),
            GEMV,
            on_every_core(PER_ROW),
        ),
    ),
)

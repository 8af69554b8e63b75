"""dask: the gradient as a sum of per-chunk partial gradients over row chunks of X.

The gradient is a sum over samples, so it splits over any partition of the rows. For
a chunk (X_c, Y_c) of rows, r_c = X_c W + b − Y_c gives the partial sums X_cᵀ r_c
(n, k) and Σ_i r_c (k,), and

    ∂J/∂W = (Σ_c X_cᵀ r_c)/m + (λ/m)·W        ∂J/∂b = (Σ_c Σ_i r_c)/m

That is how the same math runs out of core (one chunk in memory at a time) and across
machines (chunks on different workers): only the small (n, k) partials travel, never X.

prepare (untimed) cuts X and Y into chunks of rows. By default they stay in this
process as a ``dask.array`` (``da.from_array``: views, no copy) and dask's local
threaded scheduler computes, with numba's thread count (gradrace's ``--threads``) as its
workers. When the environment variable ``GRADRACE_DASK_SCHEDULER`` holds the address
of a ``dask.distributed`` scheduler (``gradrace run --dask-scheduler tcp://host:8786``
sets it), prepare connects a ``distributed.Client`` to it (one per address, reused)
and scatters the chunks to the cluster's workers. The workers run this module's
``_partial`` and ``_combine``, so, as for any code dask runs, their environment needs
what the client's has: gradrace (and numpy and dask) installed.

The timed call builds the task graph — one task per chunk, one to add the partials up —
and computes it. The graph construction, the scheduler's bookkeeping and, on a cluster,
the round trips and W and b shipped with every task are all in the time: that overhead,
next to numpy-dot doing the same products in one call, is what this implementation shows.

Chunks: at least one per worker thread, at most ``CHUNK_BYTES`` of X each;
``GRADRACE_DASK_CHUNK_ROWS`` sets the rows per chunk instead.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from typing import Any

from gradrace.bench.implementation import (
    PER_ROW,
    Cost,
    Implementation,
    on_every_core,
    params_at,
    two_passes,
)
from gradrace.bench.problem import validate_inputs
from gradrace.implementations.numpy_dot import GEMV

#: Environment variable holding a dask.distributed scheduler address (tcp://host:8786).
SCHEDULER_ENV = "GRADRACE_DASK_SCHEDULER"
#: Environment variable fixing the rows per chunk.
CHUNK_ROWS_ENV = "GRADRACE_DASK_CHUNK_ROWS"
#: Largest chunk of X, in bytes, unless GRADRACE_DASK_CHUNK_ROWS says otherwise.
CHUNK_BYTES = 16 * 2**20

_clients: dict[str, Any] = {}  # scheduler address -> distributed.Client


def _partial(X_c, Y_c, W, b):
    """The partial sums of one chunk of rows: what each task computes, on any worker."""
    residual = X_c @ W + b - Y_c  # (rows, k)
    return X_c.T @ residual, residual.sum(axis=0)  # (n, k), (k,)


def _combine(partials, W, lam, m):
    """Add the chunks' partial sums (in chunk order, so the result is reproducible)."""
    dW = sum(p[0] for p in partials) / m + (lam / m) * W  # (n, k)
    db = sum(p[1] for p in partials) / m  # (k,)     the bias is not regularized
    return dW, db


@functools.cache
def _dask():
    """Import dask on first use, so that loading gradrace's registry stays cheap."""
    import dask
    import dask.array as da

    return dask, da


def client(address: str):
    """A distributed.Client connected to ``address``, made once and reused while it runs."""
    cached = _clients.get(address)
    if cached is not None and cached.status == "running":
        return cached
    try:
        from distributed import Client
    except ImportError as exc:
        raise ImportError(
            f'{SCHEDULER_ENV} is set, which needs dask.distributed: pip install "gradrace[dask]"'
        ) from exc
    _clients[address] = Client(address, set_as_default=False, timeout="30s")
    return _clients[address]


def close_clients() -> None:
    """Close the clients this process connected (their clusters keep running)."""
    while _clients:
        _clients.popitem()[1].close()


def chunk_rows(m: int, n: int, itemsize: int, workers: int) -> int:
    """Rows per chunk: the environment's choice, else ≥ 1 chunk per worker, ≤ CHUNK_BYTES each."""
    fixed = os.environ.get(CHUNK_ROWS_ENV)
    if fixed:
        rows = int(fixed)
        if rows < 1:
            raise ValueError(f"{CHUNK_ROWS_ENV} must be a positive integer, got {fixed!r}")
        return min(rows, m)
    by_bytes = max(1, CHUNK_BYTES // (n * itemsize))
    return max(1, min(by_bytes, math.ceil(m / workers)))


@dataclass(frozen=True, eq=False)
class Chunks:
    """The chunks of (X, Y) rows and how to compute on them: prepare's first argument.

    ``pairs`` holds dask handles (blocks of a dask.array, or futures of data scattered to
    a cluster), which name data that dask owns and nothing modifies; a deep copy of a
    handle is the handle itself, so gradrace's check compares them by identity.
    """

    pairs: tuple  # ((X_c, Y_c), ...)  one pair per chunk, in row order
    m: int
    rows: int  # rows per chunk (the last may have fewer)
    scheduler: Any  # "threads" or a distributed.Client
    num_workers: int | None = None  # threads of the local scheduler

    def __deepcopy__(self, memo) -> Chunks:
        return self

    def compute(self, graph):
        if self.num_workers is None:
            return graph.compute(scheduler=self.scheduler)
        return graph.compute(scheduler=self.scheduler, num_workers=self.num_workers)


def prepare(X, Y, W, b, lam):
    """Cut X and Y into chunks of rows, local or scattered to a cluster's workers."""
    import numba

    m, n, k = validate_inputs(X, Y, W, b, lam)
    _dask()
    address = os.environ.get(SCHEDULER_ENV)
    if address:
        cluster = client(address)
        workers = max(1, sum(cluster.nthreads().values()))
        rows = chunk_rows(m, n, X.dtype.itemsize, workers)
        starts = range(0, m, rows)
        # hash=False: fresh keys, so releasing one preparation never drops data another shares
        X_chunks = cluster.scatter([X[i : i + rows] for i in starts], hash=False)  # futures
        Y_chunks = cluster.scatter([Y[i : i + rows] for i in starts], hash=False)
        pairs = tuple(zip(X_chunks, Y_chunks, strict=True))
        return Chunks(pairs, m, rows, cluster), W, b, float(lam)
    _, da = _dask()
    threads = numba.get_num_threads()
    rows = chunk_rows(m, n, X.dtype.itemsize, threads)
    X_dask = da.from_array(X, chunks=(rows, n), name=False)  # (m, n) in row chunks, no copy
    Y_dask = da.from_array(Y, chunks=(rows, k), name=False)  # (m, k)
    blocks = zip(X_dask.to_delayed().ravel(), Y_dask.to_delayed().ravel(), strict=True)
    return Chunks(tuple(blocks), m, rows, "threads", threads), W, b, float(lam)


def gradient(chunks: Chunks, W, b, lam):
    dask, _ = _dask()
    task = functools.partial(dask.delayed, pure=False)
    partials = [task(_partial)(X_c, Y_c, W, b) for X_c, Y_c in chunks.pairs]  # (n, k), (k,) each
    total = task(_combine)(partials, W, lam, chunks.m)  # (n, k), (k,)
    return chunks.compute(total)


IMPLEMENTATION = Implementation(
    name="dask",
    gradient=gradient,
    prepare=prepare,
    with_params=params_at(1, 2),
    description="Per-chunk partial gradients over row chunks of X, summed by dask (local or a cluster).",
    cost=Cost(
        passes="2 per chunk of rows (≤ 16 MiB), the second partly from cache",
        temporaries="per-chunk (rows, k) residuals and (n, k) partial sums",
        flops="4·m·n·k, chunks on the threaded scheduler",
        overhead="building and scheduling the task graph: milliseconds",
        elements=two_passes,
        parallel=True,
        # each chunk's products and its residual's elementwise steps are numpy-dot's,
        # the chunks spread over the scheduler's threads
        fitted=(GEMV, on_every_core(PER_ROW)),
    ),
)

"""What numba-fused's kernels share, whatever the problem: how sums are blocked and
how rows are split into chunks, and the last step that scales the sums into (dW, db).

Both the ridge kernel (``numba_fused``) and the logistic one (``numba_fused_logistic``)
split rows into the same chunks, finish the same way and take the same threads. The
ridge kernel sums float64 over whole chunks (``block_rows``); the logistic one keeps
blocks of ``SUM_ROWS`` rows or ``SUM_ENTRIES`` entries in both dtypes.
"""

from __future__ import annotations

from gradrace import _load
from gradrace._jit import njit_fast, threads

#: Sums in the input dtype run over blocks of max(SUM_ROWS, SUM_ENTRIES / n) rows, then
#: join float64 totals (the ridge kernel's float64 sums, over whole chunks: ``block_rows``);
#: the same bound picks the kernel without work arrays.
SUM_ROWS = 256
SUM_ENTRIES = 8192
#: The parallel variant splits the rows into a power of two of chunks, at most
#: MAX_CHUNKS, each of at least CHUNK_WORK (m·n·k / chunks) and eight rows. The split
#: depends on the shape only, so the sums do not depend on the thread count or on which
#: thread ran which chunk; a power of two shares out evenly over 2, 4, 8… threads.
MAX_CHUNKS = 32
CHUNK_WORK = 32_768


@njit_fast
def _finish(total, total_b, W, lam, m, dW, db):
    """dW = total/m + (λ/m)·W (n, k) and db = total_b/m (k,), written in place."""
    n, k = W.shape
    for j in range(n):
        for c in range(k):
            dW[j, c] = total[c, j] / m + (lam / m) * W[j, c]  # (n, k)
    for c in range(k):
        db[c] = total_b[c] / m  # (k,)   the bias is not regularized


@njit_fast
def block_rows(m, n, itemsize):
    """Rows of one block of the ridge kernels' sums in the input dtype (for long rows,
    groups of rows: each group's rows are added in registers first): SUM_ROWS
    (SUM_ENTRIES) for float32, which blocks keep accurate; all m for float64, whose error
    over a chunk, about m·eps, stays far below the tolerance, and which ran slower in
    blocks (docs/performance.md)."""
    if itemsize >= 8:
        return max(m, 1)
    return max(SUM_ROWS, SUM_ENTRIES // n)


@njit_fast
def chunk_count(m, work):
    """Chunks the parallel variant splits m rows into, for m·n·k = work (see MAX_CHUNKS)."""
    chunks = 1
    while 2 * chunks <= MAX_CHUNKS and 2 * chunks * CHUNK_WORK <= work and 16 * chunks <= m:
        chunks *= 2
    return chunks


def threads_for(m: int, n: int, k: int, parallel_min_work: int) -> int:
    """The threads a call may use now: numba's, fewer when other work holds cores (see
    gradrace/_load.py: on a loaded machine a parallel region waits a scheduler slice for
    a parked thread); 1 when the size runs on one thread anyway."""
    if m <= SUM_ROWS or m * n * k < parallel_min_work or threads() == 1:
        return 1
    return _load.threads_to_use(threads())

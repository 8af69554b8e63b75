"""numpy-blocked: numpy-dot over row blocks small enough to stay in cache.

``X @ W`` and then ``X.T @ residual`` each stream all of X; once X outgrows the
caches, that is two reads of X from memory, and for a few outputs k reading memory
is the whole cost. Both products are sums over rows, so they can be taken block of
rows by block of rows: the block's residual, then the block's share of Xᵀ R, added
up. A block of ``BLOCK_BYTES`` is still in cache when the second product reads it,
so X comes from memory once. This is how far plain numpy gets with cache blocking:
every operation is still a BLAS call on whole blocks, and the price is a few
microseconds of Python per block, which ``BLOCK_BYTES`` keeps small next to the
block's own time.
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import Implementation

#: Bytes of X per block: well inside the L2 caches of the cores reading it together,
#: and large enough that the per-block Python overhead stays a few percent.
BLOCK_BYTES = 1 << 20


def block_rows(n: int, itemsize: int) -> int:
    """Rows of X per block: ``BLOCK_BYTES`` of X, and at least one row."""
    return max(1, BLOCK_BYTES // (n * itemsize))


def gradient(X, Y, W, b, lam):
    m, n = X.shape
    rows = block_rows(n, X.itemsize)
    residual = np.empty((min(rows, m), W.shape[1]), dtype=X.dtype)  # (rows, k)  reused
    XtR = np.zeros(W.shape, dtype=X.dtype)  # (n, k)  Xᵀ R, block by block
    rsum = np.zeros(b.shape, dtype=X.dtype)  # (k,)    1ᵀ R
    for start in range(0, m, rows):
        Xb = X[start : start + rows]  # (B, n)  a view; from memory, once
        Rb = np.matmul(Xb, W, out=residual[: len(Xb)])  # (B, k)
        Rb += b  # (B, k)
        Rb -= Y[start : start + rows]  # (B, k)  residual of the block's rows
        XtR += Xb.T @ Rb  # (n, k)  reads the block again, from cache
        rsum += Rb.sum(axis=0)  # (k,)
    dW = XtR / m + (lam / m) * W  # (n, k)
    db = rsum / m  # (k,)    the bias is not regularized
    return dW, db


IMPLEMENTATION = Implementation(
    name="numpy-blocked",
    gradient=gradient,
    description="numpy-dot over cache-sized row blocks, so the second product reads X "
    "from cache: X from memory once.",
)

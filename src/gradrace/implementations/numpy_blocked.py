"""numpy-blocked: numpy-dot over row blocks small enough to stay in cache.

``X @ W`` and then ``X.T @ residual`` each stream all of X; once X outgrows the
caches, that is two reads of X from memory, and for a few outputs k reading memory
is the whole cost. Both products are sums over rows, so they can be taken block of
rows by block of rows: the block's residual, then the block's share of Xᵀ R, added
up. The block is still in cache when the second product reads it, so X comes from
memory once. This is how far plain numpy gets with cache blocking: every operation
is still a BLAS call on whole blocks, and the price is a few microseconds of Python
per block.

The block size is a compromise the BLAS library imposes. Smaller blocks would stay
in each core's L2 cache, but OpenBLAS runs a matrix-vector product on one thread
below about 460,800 entries (3.5 MiB of float64), and one core alone cannot read
memory as fast as two; so blocks are ``BLOCK_ENTRIES``, just above that threshold:
the first product streams them with every thread, and the second finds them in the
L2 and L3 caches. (On a 2-core AMD EPYC VM with X of 1 GB, blocks of 1 MiB measured
about 0.9× numpy-dot, blocks of 4 MiB about 0.7×, and blocks of 16 MiB, beyond what
the caches keep, 0.9×. Half of a 4 MiB block waits in the L3 cache, which other
tenants of the machine share: when they evict it, this falls back to about 1×.)
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import Implementation

#: Entries of X per block (4 MiB of float64): large enough for OpenBLAS to use every
#: thread on it, small enough for the caches to keep it between the two products.
BLOCK_ENTRIES = 1 << 19


def block_rows(n: int) -> int:
    """Rows of X per block: ``BLOCK_ENTRIES`` entries of X, and at least one row."""
    return max(1, BLOCK_ENTRIES // n)


def gradient(X, Y, W, b, lam):
    m, n = X.shape
    rows = block_rows(n)
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

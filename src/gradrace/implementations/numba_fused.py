"""numba-fused: one pass over X, because the gradient is bound by reading X.

``X @ W`` and then ``Xᵀ @ R`` each stream all of X from memory, and for a few outputs
k the arithmetic per byte is so small that reading X *is* the cost. Row i of X is
all that row i's contribution needs: its residual r_i = x_i·W + b − y_i (k,), then
x_i ⊗ r_i added into Xᵀ(XW + b − Y) and r_i into its column sums. Doing both while
x_i is still in the L1 cache reads X once, which halves the memory traffic.

How the kernel keeps that one pass fast:

- Register blocking: rows go in groups of ``ROW_GROUP``. The residuals of a group's
  rows are four independent dot products over one pass of the output's weights
  (four vector accumulators instead of one latency-bound chain), and each weight
  and each partial-sum entry is loaded and stored once for the whole group.
- Blocking over outputs for k > 1: for each output column c the group's rows are
  used twice, once for their residuals against column c of W (held transposed, so
  the loop runs over contiguous memory) and once to add r_ic·x_i into row c of the
  transposed partial sum. The group's rows stay in L1 across all k columns, so X
  is still read from memory once, and every inner loop runs over the n features
  with unit stride, which LLVM vectorizes.
- ``FASTMATH`` (``reassoc``, ``contract``): without reassociation a dot product
  cannot be split over vector lanes; see gradrace/_jit.py.
- Blocked summation: sums run in the input dtype for ``BLOCK_ROWS`` rows at a time,
  then join float64 totals, so float32 keeps its accuracy for millions of rows.
- Threads: ``prange`` over ``CHUNKS_PER_THREAD`` contiguous chunks of rows per
  thread, each into its own partial sums, added in chunk order at the end: the
  result depends on the thread count only, never on scheduling. A parallel launch
  alone costs tens of microseconds, so problems under ``PARALLEL_MIN_WORK``
  (m·n·k) run serially, in the same call.
"""

from __future__ import annotations

import numpy as np

from gradrace._jit import njit_fast, njit_fast_parallel, prange
from gradrace.bench.implementation import Implementation
from gradrace.bench.problem import validate_inputs

#: Rows whose outer products are added together (register blocking).
ROW_GROUP = 4
#: k = 1: bytes of X per two-pass block, small enough to stay in the L1 cache.
L1_BYTES = 32 * 1024
#: Rows summed in the input dtype before joining the float64 totals.
SUM_ROWS = 256
#: m·n·k from which the rows are split over threads (below it, one thread is faster).
PARALLEL_MIN_WORK = 200_000
#: The parallel variant splits the rows into at most this many chunks, of at least
#: ``SUM_ROWS`` rows each; the split depends on m only, so the sums do not depend on
#: the thread count or on which thread ran which chunk.
MAX_CHUNKS = 32


@njit_fast
def _one_output(X, Y, w, b0, r, acc):
    """k = 1: acc (n,) += Σ_i r_i·x_i over the rows of X; return Σ_i r_i.

    Block by block of len(r) rows: first every residual, reading the rows in address
    order (the hardware prefetcher streams them from memory), then the rows again,
    from L1, ``ROW_GROUP`` at a time into acc.
    """
    m, n = X.shape
    rows = r.shape[0]
    rsum = b0 - b0  # 0 in the input dtype
    for start in range(0, m, rows):
        Xb = X[start : start + rows]  # (B, n)  one block
        B = Xb.shape[0]
        for i in range(B):
            x = Xb[i]  # (n,)
            ri = b0 - Y[start + i, 0]
            for j in range(n):
                ri += x[j] * w[j]  # r_i = x_i·w + b − y_i
            r[i] = ri
        groups = B // ROW_GROUP
        for g in range(groups):
            i = ROW_GROUP * g
            x0, x1, x2, x3 = Xb[i], Xb[i + 1], Xb[i + 2], Xb[i + 3]  # (n,) each, from L1
            r0, r1, r2, r3 = r[i], r[i + 1], r[i + 2], r[i + 3]
            for j in range(n):
                acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])  # (n,)
        for i in range(ROW_GROUP * groups, B):
            x0, r0 = Xb[i], r[i]
            for j in range(n):
                acc[j] += r0 * x0[j]  # (n,)
        for i in range(B):
            rsum += r[i]
    return rsum


@njit_fast
def _many_outputs(X, Y, Wt, b, acc, rsum):
    """k > 1: acc (k, n) += Σ_i r_i ⊗ x_i and rsum (k,) += Σ_i r_i over the rows of X.

    ``ROW_GROUP`` rows at a time, blocked over the outputs: for each column c, the
    group's four residuals against column c of W (one pass over it, four vector
    accumulators), then their four rows times those residuals into row c of acc.
    The group's rows stay in L1 across all k columns.
    """
    m, n = X.shape
    k = Wt.shape[0]
    groups = m // ROW_GROUP
    for g in range(groups):
        i = ROW_GROUP * g
        x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]  # (n,) each, from memory once
        for c in range(k):
            w = Wt[c]  # (n,)  column c of W
            r0 = b[c] - Y[i, c]
            r1 = b[c] - Y[i + 1, c]
            r2 = b[c] - Y[i + 2, c]
            r3 = b[c] - Y[i + 3, c]
            for j in range(n):  # four dot products x_i·w at once
                r0 += x0[j] * w[j]
                r1 += x1[j] * w[j]
                r2 += x2[j] * w[j]
                r3 += x3[j] * w[j]
            a = acc[c]  # (n,)  row c of the transposed partial Xᵀ R
            for j in range(n):
                a[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])  # (n,)
            rsum[c] += (r0 + r1) + (r2 + r3)
    for i in range(ROW_GROUP * groups, m):  # the last m mod ROW_GROUP rows
        x0 = X[i]  # (n,)
        for c in range(k):
            w = Wt[c]  # (n,)
            r0 = b[c] - Y[i, c]
            for j in range(n):
                r0 += x0[j] * w[j]
            a = acc[c]  # (n,)
            for j in range(n):
                a[j] += r0 * x0[j]
            rsum[c] += r0


@njit_fast
def _chunk(X, Y, Wt, b, total, total_b):
    """total (k, n) += Xᵀ R (transposed) and total_b (k,) += 1ᵀ R over the rows of X."""
    m, n = X.shape
    k = Wt.shape[0]
    acc = np.empty((k, n), dtype=X.dtype)  # (k, n)  SUM_ROWS rows' sums, in the input dtype
    rsum = np.empty(k, dtype=X.dtype)  # (k,)
    r = np.empty(max(ROW_GROUP, L1_BYTES // (n * X.itemsize)), dtype=X.dtype)  # k = 1 residuals
    for start in range(0, m, SUM_ROWS):
        acc[:] = 0
        if k == 1:
            rsum[0] = _one_output(X[start : start + SUM_ROWS], Y[start : start + SUM_ROWS],
                                  Wt[0], b[0], r, acc[0])  # fmt: skip
        else:
            rsum[:] = 0
            _many_outputs(X[start : start + SUM_ROWS], Y[start : start + SUM_ROWS], Wt, b, acc, rsum)
        for c in range(k):
            for j in range(n):
                total[c, j] += acc[c, j]  # (k, n)  float64
            total_b[c] += rsum[c]  # (k,)


@njit_fast_parallel
def _chunks_parallel(X, Y, Wt, b, totals, totals_b):
    """_chunk over the rows of X split into len(totals) chunks, one prange iteration each."""
    m = X.shape[0]
    chunks = totals.shape[0]
    for t in prange(chunks):
        start = m * t // chunks
        stop = m * (t + 1) // chunks
        _chunk(X[start:stop], Y[start:stop], Wt, b, totals[t], totals_b[t])


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
def _few_rows(X, Y, W, b, lam, dW, db):
    """At most SUM_ROWS rows: sum straight into dW and db, with no work arrays to allocate."""
    m, n = X.shape
    k = W.shape[1]
    dW[:] = 0
    db[:] = 0
    for i in range(m):
        x = X[i]  # (n,)
        for c in range(k):
            r = b[c] - Y[i, c]
            for j in range(n):
                r += x[j] * W[j, c]  # r_ic = x_i·w_c + b_c − y_ic
            for j in range(n):
                dW[j, c] += r * x[j]  # (n, k)
            db[c] += r  # (k,)
    for j in range(n):
        for c in range(k):
            dW[j, c] = dW[j, c] / m + (lam / m) * W[j, c]  # (n, k)
    for c in range(k):
        db[c] = db[c] / m  # (k,)


@njit_fast
def _serial_kernel(X, Y, W, b, lam, dW, db):
    m, n = X.shape
    k = W.shape[1]
    if m <= SUM_ROWS:
        _few_rows(X, Y, W, b, lam, dW, db)
        return
    Wt = np.ascontiguousarray(W.T)  # (k, n)
    total = np.zeros((k, n))  # (k, n)  float64 Xᵀ R, transposed
    total_b = np.zeros(k)  # (k,)
    _chunk(X, Y, Wt, b, total, total_b)
    _finish(total, total_b, W, lam, m, dW, db)


@njit_fast
def _parallel_kernel(X, Y, W, b, lam, dW, db):
    m, n = X.shape
    k = W.shape[1]
    chunks = max(1, min(MAX_CHUNKS, m // SUM_ROWS))
    Wt = np.ascontiguousarray(W.T)  # (k, n)
    totals = np.zeros((chunks, k, n))  # (chunks, k, n)  one partial Xᵀ R per chunk
    totals_b = np.zeros((chunks, k))  # (chunks, k)
    _chunks_parallel(X, Y, Wt, b, totals, totals_b)
    for t in range(1, chunks):  # in chunk order: the same sums whatever thread ran what
        for c in range(k):
            for j in range(n):
                totals[0, c, j] += totals[t, c, j]  # (k, n)
            totals_b[0, c] += totals_b[t, c]  # (k,)
    _finish(totals[0], totals_b[0], W, lam, m, dW, db)


def serial_gradient(X, Y, W, b, lam):
    """The fused gradient on one thread."""
    dW, db = W.copy(), b.copy()  # fresh (n, k) and (k,) in the input dtype, overwritten
    _serial_kernel(X, Y, W, b, lam, dW, db)
    return dW, db


def parallel_gradient(X, Y, W, b, lam):
    """The fused gradient with the rows split over numba's threads."""
    dW, db = W.copy(), b.copy()  # (n, k), (k,)
    _parallel_kernel(X, Y, W, b, lam, dW, db)
    return dW, db


def gradient(X, Y, W, b, lam):
    """The timed call: one thread below PARALLEL_MIN_WORK (m·n·k), else all of numba's."""
    dW, db = W.copy(), b.copy()  # fresh (n, k) and (k,) in the input dtype, overwritten
    if X.size * W.shape[1] < PARALLEL_MIN_WORK:
        _serial_kernel(X, Y, W, b, lam, dW, db)
    else:
        _parallel_kernel(X, Y, W, b, lam, dW, db)
    return dW, db


def prepare(X, Y, W, b, lam):
    """Validate, make the arrays C-contiguous, compile for their dtype and start the threads."""
    validate_inputs(X, Y, W, b, lam)
    args = tuple(np.ascontiguousarray(a) for a in (X, Y, W, b)) + (float(lam),)
    X, Y, W, b, lam = args
    gradient(X[:ROW_GROUP + 1], Y[:ROW_GROUP + 1], W, b, lam)  # compile (or load the cache)
    parallel_gradient(X[:ROW_GROUP + 1], Y[:ROW_GROUP + 1], W, b, lam)  # start the thread pool
    return args


def ridge_gradient(X, Y, W, b, lam):
    """Public entry point: validate the inputs, then compute the gradient in one pass."""
    return gradient(*prepare(X, Y, W, b, lam))


IMPLEMENTATION = Implementation(
    name="numba-fused",
    gradient=gradient,
    prepare=prepare,
    description="numba kernel reading X once: each row's residual, then its outer "
    "product into dW, while the row is in cache; threads over row chunks.",
)

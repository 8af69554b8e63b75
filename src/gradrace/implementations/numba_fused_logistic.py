"""numba-fused, logistic: one pass over X with a sigmoid per row, numba-fused's technique
carried over to logistic regression.

Row i of X is still all that row i's contribution needs: its logits z_i = x_i·W + b
(k,), then r_i = σ(z_i) − y_i, then x_i ⊗ r_i added into Xᵀ R and r_i into 1ᵀ R, all
while x_i is in the L1 cache, so X is read from memory once. What the sigmoid changes:

- An exp per sample and output sits between the dot product and the accumulation.
  For many features it hides behind the read of X; for a few (n ≈ 10) it costs as
  much as reading the row, so small-n cases are bound by the exp, not by memory.
- The sigmoid is σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) below, with e = e^(−|z|) ≤ 1:
  no exp can overflow, for any z, and both branches are exact where they are taken.
  It is computed branch-free (the select of two values) in the input dtype: float32
  calls the float32 exp, so float32 stays float32 throughout the row.
- Rows go in groups of four: the four logits are independent dot products (four
  vector accumulators sharing each load of W), their four exps are independent calls
  the processor overlaps, and their outer products are added together, so the
  partial sum is loaded and stored once per group. For k > 1 the group's rows stay
  in L1 while it goes through the k columns (W held transposed, (k, n)).

The rest is numba-fused's design: the blocked summation (sums in the input dtype over
blocks of ``SUM_ROWS`` rows or ``SUM_ENTRIES`` entries, joined in float64), the split of
the rows into a shape-determined power of two of chunks (``chunk_count``; bit-identical
results whatever the thread count), and the choice of kernel by size, once, in
prepare. Its constants are this module's own (numba-fused's module names this one in
its ``also``, so this one cannot import it back), and one differs: a row costs an exp
more here, so threads pay off from less work (``PARALLEL_MIN_WORK``).
"""

from __future__ import annotations

import math

import numpy as np

from gradrace._jit import njit_fast, njit_fast_gil, njit_fast_parallel, prange
from gradrace.bench.implementation import PER_SIGMOID, Cost, Implementation, params_at
from gradrace.bench.problem import validate_inputs

#: Sums run in the input dtype over blocks of max(SUM_ROWS, SUM_ENTRIES / n) rows, then
#: join float64 totals; the same bound picks the kernel without work arrays.
SUM_ROWS = 256
SUM_ENTRIES = 8192
#: m·n·k from which the rows are split over threads (below it, one thread is faster).
PARALLEL_MIN_WORK = 30_000
#: The parallel variant splits the rows into a power of two of chunks, at most
#: MAX_CHUNKS, each of at least CHUNK_WORK (m·n·k / chunks) and eight rows: a split
#: set by the shape alone, so the sums do not depend on the thread count.
MAX_CHUNKS = 32
CHUNK_WORK = 32_768


@njit_fast
def _sigmoid(z, one):
    """σ(z) in the dtype of z and ``one`` (1 in that dtype), through e^(−|z|) ≤ 1."""
    e = math.exp(-abs(z))
    s = one / (one + e)
    return s if z >= 0 else e * s


@njit_fast
def _one_output(X, Y, w, b0, one, acc):
    """k = 1: acc (n,) += Σ_i r_i·x_i over the rows of X, r_i = σ(x_i·w + b0) − y_i;
    return Σ_i r_i. Four rows at a time: four dot products, four sigmoids, one update."""
    m, n = X.shape
    rsum = b0 - b0  # 0 in the input dtype
    groups = m // 4
    for g in range(groups):
        i = 4 * g
        x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]  # (n,) each, from memory once
        z0 = z1 = z2 = z3 = b0
        for j in range(n):  # the four logits
            z0 += x0[j] * w[j]
            z1 += x1[j] * w[j]
            z2 += x2[j] * w[j]
            z3 += x3[j] * w[j]
        r0 = _sigmoid(z0, one) - Y[i, 0]
        r1 = _sigmoid(z1, one) - Y[i + 1, 0]
        r2 = _sigmoid(z2, one) - Y[i + 2, 0]
        r3 = _sigmoid(z3, one) - Y[i + 3, 0]
        for j in range(n):  # their outer products, the rows still in L1
            acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
        rsum += (r0 + r1) + (r2 + r3)
    for i in range(4 * groups, m):  # the last m mod 4 rows, one at a time
        x0 = X[i]  # (n,)
        z0 = b0
        for j in range(n):
            z0 += x0[j] * w[j]
        r0 = _sigmoid(z0, one) - Y[i, 0]
        for j in range(n):
            acc[j] += r0 * x0[j]
        rsum += r0
    return rsum


@njit_fast
def _many_outputs(X, Y, Wt, b, one, acc, rsum):
    """k > 1: acc (k, n) += Σ_i r_i ⊗ x_i and rsum (k,) += Σ_i r_i over the rows of X.
    Four rows at a time, column by column of W: the group's rows stay in L1 for all k."""
    m, n = X.shape
    k = Wt.shape[0]
    groups = m // 4
    for g in range(groups):
        i = 4 * g
        x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]  # (n,) each, from memory once
        for c in range(k):
            w = Wt[c]  # (n,)  column c of W
            z0 = z1 = z2 = z3 = b[c]
            for j in range(n):
                z0 += x0[j] * w[j]
                z1 += x1[j] * w[j]
                z2 += x2[j] * w[j]
                z3 += x3[j] * w[j]
            r0 = _sigmoid(z0, one) - Y[i, c]
            r1 = _sigmoid(z1, one) - Y[i + 1, c]
            r2 = _sigmoid(z2, one) - Y[i + 2, c]
            r3 = _sigmoid(z3, one) - Y[i + 3, c]
            a = acc[c]  # (n,)  row c of the transposed partial Xᵀ R
            for j in range(n):
                a[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
            rsum[c] += (r0 + r1) + (r2 + r3)
    for i in range(4 * groups, m):  # the last m mod 4 rows, one at a time
        x0 = X[i]  # (n,)
        for c in range(k):
            w = Wt[c]  # (n,)
            z0 = b[c]
            for j in range(n):
                z0 += x0[j] * w[j]
            r0 = _sigmoid(z0, one) - Y[i, c]
            a = acc[c]  # (n,)
            for j in range(n):
                a[j] += r0 * x0[j]
            rsum[c] += r0


@njit_fast
def _chunk(X, Y, Wt, b, total, total_b):
    """total (k, n) += Xᵀ R (transposed) and total_b (k,) += 1ᵀ R over the rows of X."""
    m, n = X.shape
    k = Wt.shape[0]
    acc = np.empty((k, n), dtype=X.dtype)  # (k, n)  one block's sums, in the input dtype
    rsum = np.empty(k, dtype=X.dtype)  # (k,)
    one = np.ones(1, dtype=X.dtype)[0]  # 1 in the input dtype: float32 stays float32
    rows = max(SUM_ROWS, SUM_ENTRIES // n)
    for start in range(0, m, rows):
        Xs, Ys = X[start : start + rows], Y[start : start + rows]  # (rows, n), (rows, k)
        acc[:] = 0
        if k == 1:
            rsum[0] = _one_output(Xs, Ys, Wt[0], b[0], one, acc[0])
        else:
            rsum[:] = 0
            _many_outputs(Xs, Ys, Wt, b, one, acc, rsum)
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
def chunk_count(m, work):
    """Chunks the parallel variant splits m rows into, for m·n·k = work (see MAX_CHUNKS)."""
    chunks = 1
    while 2 * chunks <= MAX_CHUNKS and 2 * chunks * CHUNK_WORK <= work and 16 * chunks <= m:
        chunks *= 2
    return chunks


@njit_fast_gil
def _few_rows(X, Y, W, b, lam, dW, db):
    """At most SUM_ROWS rows: sum straight into dW and db, with no work arrays to allocate."""
    m, n = X.shape
    k = W.shape[1]
    one = np.ones(1, dtype=X.dtype)[0]
    dW[:] = 0
    db[:] = 0
    for i in range(m):
        x = X[i]  # (n,)
        for c in range(k):
            z = b[c]
            for j in range(n):
                z += x[j] * W[j, c]  # z_ic = x_i·w_c + b_c
            r = _sigmoid(z, one) - Y[i, c]  # r_ic = σ(z_ic) − y_ic
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
    chunks = chunk_count(m, m * n * k)
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


@njit_fast
def _kernel(X, Y, W, b, lam, dW, db):
    """The kernel for any size, picked at run time (prepare picks it once instead)."""
    if X.shape[0] <= SUM_ROWS:
        _few_rows(X, Y, W, b, lam, dW, db)
    elif X.shape[0] * X.shape[1] * W.shape[1] < PARALLEL_MIN_WORK:
        _serial_kernel(X, Y, W, b, lam, dW, db)
    else:
        _parallel_kernel(X, Y, W, b, lam, dW, db)


def pick_kernel(m: int, n: int, k: int):
    """The kernel for the size: no work arrays for at most SUM_ROWS rows, one thread
    below PARALLEL_MIN_WORK (m·n·k), every thread above."""
    if m <= SUM_ROWS:
        return _few_rows
    if m * n * k < PARALLEL_MIN_WORK:
        return _serial_kernel
    return _parallel_kernel


def gradient(X, Y, W, b, lam, kernel=_kernel):
    """The timed call: fresh outputs, then the kernel prepare picked for the size."""
    dW, db = W.copy(), b.copy()  # fresh (n, k) and (k,) in the input dtype, overwritten
    kernel(X, Y, W, b, lam, dW, db)
    return dW, db


def serial_gradient(X, Y, W, b, lam):
    """The fused logistic gradient on one thread, whatever the size."""
    return gradient(X, Y, W, b, lam, _serial_kernel)


def parallel_gradient(X, Y, W, b, lam):
    """The fused logistic gradient with the rows split over numba's threads, whatever the size."""
    return gradient(X, Y, W, b, lam, _parallel_kernel)


def prepare(X, Y, W, b, lam):
    """Validate, make the arrays C-contiguous, compile for their dtype, start the threads,
    and pick the kernel for the size (so the timed call tests nothing)."""
    validate_inputs(X, Y, W, b, lam)
    X, Y, W, b = (np.ascontiguousarray(a) for a in (X, Y, W, b))
    lam = float(lam)
    few = SUM_ROWS + 9  # enough rows for every path through every kernel
    for kernel in (_few_rows, _serial_kernel, _parallel_kernel, _kernel):
        gradient(X[:few], Y[:few], W, b, lam, kernel)
    m, n = X.shape
    return X, Y, W, b, lam, pick_kernel(m, n, W.shape[1])


def logistic_gradient(X, Y, W, b, lam):
    """Public entry point: validate the inputs, then compute the logistic gradient in one pass."""
    return gradient(*prepare(X, Y, W, b, lam))


LOGISTIC = Implementation(
    name="numba-fused",
    problem="logistic",
    gradient=gradient,
    prepare=prepare,
    with_params=params_at(2, 3, np.ascontiguousarray),
    description="numba kernel reading X once: each row's logits, their sigmoid, then the "
    "outer product into dW while the row is in cache; threads over row chunks.",
    cost=Cost(
        passes="1: groups of 4 rows, each used for its logits and its share of Xᵀr while in L1",
        temporaries="(n, k) partial sums per chunk of rows",
        flops=f"4·m·n·k, vectorized (fastmath), plus an exp per sample and output: for small n "
        f"the exp, not the read of X, bounds the time; on every core from m·n·k ≥ "
        f"{PARALLEL_MIN_WORK:,}",
        overhead="one compiled call; a parallel launch adds tens of µs",
        flop_count=lambda m, n, k: 4 * m * n * k + 8 * m * k,
        parallel=True,
        serial_below=PARALLEL_MIN_WORK,
        fitted=(PER_SIGMOID,),
    ),
)

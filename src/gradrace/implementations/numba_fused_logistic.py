"""numba-fused, logistic: one pass over X with a sigmoid per row, numba-fused's technique
carried over to logistic regression.

Row i of X is still all that row i's contribution needs: its logits z_i = x_i·W + b
(k,), then r_i = σ(z_i) − y_i, then x_i ⊗ r_i added into Xᵀ R and r_i into 1ᵀ R, all
while x_i is in cache, so X is read from memory once. What the sigmoid changes:

- An exp per sample and output sits between the dot product and the accumulation.
  For many features it hides behind the read of X; for a few (n ≈ 10) it costs as
  much as the row's arithmetic, so small-n cases are bound by the exp, not by memory.
- numba's ``math.exp`` is a call into libm per element (numba has no vector math
  library here), several ns each. So the rows go in tiles (up to ``TILE`` rows and
  ``TILE_ENTRIES`` entries of X, in L2): for each output column, the tile's logits
  (four rows at a time, four vector accumulators sharing each load of W), then all
  the tile's sigmoids in one loop that LLVM vectorizes, the exp written out as
  arithmetic (``_sigmoids``: 2^n·e^r, e^r by its Taylor series, 2^n from its bits),
  then the tile's outer products, four rows per load and store of the partial sum.
- The sigmoid is σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) below, with e = e^(−|z|) ≤ 1:
  no exp can overflow, for any z; e^(−|z|) below 2^−1021 is taken as 0 (an error under
  1e-307). It is computed branch-free (the select of two values) in float64, for
  float32 input too (as accurate, and the vector loop is as fast), then the residual
  is stored in the input dtype, so the sums run in it as for ridge regression.
- Rows of ``LONG_ROW_BYTES`` or more have their logits computed one row at a time
  (``_logits_one``), shorter ones four rows at a time (``_logits``, four accumulators
  sharing each load of w). Four medium rows read side by side are four short streams
  through each page of X, which the processor's prefetcher does not follow: from memory
  that loop ran at a third of the speed of a plain read of X, one row at a time at
  0.9 of it (docs/logistic.md). Short rows are one stream anyway.
- Narrow X (n ≤ ``NARROW_MAX``): a row of a few features is too short for a loop of its
  own, so each tile is first copied transposed, (n, T), and every loop, the logits' and
  the sums' too, runs across the tile's rows (``_add_rows_narrow``).
- Up to ``SUM_ROWS`` rows, the kernel without work arrays calls libm's exp per row
  (``_sigmoid``, the same formula), where tiles do not pay.

The rest is numba-fused's design: the blocked summation (sums in the input dtype over
blocks of ``SUM_ROWS`` rows or ``SUM_ENTRIES`` entries, joined in float64; here in float64
too, where the ridge kernel sums whole chunks), the split of
the rows into a shape-determined power of two of chunks (``chunk_count``; bit-identical
results whatever the thread count), and the choice of kernel by size, once, in
prepare. Its constants are this module's own (numba-fused's module names this one in
its ``also``, so this one cannot import it back), and one differs: a row costs an exp
more here, so threads pay off from less work (``PARALLEL_MIN_WORK``).
"""

from __future__ import annotations

import math

import numpy as np

from gradrace._jit import (
    njit_contract,
    njit_fast,
    njit_fast_gil,
    njit_fast_parallel,
    prange,
    threads,
    with_threads,
)
from gradrace.bench.implementation import (
    PER_ELEMENT,
    PER_SIGMOID,
    Cost,
    Implementation,
    on_every_core,
    params_at,
    per_parallel_launch,
    x_and_y,
)
from gradrace.bench.problem import validate_inputs
from gradrace.implementations._fused_sums import CHUNK_WORK as CHUNK_WORK
from gradrace.implementations._fused_sums import MAX_CHUNKS as MAX_CHUNKS
from gradrace.implementations._fused_sums import (
    SUM_ENTRIES,
    SUM_ROWS,
    _finish,
    chunk_count,
    threads_for,
)

#: m·n·k from which the rows are split over threads (below it, one thread is faster).
PARALLEL_MIN_WORK = 30_000


#: e^x = 2^n·e^r with n = round(x / ln 2) and r = x − n·ln 2 in [−ln 2/2, ln 2/2]; ln 2 in
#: two parts (fdlibm's), so that n·LN2_HI is exact for every n the kernels meet.
LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
#: 1.5·2^52: x + ROUND − ROUND rounds x to an integer, which x + ROUND holds in its low bits.
ROUND = 6755399441055744.0
ROUND_BITS = 0x4338000000000000  # the bits of ROUND as a float64
#: Below this x, e^x is under 2^−1021 (subnormal or 0): taken as 0, an error under 1e-307.
EXP_MIN = -708.0
#: Rows of at least this many bytes have their logits computed one at a time
#: (``_logits_one``): read side by side, four of them would be four short streams through
#: each page of X, which the processor's prefetcher does not follow.
LONG_ROW_BYTES = 256
#: Rows whose logits go through the sigmoid together: TILE_ENTRIES entries of X (in L2
#: while the tile is worked on), at least 16 rows and at most TILE, the size of the buffers.
#: Long tiles spread each tile's fixed costs (four loops begun, their vector tails) over
#: many rows; docs/logistic.md has what they measured against tiles of L1's size.
TILE = 512
TILE_ENTRIES = 32768
#: Up to this many features, a tile of NARROW_TILE rows is transposed first
#: (``_add_rows_narrow``): a row is too short for a loop over its features, so every loop
#: runs across the tile's rows.
NARROW_MAX = 8
NARROW_TILE = 128
#: Entries between the starts of the work buffers beyond their length (192 bytes), so that
#: no two of them, nor two rows of a transposed tile, start a multiple of 4 KiB apart: a
#: load from an address whose low 12 bits match a pending store's waits for it ("4K
#: aliasing"), which the three loops of ``_sigmoids`` would otherwise meet at every entry.
STAGGER = 24


@njit_contract
def _sigmoids(z, f, scale):
    """f[t] = σ(z[t]) for the float64 logits z (one tile), through e^(−|z|) ≤ 1 written out.

    The exp is in-line arithmetic, so LLVM vectorizes the loops (numba's math.exp is a
    libm call per element): 2^n is built from its bits in ``scale`` (a float64 buffer
    viewed as int64), e^r is its Taylor series to r¹³/13! (relative error under 1e-17
    for |r| ≤ ln 2/2). ``np.divide`` is numpy's division, which LLVM vectorizes (``/``
    checks for a zero divisor, as Python does). NaN stays NaN.
    """
    count = z.shape[0]
    bits = scale.view(np.int64)  # (TILE,)
    for t in range(count):  # x + ROUND: n = round(x / ln 2) in its low bits
        x = -abs(z[t])
        x = EXP_MIN if x < EXP_MIN else x
        scale[t] = x * LOG2E + ROUND
    for t in range(count):
        x = -abs(z[t])
        x = EXP_MIN if x < EXP_MIN else x
        n = scale[t] - ROUND  # round(x / ln 2), as a float
        r = (x - n * LN2_HI) - n * LN2_LO  # in [−ln 2/2, ln 2/2]
        p = 1 / 6227020800  # e^r by Horner's rule: Σ r^i / i! for i = 13 … 0
        p = p * r + 1 / 479001600
        p = p * r + 1 / 39916800
        p = p * r + 1 / 3628800
        p = p * r + 1 / 362880
        p = p * r + 1 / 40320
        p = p * r + 1 / 5040
        p = p * r + 1 / 720
        p = p * r + 1 / 120
        p = p * r + 1 / 24
        p = p * r + 1 / 6
        p = p * r + 1 / 2
        p = p * r + 1.0
        f[t] = p * r + 1.0  # e^r
        bits[t] = (bits[t] - ROUND_BITS + 1023) << 52  # the bits of 2^n
    for t in range(count):
        zt = z[t]
        e = 0.0 if -abs(zt) < EXP_MIN else f[t] * scale[t]  # e^(−|z|) = 2^n·e^r
        s = np.divide(1.0, 1.0 + e)
        f[t] = s if zt >= 0 else e * s  # 1/(1 + e^−z) for z ≥ 0, e^z/(1 + e^z) below


@njit_fast
def _logits(X, first, count, w, b_c, z):
    """z[t] = x_i·w + b_c (float64) for the ``count`` rows i = first + t of X, four at a
    time sharing each load of w."""
    n = X.shape[1]
    groups = count // 4
    for g in range(groups):
        i = first + 4 * g
        x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]  # (n,) each
        z0 = z1 = z2 = z3 = b_c
        for j in range(n):
            z0 += x0[j] * w[j]
            z1 += x1[j] * w[j]
            z2 += x2[j] * w[j]
            z3 += x3[j] * w[j]
        t = 4 * g
        z[t], z[t + 1], z[t + 2], z[t + 3] = z0, z1, z2, z3
    for t in range(4 * groups, count):
        x0 = X[first + t]  # (n,)
        z0 = b_c
        for j in range(n):
            z0 += x0[j] * w[j]
        z[t] = z0


@njit_fast
def _logits_one(X, first, count, w, b_c, z):
    """z[t] = x_i·w + b_c (float64) for the ``count`` rows i = first + t of X, one row at a
    time: for long rows, which then stream from memory in order."""
    n = X.shape[1]
    for t in range(count):
        x = X[first + t]  # (n,)
        zt = b_c
        for j in range(n):
            zt += x[j] * w[j]
        z[t] = zt


@njit_fast
def _add_outer(X, r, a):
    """a (n,) += Σ_i r_i·x_i over the rows of X, four rows per load and store of a."""
    m, n = X.shape
    groups = m // 4
    for g in range(groups):
        i = 4 * g
        x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]  # (n,) each, still in cache
        r0, r1, r2, r3 = r[i], r[i + 1], r[i + 2], r[i + 3]
        for j in range(n):
            a[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
    for i in range(4 * groups, m):
        x0 = X[i]  # (n,)
        r0 = r[i]
        for j in range(n):
            a[j] += r0 * x0[j]


@njit_fast
def _add_rows(X, Y, lo, hi, Wt, b, acc, rsum, z, f, scale, r):
    """acc (k, n) += Σ_i r_i ⊗ x_i and rsum (k,) += Σ_i r_i over rows lo to hi of X, with
    r_i = σ(x_i·W + b) − y_i: a tile of rows at a time, for each output column the logits,
    their sigmoids, then their outer products, the rows in cache throughout."""
    n = X.shape[1]
    k = Wt.shape[0]
    tile = min(TILE, max(16, TILE_ENTRIES // n))
    long_rows = n * X.itemsize >= LONG_ROW_BYTES
    for start in range(lo, hi, tile):
        rows = X[start : min(start + tile, hi)]  # (T, n)
        count = rows.shape[0]
        for c in range(k):
            if long_rows:  # (T,)  float64
                _logits_one(X, start, count, Wt[c], b[c], z)
            else:
                _logits(X, start, count, Wt[c], b[c], z)
            # σ(z) − y, written out here and in _add_rows_narrow: as one shared helper it
            # measured 5–6 % slower on one thread (m = 10⁵, n = 10 and 100)
            _sigmoids(z[:count], f, scale)  # (T,)  σ(z)
            total = rsum[c]
            for t in range(count):
                r[t] = f[t] - Y[start + t, c]  # (T,)  in the input dtype
                total += r[t]
            rsum[c] = total
            _add_outer(rows, r[:count], acc[c])


@njit_fast
def _add_rows_narrow(X, Y, lo, hi, Wt, b, acc, rsum, xt, z, f, scale, r):
    """_add_rows for n ≤ NARROW_MAX: each tile of NARROW_TILE rows is first copied transposed
    into xt (n, NARROW_TILE), so that the logits, the sigmoids, the residuals and the sums of
    r_i·x_ij all run across the tile's rows, which LLVM vectorizes; a row of a few
    features is too short for a loop of its own."""
    n = X.shape[1]
    k = Wt.shape[0]
    for start in range(lo, hi, NARROW_TILE):
        count = min(NARROW_TILE, hi - start)
        for t in range(count):
            for j in range(n):
                xt[j, t] = X[start + t, j]  # (n, T)  the tile, transposed
        for c in range(k):
            w = Wt[c]  # (n,)
            for t in range(count):
                z[t] = b[c]  # (T,)  float64
            for j in range(n):
                row, wj = xt[j], w[j]  # (T,), scalar
                for t in range(count):
                    z[t] += row[t] * wj  # (T,)  z_t = x_t·w + b
            _sigmoids(z[:count], f, scale)  # (T,)  σ(z)
            total = rsum[c]
            for t in range(count):
                r[t] = f[t] - Y[start + t, c]  # (T,)  in the input dtype
                total += r[t]
            rsum[c] = total
            a = acc[c]  # (n,)
            for j in range(n):
                row = xt[j]  # (T,)
                s = a[j] - a[j]  # 0 in the input dtype
                for t in range(count):
                    s += row[t] * r[t]  # Σ_t r_t·x_tj
                a[j] += s


@njit_fast
def _chunk(X, Y, Wt, b, total, total_b):
    """total (k, n) += Xᵀ R (transposed) and total_b (k,) += 1ᵀ R over the rows of X."""
    m, n = X.shape
    k = Wt.shape[0]
    acc = np.empty((k, n), dtype=X.dtype)  # (k, n)  one block's sums, in the input dtype
    rsum = np.empty(k, dtype=X.dtype)  # (k,)
    step = TILE + STAGGER  # one allocation, the buffers STAGGER apart (see STAGGER)
    work = np.empty(4 * step)  # a tile's logits, sigmoids, 2^n (float64) and residuals
    z, f, scale = work[:TILE], work[step : step + TILE], work[2 * step : 2 * step + TILE]
    r = work[3 * step :].view(X.dtype)[:TILE]  # (TILE,)  residuals, in the input dtype
    xt = np.empty((min(n, NARROW_MAX), NARROW_TILE + STAGGER), dtype=X.dtype)  # (n, T)
    rows = max(SUM_ROWS, SUM_ENTRIES // n)
    for start in range(0, m, rows):
        acc[:] = 0
        rsum[:] = 0
        stop = min(start + rows, m)
        if n <= NARROW_MAX:
            _add_rows_narrow(X, Y, start, stop, Wt, b, acc, rsum, xt, z, f, scale, r)
        else:
            _add_rows(X, Y, start, stop, Wt, b, acc, rsum, z, f, scale, r)
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
def _sigmoid(z, one):
    """σ(z) of one logit in the dtype of z and ``one`` (1 in that dtype), through libm's
    exp of −|z| ≤ 0, which never overflows: for the few rows where tiles do not pay."""
    e = math.exp(-abs(z))
    s = one / (one + e)
    return s if z >= 0 else e * s


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


def pick_kernel(m: int, n: int, k: int, threads: int | None = None):
    """The kernel for the size: no work arrays for at most SUM_ROWS rows, one thread
    below PARALLEL_MIN_WORK (m·n·k) or when ``threads`` is 1, every thread above."""
    if m <= SUM_ROWS:
        return _few_rows
    if m * n * k < PARALLEL_MIN_WORK or threads == 1:
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
    and pick the kernel for the size and for the cores free now (so the timed call tests
    nothing)."""
    validate_inputs(X, Y, W, b, lam)
    m, n = X.shape
    use = threads_for(m, n, W.shape[1], PARALLEL_MIN_WORK)  # before the warm-up spins threads
    X, Y, W, b = (np.ascontiguousarray(a) for a in (X, Y, W, b))
    lam = float(lam)
    few = SUM_ROWS + 9  # enough rows for every path through every kernel
    for kernel in (_few_rows, _serial_kernel, _parallel_kernel, _kernel):
        gradient(X[:few], Y[:few], W, b, lam, kernel)
    kernel = pick_kernel(m, n, W.shape[1], use)
    if 1 < use < threads():
        kernel = with_threads(kernel, use)
    return X, Y, W, b, lam, kernel


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
        passes="1: tiles of rows, each used for its logits, its sigmoids and its share of "
        "Xᵀr while in L2",
        temporaries="(n, k) partial sums per chunk of rows; a tile's logits and residuals",
        flops=f"4·m·n·k, vectorized (fastmath), plus an exp per sample and output (vectorized, "
        f"about 40 flops): for small n the exp, not the read of X, bounds the time; on every "
        f"core from m·n·k ≥ {PARALLEL_MIN_WORK:,}; the loops run below the BLAS peak the "
        f"model divides by, so their time per multiply-add is fitted",
        overhead="one compiled call; a parallel launch adds a few µs (fitted)",
        elements=x_and_y,
        flop_count=lambda m, n, k: 4 * m * n * k + 40 * m * k,
        parallel=True,
        serial_below=PARALLEL_MIN_WORK,
        fitted=(
            on_every_core(PER_ELEMENT),
            on_every_core(PER_SIGMOID),
            per_parallel_launch(PARALLEL_MIN_WORK),
        ),
    ),
)

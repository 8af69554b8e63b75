"""numba-fused: one pass over X, because for few outputs reading X is the whole cost.

``X @ W`` and then ``Xᵀ @ R`` each stream all of X from memory; for a few outputs k
there are only 4k flops per entry of X, so once X outgrows the caches the time is
the time to read it, twice. Row i of X is all that row i's contribution needs: its
residual r_i = x_i·W + b − y_i (k,), then x_i ⊗ r_i added into Xᵀ R and r_i into
1ᵀ R. Doing both while x_i is still in the L1 cache reads X from memory once.

How the kernels keep that one pass fast (every inner loop runs over the n features
of a row, with unit stride, which LLVM vectorizes):

- ``FASTMATH`` (``reassoc``, ``contract``; see gradrace/_jit.py): without
  reassociation a dot product is one scalar chain, bound by the adder's latency.
- Register blocking: rows go in groups (four for k = 1, eight for k > 1) whose
  residuals are independent dot products, one vector accumulator each, sharing
  every load of W; their outer products go into the partial sum together, so it is
  loaded and stored once per group instead of once per row. A group of long rows
  (``LONG_ROW_BYTES``) is four rows a quarter of the chunk apart (eight, an eighth
  apart, for k > 1): four rows side by side are four short streams through each page,
  which the processor's prefetcher does not follow, and from memory that ran at half
  the speed.
- Whole cache lines (long rows, except float32 with k > 1; see
  gradrace/implementations/_cache_lines.py): a row rarely starts on a 64-byte line, and
  a vector that spans two lines costs two loads, so each row is read from the line
  boundary before it, against weights that are zero outside the row.
- Software pipelining: one loop over the features adds the outer products of the
  residuals computed just before while it computes the next residuals, so each x_ij
  is loaded once for both and neither waits for the other's horizontal sums. For
  k = 1 the pipeline runs across groups of rows (the next group streams in from
  memory while the previous one, in L1, is added up), but for rows of
  ``L1_ROW_BYTES`` or more, two groups of which crowd the L1; for k > 1 it runs across the
  output columns of one group (W held transposed, (k, n), so each column is
  contiguous), and the group's rows stay in L1 for all k columns.
- One feature (n = 1): the rows themselves are the vector, one loop with two sums.
- Narrow X (k = 1, 2 ≤ n ≤ 12): a kernel whose source is written for that n (see
  gradrace/implementations/numba_narrow.py), the weights and partial sums in registers.
- Blocked summation for float32: its sums run over blocks of at least ``SUM_ROWS``
  rows and ``SUM_ENTRIES`` entries (long rows: over pieces of ``SUM_ROWS`` groups,
  spread over the chunk like the groups), then join float64 totals, so they stay
  accurate over millions of rows. float64 sums need no blocks (``block_rows``): a block
  is the chunk.
- Threads: ``prange`` over a power of two of contiguous chunks of rows, each into its
  own float64 partial sums, added in chunk order at the end. The split depends on
  the shape alone, so the result is the same, bit for bit, whatever the thread count
  or whichever thread ran which chunk. (With the cache-line windows it also depends on
  where X starts within a line: the same X at another address may differ in the last
  bit.)
- Size: a parallel launch costs microseconds, and the dispatch of a jitted call
  hundreds of nanoseconds, so prepare picks the kernel once, by size: at most
  ``SUM_ROWS`` rows, a kernel that sums straight into the outputs (no work arrays,
  and it keeps the GIL, which saves ~50 ns a call); below ``PARALLEL_MIN_WORK`` (m·n·k),
  one thread; above, every thread numba has, but no more than the cores other work
  leaves free (gradrace/_load.py): on a loaded machine a parallel region waits a
  scheduler slice for a parked thread, so there one thread is faster. The timed call allocates the outputs
  as copies of W and b (the cheapest fresh arrays from Python) for the kernel to
  overwrite: a jitted function that returned new arrays would spend ~0.4 µs boxing
  each.
"""

from __future__ import annotations

import time

import numpy as np

from gradrace._jit import (
    njit_fast,
    njit_fast_gil,
    njit_fast_parallel,
    prange,
    threads,
    with_threads,
)
from gradrace.bench.implementation import (
    Cost,
    Implementation,
    params_at,
    per_parallel_launch,
    x_and_y,
)
from gradrace.bench.problem import validate_inputs
from gradrace.implementations import numba_fused_logistic, numba_narrow
from gradrace.implementations._cache_lines import (
    LINE_BYTES,
    add_back,
    row_classes,
    windows,
    zeros_on_lines,
)
from gradrace.implementations._fused_sums import CHUNK_WORK as CHUNK_WORK
from gradrace.implementations._fused_sums import MAX_CHUNKS as MAX_CHUNKS
from gradrace.implementations._fused_sums import SUM_ENTRIES as SUM_ENTRIES
from gradrace.implementations._fused_sums import (
    SUM_ROWS,
    _finish,
    block_rows,
    chunk_count,
    threads_for,
)

#: m·n·k from which the rows are split over threads (below it, one thread is faster).
PARALLEL_MIN_WORK = 100_000
#: Rows of at least this many bytes (40 float64) are grouped a quarter of the chunk apart,
#: not side by side: four such rows side by side are four short streams through each page
#: of X, which the processor's prefetcher does not follow. At 256 bytes both groupings
#: measured the same, from 320 up the spaced one took 0.5–0.8 × the time (docs/performance.md).
LONG_ROW_BYTES = 320
#: Rows of at least this many bytes (512 float64) are not pipelined (_longest_groups):
#: the pipelined loop holds two groups of four rows, w and the partial sums, ten rows,
#: 40 KB here and 80 KB at 1000 float64, which crowd or outgrow a 32–48 KB L1 cache. The
#: bound sits between the widths where each loop measured the faster (docs/performance.md).
L1_ROW_BYTES = 4096


#: The most bytes the windows' copies of W and of the partial sums may take (_cache_lines):
#: with k > 1 and rows in 4 or 8 classes, copies of 0.39 MB and more made the kernel
#: slower than reading rows as they lie, 0.23 MB did not (docs/performance.md).
WINDOW_BYTES = 256 * 1024


@njit_fast
def _window_classes(X, k):
    """The classes of rows X's windows take with k outputs (_cache_lines), or 0 where X is
    read as it lies: rows under LONG_ROW_BYTES (a window reaches up to two lines past its
    row, into the next), X not on a boundary of its entries, float32 with
    k > 1 (where windows measured slower: docs/performance.md), or copies over
    WINDOW_BYTES."""
    n, size = X.shape[1], X.itemsize
    if n * size < LONG_ROW_BYTES or np.int64(X.ctypes.data) % size != 0:
        return 0
    if size < 8 and k > 1:
        return 0
    per_line = LINE_BYTES // size
    classes = row_classes(n, per_line)
    longest = n + 2 * per_line  # a window's length, at most
    if 2 * classes * k * longest * size > WINDOW_BYTES:
        return 0
    return classes


@njit_fast
def _lines(X, Wt):
    """X's windows for the k rows of Wt (k, n), set up once per chunk: (Wc, accs,
    offsets) as _cache_lines.windows makes them, row i of X in class i mod the classes, and
    their partial sums; no offsets where X is read as it lies (_window_classes)."""
    k = Wt.shape[0]
    classes = _window_classes(X, k)
    if classes == 0:
        return np.ascontiguousarray(Wt), np.zeros((0, 0), Wt.dtype), np.zeros(0, np.int64)
    Wc, offsets, length = windows(X, Wt, 0, classes)  # (classes·k, length), (classes,)
    return Wc, zeros_on_lines(classes * k, length, Wt), offsets


@njit_fast
def _rows_one_at_a_time(X, Y, w, b0, acc, start, rsum):
    """acc (n,) += r_i·x_i for rows start … m − 1 of X, one at a time (what groups of four
    leave over); return rsum + Σ r_i, added in row order."""
    for i in range(start, X.shape[0]):
        x0 = X[i]  # (n,)
        r0 = b0 - Y[i, 0]
        for j in range(x0.shape[0]):
            r0 += x0[j] * w[j]
        for j in range(x0.shape[0]):
            acc[j] += r0 * x0[j]
        rsum += r0
    return rsum


@njit_fast
def _longest_groups(flat, Y, wc, b0, accs, n, first, count, gap, offsets, length):
    """_long_groups not pipelined, for rows of L1_ROW_BYTES or more: two groups of such
    rows, w and acc crowd the L1 cache, so the pipelined loop's second load of each x_ij
    came from L2; here each group's residuals are summed first, then its outer products,
    from the four rows just read."""
    last = offsets.shape[0] - 1  # the classes, a power of two, less one
    rsum = b0 - b0  # 0 in the input dtype
    q = gap
    for g in range(count):
        i = first + g
        c = i & last  # row i's class
        o = offsets[c]
        x0 = flat[i * n - o : i * n - o + length]  # (length,) each
        x1 = flat[(i + q) * n - o : (i + q) * n - o + length]
        x2 = flat[(i + 2 * q) * n - o : (i + 2 * q) * n - o + length]
        x3 = flat[(i + 3 * q) * n - o : (i + 3 * q) * n - o + length]
        r0, r1 = b0 - Y[i, 0], b0 - Y[i + q, 0]
        r2, r3 = b0 - Y[i + 2 * q, 0], b0 - Y[i + 3 * q, 0]
        acc, w = accs[c], wc[c]  # (length,) each
        for j in range(length):  # the group's residuals
            r0 += x0[j] * w[j]
            r1 += x1[j] * w[j]
            r2 += x2[j] * w[j]
            r3 += x3[j] * w[j]
        for j in range(length):  # its outer products
            acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
        rsum += (r0 + r1) + (r2 + r3)
    return rsum


@njit_fast
def _long_groups(flat, Y, wc, b0, accs, n, first, count, gap, offsets, length):
    """The pipelined loop over ``count`` groups of four rows ``gap`` apart (rows first + g +
    d·gap, d = 0 … 3, gap a multiple of the classes) of the flat X; return Σ r_i. Row i is
    read over ``length`` entries from ``offsets[c]`` before its start (its class c = i mod
    the classes), against row c of wc and into row c of accs (see _cache_lines)."""
    last = offsets.shape[0] - 1  # the classes, a power of two, less one
    rsum = b0 - b0  # 0 in the input dtype
    q = gap
    i = first
    o = offsets[i & last]
    x0, x1 = flat[i * n - o : i * n - o + length], flat[(i + q) * n - o : (i + q) * n - o + length]
    x2 = flat[(i + 2 * q) * n - o : (i + 2 * q) * n - o + length]  # (length,) each
    x3 = flat[(i + 3 * q) * n - o : (i + 3 * q) * n - o + length]
    r0, r1 = b0 - Y[i, 0], b0 - Y[i + q, 0]
    r2, r3 = b0 - Y[i + 2 * q, 0], b0 - Y[i + 3 * q, 0]
    w = wc[i & last]  # (length,)
    for j in range(length):  # the first group's residuals
        r0 += x0[j] * w[j]
        r1 += x1[j] * w[j]
        r2 += x2[j] * w[j]
        r3 += x3[j] * w[j]
    for g in range(1, count):
        i = first + g
        c = i & last  # row i's class
        o = offsets[c]
        y0 = flat[i * n - o : i * n - o + length]  # (length,) each, from memory once
        y1 = flat[(i + q) * n - o : (i + q) * n - o + length]
        y2 = flat[(i + 2 * q) * n - o : (i + 2 * q) * n - o + length]
        y3 = flat[(i + 3 * q) * n - o : (i + 3 * q) * n - o + length]
        s0, s1 = b0 - Y[i, 0], b0 - Y[i + q, 0]
        s2, s3 = b0 - Y[i + 2 * q, 0], b0 - Y[i + 3 * q, 0]
        acc, w = accs[(i - 1) & last], wc[c]  # (length,) each
        for j in range(length):
            acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])  # group g − 1
            s0 += y0[j] * w[j]  # group g's residuals
            s1 += y1[j] * w[j]
            s2 += y2[j] * w[j]
            s3 += y3[j] * w[j]
        rsum += (r0 + r1) + (r2 + r3)
        x0, x1, x2, x3 = y0, y1, y2, y3
        r0, r1, r2, r3 = s0, s1, s2, s3
    acc = accs[(first + count - 1) & last]  # (length,)
    for j in range(length):  # the last group's outer products
        acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
    return rsum + ((r0 + r1) + (r2 + r3))


@njit_fast
def _pieces(pipelined, flat, Y, wc, b0, accs, n, first, q, offsets, piece, total):
    """q groups of four rows a quarter apart (rows first + g + d·q), through _long_groups
    (``pipelined``) or _longest_groups, summed in accs in the input dtype over pieces of
    ``piece`` groups, each then added into total (n,); return Σ r_i in float64."""
    n_total = total.shape[0]
    rsum = 0.0  # float64, as the totals
    for g in range(0, q, piece):
        count = min(piece, q - g)
        accs[:] = 0
        if pipelined:
            rsum += _long_groups(
                flat, Y, wc, b0, accs, n, first + g, count, q, offsets, wc.shape[1]
            )
        else:
            rsum += _longest_groups(
                flat, Y, wc, b0, accs, n, first + g, count, q, offsets, wc.shape[1]
            )
        add_back(total.reshape((1, n_total)), accs, offsets)
    return rsum


@njit_fast
def _long_rows(X, Y, w, b0, total, pipelined, lines, piece):
    """k = 1 for rows of LONG_ROW_BYTES or more: total (n,) += Σ_i r_i·x_i; return Σ_i r_i
    in float64. Each group is four rows a quarter of X apart (g, g + q, g + 2q,
    g + 3q), so X streams in as four runs of consecutive rows, through _long_groups
    (``pipelined``) or _longest_groups; the sums in the input dtype run over ``piece``
    groups at a time (_pieces). Rows are read over ``lines``' windows (_lines), but for
    X's first and last row, whose windows could reach outside X, and those left over from
    groups of every class: those are read as they lie."""
    m, n = X.shape
    flat = X.ravel()  # (m·n,)  a view: X is C-contiguous
    rsum = 0.0  # float64, as the totals
    first = 0
    wc, accs, offsets = lines  # (classes, length), (classes, length), (classes,)
    classes = offsets.shape[0]
    if classes > 0:
        q = max(m - 2, 0) // 4 // classes * classes  # every class in turn
        if q > 0:
            rsum += _pieces(pipelined, flat, Y, wc, b0, accs, n, 1, q, offsets, piece, total)
            rsum = _rows_one_at_a_time(X[:1], Y, w, b0, total, 0, rsum)  # X's row 0
            first = 1 + 4 * q
    q = (m - first) // 4  # the rows left, as they lie
    if q > 0:
        as_lie, acc = np.zeros(1, dtype=np.int64), np.zeros((1, n), dtype=X.dtype)
        wr = w.reshape((1, n))  # (1, n) a view
        rsum += _pieces(pipelined, flat, Y, wr, b0, acc, n, first, q, as_lie, piece, total)
    return _rows_one_at_a_time(X, Y, w, b0, total, first + 4 * q, rsum)  # the last few


@njit_fast
def _one_output_long(X, Y, w, b0, acc):
    """_one_output for rows of LONG_ROW_BYTES or more: _long_rows, pipelined across groups,
    over all of X in one call (for tests and benchmarks/long_rows.py; _chunk calls
    _long_rows). Its loop is kept apart from the one for short rows, which with the rows'
    spacing a variable ran 1.2–1.4 × slower (docs/performance.md)."""
    m, n = X.shape
    piece = block_rows(m, n, X.itemsize)
    return _long_rows(X, Y, w, b0, acc, True, _lines(X, w.reshape((1, n))), piece)


@njit_fast
def _one_output_longest(X, Y, w, b0, acc):
    """_one_output for rows of L1_ROW_BYTES or more: the same groups, not pipelined."""
    m, n = X.shape
    piece = block_rows(m, n, X.itemsize)
    return _long_rows(X, Y, w, b0, acc, False, _lines(X, w.reshape((1, n))), piece)


@njit_fast
def _one_output(X, Y, w, b0, acc):
    """k = 1: acc (n,) += Σ_i r_i·x_i over the rows of X, in one call, with no blocks for
    short rows (for tests and benchmarks; _chunk calls the loops itself); return Σ_i r_i.
    Rows of LONG_ROW_BYTES or more go to _one_output_long (L1_ROW_BYTES or more, to
    _one_output_longest), the rest to _short_rows."""
    size = X.shape[1] * X.itemsize
    if size >= L1_ROW_BYTES:
        return _one_output_longest(X, Y, w, b0, acc)
    if size >= LONG_ROW_BYTES:
        return _one_output_long(X, Y, w, b0, acc)
    return _short_rows(X, Y, w, b0, acc)


@njit_fast
def _short_rows(X, Y, w, b0, acc):
    """k = 1 over rows under LONG_ROW_BYTES: acc (n,) += Σ_i r_i·x_i; return Σ_i r_i.

    Four rows at a time, software-pipelined across groups of rows: one loop over the
    features adds the previous group's outer products into acc (its rows still in L1)
    while it computes the next group's four residuals (four vector accumulators, the
    rows streaming in from memory), so neither waits for the other's horizontal sums.
    With one feature the rows themselves are the vector: one loop with two sums.
    """
    m, n = X.shape
    rsum = b0 - b0  # 0 in the input dtype
    if n == 1:
        x, y, w0 = X.ravel(), Y.ravel(), w[0]  # (m,), (m,)  views: X and Y are contiguous
        xr = rsum
        for i in range(m):
            ri = x[i] * w0 + b0 - y[i]  # r_i
            xr += ri * x[i]
            rsum += ri
        acc[0] += xr
        return rsum
    groups = m // 4
    if groups > 0:
        x0, x1, x2, x3 = X[0], X[1], X[2], X[3]  # (n,) each
        r0, r1, r2, r3 = b0 - Y[0, 0], b0 - Y[1, 0], b0 - Y[2, 0], b0 - Y[3, 0]
        for j in range(n):  # the first group's residuals
            r0 += x0[j] * w[j]
            r1 += x1[j] * w[j]
            r2 += x2[j] * w[j]
            r3 += x3[j] * w[j]
        for g in range(1, groups):
            i = 4 * g
            y0, y1, y2, y3 = X[i], X[i + 1], X[i + 2], X[i + 3]  # (n,) each, from memory once
            s0, s1, s2, s3 = b0 - Y[i, 0], b0 - Y[i + 1, 0], b0 - Y[i + 2, 0], b0 - Y[i + 3, 0]
            for j in range(n):
                acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])  # group g − 1
                s0 += y0[j] * w[j]  # group g's residuals
                s1 += y1[j] * w[j]
                s2 += y2[j] * w[j]
                s3 += y3[j] * w[j]
            rsum += (r0 + r1) + (r2 + r3)
            x0, x1, x2, x3 = y0, y1, y2, y3
            r0, r1, r2, r3 = s0, s1, s2, s3
        for j in range(n):  # the last group's outer products
            acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
        rsum += (r0 + r1) + (r2 + r3)
    return _rows_one_at_a_time(X, Y, w, b0, acc, 4 * groups, rsum)  # the last m mod 4


@njit_fast
def _many_groups(flat, Y, Wc, b, accs, rsum, n, first, groups, step, gap, offsets, length):
    """The loop of _many_short and _many_long over groups of eight rows of the flat X (rows first +
    step·g + d·gap, d = 0 … 7), each row read over ``length`` entries from ``offsets[c]``
    before its start (its class c = i mod the classes, the same for the group's eight),
    against rows c·k … c·k + k − 1 of Wc and into those of accs (see _cache_lines)."""
    k = b.shape[0]
    last = offsets.shape[0] - 1  # the classes, a power of two, less one
    for g in range(groups):
        i = first + step * g
        cls, o = (i & last) * k, offsets[i & last]  # row i's class
        x0 = flat[i * n - o : i * n - o + length]  # (length,) each
        x1 = flat[(i + gap) * n - o : (i + gap) * n - o + length]
        x2 = flat[(i + 2 * gap) * n - o : (i + 2 * gap) * n - o + length]
        x3 = flat[(i + 3 * gap) * n - o : (i + 3 * gap) * n - o + length]
        x4 = flat[(i + 4 * gap) * n - o : (i + 4 * gap) * n - o + length]
        x5 = flat[(i + 5 * gap) * n - o : (i + 5 * gap) * n - o + length]
        x6 = flat[(i + 6 * gap) * n - o : (i + 6 * gap) * n - o + length]
        x7 = flat[(i + 7 * gap) * n - o : (i + 7 * gap) * n - o + length]
        r0, r1, r2, r3 = (
            b[0] - Y[i, 0],
            b[0] - Y[i + gap, 0],
            b[0] - Y[i + 2 * gap, 0],
            b[0] - Y[i + 3 * gap, 0],
        )
        r4, r5, r6, r7 = (
            b[0] - Y[i + 4 * gap, 0],
            b[0] - Y[i + 5 * gap, 0],
            b[0] - Y[i + 6 * gap, 0],
            b[0] - Y[i + 7 * gap, 0],
        )
        w = Wc[cls]  # (length,)  column 0 of W
        for j in range(length):  # the eight residuals for column 0
            r0 += x0[j] * w[j]
            r1 += x1[j] * w[j]
            r2 += x2[j] * w[j]
            r3 += x3[j] * w[j]
            r4 += x4[j] * w[j]
            r5 += x5[j] * w[j]
            r6 += x6[j] * w[j]
            r7 += x7[j] * w[j]
        for c in range(1, k):
            rsum[c - 1] += ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            a = accs[cls + c - 1]  # (length,)  row c − 1 of the transposed partial Xᵀ R
            w = Wc[cls + c]  # (length,)
            s0, s1, s2, s3 = (
                b[c] - Y[i, c],
                b[c] - Y[i + gap, c],
                b[c] - Y[i + 2 * gap, c],
                b[c] - Y[i + 3 * gap, c],
            )
            s4, s5, s6, s7 = (
                b[c] - Y[i + 4 * gap, c],
                b[c] - Y[i + 5 * gap, c],
                b[c] - Y[i + 6 * gap, c],
                b[c] - Y[i + 7 * gap, c],
            )
            for j in range(length):
                u0, u1, u2, u3, u4, u5, u6, u7 = (
                    x0[j],
                    x1[j],
                    x2[j],
                    x3[j],
                    x4[j],
                    x5[j],
                    x6[j],
                    x7[j],
                )
                a[j] += ((r0 * u0 + r1 * u1) + (r2 * u2 + r3 * u3)) + (
                    (r4 * u4 + r5 * u5) + (r6 * u6 + r7 * u7)
                )  # column c − 1 into acc
                s0 += u0 * w[j]  # column c's residuals
                s1 += u1 * w[j]
                s2 += u2 * w[j]
                s3 += u3 * w[j]
                s4 += u4 * w[j]
                s5 += u5 * w[j]
                s6 += u6 * w[j]
                s7 += u7 * w[j]
            r0, r1, r2, r3, r4, r5, r6, r7 = s0, s1, s2, s3, s4, s5, s6, s7
        rsum[k - 1] += ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        a = accs[cls + k - 1]  # (length,)
        for j in range(length):  # the last column's outer products
            a[j] += ((r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])) + (
                (r4 * x4[j] + r5 * x5[j]) + (r6 * x6[j] + r7 * x7[j])
            )


@njit_fast
def _many_outputs(X, Y, Wt, b, acc, rsum):
    """k > 1: acc (k, n) += Σ_i r_i ⊗ x_i and rsum (k,) += Σ_i r_i over the rows of X, in
    one call, with no blocks for short rows (for tests; _chunk calls the loops itself).

    Eight rows at a time (an eighth of X apart for long rows, as in _long_rows: see
    _many_long; side by side for short ones: _many_short), blocked over the outputs: for
    each column c, the group's eight residuals against column c of W (one pass over it,
    eight vector accumulators), then the eight rows times those residuals into row c of
    acc. The two are software-pipelined: one loop over the features adds column c − 1's
    outer products while it computes column c's residuals, so each x_ij is loaded once for
    both, and neither waits for the other's horizontal sums. Per vector of features that
    is 11 loads and stores for 16 FMAs, and the group's rows stay in L1 across all k
    columns.
    """
    m, n = X.shape
    if n * X.itemsize < LONG_ROW_BYTES:
        _many_short(X, Y, Wt, b, acc, rsum)
    else:
        _many_long(X, Y, Wt, b, acc, rsum, _lines(X, Wt), block_rows(m, n, X.itemsize))


@njit_fast
def _many_short(X, Y, Wt, b, acc, rsum):
    """_many_outputs for rows under LONG_ROW_BYTES: groups of eight rows side by side."""
    flat = X.ravel()  # (m·n,)  a view: X is C-contiguous
    groups = X.shape[0] // 8
    if groups > 0:
        as_lie = np.zeros(1, dtype=np.int64)
        _many_groups(flat, Y, Wt, b, acc, rsum, X.shape[1], 0, groups, 8, 1, as_lie, X.shape[1])
    _many_one_at_a_time(X[8 * groups :], Y[8 * groups :], Wt, b, acc, rsum)


@njit_fast
def _many_long(X, Y, Wt, b, total, total_b, lines, piece):
    """_many_outputs for rows of LONG_ROW_BYTES or more, into total (k, n) and total_b (k,):
    groups of eight rows an eighth of X apart, read over ``lines``' windows but for X's
    first and last row and those left over from groups of every class (as in _long_rows),
    summed in the input dtype over ``piece`` groups at a time (_many_pieces)."""
    m, n = X.shape
    k = Wt.shape[0]
    flat = X.ravel()  # (m·n,)  a view: X is C-contiguous
    rs = np.zeros(k, dtype=X.dtype)  # (k,)  one piece's Σ r_i
    first = 0
    Wc, accs, offsets = lines  # (classes·k, length), (classes·k, length), (classes,)
    classes = offsets.shape[0]
    if classes > 0:
        q = max(m - 2, 0) // 8 // classes * classes  # every class in turn
        if q > 0:
            _many_pieces(flat, Y, Wc, b, accs, rs, n, 1, q, offsets, piece, total, total_b)
            _many_one_at_a_time(X[:1], Y[:1], Wt, b, total, total_b)  # X's row 0
            first = 1 + 8 * q
    q = (m - first) // 8  # the rows left, as they lie
    if q > 0:
        as_lie, acc = np.zeros(1, dtype=np.int64), np.zeros((k, n), dtype=X.dtype)
        _many_pieces(flat, Y, Wt, b, acc, rs, n, first, q, as_lie, piece, total, total_b)
    rest = first + 8 * q
    _many_one_at_a_time(X[rest:], Y[rest:], Wt, b, total, total_b)  # the last few


@njit_fast
def _many_pieces(flat, Y, Wc, b, accs, rs, n, first, q, offsets, piece, total, total_b):
    """q groups of eight rows an eighth apart (rows first + g + d·q) through _many_groups,
    summed in accs and rs in the input dtype over pieces of ``piece`` groups, each then
    added into total (k, n) and total_b (k,)."""
    for g in range(0, q, piece):
        count = min(piece, q - g)
        accs[:] = 0
        rs[:] = 0
        _many_groups(flat, Y, Wc, b, accs, rs, n, first + g, count, 1, q, offsets, Wc.shape[1])
        add_back(total, accs, offsets)
        for c in range(rs.shape[0]):
            total_b[c] += rs[c]


@njit_fast
def _many_one_at_a_time(X, Y, Wt, b, acc, rsum):
    """acc (k, n) += r_i ⊗ x_i and rsum (k,) += r_i for each row of X, one at a time."""
    m, n = X.shape
    k = Wt.shape[0]
    for i in range(m):
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
    """total (k, n) += Xᵀ R (transposed) and total_b (k,) += 1ᵀ R over the rows of X:
    long rows in groups spread over all of X (_long_rows, _many_long), summed in the
    input dtype over pieces of block_rows groups; short rows in blocks of block_rows rows."""
    m, n = X.shape
    k = Wt.shape[0]
    rows = block_rows(m, n, X.itemsize)
    if n * X.itemsize >= LONG_ROW_BYTES:
        lines = _lines(X, Wt)  # the windows, set up once for the chunk
        if k > 1:
            _many_long(X, Y, Wt, b, total, total_b, lines, rows)
        else:
            pipelined = n * X.itemsize < L1_ROW_BYTES
            total_b[0] += _long_rows(X, Y, Wt[0], b[0], total[0], pipelined, lines, rows)
        return
    acc = np.empty((k, n), dtype=X.dtype)  # (k, n)  one block's sums, in the input dtype
    rsum = np.empty(k, dtype=X.dtype)  # (k,)
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        acc[:] = 0
        if k == 1:
            rsum[0] = _short_rows(X[start:stop], Y[start:stop], Wt[0], b[0], acc[0])
        else:
            rsum[:] = 0
            _many_short(X[start:stop], Y[start:stop], Wt, b, acc, rsum)
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


@njit_fast_gil
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


def narrow_kernels(n: int) -> tuple:
    """(serial, parallel) kernels compiled for exactly ``n`` features (k = 1, 2 ≤ n ≤
    NARROW_MAX): see gradrace/implementations/numba_narrow.py."""
    return numba_narrow.kernels(n, block_rows, _finish, chunk_count)


def pick_kernel(m: int, n: int, k: int, threads: int | None = None):
    """The kernel for the size: one thread below PARALLEL_MIN_WORK (m·n·k), where a
    parallel launch costs more than it saves, or when ``threads`` is 1; no work arrays
    for at most SUM_ROWS rows; n compiled in for narrow X with one output."""
    if m <= SUM_ROWS:
        return _few_rows
    parallel = m * n * k >= PARALLEL_MIN_WORK and threads != 1
    if k == 1 and 2 <= n <= numba_narrow.NARROW_MAX:
        return narrow_kernels(n)[parallel]
    return _parallel_kernel if parallel else _serial_kernel


#: The most rows of X the narrow and the generic kernel are timed on to choose.
CHOOSE_ON_ROWS = 2_000_000
#: Calls of each kernel faster_here takes the best of.
CHOOSE_CALLS = 5
#: (n, dtype, parallel, decade of m) -> whether the narrow kernel was the faster here.
_NARROW_WINS: dict[tuple, bool] = {}


def faster_here(narrow, parallel: int, X, Y, W, b, lam):
    """The narrow kernel, or the generic one for the same threads where that is faster on
    this machine: the narrow one is bound by its work per row, the generic one sooner by
    memory, and which wins depends on the processor and on where X lies (docs/performance.md).
    Timed on the case's own rows (at most ``CHOOSE_ON_ROWS``), the best of ``CHOOSE_CALLS``
    calls each, taken in turn so a busy moment hits both, once per process for each width,
    dtype, thread use and decade of m."""
    key = (X.shape[1], X.dtype.str, parallel, len(str(X.shape[0])))
    generic = (_serial_kernel, _parallel_kernel)[parallel]
    if key not in _NARROW_WINS:
        rows = slice(0, min(X.shape[0], CHOOSE_ON_ROWS))
        best = _best_in_turn((narrow, generic), X[rows], Y[rows], W, b, lam)
        _NARROW_WINS[key] = best[0] <= best[1]
    return narrow if _NARROW_WINS[key] else generic


def _best_in_turn(kernels, X, Y, W, b, lam) -> list[float]:
    """The best time of CHOOSE_CALLS calls of each kernel, the kernels called in turn."""
    best = [float("inf")] * len(kernels)
    for _ in range(CHOOSE_CALLS):
        for i, kernel in enumerate(kernels):
            start = time.perf_counter()
            gradient(X, Y, W, b, lam, kernel)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def gradient(X, Y, W, b, lam, kernel=_kernel):
    """The timed call: fresh outputs, then the kernel prepare picked for the size."""
    dW, db = W.copy(), b.copy()  # fresh (n, k) and (k,) in the input dtype, overwritten
    kernel(X, Y, W, b, lam, dW, db)
    return dW, db


def serial_gradient(X, Y, W, b, lam):
    """The fused gradient on one thread, whatever the size."""
    return gradient(X, Y, W, b, lam, _serial_kernel)


def parallel_gradient(X, Y, W, b, lam):
    """The fused gradient with the rows split over numba's threads, whatever the size."""
    return gradient(X, Y, W, b, lam, _parallel_kernel)


def prepare(X, Y, W, b, lam):
    """Validate, make the arrays C-contiguous, compile for their dtype, start the threads,
    and pick the kernel for the size and for the cores free now (so the timed call tests
    nothing)."""
    validate_inputs(X, Y, W, b, lam)
    m, n = X.shape
    k = W.shape[1]
    use = threads_for(m, n, k, PARALLEL_MIN_WORK)  # before the warm-up spins numba's threads
    X, Y, W, b = (np.ascontiguousarray(a) for a in (X, Y, W, b))
    lam = float(lam)
    # Compile every kernel for this dtype (or load it from the cache) on a few rows, enough
    # for every path through them; the parallel one also starts numba's thread pool.
    few = SUM_ROWS + 9
    narrow = narrow_kernels(n) if k == 1 and 2 <= n <= numba_narrow.NARROW_MAX else ()
    for kernel in (_few_rows, _serial_kernel, _parallel_kernel, _kernel, *narrow):
        gradient(X[:few], Y[:few], W, b, lam, kernel)
    return X, Y, W, b, lam, kernel_for(X, Y, W, b, lam, use)


def kernel_for(X, Y, W, b, lam, use: int):
    """The kernel prepare picks for these (prepared) arrays on ``use`` threads: by size
    (pick_kernel), the narrow one only where it is the faster here (faster_here)."""
    m, n = X.shape
    k = W.shape[1]
    kernel = pick_kernel(m, n, k, use)
    narrow = narrow_kernels(n) if k == 1 and 2 <= n <= numba_narrow.NARROW_MAX else ()
    if kernel in narrow:
        kernel = faster_here(kernel, narrow.index(kernel), X, Y, W, b, lam)
    if 1 < use < threads():
        kernel = with_threads(kernel, use)
    return kernel


def ridge_gradient(X, Y, W, b, lam):
    """Public entry point: validate the inputs, then compute the gradient in one pass."""
    return gradient(*prepare(X, Y, W, b, lam))


IMPLEMENTATION = Implementation(
    name="numba-fused",
    gradient=gradient,
    prepare=prepare,
    with_params=params_at(2, 3, np.ascontiguousarray),
    description="numba kernel reading X once: each row's residual, then its outer "
    "product into dW, while the row is in cache; threads over row chunks.",
    cost=Cost(
        passes="1: groups of 4 rows (8 when k > 1), each used for its residuals and its "
        "share of Xᵀr while in L1",
        temporaries="(n, k) partial sums per chunk of rows; for long rows, copies of W and "
        "of the partial sums placed on cache lines, one per class of rows",
        flops=f"4·m·n·k, vectorized (fastmath), on every free core from m·n·k ≥ "
        f"{PARALLEL_MIN_WORK:,}",
        overhead="one compiled call; a parallel launch adds a few µs (fitted)",
        elements=x_and_y,
        parallel=True,
        serial_below=PARALLEL_MIN_WORK,
        fitted=(per_parallel_launch(PARALLEL_MIN_WORK),),
    ),
    also=(numba_fused_logistic.LOGISTIC,),
)

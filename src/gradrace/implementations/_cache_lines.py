"""Where rows of X lie against the 64-byte cache lines, for numba-fused's loop over long rows.

A large numpy array usually starts 16 bytes past the start of a page, so a row of X
rarely starts on a line, and then every 64-byte vector loaded from it spans two lines:
two loads' worth of work for one. numba-fused's loop for long rows therefore reads each
row over a *window*: from the line boundary at or before the row's start, whole vectors,
past its end. The weights are zero outside the row, so the neighbours' entries in the
window add exactly nothing (X is finite: ``validate_inputs``), and the partial sums
outside it are dropped.

Row i starts ``(start of X + i·n) mod per_line`` entries past a line. That offset repeats
every ``row_classes`` rows, so the rows fall into that many classes; each class gets its
own copy of the weights, placed at the class's offset in a row that starts on a line,
and its own partial sums alike.
"""

from __future__ import annotations

import numpy as np

from gradrace._jit import njit_fast

#: Bytes in a cache line.
LINE_BYTES = 64


@njit_fast
def row_classes(n, per_line):
    """Rows after which a row of ``n`` entries starts at the same place in its line again
    (``per_line`` entries to a line, a power of two)."""
    classes = 1
    while (n * classes) % per_line != 0:
        classes *= 2
    return classes


@njit_fast
def zeros_on_lines(classes, length, like):
    """Zeros (classes, length) of ``like``'s dtype, each row starting on a line (length a
    whole number of lines)."""
    per_line = LINE_BYTES // like.itemsize
    buffer = np.zeros(classes * length + per_line, dtype=like.dtype)
    skip = (per_line - (np.int64(buffer.ctypes.data) // like.itemsize) % per_line) % per_line
    return buffer[skip : skip + classes * length].reshape(classes, length)


@njit_fast
def windows(X, Wt, first, classes):
    """For rows first + c + classes·t of X (c < classes) and the k rows of Wt (k, n):
    (Wc, offsets, length) — row c·k + l of Wc (classes·k, length) holds Wt[l] at class
    c's offset, each row starting on a line; the offsets (classes,); and the window's
    length, whole lines that cover every class's rows."""
    k, n = Wt.shape
    per_line = LINE_BYTES // X.itemsize
    at = np.int64(X.ctypes.data) // X.itemsize  # where X starts, in entries
    offsets = np.empty(classes, dtype=np.int64)
    for c in range(classes):
        offsets[c] = (at + (first + c) * n) % per_line
    length = (offsets.max() + n + per_line - 1) // per_line * per_line
    Wc = zeros_on_lines(classes * k, length, Wt)
    for c in range(classes):
        for col in range(k):
            Wc[c * k + col, offsets[c] : offsets[c] + n] = Wt[col]
    return Wc, offsets, length


@njit_fast
def add_back(acc, accs, offsets):
    """acc (k, n) += each class's partial sums, taken from its windows (row c·k + l of
    accs (classes·k, length) for class c, output l)."""
    k, n = acc.shape
    for c in range(offsets.shape[0]):
        for col in range(k):
            for j in range(n):
                acc[col, j] += accs[c * k + col, offsets[c] + j]

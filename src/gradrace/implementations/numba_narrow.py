"""numba-fused's kernels for narrow X (k = 1, a few features): n known when compiling.

With a handful of features per row the memory traffic per row is small, and what a
generic kernel spends per row dominates: a loop over n that LLVM cannot vectorize well
for n = 2..12, a horizontal sum per residual, and the update of the partial sums, which
live in memory because n is not known. Here the source of the kernel is written for one
n: every feature of a row is a named local (``x0``, ``x1``, …), and so are the weights
and the partial sums Σ r_i x_ij (``w3``, ``a3``). The loop over a block's rows is then
one LLVM's loop vectorizer takes whole: the rows become the lanes of the vectors (a
vector of residuals, one per row, from the block's rows loaded as vectors and shuffled
into features), and the partial sums become vector accumulators. That needs the loop to
run from 0 over a slice of the block: numba wraps negative indexes, and only from 0 can
LLVM prove there are none and load consecutive entries as vectors (from the block's
start in X, the loop ran several times slower). And it needs no gather instructions
(gradrace/_jit.py turns them off). The code is compiled from
that source with the file name of this module, so numba's cache (``cache=True``) keeps
it between processes, and a change here invalidates it.

The kernels sum as numba-fused does: in the input dtype over blocks of numba-fused's
``block_rows``, then into float64 totals; the parallel one over the same shape-decided
chunks, added in chunk order, so the result does not depend on the thread count.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

import numba

from gradrace._jit import FAST_JIT_OPTIONS, FAST_PARALLEL_JIT_OPTIONS

#: The widest X (features) that gets a kernel of its own; wider rows vectorize over n.
NARROW_MAX = 12


def _tree(terms: list[str]) -> str:
    """``terms`` summed as a balanced tree of additions, so no sum is one long chain."""
    while len(terms) > 1:
        pairs = zip(terms[::2], terms[1::2], strict=False)
        terms = [f"({a} + {b})" for a, b in pairs] + (terms[-1:] if len(terms) % 2 else [])
    return terms[0]


def _row(n: int, indent: str) -> list[str]:
    """The body of the loop over a block's rows: row i's features, residual, updates."""
    lines = [f"{indent}p = i * {n}"]
    lines += [f"{indent}x{j} = xs[p + {j}]" for j in range(n)]
    dot = _tree([f"x{j} * w{j}" for j in range(n)])
    lines.append(f"{indent}r = (b0 - ys[i]) + {dot}")
    lines += [f"{indent}a{j} += r * x{j}" for j in range(n)]
    lines.append(f"{indent}rs += r")
    return lines


def source(n: int) -> str:
    """The Python source of the narrow kernels for ``n`` features: ``chunk`` (one block
    of rows into float64 totals), ``serial_kernel`` and ``parallel_kernel``."""
    names = ", ".join(f"a{j}" for j in range(n))
    lines = [
        "def chunk(X, Y, Wt, b, total, total_b):",
        "    m = X.shape[0]",
        "    x, y, w = X.ravel(), Y.ravel(), Wt[0]  # (m·n,), (m,), (n,)  views",
        "    b0 = b[0]",
        "    zero = b0 - b0  # 0 in the input dtype",
        *[f"    w{j} = w[{j}]" for j in range(n)],
        f"    rows = block_rows(m, {n}, X.itemsize)",
        "    for s in range(0, m, rows):",
        "        e = min(s + rows, m)",
        f"        xs, ys = x[s * {n} : e * {n}], y[s:e]  # the block's rows, from 0",
        f"        {names} = {', '.join(['zero'] * n)}",
        "        rs = zero",
        "        for i in range(e - s):",
        *_row(n, " " * 12),
        *[f"        total[0, {j}] += a{j}" for j in range(n)],
        "        total_b[0] += rs",
        "",
        "def chunks_parallel(X, Y, Wt, b, totals, totals_b):",
        "    m = X.shape[0]",
        "    chunks = totals.shape[0]",
        "    for t in prange(chunks):",
        "        start = m * t // chunks",
        "        stop = m * (t + 1) // chunks",
        "        chunk(X[start:stop], Y[start:stop], Wt, b, totals[t], totals_b[t])",
        "",
        "def serial_kernel(X, Y, W, b, lam, dW, db):",
        "    total = np.zeros((1, X.shape[1]))",
        "    total_b = np.zeros(1)",
        "    chunk(X, Y, np.ascontiguousarray(W.T), b, total, total_b)",
        "    finish(total, total_b, W, lam, X.shape[0], dW, db)",
        "",
        "def parallel_kernel(X, Y, W, b, lam, dW, db):",
        "    m, n = X.shape",
        "    chunks = chunk_count(m, m * n)",
        "    totals = np.zeros((chunks, 1, n))",
        "    totals_b = np.zeros((chunks, 1))",
        "    chunks_parallel(X, Y, np.ascontiguousarray(W.T), b, totals, totals_b)",
        "    for t in range(1, chunks):  # in chunk order, whatever thread ran what",
        "        for j in range(n):",
        "            totals[0, 0, j] += totals[t, 0, j]",
        "        totals_b[0, 0] += totals_b[t, 0]",
        "    finish(totals[0], totals_b[0], W, lam, m, dW, db)",
    ]
    return "\n".join(lines) + "\n"


def _callees_tag(*functions) -> str:
    """A short digest of the source files the jitted ``functions`` come from, so a change
    there misses numba's cache, which checks only the caller's own file."""
    digest = hashlib.sha256()
    for path in sorted({inspect.getsourcefile(getattr(f, "py_func", f)) for f in functions}):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:10]


@functools.cache
def kernels(n: int, block_rows, finish, chunk_count) -> tuple:
    """(serial_kernel, parallel_kernel) for X of ``n`` features (2 ≤ n ≤ ``NARROW_MAX``),
    compiled on first use; ``block_rows``, ``finish`` and ``chunk_count`` are numba-fused's."""
    if not 2 <= n <= NARROW_MAX:
        raise ValueError(f"narrow kernels are for 2 to {NARROW_MAX} features, not {n}")
    import numpy as np

    space = {"__name__": __name__, "np": np, "prange": numba.prange}
    space.update(block_rows=block_rows, finish=finish, chunk_count=chunk_count)
    text = source(n)
    exec(compile(text, __file__, "exec"), space)
    fast = numba.njit(**FAST_JIT_OPTIONS)
    tag = _callees_tag(block_rows, finish, chunk_count)
    for name in ("chunk", "chunks_parallel", "serial_kernel", "parallel_kernel"):
        # numba's cache keys on the name and this file, not on the files of the functions
        # the kernels call: the name carries n and those files' digest
        space[name].__qualname__ = f"narrow_{n}_{tag}_{name}"
    space["chunk"] = fast(space["chunk"])
    space["chunks_parallel"] = numba.njit(**FAST_PARALLEL_JIT_OPTIONS)(space["chunks_parallel"])
    return fast(space["serial_kernel"]), fast(space["parallel_kernel"])

"""Why each implementation is as fast as it is: its costs by construction, and a model.

``CONSTRUCTION`` says, for every built-in, what one call costs before anything is
measured: passes over X, temporaries, flops, whether it runs on all cores. The
model turns that into a time,

    predicted = overhead + max(bytes ÷ bandwidth, flops ÷ peak) [+ fitted terms],

with the machine's measured read bandwidth and BLAS peak (a serial implementation
gets one core's share of the peak), a fixed per-call overhead fitted from the
smallest sizes, and, only where the construction says the cost is not memory or
arithmetic at all (the interpreter, numpy's per-sample loop), a per-element or
per-row cost fitted from the data. Predictions that miss by more than ``MISS``×
are reported, not hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gradrace.implementations import numba_fused, numpy_blocked
from gradrace.reports.data import agreeing

#: A prediction further off than this factor (either way) is called a miss.
MISS = 2.0

Sizes = Callable[[float, float, float], float]  # (m, n, k) -> a count

#: Costs a construction may declare as fitted: name -> (count per call, unit in words).
TERMS: dict[str, tuple[Callable[[float, float, float, int], float], str]] = {
    "element": (lambda m, n, k, s: m * n * k, "per multiply-add (m·n·k)"),
    "row": (lambda m, n, k, s: m * k, "per sample and output (m·k)"),
    "block": (
        lambda m, n, k, s: np.ceil(m / numpy_blocked.block_rows(int(n), s)),
        "per block of X (1 MiB)",
    ),
}


@dataclass(frozen=True)
class Construction:
    """What one gradient call of an implementation costs by construction."""

    passes: str  # passes over X, in words
    temporaries: str  # arrays allocated per call, in words
    flops: str  # arithmetic, in words
    overhead: str  # the fixed per-call cost, in words
    elements: Sizes  # elements read or written from memory per call (X, Y, temporaries)
    flop_count: Sizes
    parallel: bool  # runs on every core (BLAS, prange) rather than one
    fitted: tuple[str, ...] = ()  # names of TERMS whose cost per unit is fitted
    expected: str = "m¹ n¹"  # how time should grow once the overhead is small
    serial_below: float = 0.0  # m·n·k under which a parallel implementation runs serially

    def bytes(self, m: float, n: float, k: float, itemsize: int) -> float:
        return self.elements(m, n, k) * itemsize


def _two_passes(m, n, k):
    return 2 * m * n + 8 * m * k  # X twice; X@W, +b, −Y and the sum over the (m, k) residual


def _one_pass(m, n, k):
    return m * n + 3 * m * k


def _matvec_flops(m, n, k):
    return 4 * m * n * k + 4 * m * k


CONSTRUCTION: dict[str, Construction] = {
    "python-loops": Construction(
        passes="2·k, from Python lists: once per output for the prediction, once to accumulate",
        temporaries="a boxed Python float for every product; the (n, k) list of lists",
        flops="4·m·n·k, each a bytecode-interpreted multiply-add (tens of ns, not a cycle)",
        overhead="building the lists, packing the result into arrays",
        elements=lambda m, n, k: 0.0,  # interpreter-bound: memory traffic is not the cost
        flop_count=_matvec_flops,
        parallel=False,
        fitted=("element", "row"),
    ),
    "numpy-dot": Construction(
        passes="2 through BLAS: X @ W, then X.T @ residual",
        temporaries="3 × (m, k): X @ W, + b, − Y (the residual)",
        flops="4·m·n·k in two BLAS products (memory-bound for small k)",
        overhead="about ten numpy calls and allocations",
        elements=_two_passes,
        flop_count=_matvec_flops,
        parallel=True,
    ),
    "einsum": Construction(
        passes="2, in einsum's own loops (no BLAS with optimize=False)",
        temporaries="3 × (m, k): the product, + b, − Y",
        flops="4·m·n·k on one core",
        overhead="parsing three subscript strings per call",
        elements=_two_passes,
        flop_count=_matvec_flops,
        parallel=False,
    ),
    "reshaped-mn1": Construction(
        passes="2: a batched matmul of m tiny (k, n) @ (n, 1) products, then error.T @ X",
        temporaries="(m, k, 1) predicted, + b, − Y (the error), reshaped to (m, k)",
        flops="4·m·n·k, half of it in m separate tiny products",
        overhead="reshapes and squeezes; a per-sample cost for each tiny product (fitted)",
        elements=_two_passes,
        flop_count=_matvec_flops,
        parallel=False,
        fitted=("row",),
    ),
    "numba": Construction(
        passes="1: per row a dot product, then an axpy on the same row (still in L1)",
        temporaries="none: only the (n, k) and (k,) outputs",
        flops="4·m·n·k of compiled scalar loops on one core",
        overhead="one compiled call: type dispatch, two small allocations",
        elements=_one_pass,
        flop_count=_matvec_flops,
        parallel=False,
    ),
    "numba-fused": Construction(
        passes="1: groups of 4 rows (8 when k > 1), each used for its residuals and its share of Xᵀr while in L1",
        temporaries="(n, k) partial sums per chunk of rows",
        flops=f"4·m·n·k, vectorized (fastmath), on every core from m·n·k ≥ {numba_fused.PARALLEL_MIN_WORK:,}",
        overhead="one compiled call; a parallel launch adds tens of µs",
        elements=_one_pass,
        flop_count=_matvec_flops,
        parallel=True,
        serial_below=numba_fused.PARALLEL_MIN_WORK,
    ),
    "numpy-blocked": Construction(
        passes="~1 from memory: each 1 MiB block of rows is read for X_b @ W, then from the "
        "core's L2 for X_bᵀ r_b; one Python thread per core, each with its own blocks",
        temporaries="(block rows, k) residual and (n, k) partial sums per thread",
        flops="4·m·n·k through BLAS, block by block",
        overhead="a few numpy calls per block (fitted per block)",
        elements=lambda m, n, k: m * n + 8 * m * k,
        flop_count=_matvec_flops,
        parallel=True,
        fitted=("block",),
    ),
    "gram": Construction(
        passes="0 per call: XᵀX (n, n) and XᵀY (n, k) were formed once in prepare, O(m·n²)",
        temporaries="(n, k): G @ W",
        flops="2·n²·k per call, independent of m",
        overhead="two small products",
        elements=lambda m, n, k: n * n + 3 * n * k,
        flop_count=lambda m, n, k: 2 * n * n * k + 4 * n * k,
        parallel=True,
        expected="m⁰ n²",
    ),
    # The optional built-ins: installed through extras.
    "jax-grad": Construction(
        passes="2: XLA's X @ W and, from jax.grad, Xᵀ @ the residual; elementwise work fused",
        temporaries="the (m, k) residual; copying dW, db back to numpy",
        flops="4·m·n·k, on XLA's own thread pool (not limited by --threads)",
        overhead="dispatch of the jitted function, block_until_ready, np.asarray",
        elements=_two_passes,
        flop_count=_matvec_flops,
        parallel=True,
    ),
    "torch-autograd": Construction(
        passes="2: forward X @ W, backward Xᵀ @ grad; one more pass over the (m, k) residual",
        temporaries="(m, k) residual and its square kept on the tape; the scalar cost",
        flops="4·m·n·k + the cost's 3·m·k",
        overhead="recording the tape and walking it backwards",
        elements=_two_passes,
        flop_count=_matvec_flops,
        parallel=True,
    ),
    "torch-manual": Construction(
        passes="2 through torch's BLAS: X @ W, then X.T @ residual",
        temporaries="3 × (m, k), as numpy-dot",
        flops="4·m·n·k",
        overhead="torch operator dispatch",
        elements=_two_passes,
        flop_count=_matvec_flops,
        parallel=True,
    ),
    "dask": Construction(
        passes="2 per chunk of rows (≤ 16 MiB), the second partly from cache",
        temporaries="per-chunk (rows, k) residuals and (n, k) partial sums",
        flops="4·m·n·k, chunks on the threaded scheduler",
        overhead="building and scheduling the task graph: milliseconds",
        elements=_two_passes,
        flop_count=_matvec_flops,
        parallel=True,
    ),
    "cupy": Construction(
        passes="2 cuBLAS products on the GPU; X was copied there in prepare",
        temporaries="3 × (m, k) on the GPU; dW, db copied back to the host",
        flops="4·m·n·k on the GPU: the host's bandwidth and peak do not apply",
        overhead="kernel launches, a stream synchronize, the device→host copy",
        elements=lambda m, n, k: 0.0,
        flop_count=lambda m, n, k: 0.0,
        parallel=True,
        fitted=("element",),
    ),
}

NOT_DECLARED = "not declared"


@dataclass(frozen=True)
class Fit:
    """The fitted constants of one implementation's model: the overhead, and seconds per
    unit of each fitted term (``TERMS``)."""

    overhead_s: float
    per_unit_s: dict[str, float] = field(default_factory=dict)

    def extra_s(self, m, n, k, itemsize):
        """The fitted terms' time for one call."""
        return sum(TERMS[t][0](m, n, k, itemsize) * c for t, c in self.per_unit_s.items())


def work_s(name: str, m, n, k, itemsize, bandwidth_gbs, peak_gflops, cores) -> float:
    """The construction's time for one call without overhead or fitted terms (0 if unknown)."""
    build = CONSTRUCTION.get(name)
    if build is None:
        return 0.0
    memory = build.bytes(m, n, k, itemsize) / (bandwidth_gbs * 1e9) if bandwidth_gbs else 0.0
    parallel = build.parallel and m * n * k >= build.serial_below
    rate = (peak_gflops or 0.0) * (1.0 if parallel else 1.0 / max(cores, 1))
    compute = build.flop_count(m, n, k) / (rate * 1e9) if rate else 0.0
    return max(memory, compute)


def _fit_terms(rest: np.ndarray, terms: list[np.ndarray], weight: np.ndarray) -> list[float]:
    """Non-negative least squares, relative to the measured time: drop negative terms, refit."""
    active = list(range(len(terms)))
    while active:
        a = np.column_stack([terms[i] for i in active]) * weight[:, None]
        coef = np.linalg.lstsq(a, rest * weight, rcond=None)[0]
        if (coef >= 0).all():
            out = [0.0] * len(terms)
            for i, c in zip(active, coef, strict=True):
                out[i] = float(c)
            return out
        active.pop(int(np.argmin(coef)))
    return [0.0] * len(terms)


def fit(name: str, rows: pd.DataFrame, work: np.ndarray) -> Fit:
    """The overhead (and declared per-element/per-row costs) of ``name`` from its timings."""
    t = rows["median_s"].to_numpy(float)
    mnk = (rows["m"] * rows["n"] * rows["k"]).to_numpy(float)
    build = CONSTRUCTION.get(name)
    if build is not None and build.fitted:
        sizes = list(zip(rows["m"], rows["n"], rows["k"], rows["itemsize"], strict=True))
        terms = [np.ones_like(t)] + [np.array([TERMS[f][0](*s) for s in sizes], dtype=float)
                                     for f in build.fitted]  # fmt: skip
        coef = _fit_terms(t - work, terms, 1.0 / t)
        return Fit(coef[0], dict(zip(build.fitted, coef[1:], strict=True)))
    smallest = mnk <= 10 * mnk.min()
    return Fit(float(np.median(np.maximum(t[smallest] - work[smallest], 0.0))))


def predict(
    results: pd.DataFrame, bandwidth: float | None, peak: float | None, cores: int = 1
) -> tuple[pd.DataFrame, dict[str, Fit]]:
    """Every agreeing row with its ``predicted_s``, ``miss`` (measured ÷ predicted) and verdict,
    for a machine of ``bandwidth`` GB/s and ``peak`` GFLOP/s (None: unknown, left out)."""
    rows = agreeing(results)
    frames, fits = [], {}
    for name, own in rows.groupby("implementation", sort=False):
        work = np.array([work_s(name, r.m, r.n, r.k, r.itemsize, bandwidth, peak, cores)
                         for r in own.itertuples()])  # fmt: skip
        fits[name] = fitted = fit(name, own, work)
        extra = [fitted.extra_s(r.m, r.n, r.k, r.itemsize) for r in own.itertuples()]
        predicted = fitted.overhead_s + work + np.array(extra, dtype=float)
        frames.append(own.assign(work_s=work, predicted_s=predicted))
    if not frames:
        return rows.assign(work_s=[], predicted_s=[], miss=[], verdict=[]), fits
    table = pd.concat(frames)
    table["miss"] = table["median_s"] / table["predicted_s"]
    table["verdict"] = [_verdict(x) for x in table["miss"]]
    return table, fits


def _verdict(miss: float) -> str:
    if miss != miss:  # NaN
        return ""
    if miss > MISS:
        return f"slower than modelled ({miss:.1f}×)"
    if miss < 1 / MISS:
        return f"faster than modelled ({1 / miss:.1f}×)"
    return f"within {MISS:g}×"


#: Rounds whose interquartile range exceeds this share of the median were disturbed.
NOISY = 0.3


def explain_miss(name: str, faster: bool, x_bytes: float, spread: float = 0.0) -> str:
    """A likely reason for a miss, from what the model leaves out; ``spread`` is the
    measurement's IQR ÷ median."""
    if spread > NOISY:
        return (
            f"noisy timing: the rounds' interquartile range is {spread:.0%} of the median, "
            "so the machine was busy while this was measured"
        )
    if name not in CONSTRUCTION:
        return "no construction declared: only the fitted overhead is modelled"
    if faster and x_bytes < 64e6:
        return "X was (partly) cache-resident: the memory-bandwidth floor is pessimistic there"
    if faster:
        return "the measured bandwidth or peak underestimates what this code reaches"
    if not CONSTRUCTION[name].parallel:
        return "serial code: one core rarely reaches the all-core bandwidth the model assumes"
    return "costs the construction leaves out (strided access, threading, allocation)"

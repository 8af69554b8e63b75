"""Synthetic results for the report tests, with every kind of row.

The synthetic run times a hostile plugin (its name carries a ``<script>`` tag), has a
disagreement with a diagnosis, an error and a skipped case, and carries metadata like
``gradrace run`` writes: the machine, the agreement check, the environment. Times follow
simple laws with fixed-seed noise so that assertions about the model, the scaling and
the crossovers have known answers: numba is fastest while the per-call overhead
dominates, numpy-dot (half numba's time per byte of X) once X is large; the two cross at
m·n = 2,500 (clearly from n = 10: both spend the same on the (m, 1) temporaries, which
run on one core at half the bandwidth and dominate at n = 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gradrace.bench.grids import Case
from gradrace.bench.results import COLUMNS
from gradrace.bench.traits import record
from gradrace.implementations import einsum, numba_loops, numpy_dot, python_loops

EVIL = "<script>alert('x')</script>evil"
BANDWIDTH_GBS, PEAK_GFLOPS = 10.0, 50.0
ONE_CORE_GBS = BANDWIDTH_GBS / 2  # of the 2 cores the model is given
MS = (10, 100, 1_000, 10_000, 100_000)
NS = (1, 10, 100)


def law(name: str, m: int, n: int) -> float:
    """The synthetic time per call of each implementation (k = 1, float64)."""
    x_bytes = 8.0 * m * n
    t_bytes = 64.0 * m  # (m, 1) temporaries: 8 elements moved per sample
    return {
        "python-loops": 2e-6 + 60e-9 * m * n + 300e-9 * m,
        # X twice on every core, then its (m, 1) temporaries on one core (half the bandwidth)
        "numpy-dot": 5e-6 + 2 * x_bytes / (BANDWIDTH_GBS * 1e9) + t_bytes / (ONE_CORE_GBS * 1e9),
        # one core: a quarter of the machine's bandwidth for X, half for its per-sample work
        "numba": 1e-6 + x_bytes / 2.5e9 + t_bytes / (ONE_CORE_GBS * 1e9),
        "einsum": 7e-6 + (2 * x_bytes + t_bytes) / (ONE_CORE_GBS * 1e9) * 1.3,
        EVIL: 3e-6 + 3 * x_bytes / (BANDWIDTH_GBS * 1e9) + t_bytes / (ONE_CORE_GBS * 1e9),
    }[name]


def _row(name: str, m: int, n: int, rng, **extra) -> dict:
    median = law(name, m, n) * float(np.exp(rng.normal(0, 0.03)))
    row = {
        "implementation": name,
        "m": m,
        "n": n,
        "k": 1,
        "dtype": "float64",
        "threads": 2,
        "status": "ok",
        "median_s": median,
        "min_s": median * 0.95,
        "mean_s": median * 1.01,
        "iqr_s": median * 0.06,
        "rounds": 9,
        "number": 10,
        "prepare_s": 1e-5 * (1 + m * n / 1e4),
        "gflops": 4 * m * n / median / 1e9,
        "bandwidth_gbs": 8 * m * n / median / 1e9,
        "bandwidth_fraction": 8 * m * n / median / 1e9 / BANDWIDTH_GBS,
        "error": 1e-16,
        "err_dW": 1e-16,
        "err_db": 5e-17,
        "peak_bytes": 1000,
        "lam": 1.0,
        "seed": 0,
        "diagnosis": "",
        "message": "",
    }
    row.update(extra)
    return row


def synthetic_rows() -> list[dict]:
    rng = np.random.default_rng(20240601)
    rows = []
    for n in NS:
        for m in MS:
            for name in ("python-loops", "numpy-dot", "numba", "einsum", EVIL):
                if name == "python-loops" and law(name, m, n) > 0.05:
                    rows.append(
                        _row(
                            name,
                            m,
                            n,
                            rng,
                            status="skipped",
                            median_s=None,
                            message="over the budget: a call would take about 0.6 s",
                        )
                    )
                elif name == "einsum" and (m, n) == (1_000, 10):
                    rows.append(
                        _row(
                            name,
                            m,
                            n,
                            rng,
                            status="error",
                            median_s=None,
                            message="gradient raised MemoryError('synthetic')",
                        )
                    )
                elif name == EVIL and (m, n) == (100, 10):
                    rows.append(
                        _row(
                            name,
                            m,
                            n,
                            rng,
                            status="disagrees",
                            error=0.5,
                            diagnosis="dW transposed <b>bold</b>",
                            message="dW disagrees: relative error 5e-01",
                        )
                    )
                else:
                    rows.append(_row(name, m, n, rng))
    return rows


BUILTIN_TRAITS = {
    impl.name: impl
    for impl in (
        python_loops.IMPLEMENTATION,
        numpy_dot.IMPLEMENTATION,
        einsum.IMPLEMENTATION,
        numba_loops.IMPLEMENTATION,
    )
}


def implementation_records() -> dict:
    """What a run records of each implementation: the built-ins' declared costs evaluated
    on every synthetic case; the plugin declares none."""
    cases = [Case(m, n) for m in MS for n in NS]
    records = {name: record(impl, "built-in", cases) for name, impl in BUILTIN_TRAITS.items()}
    records[EVIL] = {
        "description": "My plugin <img src=y onerror=alert(2)>",
        "origin": "plugin",
        "precomputes": "",
        "max_outputs": None,
        "cost": None,
        "counts": {},
    }
    return records


def synthetic_metadata() -> dict:
    check = [
        {
            "implementation": name,
            "case": f"m=7 n=3 k=3 float64 λ={lam}",
            "m": 7,
            "n": 3,
            "k": 3,
            "dtype": "float64",
            "lam": lam,
            "status": "ok",
            "kind": "agrees",
            "err_dW": 1e-16,
            "err_db": 0.0,
            "diagnosis": "",
            "message": "",
        }
        for name in ("python-loops", "numpy-dot", "numba", "einsum")
        for lam in (0.0, 3.5)
    ]
    check.append(
        {
            "implementation": EVIL,
            "case": "m=7 n=3 k=3 float64 λ=3.5",
            "m": 7,
            "n": 3,
            "k": 3,
            "dtype": "float64",
            "lam": 3.5,
            "status": "disagrees",
            "kind": "disagrees",
            "err_dW": 0.8,
            "err_db": 0.0,
            "diagnosis": "λ/(2m) instead of λ/m in the regularization term",
            "message": "dW disagrees <img src=x onerror=alert(1)>",
        }
    )
    return {
        "date": "2024-06-01T12:00:00+00:00",
        "command": "gradrace run --m 10,1e5",
        "gradrace": "0.1.0",
        "python": "3.11.7",
        "numpy": "2.0.0",
        "numba": "0.60.0",
        "pandas": "2.2.0",
        "platform": "Linux-test",
        "cpu": "Synthetic CPU <i>8</i>",
        "cores": 2,
        "blas": [
            {
                "internal_api": "openblas",
                "version": "0.3.27",
                "num_threads": 2,
                "architecture": "Haswell",
            }
        ],
        "env": {"OMP_NUM_THREADS": "2"},
        "config": {"settings": {"threads": 2, "rounds": 9}},
        "load_errors": [],
        "machine": {"bandwidth_gbs": BANDWIDTH_GBS, "peak_gflops": PEAK_GFLOPS},
        "check": check,
        "format": 2,
        "implementations": implementation_records(),
        "order": ["python-loops", "numpy-dot", "einsum", "numba", EVIL],
    }


def make_results(rows: list[dict] | None = None, metadata: dict | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(synthetic_rows() if rows is None else rows, columns=COLUMNS)
    frame.attrs["metadata"] = synthetic_metadata() if metadata is None else metadata
    return frame


def large_results(rows: int = 20_000, distinct_n: int = 999, seed: int = 7) -> pd.DataFrame:
    """A results table of ``rows`` rows over ``distinct_n`` values of n, a few m each, for
    the report's caps on panels and table rows (no metadata beyond the machine)."""
    rng = np.random.default_rng(seed)
    names = ("numpy-dot", "numba", "einsum", "python-loops")
    ns = np.unique(np.geomspace(1, 10 * distinct_n, distinct_n * 3).astype(int))[:distinct_n]
    per_n = max(1, -(-rows // (len(ns) * len(names))))
    ms = np.unique(np.geomspace(10, 1e6, per_n).astype(int))
    out = []
    for m in ms:  # m outermost: cut short at ``rows``, every n is still there
        for n in ns:
            for name in names:
                if len(out) == rows:
                    break
                out.append(
                    _row(name, int(m), int(n), rng)
                    if name != "python-loops"
                    else _row("numpy-dot", int(m), int(n), rng, implementation=name)
                )
    metadata = {
        "machine": {"bandwidth_gbs": BANDWIDTH_GBS, "peak_gflops": PEAK_GFLOPS},
        "cores": 2,
        "format": 2,
        "implementations": implementation_records(),
    }
    return make_results(out, metadata)

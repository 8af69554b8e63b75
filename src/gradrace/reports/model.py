"""Why each implementation is as fast as it is: its declared costs, and a model.

An implementation may declare what one call costs by construction (``gradrace.Cost``:
passes over X, temporaries, flops, whether it runs on all cores); a run records those
costs, evaluated at every case, in its results file. The model turns them into a time,

    predicted = overhead + max(bytes ÷ bandwidth, flops ÷ peak)
                [+ serial bytes ÷ one core's share of the bandwidth] [+ fitted terms],

with the bandwidth the run timed beside each case (the read of X and Y, in the same
rounds) and the peak of the matrix product timed there (its median over the run: the
product is the same in every case); the run's one measurement of each for older files; a
serial implementation gets one core's share of each. A fixed per-call overhead is fitted
from the smallest sizes, and, only where the cost declares terms that are not memory or
arithmetic at all (the interpreter, a per-sample loop), a cost per unit fitted from the
data; a term of bytes streamed as the read streams them (``Term.streamed``: a library's
matrix-vector products) is fitted as a multiple of the read's time in each case.
Predictions that miss by more than ``MISS``× are reported, not hidden. An implementation
that declares nothing is not modelled: the report shows its fitted scaling instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gradrace.bench.traits import case_key, version_record
from gradrace.reports.data import agreeing

#: A time under this many times the limit timed beside it says that limit was held up.
UNDER_LIMIT = 0.95
#: A prediction further off than this factor (either way) is called a miss.
MISS = 2.0

NOT_DECLARED = "not declared"


def declared(meta: dict, name: str, problem: str | None = None) -> dict | None:
    """The record of ``name``'s declared cost in a run's metadata (its version for
    ``problem``: each version declares its own), or None."""
    entry = version_record((meta.get("implementations") or {}).get(name), problem)
    return entry if isinstance(entry, dict) and entry.get("cost") else None


def counts(meta: dict, name: str, m, n, k, dtype, problem: str = "linear") -> dict | None:
    """The declared counts (bytes, flops, parallel, terms) of one call on a case, or None."""
    entry = declared(meta, name, problem)
    return (entry.get("counts") or {}).get(case_key(m, n, k, dtype, problem)) if entry else None


def streamed_units(meta: dict, name: str, problem: str | None = None) -> set[str]:
    """The units of ``name``'s declared terms fitted as multiples of the read's time."""
    entry = declared(meta, name, problem) or {}
    return {u for c in (entry.get("counts") or {}).values() for u in c.get("streamed_terms", ())}


def _problem(row) -> str:
    problem = getattr(row, "problem", None)
    return problem if isinstance(problem, str) else "linear"


@dataclass(frozen=True)
class Fit:
    """The fitted constants of one implementation's model: the overhead, and seconds per
    unit of each declared term (keyed by the term's unit in words)."""

    overhead_s: float
    per_unit_s: dict[str, float] = field(default_factory=dict)


def work_s(count: dict | None, bandwidth_gbs, peak_gflops, cores) -> float:
    """The declared counts' time for one call, without overhead or fitted terms (0 if none)."""
    if not count:
        return 0.0
    share = 1.0 if count["parallel"] else 1.0 / max(cores, 1)
    memory = count["bytes"] / (bandwidth_gbs * 1e9 * share) if bandwidth_gbs else 0.0
    rate = (peak_gflops or 0.0) * share
    compute = count["flops"] / (rate * 1e9) if rate else 0.0
    one_core = bandwidth_gbs * 1e9 / max(cores, 1) if bandwidth_gbs else 0.0
    serial = count.get("serial_bytes", 0.0) / one_core if one_core else 0.0
    return max(memory, compute) + serial


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


def fit(rows: pd.DataFrame, work: np.ndarray, terms: dict[str, np.ndarray]) -> Fit:
    """The overhead (and the cost per unit of each declared term) from the timings."""
    t = rows["median_s"].to_numpy(float)
    if terms:
        columns = [np.ones_like(t), *terms.values()]
        coef = _fit_terms(t - work, columns, 1.0 / t)
        return Fit(coef[0], dict(zip(terms, coef[1:], strict=True)))
    mnk = (rows["m"] * rows["n"] * rows["k"]).to_numpy(float)
    smallest = mnk <= 10 * mnk.min()
    return Fit(float(np.median(np.maximum(t[smallest] - work[smallest], 0.0))))


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A measured column as floats, NaN where absent or not a number."""
    if name not in rows:
        return np.full(len(rows), np.nan)
    return pd.to_numeric(rows[name], errors="coerce").to_numpy(float)


def rates(
    rows: pd.DataFrame,
    bandwidth: float | None,
    peak: float | None,
    peaks: dict[str, float] | None = None,
):
    """Per row: (GB/s, GFLOP/s) the model divides by. Where the run timed its floors in the
    case's rounds, the read of X and Y there (bytes of X and Y ÷ ``read_s``: the rate at
    which this machine, this busy, reads data of that size, from cache or memory) and the
    median of the matrix-product rates timed in the run's rounds (``peaks``, per dtype:
    ``steady_peaks`` of ``rows`` when not given); elsewhere the run's one ``bandwidth`` and
    ``peak``."""
    itemsize = np.array([np.dtype(d).itemsize if isinstance(d, str) else 8 for d in rows["dtype"]])
    m, n, k = (rows[c].to_numpy(float) for c in ("m", "n", "k"))
    read = _column(rows, "read_s")
    with np.errstate(divide="ignore", invalid="ignore"):
        in_round = itemsize * m * (n + k) / read / 1e9
    gbs = np.where(read > 0, in_round, bandwidth if bandwidth else np.nan)
    steady = steady_peaks(rows) if peaks is None else peaks
    dtypes = rows["dtype"].astype(str)
    gflops = np.array([steady.get(d, peak if peak else np.nan) for d in dtypes], dtype=float)
    return gbs, gflops


def steady_peaks(results: pd.DataFrame) -> dict[str, float]:
    """Per dtype, the median of the matrix-product rates timed in a run's rounds: the
    product is the same in every case, so one case's rate says more about what held up
    that probe than about the machine."""
    row_peak = _column(results, "peak_gflops")
    dtypes = results["dtype"].astype(str).to_numpy()
    return {
        d: float(np.median(row_peak[(dtypes == d) & (row_peak > 0)]))
        for d in set(dtypes)
        if ((dtypes == d) & (row_peak > 0)).any()
    }


def _finite(value: float) -> float | None:
    return float(value) if value == value and value > 0 else None


def _own(meta: dict, name: str, own: pd.DataFrame, bandwidth, peak, cores, peaks=None):
    """(work per row, declared term counts per row, whether each row ran on every core)."""
    found = [counts(meta, name, r.m, r.n, r.k, r.dtype, _problem(r)) for r in own.itertuples()]
    gbs, gflops = rates(own, bandwidth, peak, peaks)
    work = np.array(
        [
            work_s(c, _finite(b), _finite(p), cores)
            for c, b, p in zip(found, gbs, gflops, strict=True)
        ],
        dtype=float,
    )
    units = sorted({u for c in found if c for u in c.get("terms", {})})
    terms = {u: np.array([term_count(c, u, cores) for c in found]) for u in units}
    for u in units:  # bytes at the rate of the read beside the call: their time at that rate
        streamed = np.array([u in ((c or {}).get("streamed_terms") or ()) for c in found])
        with np.errstate(divide="ignore", invalid="ignore"):
            at_read = np.nan_to_num(terms[u] / (gbs * 1e9), nan=0.0, posinf=0.0)
        terms[u] = np.where(streamed, at_read, terms[u])
    return work, terms, [bool(c and c["parallel"]) for c in found]


def term_count(count: dict | None, unit: str, cores: int) -> float:
    """The units of a declared term one core runs in a call: a term shared by the cores
    (``Term.shared``) is split among them when the call runs in parallel."""
    units = float(((count or {}).get("terms") or {}).get(unit, 0.0))
    if count and count.get("parallel") and unit in (count.get("shared_terms") or ()):
        return units / max(cores, 1)
    return units


def predict(
    results: pd.DataFrame, meta: dict, bandwidth: float | None, peak: float | None, cores: int = 1
) -> tuple[pd.DataFrame, dict[str, Fit]]:
    """Every agreeing row of an implementation that declares its cost, with its
    ``predicted_s``, ``miss`` (measured ÷ predicted) and verdict, for a machine of
    ``bandwidth`` GB/s and ``peak`` GFLOP/s (None: unknown, left out). ``fits`` covers
    every agreeing implementation, declared or not (its overhead bounds the scaling fit).
    ``results`` hold one problem: each version of an implementation declares its own cost."""
    rows = agreeing(results)
    frames, fits = [], {}
    peaks = steady_peaks(results)  # of the whole run: the same for every implementation
    for name, own in rows.groupby("implementation", sort=False):
        work, terms, parallel = _own(meta, name, own, bandwidth, peak, cores, peaks)
        fits[name] = fitted = fit(own, work, terms)
        if declared(meta, name, _problem(next(own.itertuples()))) is None:
            continue
        extra = sum((fitted.per_unit_s[u] * c for u, c in terms.items()), np.zeros(len(own)))
        predicted = fitted.overhead_s + work + extra
        frames.append(own.assign(work_s=work, predicted_s=predicted, parallel=parallel))
    if not frames:
        return rows.iloc[0:0].assign(work_s=[], predicted_s=[], miss=[], verdict=[]), fits
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


#: A parallel implementation this many times slower than modelled lost scheduler slices.
HELD_UP = 10.0


def explain_miss(
    faster: bool,
    parallel: bool,
    x_bytes: float,
    spread: float = 0.0,
    limit_ratio: float = float("nan"),
    miss: float = float("nan"),
    busy: bool = False,
) -> str:
    """A likely reason for a miss, from what the model leaves out: ``spread`` is the
    measurement's IQR ÷ median, ``limit_ratio`` its time ÷ the limit timed beside it,
    ``miss`` measured ÷ predicted, and ``busy`` whether other work held cores during the
    run (``bench.busy.cores_held``)."""
    if spread > NOISY:
        return (
            f"noisy timing: the rounds' interquartile range is {spread:.0%} of the median, "
            "so the machine was busy while this was measured"
        )
    if busy and not faster and limit_ratio == limit_ratio and limit_ratio >= UNDER_LIMIT:
        return (
            "a busy machine: other work held cores while this was measured (the run warned "
            "of it), and the model's costs were fitted on a quiet one"
        )
    if limit_ratio < UNDER_LIMIT:
        return (
            f"disturbed floors: it ran at {limit_ratio:.2g} × the limit timed beside it, "
            "faster than reading X and Y, so the rounds of the floors were held up"
        )
    if not faster and parallel and miss >= HELD_UP:
        return (
            "threads held up: a parallel library whose worker threads wait for cores that "
            "other work holds loses a scheduler slice (milliseconds) on each call, whatever "
            "the size; the machine was loaded"
        )
    if faster and x_bytes < 64e6:
        return "X was (partly) cache-resident: the memory-bandwidth floor is pessimistic there"
    if faster:
        return "the measured bandwidth or peak underestimates what this code reaches"
    if not parallel:
        return "serial code: one core rarely reaches the all-core bandwidth the model assumes"
    return "costs the construction leaves out (strided access, threading, allocation)"

"""Was the machine busy during a run? Other work's threads, the load average and the
spread of its probes say.

Each case records the one-minute load average before and after its rounds
(``load_before``, ``load_after``), the threads other processes kept running then
(``other_threads``: the least of a few instant counts, before and after, the larger
kept), and the probes timed in its rounds (``read_samples``,
``compute_samples``) are the same work every round: a wide spread of theirs means the
machine's speed changed under the run. Either makes comparisons less certain, so the
run warns and records it in its metadata (``busy``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

#: The probes' spread (interquartile range ÷ median, median over cases) above which
#: the machine counts as busy.
PROBE_SPREAD = 0.10
#: Threads other work kept running (median over cases) from which the machine counts as
#: busy: half a core taken on most cases.
OTHER_THREADS = 0.5


def _spread(samples) -> float:
    if not isinstance(samples, list | tuple) or len(samples) < 4:
        return math.nan
    q1, median, q3 = np.percentile(np.asarray(samples, dtype=float), [25, 50, 75])
    return float((q3 - q1) / median) if median > 0 else math.nan


def _median(values: Iterable[float]) -> float:
    finite = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan


def assess(rows: list[dict], cores: int) -> dict:
    """The run's load (the highest one-minute load average seen), the probes' median
    spread, and whether the machine was busy, with the warning to print (or "")."""
    loads = [r.get(c) for r in rows for c in ("load_before", "load_after")]
    load = max((v for v in loads if isinstance(v, int | float) and math.isfinite(v)), default=None)
    first = {}
    for r in rows:  # the probes are the same on every row of a case
        first.setdefault(tuple(r.get(c) for c in ("m", "n", "k", "dtype", "problem", "threads")), r)
    spread = _median(
        _spread(r.get(c)) for r in first.values() for c in ("read_samples", "compute_samples")
    )
    others = _median(r.get("other_threads") for r in first.values())
    reasons = []
    if others == others and others >= OTHER_THREADS:
        reasons.append(
            f"other work kept {others:g} thread(s) running on {cores} cores (median over cases)"
        )
    if load is not None and load > cores:
        reasons.append(f"load {load:.1f} on {cores} cores")
    if spread == spread and spread > PROBE_SPREAD:
        reasons.append(f"the probes' rounds spread by {spread * 100:.0f} % of their median")
    warning = (
        f"the machine was busy: {' and '.join(reasons)}; comparisons are less certain"
        if reasons
        else ""
    )
    return {
        "load": load,
        "cores": cores,
        "probe_spread": spread if spread == spread else None,
        "other_threads": others if others == others else None,
        "busy": bool(reasons),
        "warning": warning,
    }


def cores_held(busy: object) -> bool:
    """Whether a run's ``busy`` record says other work held a core: other threads kept
    running on most cases, or, where those were not counted, the load exceeded the cores.
    (The one-minute load lags: a run begun just after other work ended inherits its load,
    and counts the run's own threads. Rounds that merely spread make a run "busy" too, but
    wait no thread of a parallel implementation.)"""
    if not isinstance(busy, dict) or not busy.get("busy"):
        return False
    others, load, cores = busy.get("other_threads"), busy.get("load"), busy.get("cores")
    if isinstance(others, int | float):
        return others >= OTHER_THREADS
    return isinstance(load, int | float) and isinstance(cores, int) and load > cores


def every_core_held(busy: object) -> bool:
    """Whether a run's ``busy`` record says other work kept at least as many threads
    running as the run had cores: then even a serial implementation waited its turn."""
    if not cores_held(busy):
        return False
    others, cores = busy.get("other_threads"), busy.get("cores")
    return isinstance(others, int | float) and isinstance(cores, int) and others >= cores > 0


def busy_warning(meta: dict | None) -> str:
    """What a run's metadata recorded of a busy machine, in words ('' when it was quiet)."""
    busy = (meta or {}).get("busy") or {}
    warning = busy.get("warning") if isinstance(busy, dict) else None
    return str(warning) if warning else ""

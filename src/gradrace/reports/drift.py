"""Machine drift between two runs: how much faster or slower the machine itself ran.

A shared machine runs at another speed from one run to the next (another process, the
clock, the caches), and every case of a run moves together. Each case's rounds time two
probes beside the implementations (the read of X and Y, ``read_s``; a fixed matrix
product, ``compute_s``), and most implementations do not change between the runs either:
the median of their new ÷ old ratios in a case is how much the machine drifted there.
An implementation is never its own reference, and neither is any implementation the
comparison gates on (its code is the one that changed), so a real regression is not
divided away. Memory-bound and compute-bound cases drift differently, so each case is
corrected by its own references; the median over cases is the run's drift, printed. A case
with fewer than three references cannot tell a reference disturbed in one run from the
machine, so it takes the run's drift, and its references' distance from it widens its
interval. With no reference at all the drift is unknown (NaN), and said so.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

#: Probe columns of a results row: the median time of each probe in that case's rounds.
PROBES = ("read_s", "compute_s")
#: A drift smaller than this (2 %) is reported as none.
NEGLIGIBLE = 0.02


def _ratios(both: pd.DataFrame, case_keys: list[str], column: str) -> pd.Series:
    """new ÷ old of ``column`` once per case (a probe's median is the same on every row)."""
    ratio = both[f"{column}_new"] / both[f"{column}_old"]
    first = both.assign(_ratio=ratio).drop_duplicates(case_keys)
    return first.set_index(case_keys)["_ratio"]


def case_drift(
    both: pd.DataFrame, case_keys: list[str], excluded: Collection[str] = ()
) -> tuple[pd.Series, pd.Series]:
    """Per row of ``both`` (the merged old/new table): the median new ÷ old ratio of the
    probes and of the other implementations of its case, leaving out the row's own
    implementation and every name in ``excluded``; and how widely those references
    scatter around it (a robust standard deviation of their log ratios): how far an
    unchanged implementation strays from the correction, which widens the comparison's
    interval. A case with fewer than three references is centred on the run's drift
    instead, leaving the row's own implementation out of that too (1.0 where it is
    unknown)."""
    index = pd.MultiIndex.from_frame(both[case_keys])
    probes = [
        _ratios(both, case_keys, c).reindex(index).to_numpy(float)
        for c in PROBES
        if f"{c}_old" in both and f"{c}_new" in both
    ]
    impl_ratio = (both["median_s_new"] / both["median_s_old"]).to_numpy(float)
    names = both["implementation"].to_numpy()
    usable = ~np.isin(names, list(excluded)) & np.isfinite(impl_ratio) & (impl_ratio > 0)
    fallback = {
        name: _log_or_zero(run_drift(both, case_keys, [*excluded, name])) for name in set(names)
    }
    groups = both.groupby(case_keys, sort=False, dropna=False).indices
    drift, scatter = np.ones(len(both)), np.zeros(len(both))
    for rows in groups.values():
        for i in rows:
            refs = [p[i] for p in probes if np.isfinite(p[i]) and p[i] > 0]
            refs += [impl_ratio[j] for j in rows if j != i and usable[j]]
            if not refs:
                drift[i] = float(np.exp(fallback[names[i]]))
                continue
            logs = np.log(refs)
            centre = float(np.median(logs)) if len(refs) >= 3 else fallback[names[i]]
            drift[i] = float(np.exp(centre))
            scatter[i] = MAD_TO_SIGMA * float(np.median(np.abs(logs - centre)))
    return pd.Series(drift, index=both.index), pd.Series(scatter, index=both.index)


def _log_or_zero(drift: float) -> float:
    """log of a drift, 0 (no correction) where it is unknown."""
    return 0.0 if np.isnan(drift) else float(np.log(drift))


#: The median absolute deviation of a normal distribution times this is its σ.
MAD_TO_SIGMA = 1.4826


def run_drift(both: pd.DataFrame, case_keys: list[str], excluded: Collection[str] = ()) -> float:
    """How much slower (> 1) or faster (< 1) the machine ran in the new run: the median
    over cases of each case's references (probes and implementations not ``excluded``);
    NaN when no case has two (nothing measured the machine)."""
    if both.empty:
        return float("nan")
    refs = both.assign(_ratio=both["median_s_new"] / both["median_s_old"])
    left_out = refs["implementation"].isin(list(excluded))
    per_case = []
    for _, rows in refs.assign(_out=left_out).groupby(case_keys, sort=False, dropna=False):
        values = list(rows.loc[~rows["_out"], "_ratio"])
        for probe in PROBES:
            if f"{probe}_old" in rows:
                values.append(rows[f"{probe}_new"].iloc[0] / rows[f"{probe}_old"].iloc[0])
        values = [v for v in values if np.isfinite(v) and v > 0]
        if len(values) >= 2:  # one implementation alone is its own change, not the machine's
            per_case.append(float(np.median(values)))
    return float(np.median(per_case)) if per_case else float("nan")


def describe(drift: float, corrected: bool = True) -> str:
    """One sentence: how fast the machine ran in NEW against OLD, and what was done."""
    if np.isnan(drift):
        return (
            "No probe or other implementation was timed in both runs, so the machine's "
            "speed in each is unknown; times compared as measured."
        )
    if abs(drift - 1) < NEGLIGIBLE:
        return "NEW and OLD ran at the same machine speed (within 2 %)."
    how = "slower" if drift > 1 else "faster"
    change = (drift - 1) if drift > 1 else (1 - drift)
    done = "times corrected" if corrected else "times not corrected (--no-drift-correction)"
    return f"NEW ran on a machine {change * 100:.0f} % {how}; {done}."

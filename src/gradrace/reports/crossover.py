"""Crossover sizes, in words: where one implementation overtakes another as m grows.

Between two adjacent measured m where the order of two implementations flips, the
crossing is interpolated on the log–log lines through the two points, so
"numba beats numpy-dot below m ≈ 2,400" names a size between the ones measured.
Flips between times within ``CLOSE`` of each other on both sides are noise, not
crossovers, and are left out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gradrace.reports.data import implementations
from gradrace.units import count

#: Two times closer than this factor at both ends of an interval are a tie.
CLOSE = 1.2


@dataclass(frozen=True)
class Crossover:
    """``winner_below`` is faster below ``m`` (at this n), ``winner_above`` above it."""

    n: int
    m: float
    winner_below: str
    winner_above: str

    def sentence(self) -> str:
        return f"{self.winner_below} beats {self.winner_above} below m ≈ {count(_round(self.m))}"


def _round(m: float) -> int:
    """Two significant figures: the interpolation is no more precise than that."""
    digits = max(int(np.floor(np.log10(max(m, 1)))) - 1, 0)
    return int(round(m / 10**digits) * 10**digits)


def _crossings(a: pd.Series, b: pd.Series) -> list[tuple[float, bool]]:
    """(m, a is faster below) at each clear sign change of log(t_a / t_b) over the shared m."""
    shared = a.index.intersection(b.index).sort_values()
    log_ratio = np.log(a[shared].to_numpy(float) / b[shared].to_numpy(float))
    log_m = np.log(shared.to_numpy(float))
    tie = np.log(CLOSE)
    found = []
    for i in range(len(shared) - 1):
        r0, r1 = log_ratio[i], log_ratio[i + 1]
        if r0 * r1 < 0 and max(abs(r0), abs(r1)) > tie:
            x = log_m[i] + (log_m[i + 1] - log_m[i]) * r0 / (r0 - r1)
            found.append((float(np.exp(x)), r0 < 0))
    return found


def crossovers(rows: pd.DataFrame, pairs: list[tuple[str, str]] | None = None) -> list[Crossover]:
    """Crossovers in m, per n, between ``pairs`` (default: ``interesting_pairs`` at that n).

    ``rows`` are the agreeing rows of one k and dtype.
    """
    found = []
    for n, at in rows.groupby("n"):
        times = {name: own.set_index("m")["median_s"] for name, own in at.groupby("implementation")}
        for a, b in pairs if pairs is not None else interesting_pairs(at):
            if a in times and b in times:
                for m, a_below in _crossings(times[a], times[b]):
                    below, above = (a, b) if a_below else (b, a)
                    found.append(Crossover(int(n), m, below, above))
    return sorted(found, key=lambda c: (c.n, c.m))


def interesting_pairs(rows: pd.DataFrame, baseline: str = "numpy-dot") -> list[tuple[str, str]]:
    """The hand-overs of the lead as m grows (the fastest at one m against the fastest at the
    next), and each implementation that leads somewhere against ``baseline``."""
    if rows.empty:
        return []
    best = rows.loc[rows.groupby(["m", "n"])["median_s"].idxmin()].sort_values(["n", "m"])
    leaders = list(best["implementation"])
    pairs = [(a, b) for a, b in itertools.pairwise(leaders) if a != b]
    if baseline in set(rows["implementation"]):
        pairs += [(w, baseline) for w in implementations(best) if w != baseline]
    seen: set[frozenset] = set()
    unique = []
    for pair in pairs:
        if frozenset(pair) not in seen:
            seen.add(frozenset(pair))
            unique.append(pair)
    return unique


def in_words(found: list[Crossover]) -> list[str]:
    """One line per n: "n = 10: numba beats numpy-dot below m ≈ 2,400; …"."""
    lines = []
    for n in sorted({c.n for c in found}):
        parts = [c.sentence() for c in found if c.n == n]
        lines.append(f"n = {n:,}: " + "; ".join(parts) + ".")
    return lines

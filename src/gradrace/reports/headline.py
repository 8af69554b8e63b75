"""The headline: for each size regime, the fastest agreeing implementation and by how much.

Sizes are grouped by the bytes of X, which decide what limits a gradient: below
64 kB the fixed cost of a call dominates, up to the last-level cache of the machine that
measured (recorded in the run's environment; 4 MB where unknown) X stays in cache, and
beyond it every pass streams X from memory and the read bandwidth is the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gradrace.bench.problem import PROBLEMS
from gradrace.bench.ranking import unranked_rows
from gradrace.reports.data import agreeing, geomean, size_label
from gradrace.reports.tables import BASELINES


@dataclass(frozen=True)
class Regime:
    name: str
    low: float  # bytes of X, inclusive
    high: float  # exclusive
    limit: str  # what limits a gradient at these sizes

    def describe(self) -> str:
        if self.low == 0:
            return f"X under {self.high / 1e3:.3g} kB"
        if self.high == float("inf"):
            return f"X over {self.low / 1e6:.3g} MB"
        return f"X {self.low / 1e3:.3g} kB – {self.high / 1e6:.3g} MB"


#: Where X stops fitting the caches when the run did not record its last-level cache.
DEFAULT_CACHE_BYTES = 4e6


def regimes(metadata: dict | None = None) -> tuple[Regime, Regime, Regime]:
    """Small, medium and large, with X leaving the cache at the measuring machine's
    last-level cache (``caches`` in the run's metadata)."""
    caches = (metadata or {}).get("caches") or {}
    cache = float(max(caches.values(), default=0)) or DEFAULT_CACHE_BYTES
    return (
        Regime("small", 0, 64e3, "fixed per-call overhead"),
        Regime("medium", 64e3, cache, "X in cache: arithmetic and passes"),
        Regime("large", cache, float("inf"), "memory bandwidth: X streams from RAM"),
    )


REGIMES = regimes()


@dataclass(frozen=True)
class Headline:
    """The winner of one regime and its speedups (geometric means over the regime's sizes)."""

    regime: Regime
    cases: int
    fastest: str
    median_s: float  # at the regime's largest case
    largest: str  # that case's label
    speedups: dict[str, tuple[float, float, float]]  # baseline -> (geomean, min, max)
    bandwidth_fraction: float  # at the largest case; NaN when the bandwidth is unknown
    wins: int  # cases where it is the fastest
    slowdowns: dict[str, tuple[float, int]]  # name -> (geomean time ÷ fastest, cases timed)
    limit_ratio: float = float("nan")  # at the largest case: time ÷ the limit; NaN if unknown
    limit_is: str = ""  # what that limit is: READ or COMPUTE ('' when unknown)
    problem: str = ""  # the problem, when the results hold several ('' otherwise)


#: What the limit of a case is: the read of X and Y, or the least flops at the peak rate.
READ = "reading X and Y once"
COMPUTE = "the least arithmetic (4·m·n·k flops) at the measured peak"
COMPUTE_WITH_EXPS = "the least arithmetic (4·m·n·k flops and m·k exps) at the measured rates"


def limit_of(row) -> tuple[float, str]:
    """(time ÷ the limit, what the limit is) of one results row; (NaN, '') when the run
    did not measure it (older results, pytest-benchmark)."""
    ratio = float(_number(row, "limit_ratio"))
    if ratio != ratio:
        return float("nan"), ""
    read, limit = _number(row, "read_s"), _number(row, "limit_s")
    if read == read and read >= limit:
        return ratio, READ
    return ratio, COMPUTE_WITH_EXPS if _number(row, "exp_s") > 0 else COMPUTE


def _number(row, column: str) -> float:
    try:
        return float(row.get(column))
    except (TypeError, ValueError):
        return float("nan")


def _slowdowns(rows: pd.DataFrame, excluded: pd.Series) -> dict[str, tuple[float, int]]:
    """Per implementation: geometric mean of its time ÷ the fastest ranked time, over the
    cases it was timed on (and agreed), and how many those are. ``excluded`` rows (a mask)
    get a ratio (below 1× when faster per call) but are not the reference."""
    keys = ["m", "n", "k", "dtype", "problem"]
    ranked = rows[~excluded]
    best = ranked.groupby(keys)["median_s"].min().rename("best")
    best = rows.join(best, on=keys)["best"].fillna(rows["median_s"])
    ratio = (rows["median_s"] / best).groupby(rows["implementation"], sort=False)
    return {str(name): (geomean(r), len(r)) for name, r in ratio}


def _winner(slowdowns: dict[str, tuple[float, int]]) -> str:
    """The implementation timed on the most cases with the smallest geometric-mean slowdown."""
    cover = max(c for _, c in slowdowns.values())
    candidates = [name for name, (_, c) in slowdowns.items() if c == cover]
    return min(candidates, key=lambda name: slowdowns[name][0])


def _speedup(rows: pd.DataFrame, fastest: str, baseline: str) -> tuple[float, float, float]:
    times = rows.pivot_table(
        index=["m", "n", "k", "dtype", "problem"], columns="implementation", values="median_s"
    )
    if baseline not in times or fastest not in times:
        return (float("nan"),) * 3
    ratio = (times[baseline] / times[fastest]).dropna()
    if ratio.empty:
        return (float("nan"),) * 3
    return geomean(ratio), float(ratio.min()), float(ratio.max())


def headlines(results: pd.DataFrame, metadata: dict | None = None) -> list[Headline]:
    """One headline per regime that has an agreeing measurement, smallest regime first,
    and per problem (linear first) when the results hold several: a logistic case is not
    ranked against a linear one. ``metadata`` is the run's (default:
    ``results.attrs["metadata"]``): its agreement check and its machine's caches."""
    meta = results.attrs.get("metadata", {}) if metadata is None else metadata
    rows = agreeing(results)
    out_of_ranking = pd.Series(
        unranked_rows(meta, rows["implementation"], rows["problem"]), index=rows.index, dtype=bool
    )
    problems = [p for p in PROBLEMS if p in set(rows["problem"])]
    out = []
    for problem in problems:
        mine = rows["problem"] == problem
        label = problem if len(problems) > 1 else ""
        out += _problem_headlines(rows[mine], out_of_ranking[mine], meta, label)
    return out


def _problem_headlines(
    rows: pd.DataFrame, out_of_ranking: pd.Series, meta: dict, problem: str
) -> list[Headline]:
    """The headlines of one problem's rows, one per regime they reach."""
    out = []
    for regime in regimes(meta):
        within = (rows["x_bytes"] >= regime.low) & (rows["x_bytes"] < regime.high)
        inside, excluded = rows[within], out_of_ranking[within]
        if inside.empty:
            continue
        slowdowns = _slowdowns(inside, excluded)
        ranked = inside[~excluded]
        inside = ranked if len(ranked) else inside
        none = pd.Series(False, index=inside.index)
        fastest = _winner(_slowdowns(inside, none))
        own = inside[inside["implementation"] == fastest]
        top = own.loc[own["x_bytes"].idxmax()]
        best = inside.loc[inside.groupby(["m", "n", "k", "dtype", "problem"])["median_s"].idxmin()]
        ratio, limit_is = limit_of(top)
        out.append(
            Headline(
                regime=regime,
                cases=len(best),
                fastest=fastest,
                median_s=float(top["median_s"]),
                largest=size_label(top["m"], top["n"], top["k"], top["dtype"], full=True),
                speedups={b: _speedup(inside, fastest, b) for b in BASELINES},
                bandwidth_fraction=float(top["bandwidth_fraction"]),
                wins=int((best["implementation"] == fastest).sum()),
                slowdowns=slowdowns,
                limit_ratio=ratio,
                limit_is=limit_is,
                problem=problem,
            )
        )
    return out

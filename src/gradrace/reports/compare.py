"""Comparing timings: two runs (OLD → NEW), or two implementations in one run (A/B).

Each case gets the ratio of medians NEW ÷ OLD with a 95 % interval from the rounds'
samples (``bench/stats.py``) and a verdict: ``slower`` only when the whole interval is
above the threshold, ``faster`` when it is below 1/threshold, ``slower (noisy)`` when the
ratio is above the threshold but the interval reaches below it, and either the interval
lies above 1 or the ratio is past the threshold twice over, else ``same``. Between
two runs the machine's drift is divided out first (``drift.py``); within one run the two
implementations were timed in the same rounds, so the ratio is taken round by round.
When either run recorded a busy machine, a parallel implementation's ``slower`` becomes
``slower (busy machine)``: its threads wait for cores other work holds, a slowdown no
drift correction can tell from its own (A/B in one run can); when other work held every
core, a serial implementation's too.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

from gradrace.bench import stats
from gradrace.bench.busy import cores_held, every_core_held
from gradrace.bench.results import KEY
from gradrace.bench.status import NOT_APPLICABLE, OK
from gradrace.reports import drift, model
from gradrace.reports.data import agreeing
from gradrace.reports.pytest_json import SOURCE as PYTEST_SOURCE

#: Default: a case more than 20 % slower than before is flagged.
THRESHOLD = 1.2
#: The columns that name one comparison: every identifying column of a results row but
#: the threads (two runs on different thread counts compare, with a warning).
KEYS = [c for c in KEY if c != "threads"]
VALUES = ["old_s", "new_s", "ratio", "low", "high", "drift", "verdict", "how", "gate"]
COLUMNS = KEYS + VALUES
#: The columns of a row the comparison reads, when a file has them.
_READ = ["median_s", "iqr_s", "q1_s", "q3_s", "rounds", "samples", *drift.PROBES]


def _check(threshold: float) -> None:
    if threshold <= 1:
        raise ValueError(f"the slowdown threshold must exceed 1, got {threshold:g}")


def _timed(rows: pd.DataFrame) -> pd.DataFrame:
    """The agreeing rows with the columns a comparison reads (NaN where a file has none)."""
    rows = agreeing(rows)
    rows = rows.reindex(columns=list(dict.fromkeys(KEYS + _READ)))
    rows.attrs = {}
    return rows


def _interval(row: dict, correction: float, scatter: float, paired: bool = False) -> stats.Interval:
    """The ratio's interval for one merged row: from the samples where both sides have
    them (paired by round within one run), else from the quartiles; divided by the
    drift ``correction`` and widened by the references' ``scatter``."""
    old, new = row.get("samples_old"), row.get("samples_new")
    found = None
    if paired:
        found = stats.paired_interval(old, new)
    if found is None:
        found = stats.ratio_interval(old, new)
    if found is None:
        found = stats.quartile_interval(_spread(row, "_old"), _spread(row, "_new"))
    return found.scaled(correction).widened(scatter)


def _spread(row: dict, side: str) -> tuple[float, float, float]:
    """(median, interquartile range, rounds) of one side: the quartiles where a file has
    them, else its ``iqr_s``."""
    iqr = row[f"q3_s{side}"] - row[f"q1_s{side}"]
    if math.isnan(iqr):
        iqr = row[f"iqr_s{side}"]
    return row[f"median_s{side}"], iqr, row[f"rounds{side}"]


def _judge(
    both: pd.DataFrame,
    corrections: tuple,
    threshold: float,
    gated: Collection[str],
    paired: bool = False,
    strict: bool = False,
) -> pd.DataFrame:
    """The comparison table of merged rows, one interval and verdict each; ``corrections``
    is (drift, scatter) per row."""
    records = both.to_dict("records")
    drifts, scatters = corrections
    intervals = [
        _interval(r, d, s, paired) for r, d, s in zip(records, drifts, scatters, strict=True)
    ]
    verdicts = [stats.verdict(i, threshold) for i in intervals]
    table = both[KEYS].assign(
        old_s=both["median_s_old"].to_numpy(),
        new_s=both["median_s_new"].to_numpy(),
        ratio=[i.point for i in intervals],
        low=[i.low for i in intervals],
        high=[i.high for i in intervals],
        drift=list(drifts),
        verdict=verdicts,
        how=[i.how for i in intervals],
    )
    _gate(table, gated, strict)
    return table.sort_values(["implementation", "k", "dtype", "n", "m"]).reset_index(drop=True)


def _gate(table: pd.DataFrame, gated: Collection[str], strict: bool) -> None:
    """Set ``gate``: whether each row fails ``--fail-on-slowdown``."""
    in_gate = table["implementation"].isin(list(gated)) if gated else True
    fails = [stats.fails_gate(v, strict) for v in table["verdict"]]
    table["gate"] = in_gate & pd.Series(fails, index=table.index, dtype=bool)


def _busy(run: pd.DataFrame) -> dict:
    """A run's ``busy`` record ({} if none)."""
    return (run.attrs.get("metadata") or {}).get("busy") or {}


def _may_be_parallel(count: dict | None) -> bool:
    """Whether an implementation may run on every core on a case: its declared counts say
    so, or it declares none (a BLAS call may use every core; gradrace cannot know)."""
    return count is None or bool(count.get("parallel"))


def _on_busy_machine(table, new: pd.DataFrame, gated, strict: bool, every_core: bool) -> None:
    """``slower`` → ``slower (busy machine)`` for implementations that may run on every
    core on the case (the new run's traits: declared parallel, or nothing declared), and
    for every implementation when other work held ``every_core``."""
    meta = new.attrs.get("metadata") or {}
    parallel = [
        every_core
        or _may_be_parallel(
            model.counts(meta, r.implementation, r.m, r.n, r.k, r.dtype, _problem(r))
        )
        for r in table.itertuples()
    ]
    demoted = (table["verdict"] == stats.SLOWER) & pd.Series(parallel, index=table.index)
    table.loc[demoted, "verdict"] = stats.SLOWER_BUSY
    _gate(table, gated, strict)


def _problem(row) -> str:
    problem = getattr(row, "problem", None)
    return problem if isinstance(problem, str) else "linear"


def compare(
    old: pd.DataFrame,
    new: pd.DataFrame,
    threshold: float = THRESHOLD,
    gated: Collection[str] = (),
    correct: bool = True,
    strict: bool = False,
) -> pd.DataFrame:
    """Cases timed (and agreeing) in both runs: old and new medians, the drift-corrected
    ratio new ÷ old with its 95 % interval, the verdict, and whether it fails the gate
    (limited to the implementations ``gated``, when given; ``strict``: slower (noisy)
    fails too). ``attrs["drift"]`` holds the run's drift (new machine time ÷ old)."""
    _check(threshold)
    both = _timed(old).merge(_timed(new), on=KEYS, suffixes=("_old", "_new"))
    if both.empty:
        empty = pd.DataFrame(columns=COLUMNS)
        empty.attrs["drift"] = 1.0
        return empty
    case_keys = [c for c in KEYS if c != "implementation"]
    none = pd.Series(1.0, index=both.index), pd.Series(0.0, index=both.index)
    corrections = drift.case_drift(both, case_keys, gated) if correct else none
    table = _judge(both, corrections, threshold, gated, strict=strict)
    if cores_held(_busy(old)) or cores_held(_busy(new)):
        every_core = every_core_held(_busy(old)) or every_core_held(_busy(new))
        _on_busy_machine(table, new, gated, strict, every_core)
    table.attrs["drift"] = drift.run_drift(both, case_keys, gated)
    table.attrs["corrected"] = correct
    return table


def interleaved(results: pd.DataFrame) -> bool:
    """Whether the run timed its implementations in the same interleaved rounds, so that
    round i of one and round i of another saw the same machine: ``gradrace run`` does;
    pytest-benchmark times one benchmark after another."""
    return (results.attrs.get("metadata") or {}).get("source") != PYTEST_SOURCE


def compare_within(
    results: pd.DataFrame,
    baseline: str,
    names: Collection[str],
    threshold: float = THRESHOLD,
    strict: bool = False,
) -> pd.DataFrame:
    """A/B in one run: each implementation of ``names`` against ``baseline`` on every case
    both timed, as ``compare`` shows two runs (``baseline`` is "old"), ratios taken round
    by round where the two were timed in the same interleaved rounds (``attrs["paired"]``),
    else from each side's rounds on its own."""
    _check(threshold)
    paired = interleaved(results)
    timed = _timed(results)
    base = timed[timed["implementation"] == baseline].drop(columns="implementation")
    others = timed[timed["implementation"].isin(list(names))]
    case_keys = [c for c in KEYS if c != "implementation"]
    both = base.merge(others, on=case_keys, suffixes=("_old", "_new"))
    if both.empty:
        empty = pd.DataFrame(columns=COLUMNS)
        empty.attrs.update(drift=1.0, baseline=baseline, paired=paired)
        return empty
    none = [1.0] * len(both), [0.0] * len(both)
    table = _judge(both, none, threshold, names, paired=paired, strict=strict)
    table.attrs.update(drift=1.0, baseline=baseline, paired=paired)
    return table


def _failed(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows neither timed in agreement nor n/a: skipped, failed or disagreeing."""
    rows = rows.reindex(columns=KEYS + ["status", "message"])
    rows.attrs = {}
    return rows[~rows["status"].isin([OK, NOT_APPLICABLE])]


def lost(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The cases ``old`` timed in agreement where ``new`` has the same implementation
    skipped, failed or disagreeing (a slowdown past the budget, a crash, a wrong
    gradient): no ratio can be taken, and the gate must not pass them by."""
    return _failed(new).merge(_timed(old)[KEYS], on=KEYS)


def lost_within(results: pd.DataFrame, baseline: str, names: Collection[str]) -> pd.DataFrame:
    """A/B in one run: the cases ``baseline`` was timed on in agreement where an
    implementation of ``names`` was skipped, failed or disagreed."""
    timed = _timed(results)
    case_keys = [c for c in KEYS if c != "implementation"]
    base = timed.loc[timed["implementation"] == baseline, case_keys]
    failed = _failed(results)
    return failed[failed["implementation"].isin(list(names))].merge(base, on=case_keys)


@dataclass(frozen=True)
class WithinRun:
    """A/B in one run, computed once for the printed table and the HTML report: each
    version of ``names`` against ``baseline`` (``compare_within``), and the cases a
    version lost where the baseline was timed (``lost_within``), judged with ``threshold``."""

    baseline: str
    names: tuple[str, ...]
    table: pd.DataFrame
    lost: pd.DataFrame
    threshold: float = THRESHOLD

    @property
    def paired(self) -> bool:
        """Whether the ratios were taken round by round (the run interleaved its rounds)."""
        return bool(self.table.attrs.get("paired", True))

    @property
    def how(self) -> str:
        """How the two versions were timed, in words for a heading."""
        if self.paired:
            return "paired by round"
        return "not paired: pytest-benchmark timed them one after the other"


def within_run(
    results: pd.DataFrame,
    baseline: str,
    names: Collection[str],
    threshold: float = THRESHOLD,
    strict: bool = False,
) -> WithinRun:
    """The A/B comparison of one run: ``compare_within`` and ``lost_within`` together."""
    table = compare_within(results, baseline, names, threshold, strict)
    lost = lost_within(results, baseline, names)
    return WithinRun(baseline, tuple(names), table, lost, threshold)


def only_in(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The agreeing cases of ``a`` that ``b`` did not time (or that disagreed there)."""
    x, y = _timed(a)[KEYS], _timed(b)[KEYS]
    merged = x.merge(y, on=KEYS, how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"][KEYS]


def summarize(table: pd.DataFrame, threshold: float = THRESHOLD) -> str:
    """One sentence: how many cases got slower or faster beyond the threshold."""
    if table.empty:
        which = "two versions" if table.attrs.get("baseline") else "two runs"
        return f"The {which} have no agreeing case in common: nothing to compare."
    counts = table["verdict"].value_counts()
    pct = (threshold - 1) * 100
    text = (
        f"{len(table)} case{'s' if len(table) != 1 else ''} in common: "
        f"{counts.get(stats.SLOWER, 0)} slower by more than "
        f"{pct:.0f} %, {counts.get(stats.FASTER, 0)} faster by more than {pct:.0f} %"
    )
    noisy = counts.get(stats.SLOWER_NOISY, 0)
    if noisy:
        text += f", {noisy} slower (noisy: the interval reaches below the threshold)"
    busy = counts.get(stats.SLOWER_BUSY, 0)
    if busy:
        text += (
            f", {busy} slower on a busy machine (other work held cores: a parallel "
            "implementation's threads wait for them, and a serial one waits its turn when "
            "every core is held; compare A/B in one run to tell)"
        )
    if table["how"].str.startswith("quartiles").any():
        text += "; from quartiles where a file has no samples: less certain"
    return text + "."


def line(row) -> str:
    """One comparison as printed: the case, then the ratio with its 95 % interval (of the
    rounds' own ratios where the two were timed in the same rounds, which the ratio of the
    two medians need not match)."""
    where = " ".join(f"{k}={getattr(row, k)}" for k in KEYS[1:] if k != "dtype")
    paired = str(getattr(row, "how", "")).startswith("paired")
    return (
        f"{row.implementation} {where} {row.dtype}: {row.ratio:.2f}× "
        f"(95 % interval {row.low:.2f}–{row.high:.2f}"
        + (", the median of the rounds' own ratios)" if paired else ")")
    )

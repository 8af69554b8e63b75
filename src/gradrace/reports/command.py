"""``gradrace report``: the HTML report of a results file, or of two runs compared.

``gradrace report RUN`` reports one run (a gradrace results folder or file, or a
``pytest --benchmark-json`` file); ``gradrace report OLD NEW`` (or ``NEW --compare
OLD``) reports NEW with its per-case ratios to OLD, the machine's drift divided out;
``gradrace report RUN --baseline NAME@old`` compares the versions of one implementation
timed side by side in RUN (A/B in one run). ``--fail-on-slowdown`` exits 1 when a case
is slower beyond the threshold (see ``bench/stats.py`` for the rule), limited to the
``--impl`` implementations when given.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

from gradrace.bench.busy import busy_warning
from gradrace.bench.status import SKIPPED


def _warn(text: str) -> None:
    print(f"gradrace: warning: {text}", file=sys.stderr)


def _check_names(names: list[str], timed: set[str], where: str) -> None:
    unknown = [n for n in names if n not in timed]
    if unknown:
        raise ValueError(
            f"--impl {', '.join(map(repr, unknown))} was not timed in {where}; "
            f"timed: {', '.join(sorted(timed))}"
        )


def _versions_of(baseline: str, timed: set[str]) -> list[str]:
    """The other versions of ``baseline``'s implementation (NAME@old → NAME@new, NAME)."""
    base = baseline.partition("@")[0]
    return sorted(n for n in timed if n != baseline and n.partition("@")[0] == base)


def _a_b(args, results: pd.DataFrame, timed: set[str], where: str):
    """The A/B comparison of one run (``compare.WithinRun``: the table and the lost cases,
    printed and shown in the report), or None when the options ask for none."""
    from gradrace.reports import compare

    if not (args.impl or "@" in args.baseline):
        if args.fail_on_slowdown:
            raise ValueError(
                "--fail-on-slowdown needs something to compare: --compare OLD, or "
                "--baseline NAME@old to compare two versions timed in one run"
            )
        return None
    names = list(args.impl) or _versions_of(args.baseline, timed)
    if not names:
        raise ValueError(
            f"--baseline {args.baseline!r}: no other version of it was timed in {where}; "
            "name the implementation to compare with --impl"
        )
    _check_names(names, timed, where)
    return compare.within_run(results, args.baseline, names, args.threshold, args.fail_on_noisy)


def _print_table(table: pd.DataFrame, threshold: float, everything: bool, gating: bool) -> None:
    """The summary, then each case (only those not "same" unless ``everything``); with
    ``gating`` (``--fail-on-slowdown``), the cases that fail the gate are marked."""
    from gradrace.reports import compare

    print(compare.summarize(table, threshold))
    for row in table.itertuples():
        flagged = row.verdict != "same"
        mark = "  (fails the gate)" if gating and row.gate else ""
        text = f"  {row.verdict}: {compare.line(row)}{mark}"
        if flagged:
            print(text, file=sys.stderr)
        elif everything:
            print(text)


def _print_lost(lost: pd.DataFrame, gated: list[str], args) -> bool:
    """Each case lost on the new side, on stderr; whether one of them fails the gate
    (every one, or those of the ``gated`` implementations). A case skipped over the time
    budget is a slowdown whose size is unknown, as a noisy one is: it fails the gate only
    with ``--fail-on-noisy``; one that failed or disagreed always does."""
    from gradrace.reports import compare

    fails = False
    for row in lost.itertuples():
        in_gate = (not gated or row.implementation in gated) and (
            args.fail_on_noisy or row.status != SKIPPED
        )
        fails = fails or in_gate
        mark = "  (fails the gate)" if in_gate and args.fail_on_slowdown else ""
        where = " ".join(f"{k}={getattr(row, k)}" for k in compare.KEYS[1:] if k != "dtype")
        print(
            f"  not timed: {row.implementation} {where} {row.dtype}: {row.status}: "
            f"{row.message}{mark}",
            file=sys.stderr,
        )
    return fails


def _gate(args, table: pd.DataFrame, lost: bool) -> int:
    """The exit status: 1 under ``--fail-on-slowdown`` when a case fails the gate, a case
    was lost, or nothing was compared at all (a gate that compares nothing proves nothing)."""
    if not args.fail_on_slowdown:
        return 0
    if table.empty:
        print(
            "gradrace: --fail-on-slowdown: nothing was compared (no case timed in agreement "
            "on both sides); the gate fails",
            file=sys.stderr,
        )
        return 1
    return 1 if table["gate"].any() or lost else 0


def cmd_report(args) -> int:
    from gradrace.bench.lock import locked
    from gradrace.reports import compare, mismatch, write_report
    from gradrace.reports.inputs import default_out, load_any

    paths = list(args.results)
    if len(paths) > 2 or (args.compare and len(paths) > 1):
        raise ValueError("give one results file, two to compare (OLD NEW), or one with --compare")
    old_path = args.compare or (paths[0] if len(paths) == 2 else None)
    new_path = paths[-1]
    results = load_any(new_path)
    previous = load_any(old_path) if old_path else None
    timed = set(results["implementation"].dropna())
    if args.baseline != "numpy-dot" and args.baseline not in timed:
        raise ValueError(
            f"--baseline {args.baseline!r} was not timed in {new_path}; "
            f"timed: {', '.join(sorted(timed))}"
        )
    within = None if previous is not None else _a_b(args, results, timed, str(new_path))
    if previous is not None and args.impl:
        _check_names(args.impl, timed | set(previous["implementation"].dropna()), "either run")
    out = Path(args.out) if args.out else default_out(new_path)
    with locked(out):  # a run (or another report) writing there is refused, named
        path = write_report(
            results,
            out,
            previous=previous,
            previous_label=str(old_path or ""),
            baseline=args.baseline,
            threshold=args.threshold,
            sources=[str(p) for p in ([old_path] if old_path else []) + [new_path]],
            gated=tuple(args.impl),
            correct=args.drift_correction,
            within=within,
        )
    print(f"Report: {path}")
    runs = {"OLD": previous, "NEW": results} if previous is not None else {"the run": results}
    for label, run in runs.items():
        said = busy_warning(run.attrs.get("metadata"))
        if said:
            _warn(f"{label}: {said}")
    if within is not None:
        print(f"A/B in one run, each against {args.baseline} ({within.how}):")
        _print_table(within.table, args.threshold, True, args.fail_on_slowdown)
        lost = _print_lost(within.lost, list(within.names), args)
        return _gate(args, within.table, lost)
    if previous is None:
        return 0
    for text in mismatch.differences(previous.attrs["metadata"], results.attrs["metadata"]):
        _warn(f"the runs differ in {text}: part of any change may come from that")
    table = compare.compare(
        previous,
        results,
        args.threshold,
        tuple(args.impl),
        args.drift_correction,
        args.fail_on_noisy,
    )
    if not table.empty:
        print(compare.drift.describe(table.attrs["drift"], args.drift_correction))
    _print_table(table, args.threshold, False, args.fail_on_slowdown)
    lost = _print_lost(compare.lost(previous, results), list(args.impl), args)
    return _gate(args, table, lost)


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 1 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a ratio above 1, such as 1.2; got {text!r}")
    return value


def add_report_parser(sub) -> None:
    """Add the ``report`` subcommand to the ``gradrace`` parser."""
    from gradrace.reports.compare import THRESHOLD

    p = sub.add_parser(
        "report",
        help="write the HTML report of a results file (a second one: compare the two)",
        description="Write DIR/index.html (and a PNG per plot) from a gradrace results folder or "
        "file, or from a file written by pytest --benchmark-only --benchmark-json=FILE. With two "
        "files (OLD NEW) the report of NEW shows its per-case ratios to OLD.",
    )
    p.add_argument(
        "results",
        nargs="+",
        metavar="RESULTS",
        help="results folder, results.json/.csv or pytest-benchmark JSON; "
        "give OLD NEW to compare two runs",
    )
    p.add_argument("--compare", metavar="OLD", help="an older run to compare RESULTS with")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: the run's folder, or NAME-report beside a "
        "pytest-benchmark file)",
    )
    p.add_argument(
        "--baseline",
        default="numpy-dot",
        help="the implementation speedups are relative to (default numpy-dot); with one run, "
        "NAME@old compares the other versions of NAME timed in that run with it (A/B)",
    )
    p.add_argument(
        "--threshold",
        type=_threshold,
        default=THRESHOLD,
        metavar="RATIO",
        help=f"flag a case whose time grew by more than this factor (default {THRESHOLD})",
    )
    p.add_argument(
        "--fail-on-slowdown",
        action="store_true",
        help="exit with status 1 when a compared case is slower: its ratio's 95 %% interval "
        "lies above the threshold",
    )
    p.add_argument(
        "--fail-on-noisy",
        action="store_true",
        help="with --fail-on-slowdown, fail on a slower (noisy) case too (its ratio is above "
        "the threshold but its interval reaches below it), and on a parallel implementation "
        "slower while a run's machine was busy",
    )
    p.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="NAME",
        help="compare (A/B in one run) or gate on only this implementation (repeatable)",
    )
    p.add_argument(
        "--no-drift-correction",
        dest="drift_correction",
        action="store_false",
        help="compare two runs' times as measured, without dividing out the machine's drift",
    )
    p.set_defaults(func=cmd_report)

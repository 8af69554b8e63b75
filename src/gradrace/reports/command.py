"""``gradrace report``: the HTML report of a results file, or of two runs compared.

``gradrace report RUN`` reports one run (a gradrace results folder or file, or a
``pytest --benchmark-json`` file); ``gradrace report OLD NEW`` (or ``NEW --compare
OLD``) reports NEW with its per-case ratios to OLD, slowdowns beyond ``--threshold``
flagged. The exit status is 1 with ``--fail-on-slowdown`` when a case got slower beyond
the noise (the two runs' interquartile ranges do not overlap).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def cmd_report(args) -> int:
    from gradrace.reports import compare, write_report
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
    out = Path(args.out) if args.out else default_out(new_path)
    path = write_report(
        results,
        out,
        previous=previous,
        previous_label=str(old_path or ""),
        baseline=args.baseline,
        threshold=args.threshold,
        sources=[str(p) for p in ([old_path] if old_path else []) + [new_path]],
    )
    print(f"Report: {path}")
    if previous is None:
        return 0
    table = compare.compare(previous, results, args.threshold)
    print(compare.summarize(table, args.threshold))
    slower = table[table["verdict"] == "slower"]
    for row in slower.itertuples():
        print(
            f"  slower: {row.implementation} m={row.m} n={row.n} k={row.k} {row.dtype}: "
            f"{row.ratio:.2f}× {row.noise}".rstrip(),
            file=sys.stderr,
        )
    beyond_noise = slower[slower["noise"] == ""]
    return 1 if args.fail_on_slowdown and len(beyond_noise) else 0


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
        help="the implementation speedups are relative to (default numpy-dot)",
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
        help="exit with status 1 when a compared case is slower beyond the noise",
    )
    p.set_defaults(func=cmd_report)

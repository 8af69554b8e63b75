"""``gradrace report``: the HTML report of a results file (or of two, compared)."""

from __future__ import annotations

from pathlib import Path


def cmd_report(args) -> int:
    from gradrace.bench.results import load_results
    from gradrace.reports import write_report

    results = load_results(args.results[0])
    out = Path(args.out) if args.out else Path(args.results[0]).resolve().parent
    path = write_report(results, out)
    print(f"Report: {path}")
    return 0


def add_report_parser(sub) -> None:
    """Add the ``report`` subcommand to the ``gradrace`` parser."""
    p = sub.add_parser("report", help="write the HTML report of a results file")
    p.add_argument("results", nargs="+", help="results.json / folder (a second one to compare)")
    p.add_argument("--out", help="output folder (default: beside the results)")
    p.set_defaults(func=cmd_report)

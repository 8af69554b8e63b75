"""Reports from results: tables, plots and the self-contained HTML page.

``write_report(results, out)`` is what ``gradrace run`` calls at its end and what
``gradrace report`` calls on a file: it writes ``out/index.html``, a PNG per plot
beside it, and ``summary.txt`` (the text printed at the end of a run).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gradrace.reports.tables import format_summary

if TYPE_CHECKING:
    from gradrace.reports.compare import WithinRun


def write_report(
    results: pd.DataFrame,
    out: str | Path,
    *,
    previous: pd.DataFrame | None = None,
    previous_label: str = "the previous run",
    baseline: str = "numpy-dot",
    threshold: float | None = None,
    sources: list[str] | None = None,
    gated: tuple[str, ...] = (),
    correct: bool = True,
    within: WithinRun | None = None,
) -> Path:
    """Write the report for ``results`` into ``out``; return the path of ``index.html``.

    With ``previous`` (another run's results) the report also compares the two: per-case
    ratios, slowdowns beyond ``threshold`` (default 1.2×) flagged, the machine's drift
    divided out unless ``correct`` is False, the gate limited to ``gated`` when given.
    With ``within`` (``compare.within_run``: versions of one implementation timed in
    ``results``) it shows that A/B comparison, as ``gradrace report`` prints it.
    """
    from gradrace.reports import compare, html, limits
    from gradrace.reports.plots import write_atomically

    limits.check_rows(results)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = (format_summary(results) + "\n").encode("utf-8")
    write_atomically(out / "summary.txt", summary)
    options = html.Options(
        baseline=baseline,
        previous=previous,
        previous_label=previous_label,
        threshold=threshold or compare.THRESHOLD,
        sources=list(sources or []),
        gated=tuple(gated),
        correct=correct,
        within=within,
    )
    return html.render(results, out, options)

"""Reports from results: tables, plots and the self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gradrace.reports.tables import format_summary


def write_report(results: pd.DataFrame, out: str | Path) -> Path:
    """Write the report for ``results`` into ``out``; return the main file's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.txt"
    path.write_text(format_summary(results) + "\n", encoding="utf-8")
    return path

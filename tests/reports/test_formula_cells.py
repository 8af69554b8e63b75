"""The report's text files and CSV download neutralise cells a spreadsheet would run."""

import base64
import re

from synthetic_results import make_results

from gradrace.reports import write_report


def test_summary_txt_and_the_reports_csv_download_neutralise_text_cells(tmp_path):
    results = make_results()
    results.loc[results["implementation"] == "numba", "implementation"] = "=numba"
    results.loc[results["status"] == "error", "message"] = "@SUM(A1:A9)"
    path = write_report(results, tmp_path)
    summary = (tmp_path / "summary.txt").read_text()
    assert "'=numba" in summary and " =numba" not in summary
    assert ": '@SUM(A1:A9)" in summary
    uri = re.search(r"data:text/csv;base64,([A-Za-z0-9+/=]+)", path.read_text()).group(1)
    csv = base64.b64decode(uri).decode("utf-8")
    assert "'=numba" in csv and "'@SUM(A1:A9)" in csv
    assert not re.search(r"(^|,)=numba", csv, re.M)

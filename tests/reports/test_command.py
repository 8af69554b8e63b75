"""``gradrace report``: one file, two files compared, a pytest-benchmark file."""

from __future__ import annotations

import pytest

from gradrace.bench.results import ResultsWriter
from gradrace.cli import main


def _save(results, folder):
    ResultsWriter(folder, results.attrs["metadata"], results.to_dict("records")).write()
    return folder


def test_report_of_a_run_folder(tmp_path, results, capsys):
    run = _save(results, tmp_path / "run")
    assert main(["report", str(run)]) == 0
    assert (run / "index.html").exists() and (run / "time-vs-m.png").exists()
    assert f"Report: {run / 'index.html'}" in capsys.readouterr().out


def test_compare_two_runs_flags_slowdowns(tmp_path, results, capsys):
    old = _save(results, tmp_path / "old")
    slower = results.copy()
    slower.loc[slower["implementation"] == "numba", "median_s"] *= 3
    new = _save(slower, tmp_path / "new")
    assert main(["report", str(old), str(new), "--out", str(tmp_path / "cmp")]) == 0
    captured = capsys.readouterr()
    assert "slower: numba" in captured.err and "3.00×" in captured.err
    page = (tmp_path / "cmp" / "index.html").read_text(encoding="utf-8")
    assert '<section id="comparison">' in page and 'id="comparison-table"' in page
    assert page.count(">slower") >= 14 and "3×" in page
    assert (tmp_path / "cmp" / "compare.png").exists()
    assert (
        main(
            [
                "report",
                str(new),
                "--compare",
                str(old),
                "--out",
                str(tmp_path / "c2"),
                "--fail-on-slowdown",
            ]
        )
        == 1
    )


def test_report_of_a_pytest_benchmark_file(tmp_path, benchmark_json):
    out = tmp_path / "from-pytest"
    assert main(["report", str(benchmark_json), "--out", str(out)]) == 0
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "From a pytest-benchmark file" in page


def test_usage_errors(tmp_path, results):
    run = _save(results, tmp_path / "run")
    assert main(["report", str(run), str(run), str(run)]) == 2
    assert main(["report", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit):
        main(["report", str(run), "--threshold", "0.5"])


def test_fail_on_slowdown_ignores_slowdowns_within_the_noise(tmp_path, results):
    noisy = results.assign(q1_s=results["median_s"] * 0.5, q3_s=results["median_s"] * 2.0)
    old = _save(noisy, tmp_path / "old")
    slower = noisy.copy()
    slower.loc[slower["implementation"] == "numba", "median_s"] *= 1.3  # bands still overlap
    new = _save(slower, tmp_path / "new")
    assert (
        main(
            [
                "report",
                str(new),
                "--compare",
                str(old),
                "--out",
                str(tmp_path / "c"),
                "--fail-on-slowdown",
            ]
        )
        == 0
    )

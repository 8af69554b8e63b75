"""pytest-benchmark files: detected by content and read as a results table."""

from __future__ import annotations

import json

import pytest

from gradrace.bench.results import COLUMNS
from gradrace.reports.inputs import default_out, load_any
from gradrace.reports.pytest_json import from_pytest_benchmark, is_pytest_benchmark


def test_real_benchmark_file_becomes_results(benchmark_json):
    payload = json.loads(benchmark_json.read_text())
    assert is_pytest_benchmark(payload)
    frame = load_any(benchmark_json)
    assert list(frame.columns) == COLUMNS
    assert set(frame["implementation"]) == {"numpy-dot", "einsum", "python-loops"}
    assert len(frame) == 3 * 4 and (frame["status"] == "ok").all()
    bench = payload["benchmarks"][0]
    row = frame[(frame["implementation"] == bench["extra_info"]["implementation"])
                & (frame["m"] == bench["extra_info"]["m"])
                & (frame["n"] == bench["extra_info"]["n"])].iloc[0]  # fmt: skip
    assert row["median_s"] == bench["stats"]["median"]
    assert row["iqr_s"] == bench["stats"]["iqr"] and row["number"] == bench["stats"]["iterations"]
    assert row["bandwidth_gbs"] == pytest.approx(8 * row["m"] * row["n"] / row["median_s"] / 1e9)
    assert frame.groupby(["m", "n"])["ratio_to_fastest"].min().eq(1.0).all()
    meta = frame.attrs["metadata"]
    assert meta["source"] == "pytest-benchmark" and meta["machine"]["bandwidth_gbs"] is None


def test_benchmarks_of_other_suites_are_counted_not_read():
    ours = {"extra_info": {"implementation": "a", "m": 10, "n": 2, "k": 1, "dtype": "float64"},
            "stats": {"median": 1e-6, "min": 1e-6, "mean": 1e-6, "iqr": 0.0, "rounds": 3,
                      "iterations": 5}}  # fmt: skip
    payload = {"machine_info": {}, "benchmarks": [ours, {"extra_info": {}, "stats": {}}]}
    frame = from_pytest_benchmark(payload)
    assert len(frame) == 1 and frame.attrs["metadata"]["ignored_benchmarks"] == 1


def test_file_without_gradrace_benchmarks_is_refused():
    with pytest.raises(ValueError, match="extra_info"):
        from_pytest_benchmark({"machine_info": {}, "benchmarks": [{"extra_info": {}}]})


def test_gradrace_results_and_csv_are_still_read(tmp_path, results):
    from gradrace.bench.results import ResultsWriter

    writer = ResultsWriter(tmp_path, results.attrs["metadata"], results.to_dict("records"))
    writer.write()
    assert len(load_any(tmp_path)) == len(results)
    assert load_any(tmp_path / "results.json").attrs["metadata"]["machine"]["bandwidth_gbs"] == 10
    assert load_any(tmp_path / "results.csv").attrs["metadata"] == {}


def test_default_out(tmp_path):
    (tmp_path / "run").mkdir()
    assert default_out(tmp_path / "run") == tmp_path / "run"
    assert default_out(tmp_path / "run" / "results.json") == tmp_path / "run"
    assert default_out(tmp_path / "bench.json") == tmp_path / "bench-report"


def test_rendering_a_pytest_benchmark_file_imports_no_numba_and_no_implementation(
    benchmark_json, tmp_path
):
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from gradrace.cli import main\n"
        f"code = main(['report', {str(benchmark_json)!r}, '--out', {str(tmp_path / 'r')!r}])\n"
        "loaded = [m for m in sys.modules if m == 'numba' or m.startswith('gradrace.implementations')]\n"
        "assert code == 0 and not loaded, (code, loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "r" / "index.html").exists()

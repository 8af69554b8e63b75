"""Results files: versioned, and read without importing any implementation."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from gradrace.bench.results import FORMAT, load_results

ROW = {
    "implementation": "numpy-dot",
    "m": 100,
    "n": 10,
    "k": 1,
    "dtype": "float64",
    "threads": 1,
    "status": "ok",
    "median_s": 1e-5,
    "min_s": 9e-6,
    "iqr_s": 1e-7,
    "q1_s": 9.9e-6,
    "q3_s": 1.01e-5,
    "rounds": 9,
    "number": 100,
    "prepare_s": 0.0,
    "gflops": 0.4,
    "bandwidth_gbs": 0.8,
    "error": 1e-16,
}


def _write(path, metadata):
    path.write_text(json.dumps({"metadata": metadata, "results": [ROW]}), encoding="utf-8")
    return path


def test_a_results_file_before_versions_still_loads_and_reports(tmp_path):
    from gradrace.reports import write_report

    frame = load_results(_write(tmp_path / "results.json", {"cores": 2}))
    assert frame.loc[0, "status"] == "ok" and frame["kind"].isna().all()
    assert "numpy-dot" in write_report(frame, tmp_path / "report").read_text(encoding="utf-8")


def test_a_newer_results_file_gets_a_clear_message(tmp_path):
    path = _write(tmp_path / "results.json", {"format": FORMAT + 1})
    with pytest.raises(ValueError, match=f"results format {FORMAT + 1}, newer than this gradrace"):
        load_results(path)


def test_metadata_must_be_an_object(tmp_path):
    with pytest.raises(ValueError, match="'metadata' must be an object"):
        load_results(_write(tmp_path / "results.json", ["not", "a", "dict"]))


def test_the_limit_is_the_larger_of_the_read_and_the_compute_floor():
    from gradrace.bench.results import derived

    # 4·m·n·k = 4e9 flops at 100 GFLOP/s: a 0.04 s compute floor, above the 0.01 s read
    row = derived(1000, 1000, 1000, "float64", 0.08, read_s=0.01, peak_gflops=100.0)
    assert row["limit_s"] == pytest.approx(0.04)
    assert row["limit_ratio"] == pytest.approx(2.0)
    row = derived(1000, 1000, 1, "float64", 0.02, read_s=0.01, peak_gflops=100.0)
    assert row["limit_s"] == 0.01 and row["limit_ratio"] == pytest.approx(2.0)
    assert math.isnan(derived(10, 10, 1, "float64", 0.02, None)["limit_ratio"])


def test_a_logistic_cases_exps_add_to_its_compute_floor():
    from gradrace.bench.results import derived

    # 4e6 flops at 100 GFLOP/s (4e-5 s) and the exps (1e-3 s): above the 5e-4 s read
    row = derived(10**6, 1, 1, "float64", 2e-3, read_s=5e-4, peak_gflops=100.0, exp_s=1e-3)
    assert row["limit_s"] == pytest.approx(1.04e-3) and row["exp_s"] == 1e-3
    assert row["limit_ratio"] == pytest.approx(2e-3 / 1.04e-3)
    linear = derived(10**6, 1, 1, "float64", 2e-3, read_s=5e-4, peak_gflops=100.0)
    assert linear["limit_s"] == 5e-4 and math.isnan(linear["exp_s"])


def test_samples_are_kept_in_the_json_and_left_out_of_the_csv(tmp_path):
    from gradrace.bench.results import ResultsWriter

    row = {
        **ROW,
        "samples": [1e-5, 1.1e-5, 0.9e-5],
        "read_samples": [1e-6],
        "compute_samples": [2e-3],
    }
    ResultsWriter(tmp_path, {"format": FORMAT}, [row]).write()
    frame = load_results(tmp_path)
    assert frame.loc[0, "samples"] == [1e-5, 1.1e-5, 0.9e-5]
    assert frame.loc[0, "compute_samples"] == [2e-3]
    assert "samples" not in (tmp_path / "results.csv").read_text().splitlines()[0].split(",")


def test_a_file_without_samples_loads_without_them(tmp_path):
    frame = load_results(_write(tmp_path / "results.json", {"format": FORMAT}))
    assert "samples" not in frame and frame.loc[0, "median_s"] == 1e-5


@pytest.mark.parametrize(
    "samples, what",
    [
        ("fast", "a list of numbers"),
        (3, "a list of numbers"),
        ([1e-5, "x"], "a list of numbers"),
        ([[1e-5], [2e-5]], "a list of numbers"),
        ({"a": 1}, "a list of numbers"),
        ([True, False], "a list of numbers"),
        ([1e-5] * 1001, "at most 1,000"),
    ],
)
def test_malformed_samples_are_refused_naming_the_row_and_column(tmp_path, samples, what):
    path = tmp_path / "results.json"
    row = {**ROW, "samples": [1e-5, 1.1e-5], "read_samples": samples}
    path.write_text(json.dumps({"metadata": {"format": FORMAT}, "results": [row]}))
    with pytest.raises(ValueError, match=f"row 1 .*numpy-dot.*'read_samples'.*{what}"):
        load_results(path)


def test_samples_may_be_null_or_hold_nulls_and_non_positive_values(tmp_path):
    path = tmp_path / "results.json"
    row = {**ROW, "samples": None, "read_samples": [-1.0, 0.0, None, 2e-6]}
    path.write_text(json.dumps({"metadata": {"format": FORMAT}, "results": [row]}))
    assert load_results(path).loc[0, "read_samples"] == [-1.0, 0.0, None, 2e-6]


@pytest.mark.parametrize(
    "column, value, what",
    [
        ("m", "100", "'m' must be a whole number of at least 1, not '100'"),
        ("k", 0, "'k' must be a whole number of at least 1, not 0"),
        ("n", 2.5, "'n' must be a whole number"),
        ("median_s", "fast", "'median_s' must be a number, not 'fast'"),
        ("median_s", -1.0, "'median_s' must be a time of at least 0 seconds, not -1.0"),
        ("dtype", "<script>", "'dtype' must be float64 or float32, not '<script>'"),
        ("problem", "quadratic", "'problem' must be one of linear, logistic"),
        ("implementation", 7, ": 'implementation' must be a name, not 7"),
        ("m", None, "'m' must be a whole number of at least 1, not None"),
        ("status", "winner", "'status' must be one of ok, disagrees, error, skipped, n/a"),
    ],
)
def test_a_hand_edited_cell_is_refused_naming_the_row_and_column(tmp_path, column, value, what):
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps({"metadata": {"format": FORMAT}, "results": [{**ROW, column: value}]})
    )
    with pytest.raises(ValueError, match=f"row 1.*{what}".replace("(", r"\(").replace(")", r"\)")):
        load_results(path)


@pytest.mark.parametrize("field", ["machine", "busy", "config", "implementations"])
def test_metadata_fields_a_report_reads_into_must_be_objects(tmp_path, field):
    path = _write(tmp_path / "results.json", {"format": FORMAT, field: "x"})
    with pytest.raises(ValueError, match=f"metadata '{field}' must be an object, not str 'x'"):
        load_results(path)


def test_a_format_that_is_not_a_whole_number_is_refused(tmp_path):
    path = _write(tmp_path / "results.json", {"format": "2"})
    with pytest.raises(ValueError, match="metadata 'format' must be a whole number, not '2'"):
        load_results(path)


def test_a_truncated_file_is_named(tmp_path):
    path = _write(tmp_path / "results.json", {"format": FORMAT})
    path.write_text(path.read_text()[:40])
    with pytest.raises(ValueError, match=r"results\.json is not readable JSON \(cut short"):
        load_results(path)


def test_two_rows_for_one_case_are_refused(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"metadata": {"format": FORMAT}, "results": [ROW, ROW]}))
    with pytest.raises(ValueError, match=r"row 2 \(numpy-dot\) measures the same case"):
        load_results(path)


def test_a_csv_keeps_n_a_as_a_status_and_a_kind(tmp_path):
    path = tmp_path / "results.csv"
    pd.DataFrame([{**ROW, "status": "n/a", "kind": "n/a", "median_s": None}]).to_csv(
        path, index=False
    )
    loaded = load_results(path)
    assert loaded.loc[0, "status"] == "n/a" and loaded.loc[0, "kind"] == "n/a"

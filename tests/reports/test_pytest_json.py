"""pytest-benchmark files: detected by content and read as a results table."""

from __future__ import annotations

import json

import pytest

from gradrace.bench.results import COLUMNS, MAX_SAMPLES
from gradrace.reports.inputs import default_out, load_any
from gradrace.reports.pytest_json import from_pytest_benchmark, is_pytest_benchmark


def test_real_benchmark_file_becomes_results(benchmark_json):
    payload = json.loads(benchmark_json.read_text())
    assert is_pytest_benchmark(payload)
    frame = load_any(benchmark_json)
    assert list(frame.columns) == [*COLUMNS, "samples"]  # --benchmark-json keeps the rounds
    assert set(frame["implementation"]) == {"numpy-dot", "einsum", "python-loops"}
    assert len(frame) == 3 * 4 and (frame["status"] == "ok").all()
    bench = payload["benchmarks"][0]
    row = frame[
        (frame["implementation"] == bench["extra_info"]["implementation"])
        & (frame["m"] == bench["extra_info"]["m"])
        & (frame["n"] == bench["extra_info"]["n"])
    ].iloc[0]
    assert row["median_s"] == bench["stats"]["median"]
    assert row["iqr_s"] == bench["stats"]["iqr"] and row["number"] == bench["stats"]["iterations"]
    assert row["samples"] == bench["stats"]["data"]
    assert row["bandwidth_gbs"] == pytest.approx(8 * row["m"] * row["n"] / row["median_s"] / 1e9)
    assert frame.groupby(["m", "n"])["ratio_to_fastest"].min().eq(1.0).all()
    meta = frame.attrs["metadata"]
    assert meta["source"] == "pytest-benchmark" and meta["machine"]["bandwidth_gbs"] is None


def test_benchmarks_of_other_suites_are_counted_not_read():
    ours = {
        "extra_info": {"implementation": "a", "m": 10, "n": 2, "k": 1, "dtype": "float64"},
        "stats": {
            "median": 1e-6,
            "min": 1e-6,
            "mean": 1e-6,
            "iqr": 0.0,
            "rounds": 3,
            "iterations": 5,
        },
    }
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


def _bench(name="test_grad[numpy-dot-10-2]", **stats) -> dict:
    return {
        "name": name,
        "fullname": f"tests/benchmarks/test_gradient.py::{name}",
        "extra_info": {"implementation": "numpy-dot", "m": 10, "n": 2, "k": 1, "dtype": "float64"},
        "stats": {"median": 1e-6, "min": 1e-6, "mean": 1e-6, "iqr": 0.0, "rounds": 3, **stats},
    }


def _refusal(payload) -> str:
    with pytest.raises(ValueError) as info:
        from_pytest_benchmark({"machine_info": {}, **payload}, "bench.json")
    return str(info.value)


FULL = "'tests/benchmarks/test_gradient.py::test_grad[numpy-dot-10-2]'"


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ({"median": None}, f"bench.json: benchmark {FULL}: stats.median is missing"),
        ({"iqr": None}, f"bench.json: benchmark {FULL}: stats.iqr is missing"),
        (
            {"median": 0},
            f"benchmark {FULL}: stats.median must be a finite number greater than 0, got 0",
        ),
        ({"median": "fast"}, "stats.median must be a finite number greater than 0, got 'fast'"),
        ({"iqr": -1.0}, "stats.iqr must be a finite number of at least 0, got -1.0"),
        ({"data": [1e-6, 0.0]}, "stats.data must be a list of times greater than 0"),
        ({"data": "fast"}, "stats.data must be a list of times greater than 0"),
    ],
)
def test_a_bad_statistic_names_the_field_and_the_benchmark(stats, message):
    bench = _bench(**stats)
    bench["stats"] = {k: v for k, v in bench["stats"].items() if v is not None}
    assert message in _refusal({"benchmarks": [bench]})


def test_extra_info_of_the_wrong_type_names_the_field_and_the_benchmark():
    bench = _bench()
    bench["extra_info"] = ["numpy-dot", 10, 2]
    assert _refusal({"benchmarks": [bench]}) == (
        f"bench.json: benchmark {FULL}: extra_info must be a JSON object, got list"
    )


def test_stats_of_the_wrong_type_and_a_bad_size_are_named():
    bench = _bench()
    bench["stats"] = [1e-6]
    assert f"benchmark {FULL}: stats must be a JSON object, got list" in _refusal(
        {"benchmarks": [bench]}
    )
    bench = _bench()
    bench["extra_info"]["m"] = "ten"
    assert "extra_info.m must be a whole number of at least 1, got 'ten'" in _refusal(
        {"benchmarks": [bench]}
    )


def test_metadata_of_the_wrong_type_is_named():
    assert "bench.json: machine_info must be a JSON object, got list" in _refusal(
        {"benchmarks": [_bench()], "machine_info": ["x"]}
    )
    assert "bench.json: commit_info must be a JSON object, got str" in _refusal(
        {"benchmarks": [_bench()], "commit_info": "abc"}
    )
    assert "bench.json: benchmarks must be a JSON list, got dict" in _refusal(
        {"benchmarks": {"a": 1}}
    )


def test_a_results_file_with_metadata_of_the_wrong_type_is_refused(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"metadata": [1, 2], "results": []}))
    with pytest.raises(ValueError, match="'metadata' must be an object, not list"):
        load_any(path)


def test_report_command_says_which_benchmark_is_bad(tmp_path, capsys):
    from gradrace.cli import main

    path = tmp_path / "bench.json"
    bench = _bench()
    del bench["stats"]["median"]
    path.write_text(json.dumps({"machine_info": {}, "benchmarks": [bench]}))
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 2
    assert f"benchmark {FULL}: stats.median is missing" in capsys.readouterr().err


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


def test_rounds_saved_with_the_data_become_samples_with_their_interval():
    rounds = [1e-6, 1.2e-6, 0.9e-6, 1.1e-6, 1e-6]
    frame = from_pytest_benchmark({"machine_info": {}, "benchmarks": [_bench(data=rounds)]})
    row = frame.iloc[0]
    assert row["samples"] == rounds
    assert row["ci_low_s"] <= 1e-6 <= row["ci_high_s"]
    many = from_pytest_benchmark(
        {"machine_info": {}, "benchmarks": [_bench(data=[1e-6] * (3 * MAX_SAMPLES))]}
    )
    assert len(many.iloc[0]["samples"]) == MAX_SAMPLES
    bare = from_pytest_benchmark({"machine_info": {}, "benchmarks": [_bench()]})
    assert "samples" not in bare


def test_two_files_saved_with_the_data_are_compared_from_their_rounds(tmp_path, capsys):
    import json

    from gradrace.cli import main

    def save(name, scale):
        rounds = [scale * t for t in (1e-5, 1.05e-5, 0.98e-5, 1.02e-5, 1.01e-5, 0.99e-5, 1e-5)]
        stats = {"median": scale * 1e-5, "iqr": scale * 3e-8, "data": rounds}
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"machine_info": {}, "benchmarks": [_bench(**stats)]}))
        return str(path)

    old, new = save("old", 1.0), save("new", 2.0)
    assert main(["report", new, "--compare", old, "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "1 slower by more than 20 %" in out and "from quartiles" not in out
    assert "machine's speed in each is unknown" in out  # one implementation: no reference
    page = (tmp_path / "r" / "index.html").read_text()
    assert "No limit is drawn" in page and "The solid black line" not in page  # no floors
    assert '"× the limit" is unknown here' in page
    assert "one implementation only, so nothing to compare it with" in page  # no heatmap


def test_a_b_in_one_pytest_benchmark_file_is_not_paired_by_round(benchmark_json, tmp_path, capsys):
    from gradrace.cli import main
    from gradrace.reports.compare import within_run

    within = within_run(load_any(benchmark_json), "numpy-dot", ["einsum"])
    assert not within.paired and "one after the other" in within.how
    assert "paired rounds" not in set(within.table["how"])  # each side's rounds on its own
    out = tmp_path / "r"
    args = ["report", str(benchmark_json), "--baseline", "numpy-dot", "--impl", "einsum"]
    args += ["--out", str(out)]
    assert main(args) in (0, 1)
    assert (
        "(not paired: pytest-benchmark timed them one after the other)" in capsys.readouterr().out
    )
    page = (out / "index.html").read_text()
    assert "same interleaved rounds as" not in page and "not in shared rounds" in page

"""``gradrace report``: one file, two files compared, a pytest-benchmark file."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from gradrace.bench.results import ResultsWriter, load_results
from gradrace.cli import main


def _save(results, folder):
    ResultsWriter(folder, results.attrs["metadata"], results.to_dict("records")).write()
    return folder


def test_report_of_a_run_folder(tmp_path, results, capsys):
    run = _save(results, tmp_path / "run")
    assert main(["report", str(run)]) == 0
    assert (run / "index.html").exists() and (run / "time-vs-m.png").exists()
    assert f"Report: {run / 'index.html'}" in capsys.readouterr().out


def test_a_report_into_a_folder_a_run_holds_is_refused_naming_it(tmp_path, results, capsys):
    from gradrace.bench.lock import locked

    run = _save(results, tmp_path / "run")
    with locked(run):  # as a run in progress holds its folder
        assert main(["report", str(run)]) == 3
    assert "is in use by gradrace process" in capsys.readouterr().err
    assert not (run / "index.html").exists()
    assert main(["report", str(run)]) == 0  # once the run is over


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


def test_a_noisy_slowdown_is_flagged_and_fails_the_gate_only_with_fail_on_noisy(
    tmp_path, results, capsys
):
    noisy = results.assign(q1_s=results["median_s"] * 0.5, q3_s=results["median_s"] * 2.0)
    old = _save(noisy, tmp_path / "old")
    slower = noisy.copy()
    slower.loc[slower["implementation"] == "numba", "median_s"] *= 1.6  # bands still overlap
    new = _save(slower, tmp_path / "new")
    args = ["report", str(new), "--compare", str(old), "--out", str(tmp_path / "c")]
    assert main([*args, "--fail-on-slowdown"]) == 0
    assert "slower (noisy): numba" in capsys.readouterr().err
    assert main([*args, "--fail-on-slowdown", "--fail-on-noisy"]) == 1


VERSIONS = Path(__file__).resolve().parents[1] / "plugins" / "versions.py"


def test_a_b_in_one_run_from_plugins_renamed_at_load(tmp_path, capsys):
    run = tmp_path / "ab"
    plugins = ["--plugin", f"{VERSIONS}:my_numpy@old", "--plugin", f"{VERSIONS}:my_numpy@new"]
    grid = ["--m", "50,200", "--n", "3", "--budget", "0.1"]
    assert (
        main(["run", "--no-entry-points", "--no-isolate", *plugins, *grid, "--out", str(run)]) == 0
    )
    frame = load_results(run)
    assert {"my_numpy@old", "my_numpy@new"} <= set(frame["implementation"])
    assert frame["samples"].map(len).min() >= 3
    capsys.readouterr()
    assert main(["report", str(run), "--baseline", "my_numpy@old"]) == 0
    out = capsys.readouterr().out
    assert "A/B in one run, each against my_numpy@old (paired by round)" in out
    assert "2 cases in common" in out
    code = main(
        [
            "report",
            str(run),
            "--baseline",
            "my_numpy@old",
            "--impl",
            "my_numpy@new",
            "--fail-on-slowdown",
        ]
    )
    assert code in (0, 1)  # timing decides; the names and the table are what is tested
    page = (run / "index.html").read_text(encoding="utf-8")
    assert "my_numpy@new" in page


def test_a_b_needs_another_version_or_impl(tmp_path, results, capsys):
    run = _save(results, tmp_path / "run")
    assert main(["report", str(run), "--fail-on-slowdown"]) == 2
    assert "--fail-on-slowdown needs something to compare" in capsys.readouterr().err
    assert main(["report", str(run), "--baseline", "numba", "--impl", "nope"]) == 2
    assert "--impl 'nope' was not timed" in capsys.readouterr().err


def _scaled(results, factor: float):
    out = results.copy()
    for column in ("median_s", "q1_s", "q3_s", "read_s", "compute_s"):
        out[column] = out[column] * factor
    return out


def test_the_drift_is_printed_and_divided_out(tmp_path, results, capsys):
    old = _save(results, tmp_path / "old")
    new = _save(_scaled(results, 1.3), tmp_path / "new")
    args = ["report", str(new), "--compare", str(old), "--out", str(tmp_path / "c")]
    assert main([*args, "--fail-on-slowdown"]) == 0
    assert "NEW ran on a machine 30 % slower; times corrected." in capsys.readouterr().out
    assert main([*args, "--fail-on-slowdown", "--no-drift-correction"]) == 1
    page = (tmp_path / "c" / "index.html").read_text(encoding="utf-8")
    assert "times not corrected" in page


def test_impl_limits_the_gate(tmp_path, results, capsys):
    old = _save(results, tmp_path / "old")
    slower = results.copy()
    slower.loc[slower["implementation"] == "numba", "median_s"] *= 3
    new = _save(slower, tmp_path / "new")
    args = [
        "report",
        str(new),
        "--compare",
        str(old),
        "--out",
        str(tmp_path / "c"),
        "--fail-on-slowdown",
    ]
    assert main([*args, "--impl", "einsum"]) == 0
    assert main([*args, "--impl", "numba"]) == 1
    assert main([*args, "--impl", "no-such"]) == 2
    assert "--impl 'no-such' was not timed in either run" in capsys.readouterr().err


def test_runs_that_differ_are_warned_of(tmp_path, results, capsys):
    old = _save(results, tmp_path / "old")
    other = results.copy()
    meta = copy.deepcopy(results.attrs["metadata"])
    meta["numpy"], meta["cores"] = "0.0-other", 64
    meta.setdefault("config", {}).setdefault("settings", {})["threads"] = 99
    meta["busy"] = {
        "warning": "the machine was busy: load 2.3 on 2 cores; comparisons are less certain"
    }
    other.attrs["metadata"] = meta
    new = _save(other, tmp_path / "new")
    assert main(["report", str(new), "--compare", str(old), "--out", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err
    assert "the runs differ in numpy:" in err and "0.0-other in NEW" in err
    assert "the runs differ in cores:" in err and "the runs differ in threads:" in err
    assert "NEW: the machine was busy: load 2.3 on 2 cores" in err


def _lost(results, name: str, status: str, where):
    out = results.copy()
    at = (out["implementation"] == name) & where(out)
    out.loc[at, "status"] = status
    out.loc[at, "median_s"] = float("nan")
    out.loc[at, "message"] = f"{status} on purpose"
    return out


@pytest.mark.parametrize("status", ["error", "disagrees"])
def test_a_case_the_new_run_lost_fails_the_gate(tmp_path, results, capsys, status):
    old = _save(results, tmp_path / "old")
    lost = _lost(results, "numba", status, lambda r: r["m"] == 100_000)
    new = _save(lost, tmp_path / "new")
    args = ["report", str(new), "--compare", str(old), "--out", str(tmp_path / "c")]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"not timed: numba m=100000 n=1 k=1 problem=linear float64: {status}" in err
    assert main([*args, "--fail-on-slowdown"]) == 1
    assert main([*args, "--fail-on-slowdown", "--impl", "einsum"]) == 0


def test_a_case_skipped_over_the_budget_is_listed_and_fails_only_the_strict_gate(
    tmp_path, results, capsys
):
    old = _save(results, tmp_path / "old")
    lost = _lost(results, "numba", "skipped", lambda r: r["m"] == 100_000)
    new = _save(lost, tmp_path / "new")
    args = ["report", str(new), "--compare", str(old), "--out", str(tmp_path / "c")]
    assert main([*args, "--fail-on-slowdown"]) == 0
    assert "not timed: numba m=100000 n=1 k=1 problem=linear float64: skipped" in (
        capsys.readouterr().err
    )
    assert main([*args, "--fail-on-slowdown", "--fail-on-noisy"]) == 1


def test_a_version_not_timed_where_its_baseline_was_fails_the_a_b_gate(tmp_path, results, capsys):
    lost = _lost(results, "einsum", "skipped", lambda r: r["m"] == 100_000)
    run = _save(lost, tmp_path / "run")
    args = ["report", str(run), "--baseline", "numba", "--impl", "einsum"]
    assert main(args) == 0
    assert "not timed: einsum m=100000 n=1 k=1 problem=linear float64: skipped" in (
        capsys.readouterr().err
    )
    assert main([*args, "--fail-on-slowdown"]) == 1
    skipped = (
        "not timed: einsum m=100000 n=1 k=1 problem=linear float64: skipped: skipped on purpose"
    )
    err = capsys.readouterr().err  # over the budget: slower by an unknown amount, as noisy
    assert f"{skipped}\n" in err and f"{skipped}  (fails the gate)" not in err
    assert main([*args, "--fail-on-slowdown", "--fail-on-noisy"]) == 1
    assert f"{skipped}  (fails the gate)" in capsys.readouterr().err


def test_an_a_b_gate_with_nothing_timed_on_one_side_fails(tmp_path, results, capsys):
    lost = _lost(results, "einsum", "disagrees", lambda r: r["m"] > 0)
    run = _save(lost, tmp_path / "run")
    args = ["report", str(run), "--baseline", "numba", "--impl", "einsum", "--fail-on-slowdown"]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "no agreeing case in common" in captured.out and "The two runs" not in captured.out


def test_a_gate_that_compares_nothing_fails(tmp_path, results, capsys):
    broken_baseline = _lost(results, "numba", "disagrees", lambda r: r["m"] > 0)
    run = _save(broken_baseline, tmp_path / "run")
    args = ["report", str(run), "--baseline", "numba", "--impl", "einsum"]
    assert main(args) == 0
    assert main([*args, "--fail-on-slowdown"]) == 1
    assert "--fail-on-slowdown: nothing was compared" in capsys.readouterr().err
    logistic = results.assign(problem="logistic")
    logistic.attrs = results.attrs
    old, new = _save(results, tmp_path / "old"), _save(logistic, tmp_path / "new")
    two_runs = ["report", str(new), "--compare", str(old), "--out", str(tmp_path / "c")]
    assert main(two_runs) == 0
    assert main([*two_runs, "--fail-on-slowdown"]) == 1


def test_the_page_and_the_terminal_give_one_verdict_on_a_busy_machine(tmp_path, results, capsys):
    import html

    meta = copy.deepcopy(results.attrs["metadata"])
    meta["busy"] = {"busy": True, "warning": "busy", "other_threads": 1.0, "cores": 2, "load": 1}
    before = results.copy()
    before.attrs["metadata"] = meta  # both runs busy
    old = _save(before, tmp_path / "old")
    slower = before.copy()
    slower.loc[slower["implementation"].isin(["numba", "numpy-dot"]), "median_s"] *= 3
    new = _save(slower, tmp_path / "new")  # numba serial: slower; numpy-dot: busy machine
    out = tmp_path / "cmp"
    main(["report", str(new), "--compare", str(old), "--out", str(out)])
    summary = next(s for s in capsys.readouterr().out.splitlines() if "in common" in s)
    assert " 0 slower by more than" not in summary and "slower on a busy machine" in summary
    page = html.unescape((out / "index.html").read_text(encoding="utf-8"))
    assert summary in page


def test_a_busy_run_says_so_in_the_headline_and_beside_the_comparison(tmp_path, results):
    import html

    meta = copy.deepcopy(results.attrs["metadata"])
    meta["busy"] = {"busy": True, "warning": "the machine was busy: load 3.6 on 2 cores"}
    busy = results.copy()
    busy.attrs["metadata"] = meta
    old, new = _save(results, tmp_path / "old"), _save(busy, tmp_path / "new")
    assert main(["report", str(new), "--compare", str(old), "--out", str(tmp_path / "c")]) == 0
    page = html.unescape((tmp_path / "c" / "index.html").read_text(encoding="utf-8"))
    headline = page[page.index('<section id="headline">') : page.index('id="comparison"')]
    assert (
        "Measured on a busy machine." in headline and "The machine was busy: load 3.6" in headline
    )
    assert "this run: the machine was busy: load 3.6 on 2 cores" in page
    quiet = main(["report", str(old), "--out", str(tmp_path / "q")])
    assert quiet == 0 and "busy machine" not in (tmp_path / "q" / "index.html").read_text()

"""gradrace run as a function: results files, budgets, resume, memory refusal, ranking."""

import json
from pathlib import Path

import numpy as np
import pytest

from gradrace import load_results, run
from gradrace.bench import problem as problem_module
from gradrace.bench.problem import ProblemTooLarge
from gradrace.bench.progress import Progress
from gradrace.bench.results import COLUMNS
from gradrace.bench.worker import Worker, WorkerLost

MISBEHAVING = Path(__file__).resolve().parents[1] / "plugins" / "misbehaving.py"
REQUIRED = [
    "implementation",
    "m",
    "n",
    "k",
    "dtype",
    "threads",
    "status",
    "median_s",
    "min_s",
    "iqr_s",
    "rounds",
    "prepare_s",
    "gflops",
    "bandwidth_gbs",
    "error",
]
FAST = {"isolate": False, "entry_points": False, "threads": 1, "quick": True}


def test_run_writes_csv_and_json_with_every_column_and_metadata(tmp_path):
    frame = run(m=[10, 200], n=[3], k=[1, 2], impl=["numpy-dot", "numba"], out=tmp_path, **FAST)
    assert len(frame) == 2 * 2 * 2 and set(frame["status"]) == {"ok"}
    assert set(REQUIRED) <= set(frame.columns)
    csv = load_results(tmp_path / "results.csv")
    assert list(csv.columns) == COLUMNS and len(csv) == 8
    payload = json.loads((tmp_path / "results.json").read_text())
    meta = payload["metadata"]
    for key in (
        "command",
        "date",
        "gradrace",
        "python",
        "numpy",
        "numba",
        "cpu",
        "cores",
        "blas",
        "env",
        "machine",
        "config",
        "check",
    ):
        assert key in meta, key
    assert meta["machine"]["bandwidth_gbs"] > 0
    row = frame.iloc[0]
    assert row["rounds"] >= 3 and row["number"] >= 1 and row["min_s"] <= row["median_s"]
    assert row["gflops"] == pytest.approx(
        4 * row["m"] * row["n"] * row["k"] / row["median_s"] / 1e9
    )
    assert row["bandwidth_gbs"] == pytest.approx(8 * row["m"] * row["n"] / row["median_s"] / 1e9)
    assert (frame["threads"] == 1).all()


def test_ratio_to_fastest_ranks_only_agreeing_implementations(tmp_path):
    frame = run(
        m=[50],
        n=[4],
        impl=["numpy-dot", "einsum", "wrong-values"],
        plugins=[f"{MISBEHAVING}:wrong_values"],
        out=tmp_path,
        **FAST,
    )
    by = frame.set_index("implementation")
    assert by.loc["wrong-values", "status"] == "disagrees"
    assert by.loc["wrong-values", "median_s"] > 0  # timed, but
    assert np.isnan(by.loc["wrong-values", "ratio_to_fastest"])  # never ranked
    assert min(by.loc[["numpy-dot", "einsum"], "ratio_to_fastest"]) == 1.0


def test_slow_implementation_is_skipped_at_larger_sizes_with_the_reason(tmp_path):
    frame = run(
        m=[100, 1000, 10000],
        n=[10],
        impl=["numpy-dot", "too-slow"],
        budget=0.004,
        plugins=[f"{MISBEHAVING}:too_slow"],
        out=tmp_path,
        **FAST,
    )
    slow = frame[frame.implementation == "too-slow"].set_index("m")
    assert slow.loc[100, "status"] == "ok"
    assert slow.loc[10000, "status"] == "skipped"
    assert "over the budget" in slow.loc[10000, "message"]
    assert "the budget is 0.004 s (--budget)" in slow.loc[10000, "message"]
    assert (frame[frame.implementation == "numpy-dot"]["status"] == "ok").all()


class StopAfter(Progress):
    """A progress reporter that interrupts the run like Ctrl-C after ``cases`` cases."""

    def __init__(self, total, cases):
        super().__init__(total, bar=False)
        self.stop_after = cases

    def case_done(self, case, rows):
        super().case_done(case, rows)
        if self.done == self.stop_after:
            raise KeyboardInterrupt


def test_interrupted_run_keeps_finished_cases_and_resume_completes_it(tmp_path):
    args = dict(m=[10, 100, 1000], n=[2], impl=["numpy-dot", "einsum"], out=tmp_path, **FAST)
    with pytest.raises(KeyboardInterrupt):
        run(**args, progress=StopAfter(3, cases=2))
    partial = load_results(tmp_path)
    assert sorted(set(partial["m"])) == [10, 100] and len(partial) == 4
    final = run(out=tmp_path, resume=True, progress=Progress(3, bar=False))
    assert len(final) == 6 and sorted(set(final["m"])) == [10, 100, 1000]
    kept = final[final["m"] <= 100].sort_values(["m", "implementation"]).reset_index(drop=True)
    before = partial.sort_values(["m", "implementation"]).reset_index(drop=True)
    np.testing.assert_array_equal(kept["median_s"], before["median_s"])  # not measured again


def test_grid_that_would_not_fit_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(problem_module, "available_memory", lambda: 200 * 2**20)
    with pytest.raises(ProblemTooLarge, match=r"largest case \(m=1000000 n=100 .*needs"):
        run(m=[10, 1_000_000], n=[100], out=tmp_path / "never", **FAST)
    assert not (tmp_path / "never").exists()


def test_a_second_run_into_the_same_folder_is_refused_without_resume(tmp_path):
    run(m=[10], n=[2], impl=["numpy-dot"], out=tmp_path, **FAST)
    with pytest.raises(
        FileExistsError, match="already holds a run's results; continue it with --resume"
    ):
        run(m=[10], n=[2], impl=["numpy-dot"], out=tmp_path, **FAST)


def test_more_threads_than_cores_are_refused(tmp_path):
    from gradrace.bench.machine import cpu_count

    with pytest.raises(ValueError, match=f"--threads {cpu_count() + 1} is more than the"):
        run(m=[10], n=[2], impl=["numpy-dot"], threads=cpu_count() + 1, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_an_out_that_is_a_file_is_refused_saying_so(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(FileExistsError, match="afile is a file, not a folder"):
        run(m=[10], n=[2], impl=["numpy-dot"], out=tmp_path / "afile", **FAST)


def test_results_files_are_readable_by_others(tmp_path):
    run(m=[10], n=[2], impl=["numpy-dot"], out=tmp_path, **FAST)
    assert (tmp_path / "results.json").stat().st_mode & 0o044 == 0o044


def test_giving_one_axis_keeps_the_default_grids_size_cap():
    from gradrace.bench.grids import DEFAULT_MAX_ENTRIES
    from gradrace.bench.runner import build_cases

    cases = build_cases(m=[1_000_000])
    assert cases and max(c.m * c.n for c in cases) <= DEFAULT_MAX_ENTRIES
    assert len(build_cases(m=[10, 100], n=[1, 1000])) == 4  # both given: the full product


def test_plugin_file_paths_are_stored_absolute_so_a_resume_finds_them(tmp_path, monkeypatch):
    monkeypatch.chdir(MISBEHAVING.parent)
    frame = run(
        m=[10],
        n=[2],
        impl=["plain_gradient"],
        plugins=["misbehaving.py:plain_gradient"],
        out=tmp_path / "r",
        **FAST,
    )
    assert list(frame.attrs["metadata"]["config"]["plugins"]) == [f"{MISBEHAVING}:plain_gradient"]


def test_an_implementation_that_failed_the_agreement_check_is_never_ranked(tmp_path):
    plugin = f"{MISBEHAVING.parent / 'slips.py'}:half_lambda_impl"  # wrong only when λ > 0
    frame = run(
        m=[100], n=[3], impl=["numpy-dot", "half-lambda"], plugins=[plugin], out=tmp_path, **FAST
    )
    by = frame.set_index("implementation")
    assert by.loc["numpy-dot", "ratio_to_fastest"] == 1.0
    from gradrace.reports.tables import fastest_per_case, format_summary

    assert set(fastest_per_case(frame)["fastest"]) == {"numpy-dot"}
    assert "Not ranked: half-lambda (failed the agreement check)" in format_summary(frame)


def test_a_course_function_is_timed_on_k1_and_not_applicable_beyond(tmp_path):
    from gradrace.cli import main

    lab = Path(__file__).resolve().parents[1] / "plugins" / "learner" / "lab.py"
    plugin = f"{lab}:compute_gradient_linear_reg"
    frame = run(
        m=[50],
        n=[3],
        k=[1, 2],
        impl=["numpy-dot", "compute_gradient_linear_reg"],
        plugins=[plugin],
        out=tmp_path / "a",
        **FAST,
    )
    by = frame.set_index(["implementation", "k"])
    assert by.loc[("compute_gradient_linear_reg", 1), "status"] == "ok"
    assert by.loc[("compute_gradient_linear_reg", 2), "status"] == "n/a"
    assert by.loc[("compute_gradient_linear_reg", 2), "message"].startswith("handles at most k=1")
    assert by.loc[("numpy-dot", 2), "status"] == "ok"
    check = frame.attrs["metadata"]["check"]
    assert {r["status"] for r in check if r["implementation"] == "numpy-dot"} == {"ok"}
    code = main(
        [
            "run",
            "--no-entry-points",
            "--no-isolate",
            "--quick",
            "--threads",
            "1",
            "--m",
            "50",
            "--n",
            "3",
            "--k",
            "1,2",
            "--plugin",
            plugin,
            "--impl",
            "compute_gradient_linear_reg",
            "--out",
            str(tmp_path / "b"),
        ]
    )
    assert code == 0


def _timed(m, n, median_s, status="ok"):
    return dict(
        implementation="k",
        dtype="float64",
        problem="linear",
        m=m,
        n=n,
        k=1,
        status=status,
        median_s=median_s,
    )


def test_one_small_case_held_up_does_not_skip_the_larger_sizes_alone():
    from gradrace.bench.grids import Case
    from gradrace.bench.runner import _predict_skip

    held_up = _timed(10, 1, 0.014)  # 14 ms for 10 rows: a busy machine, not the work
    fine = _timed(10, 10, 6e-6)
    case = Case(1000, 10, 1, "float64")
    assert _predict_skip("k", case, [held_up, fine], budget_s=0.5) == ("", "")
    kind, why = _predict_skip("k", Case(1000, 1, 1, "float64"), [held_up, fine], budget_s=0.5)
    assert kind == "over-budget" and "from 0.014 s at m=10 n=1" in why  # its only evidence
    slow = _timed(10, 10, 0.01)  # every smaller case over the budget once scaled: skipped
    kind, _ = _predict_skip("k", Case(100_000, 10, 1, "float64"), [held_up, slow], budget_s=0.5)
    assert kind == "over-budget"


def _stub_runner(backend):
    from types import SimpleNamespace

    from gradrace.bench.runner import Runner

    runner = object.__new__(Runner)  # no worker: the backend below answers
    runner.config = SimpleNamespace(settings=SimpleNamespace(threads=1))
    runner.progress = SimpleNamespace(running=lambda *args: None, message=lambda *args: None)
    runner.backend, runner.quarantine, runner.apart, runner.writer = backend, {}, {}, None
    runner.registry = SimpleNamespace(entries={})
    return runner


def test_a_worker_lost_in_a_probes_round_blames_no_one_and_the_case_goes_on():
    from gradrace.bench.grids import Case
    from gradrace.bench.worker import WorkerLost

    class Backend:
        def measure(self, case, names, settings, on_event):
            raise WorkerLost("(read X and Y once)", "time", "the worker process died (code 7)")

    runner = _stub_runner(Backend())
    rows = runner._measure(Case(100, 2, 1, "float64", 1.0), ["a", "b"])
    assert [r["implementation"] for r in rows] == ["a", "b"]
    assert all("lost while it timed (read X and Y once)" in r["message"] for r in rows)
    assert runner.quarantine == {}  # no one is blamed for it


def test_gradrace_failing_on_one_implementations_output_costs_that_one_only():
    from gradrace.bench.grids import Case
    from gradrace.bench.worker import WorkerFailed

    class Backend:
        def measure(self, case, names, settings, on_event):
            if "b" in names:
                raise WorkerFailed("Traceback …\nRecursionError: too deep", "b", "check")
            return [{"implementation": n, "status": "ok"} for n in names]

    rows = _stub_runner(Backend())._measure(Case(100, 2, 1, "float64", 1.0), ["a", "b", "c"])
    status = {r["implementation"]: r["status"] for r in rows}
    assert status == {"b": "error", "a": "ok", "c": "ok"}
    (failed,) = [r for r in rows if r["implementation"] == "b"]
    assert "RecursionError: too deep" in failed["message"]


class _Snipers(Worker):
    """A stand-in worker where each sniper, once it has run, ends the worker on the turn
    of any other implementation that runs after it there (as a thread it left would)."""

    def __init__(self, snipers):  # no process: nothing of Worker's own runs

        self.snipers, self.armed, self.losses, self.groups = set(snipers), [], 0, []

    def measure(self, case, names, settings, on_event):
        self.groups.append(list(names))
        for name in names:
            if self.armed and name not in self.armed:
                self.losses += 1
                raise WorkerLost(name, "time", "the worker process died", tuple(self.armed))
            if name in self.snipers:
                self.armed.append(name)
        return [{"implementation": n, "status": "ok", "message": ""} for n in names]

    def close(self):
        self.armed = []


def test_one_whose_thread_ended_the_worker_on_anothers_turn_is_kept_apart_after():
    from gradrace.bench.grids import Case

    backend = _Snipers(["sniper", "sniper2"])
    runner = _stub_runner(backend)
    rows = runner._measure(Case(10, 2), ["sniper", "victim"])  # lost on victim's turn
    assert backend.losses == 1 and all(r["status"] == "ok" for r in rows)
    rows = runner._measure(Case(20, 2), ["sniper", "victim"])
    assert backend.losses == 1 and backend.groups[-2:] == [["victim"], ["sniper"]]
    note = next(r["message"] for r in rows if r["implementation"] == "sniper")
    assert note.startswith("measured in a worker of its own since its threads")
    runner._measure(Case(30, 2), ["sniper"])  # alone: its thread is left in no worker
    runner._measure(Case(40, 2), ["victim", "sniper"])
    assert backend.losses == 1
    rows = runner._measure(Case(50, 2), ["sniper2", "victim", "sniper"])  # a second one
    assert backend.losses == 2 and "sniper2" in runner.apart  # regrouped, not charged
    assert all(r["status"] == "ok" for r in rows) and not runner.quarantine

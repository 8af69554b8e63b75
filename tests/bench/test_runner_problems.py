"""gradrace run over problems: the problem column, n/a without a version, resume by problem."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_runner import FAST, StopAfter

from gradrace import load_results, run
from gradrace.bench.grids import Case, check_cases
from gradrace.bench.progress import Progress
from gradrace.bench.results import COLUMNS, KEY
from gradrace.bench.runner import RunConfig, build_cases, plain_problem

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
TWO = [f"{PLUGINS / 'two_problems.py'}:both", f"{PLUGINS / 'two_problems.py'}:logistic_only"]
NAMES = ["gram", "two-problems", "logistic-only"]  # gram: linear only


def _run(tmp_path, **more):
    args = dict(m=[10, 100], n=[2], impl=NAMES, plugins=TWO, out=tmp_path, **FAST)
    return run(**{**args, **more})


def test_both_problems_are_timed_with_a_problem_column(tmp_path):
    results = _run(tmp_path, problem=["linear", "logistic"])
    assert "problem" in COLUMNS and "problem" in KEY
    by = results.set_index(["implementation", "problem", "m"])["status"]
    assert by[("two-problems", "linear", 10)] == "ok" == by[("two-problems", "logistic", 100)]
    assert by[("gram", "logistic", 10)] == "n/a" == by[("logistic-only", "linear", 100)]
    message = results.set_index(["implementation", "problem", "m"])["message"]
    assert message[("gram", "logistic", 10)].startswith("implements linear only")
    stored = load_results(tmp_path)
    assert set(stored["problem"]) == {"linear", "logistic"}
    check = stored.attrs["metadata"]["check"]
    assert {r["problem"] for r in check} == {"linear", "logistic"}


def test_the_default_is_linear_without_plugins_and_their_problems_with_them(tmp_path):
    results = run(m=[10], n=[2], impl=["gram", "numpy-dot"], out=tmp_path / "built-ins", **FAST)
    assert set(results["problem"]) == {"linear"}
    assert {r["problem"] for r in results.attrs["metadata"]["check"]} == {"linear"}
    results = _run(tmp_path / "plugins")  # both and logistic-only
    assert set(results["problem"]) == {"linear", "logistic"}


def test_with_no_problem_named_a_logistic_function_given_by_hand_is_timed_as_logistic(tmp_path):
    lab = f"{PLUGINS / 'learner' / 'logistic_lab.py'}:compute_gradient_logistic_reg"
    twice = [lab, lab]  # named twice, loaded once
    impl = ["compute_gradient_logistic_reg", "numpy-dot"]
    results = run(m=[10], n=[2], impl=impl, plugins=twice, out=tmp_path, **FAST)
    assert set(results["problem"]) == {"logistic"}
    assert set(results["status"]) == {"ok"}


def test_each_version_records_its_own_cost_per_problem(tmp_path):
    results = _run(tmp_path, problem=["linear", "logistic"])
    stored = results.attrs["metadata"]["implementations"]["two-problems"]
    assert stored["problems"] == ["linear", "logistic"]
    assert stored["by_problem"]["logistic"]["cost"]["flops"] == "4·m·n·k + a sigmoid per m·k"
    assert stored["by_problem"]["linear"]["cost"]["flops"] == "4·m·n·k"
    assert {"10,2,1,float64", "10,2,1,float64,logistic"} <= set(stored["counts"])


def test_an_interrupted_run_over_both_problems_resumes_by_problem(tmp_path):
    args = dict(problem=["linear", "logistic"], m=[10, 100])
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, progress=StopAfter(4, cases=3), **args)
    partial = load_results(tmp_path)
    assert list(dict.fromkeys(partial["problem"])) == ["linear", "logistic"]
    final = run(out=tmp_path, resume=True, plugins=TWO, progress=Progress(4, bar=False))
    assert len(final) == 12 and not final.duplicated(["implementation", "m", "problem"]).any()
    kept = final.iloc[: len(partial)].reset_index(drop=True)
    np.testing.assert_array_equal(kept["median_s"], partial["median_s"])  # not measured again


def test_a_results_file_without_the_problem_column_reads_as_linear(tmp_path):
    row = {"implementation": "numpy-dot", "m": 10, "n": 2, "k": 1, "dtype": "float64"}
    row |= {"threads": 1, "status": "ok", "median_s": 1e-5}
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"metadata": {"format": 2}, "results": [row]}), encoding="utf-8")
    assert list(load_results(path)["problem"]) == ["linear"]


def test_a_stored_config_without_problems_reads_as_linear():
    stored = RunConfig((Case(10, 2),), ("numpy-dot",)).as_dict()
    for case in stored["cases"]:
        del case["model"]
    del stored["plain_problem"]
    config = RunConfig.from_dict(stored)
    assert config.cases[0].model == "linear" and config.plain_problem == "linear"


def test_an_unknown_problem_names_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="problem: unknown problem 'probit'; use one of linear"):
        _run(tmp_path, problem=["probit"])


def test_cases_come_once_per_problem_and_a_plain_function_takes_the_one_given():
    cases = build_cases([10], [2], problem=("linear", "logistic"))
    assert [c.model for c in cases] == ["linear", "logistic"]
    assert cases[1].label == "logistic m=10 n=2 k=1 float64 λ=1"
    assert plain_problem(["logistic"]) == "logistic"
    assert plain_problem(["linear", "logistic"]) == "linear"
    assert len(check_cases(problem=["linear", "logistic"])) == 48

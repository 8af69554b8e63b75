"""The command line over problems: list shows them, check and run take --problem."""

import re
from pathlib import Path

from gradrace.bench.results import load_results
from gradrace.cli import main

PLUGINS = Path(__file__).resolve().parent / "plugins"
BOTH = f"{PLUGINS / 'two_problems.py'}:both"
ONLY = f"{PLUGINS / 'two_problems.py'}:logistic_only"
QUIET = ["--no-entry-points", "--no-isolate"]


def test_list_shows_each_implementations_problems(capsys):
    assert main(["list", "--no-entry-points", "--plugin", BOTH, "--plugin", ONLY]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^gram +\[built-in\] .*\(linear\)$", out, re.M)
    assert re.search(r"^two-problems +\[--plugin .*\(linear, logistic\)$", out, re.M)
    assert re.search(r"^logistic-only +\[--plugin .*\(logistic\)$", out, re.M)


def test_check_problem_logistic_checks_logistic_cases_and_says_what_is_not_applicable(capsys):
    argv = ["check", *QUIET, "--plugin", BOTH, "--impl", "two-problems", "--impl", "gram"]
    assert main([*argv, "--problem", "logistic"]) == 0
    out = capsys.readouterr().out
    assert "logistic m=20 n=4 k=1 float64 λ=10" in out
    assert "two-problems: agrees (24/24 cases)" in out
    assert "gram on 24 case(s): implements linear only" in out
    assert "gram: no applicable case" in out


def test_check_both_problems(capsys):
    argv = ["check", *QUIET, "--plugin", BOTH, "--impl", "two-problems"]
    assert main([*argv, "--problem", "linear,logistic", "--k", "1", "--dtype", "float64"]) == 0
    assert "two-problems: agrees (12/12 cases)" in capsys.readouterr().out


def test_run_both_problems_writes_one_report_holding_both(tmp_path, capsys):
    argv = ["run", *QUIET, "--plugin", BOTH, "--impl", "two-problems", "--impl", "numpy-dot"]
    argv += ["--m", "10,100", "--n", "2", "--quick", "--threads", "1", "--out", str(tmp_path)]
    assert main([*argv, "--problem", "linear,logistic"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"problem", out)  # the summary names each case's problem
    results = load_results(tmp_path)
    assert set(results["problem"]) == {"linear", "logistic"}
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "gradrace report (linear and logistic regression)" in page
    assert "logistic, k = 1, float64" in page
    assert (tmp_path / "time-vs-m-logistic-k1-float64.png").exists()


def test_resume_refuses_a_problem_option(tmp_path, capsys):
    (tmp_path / "results.json").write_text('{"results": []}')
    argv = ["run", "--out", str(tmp_path), "--resume", "--problem", "logistic"]
    assert main(argv) == 2
    assert "drop --problem" in capsys.readouterr().err


def test_check_without_problem_checks_what_the_selected_implementations_compute(capsys):
    lab = PLUGINS / "learner" / "logistic_lab.py"
    argv = ["check", *QUIET, "--plugin", f"{lab}:compute_gradient_logistic_reg"]
    assert main([*argv, "--impl", "compute_gradient_logistic_reg"]) == 0
    out = capsys.readouterr().out
    assert "compute_gradient_logistic_reg: agrees (12/12 applicable cases)" in out
    assert "logistic m=20 n=4 k=1 float64" in out and "\nm=20 n=4" not in out


def test_check_with_no_applicable_case_at_all_fails(capsys):
    argv = ["check", *QUIET, "--plugin", ONLY, "--impl", "logistic-only", "--problem", "linear"]
    assert main(argv) == 1
    assert "logistic-only: no applicable case" in capsys.readouterr().out


def test_both_is_linear_and_logistic_on_the_command_line_and_in_python(capsys):
    from gradrace.bench.grids import parse_problems
    from gradrace.bench.run_arguments import problems

    assert parse_problems("both") == ["linear", "logistic"] == list(problems("problem", "both"))
    argv = ["check", *QUIET, "--plugin", BOTH, "--impl", "two-problems", "--k", "1"]
    assert main([*argv, "--dtype", "float64", "--problem", "both"]) == 0
    assert "two-problems: agrees (12/12 cases)" in capsys.readouterr().out

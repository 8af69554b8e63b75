"""The gradrace command: list, check, exit codes, errors."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradrace.cli import main

PLUGINS = Path(__file__).resolve().parent / "plugins"
MISBEHAVING = PLUGINS / "misbehaving.py"


def test_list_prints_each_implementation_with_origin_and_description(capsys):
    assert main(["list", "--no-entry-points"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^python-loops +\[built-in\]  Pure Python loops", out, re.M)
    for name in ("numpy-dot", "einsum", "reshaped-mn1", "numba"):
        assert name in out


def test_list_shows_a_plugin_given_on_the_command_line(capsys):
    assert main(["list", "--no-entry-points", "--plugin", f"{MISBEHAVING}:plain_gradient"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        rf"^plain_gradient +\[--plugin {re.escape(str(MISBEHAVING))}:plain_gradient\]", out, re.M
    )


def test_check_passes_for_the_builtins(capsys):
    assert main(["check", "--no-entry-points", "--no-isolate"]) == 0
    out = capsys.readouterr().out
    for name in ("python-loops", "numpy-dot", "einsum", "reshaped-mn1", "numba"):
        assert f"{name}: agrees (48/48 cases)" in out


def test_check_diagnoses_a_wrong_plugin_and_exits_1(capsys):
    plugin = f"{PLUGINS / 'slips.py'}:half_lambda_impl"
    code = main(
        [
            "check",
            "--no-entry-points",
            "--no-isolate",
            "--plugin",
            plugin,
            "--impl",
            "half-lambda",
            "--impl",
            "numpy-dot",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "half-lambda: DISAGREES" in out and "numpy-dot: agrees" in out
    assert "looks like: λ/(2m) instead of λ/m in the regularization term" in out


def test_check_goes_on_after_a_plugin_that_raises(capsys):
    code = main(
        [
            "check",
            "--no-entry-points",
            "--no-isolate",
            "--plugin",
            f"{MISBEHAVING}:raises_in_gradient",
            "--impl",
            "raises-in-gradient",
            "--impl",
            "einsum",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "gradient raised ZeroDivisionError: gradient exploded" in out
    assert "einsum: agrees (48/48 cases)" in out  # linear and logistic


def test_check_reports_a_plugin_that_fails_to_import_and_exits_1(capsys):
    code = main(
        [
            "check",
            "--no-entry-points",
            "--no-isolate",
            "--impl",
            "numpy-dot",
            "--plugin",
            f"{PLUGINS / 'broken_import.py'}:x",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "plugin not loaded" in captured.err and "ImportError" in captured.err
    assert "numpy-dot: agrees" in captured.out


def test_unknown_implementation_is_a_usage_error(capsys):
    assert main(["check", "--impl", "no-such-thing"]) == 2
    assert "unknown implementation(s) 'no-such-thing'" in capsys.readouterr().err


def test_bad_grid_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--m", "ten", "--out", "/nonexistent-never-created"])
    assert exit_info.value.code == 2
    assert "--m: 'ten' is not a number" in capsys.readouterr().err


def test_console_script_runs():
    result = subprocess.run(
        [sys.executable, "-m", "gradrace", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    for command in ("list", "check", "run", "report"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["list", "check", "run", "report", "fit"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: gradrace" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--threads", "0"], "--threads: must be at least 1, got '0'"),
        (["run", "--budget", "-1"], "--budget: must be a finite number greater than 0, got '-1'"),
        (["run", "--timeout", "0"], "--timeout: must be a finite number of at least 0.1, got '0'"),
        (["run", "--timeout", "1e-9"], "--timeout: must be a finite number of at least 0.1"),
    ],
)
def test_nonsense_numbers_are_refused_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_resume_refuses_grid_options_it_would_ignore(tmp_path, capsys):
    (tmp_path / "results.json").write_text('{"results": []}')
    assert main(["run", "--out", str(tmp_path), "--resume", "--m", "10"]) == 2
    assert (
        "--resume continues with the settings stored in --out; drop --m" in capsys.readouterr().err
    )


def test_resume_in_a_folder_without_a_run_says_so_and_makes_no_folder(tmp_path, capsys):
    out = tmp_path / "no-run-here"
    assert main(["run", "--out", str(out), "--resume", "--quick"]) == 2
    assert "holds no run to continue (no results.json)" in capsys.readouterr().err
    assert not out.exists()


def test_report_refuses_a_file_that_is_not_results(tmp_path, capsys):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"results": [{"a": 1}]}')
    assert main(["report", str(bogus)]) == 2
    assert "is not a gradrace results file: no column(s) implementation" in capsys.readouterr().err


def test_an_unavailable_optional_implementation_says_what_it_needs(monkeypatch, capsys):
    from gradrace import implementations

    monkeypatch.setitem(
        implementations.OPTIONAL,
        "fake-lib",
        ("gradrace.implementations.numpy_dot", ("no_such_library_xyz",), "fake"),
    )
    assert main(["check", "--impl", "fake-lib"]) == 2
    assert "'fake-lib' is not available: needs no_such_library_xyz" in capsys.readouterr().err


LAB = PLUGINS / "learner" / "lab.py"
COURSE_FN = f"{LAB}:compute_gradient_linear_reg"


def test_list_says_how_a_course_function_was_recognised(capsys):
    assert main(["list", "--no-entry-points", "--plugin", COURSE_FN]) == 0
    assert (
        "course convention (X, y, w, b, lambda_) -> (dj_db, dj_dw): from the parameter names "
        "and a trial call" in capsys.readouterr().out
    )


def test_check_runs_a_course_function_on_its_k1_cases_and_exits_0(capsys):
    code = main(
        [
            "check",
            "--no-entry-points",
            "--no-isolate",
            "--plugin",
            COURSE_FN,
            "--impl",
            "compute_gradient_linear_reg",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(
        "compute_gradient_linear_reg: course convention (X, y, w, b, lambda_) -> (dj_db, dj_dw)"
    )
    assert "compute_gradient_linear_reg: agrees (12/12 applicable cases)" in out
    assert "Failures" not in out


def test_check_options_restrict_the_cases(capsys):
    code = main(
        [
            "check",
            "--no-entry-points",
            "--no-isolate",
            "--impl",
            "numpy-dot",
            "--m",
            "20",
            "--n",
            "4",
            "--dtype",
            "float32",
            "--problem",
            "linear",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "numpy-dot: agrees (2/2 cases)" in out
    assert "m=20 n=4 k=1 float32 λ=0 " in out and "m=20 n=4 k=1 float32 λ=10 " in out
    assert main(["check", "--no-entry-points", "--no-isolate", "--k", "9"]) == 2
    assert "no check case has k=9" in capsys.readouterr().err


def test_convention_is_forced_on_the_command_line(capsys):
    code = main(
        [
            "check",
            "--no-entry-points",
            "--no-isolate",
            "--plugin",
            COURSE_FN,
            "--impl",
            "compute_gradient_linear_reg",
            "--convention",
            "gradrace",
            "--k",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "gradient raised ValueError: setting an array element with a sequence." in out
    assert "lab.py:14: dj_dw[j] = dj_dw[j] + err * X[i, j])" in out


def test_a_plugin_file_imports_its_sibling_in_the_isolated_check(capsys):
    code = main(
        [
            "check",
            "--no-entry-points",
            "--plugin",
            f"{PLUGINS / 'learner' / 'adapt.py'}:impl",
            "--impl",
            "lab-adapted",
            "--m",
            "20",
            "--n",
            "4",
        ]
    )
    assert code == 0 and "lab-adapted: agrees (4/4 cases)" in capsys.readouterr().out


def test_version_is_printed(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("gradrace 0.")


def test_the_interrupted_runs_hint_names_its_plugins_again(tmp_path, monkeypatch):
    import shlex

    from gradrace.cli import _resume_command

    monkeypatch.chdir(tmp_path)
    command = _resume_command(tmp_path / "my run", ["lab.py:compute_gradient_linear_reg"])
    words = shlex.split(command)
    assert words[:5] == ["gradrace", "run", "--out", str(tmp_path / "my run"), "--resume"]
    assert words[5:] == ["--plugin", f"{tmp_path / 'lab.py'}:compute_gradient_linear_reg"]


def test_list_shows_a_plugins_description_without_terminal_escapes(tmp_path, capsys):
    from gradrace.cli import main

    plugin = tmp_path / "esc.py"
    plugin.write_text(
        "from gradrace import Implementation\n"
        "from gradrace.implementations.numpy_dot import gradient\n"
        "IMPLEMENTATION = Implementation(name='esc', gradient=gradient,\n"
        "    description='red \\x1b[31mRED\\x1b[0m \\u202etxet')\n"
    )
    assert main(["list", "--no-entry-points", "--plugin", f"{plugin}:IMPLEMENTATION"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("esc"))
    assert "\x1b" not in line and "\u202e" not in line and "RED" in line

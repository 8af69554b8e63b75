"""Every numeric option of every subcommand: a bad value is a usage error (exit 2) naming the
option, before anything runs (no folder made, no worker started)."""

import pytest

from gradrace.cli import main


def _usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "--timeout", "inf"],
            "argument --timeout: must be a finite number of at least 0.1, got 'inf'",
        ),
        (
            ["run", "--timeout", "nan"],
            "argument --timeout: must be a finite number of at least 0.1",
        ),
        (
            ["check", "--timeout", "-1"],
            "argument --timeout: must be a finite number of at least 0.1",
        ),
        (["run", "--budget", "inf"], "argument --budget: must be a finite number greater than 0"),
        (
            ["run", "--dtype", "float"],
            "--dtype: write float64 or float32 ('float' would be numpy's",
        ),
        (["run", "--threads", "0"], "argument --threads: must be at least 1, got '0'"),
        (["run", "--threads", "inf"], "argument --threads: must be a whole number of at least 1"),
        (["run", "--m", "inf"], "argument --m: must be a whole number of at least 1, got 'inf'"),
        (
            ["run", "--m", "1e400"],
            "argument --m: must be a whole number of at least 1, got '1e400'",
        ),
        (["run", "--m", "nan"], "argument --m: must be a whole number of at least 1, got 'nan'"),
        (["run", "--m", "10,2.5"], "argument --m: must be a whole number of at least 1, got '2.5'"),
        (["run", "--n", ""], "argument --n: give at least one number, such as 100,1e4; got ''"),
        (["run", "--k", "0"], "argument --k: must be at least 1, got '0'"),
        (["run", "--k", " "], "argument --k: give at least one number"),
        (["run", "--dtype", "float16"], "argument --dtype: dtype float16 is not supported"),
        (
            ["fit", "--impl", "numpy-dot", "--noise", "nan"],
            "argument --noise: must be a finite number of at least 0, got 'nan'",
        ),
        (
            ["fit", "--impl", "numpy-dot", "--lam", "inf"],
            "argument --lam: must be a finite number of at least 0",
        ),
        (
            ["fit", "--impl", "numpy-dot", "--lr", "inf"],
            "argument --lr: must be a finite number greater than 0",
        ),
        (
            ["fit", "--impl", "numpy-dot", "--tol", "nan"],
            "argument --tol: must be a finite number of at least 0",
        ),
        (
            ["fit", "--impl", "numpy-dot", "--iterations", "1.5"],
            "argument --iterations: must be a whole number of at least 0",
        ),
        (
            ["fit", "--impl", "numpy-dot", "--seed", "-3"],
            "argument --seed: must be at least 0, got '-3'",
        ),
        (
            ["fit", "--impl", "numpy-dot", "--m", "inf"],
            "argument --m: must be a whole number of at least 1",
        ),
        (["fit", "--impl", "numpy-dot", "--n", "3,4"], "argument --n: give one number, got '3,4'"),
        (
            ["fit", "--impl", "numpy-dot", "--dtype", "int8"],
            "argument --dtype: dtype int8 is not supported",
        ),
        (
            ["report", "some.json", "--threshold", "inf"],
            "argument --threshold: must be a ratio above 1",
        ),
    ],
)
def test_a_bad_number_is_a_usage_error_naming_the_option(argv, message, capsys):
    assert message in _usage_error(argv, capsys)


def test_timeout_inf_is_refused_before_the_run_makes_its_folder(tmp_path, capsys):
    out = tmp_path / "run"
    err = _usage_error(["run", "--no-isolate", "--timeout", "inf", "--out", str(out)], capsys)
    assert "--timeout" in err
    assert not out.exists()


def test_an_empty_n_is_refused_rather_than_running_the_default_grid(tmp_path, capsys):
    out = tmp_path / "run"
    assert "argument --n" in _usage_error(["run", "--n", "", "--out", str(out)], capsys)
    assert not out.exists()

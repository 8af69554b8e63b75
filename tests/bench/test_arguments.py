"""The checks of numeric arguments shared by the Python API and the command line."""

import math

import numpy as np
import pytest

from gradrace import run
from gradrace.bench import arguments
from gradrace.bench.grids import parse_ints


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "k must be at least 1, got 0"),
        (math.inf, "k must be a whole number of at least 1, got inf"),
        (math.nan, "k must be a whole number of at least 1, got nan"),
        (2.5, "k must be a whole number of at least 1, got 2.5"),
        ("3", "k must be a whole number of at least 1, got '3'"),
        (True, "k must be a whole number of at least 1, got True"),
    ],
)
def test_integer_names_the_argument_and_the_rule(value, message):
    with pytest.raises(ValueError, match=f"^{message}$".replace("(", r"\(")):
        arguments.integer("k", value)


def test_integer_accepts_whole_floats_and_numpy_integers():
    assert arguments.integer("m", 1e3) == 1000
    assert arguments.integer("m", np.int64(7)) == 7


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0.0, -1.0, "1"])
def test_number_above_zero_refuses_non_finite_and_non_positive(value):
    with pytest.raises(ValueError, match=r"^timeout must be a finite number greater than 0, got"):
        arguments.number("timeout", value, above=0)


def test_integers_needs_a_non_empty_list():
    with pytest.raises(ValueError, match="m must list at least one size"):
        arguments.integers("m", [])
    with pytest.raises(ValueError, match="m must be a list of whole numbers"):
        arguments.integers("m", "100")
    assert arguments.integers("m", 100) == (100,)


@pytest.mark.parametrize("text", ["inf", "1e400", "nan", "0", "-5", "2.5"])
def test_parse_ints_refuses_values_that_are_not_whole_positive_finite_numbers(text):
    with pytest.raises(ValueError, match=f"^--m: must be .*got '{text}'$"):
        parse_ints(f"10,{text}", "--m")


def test_parse_ints_refuses_an_empty_list():
    with pytest.raises(ValueError, match="--n: give at least one number"):
        parse_ints("", "--n")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": math.inf}, "timeout must be a finite number of at least 0.1, got inf"),
        ({"budget": math.nan}, "budget must be a finite number greater than 0, got nan"),
        ({"threads": 0}, "threads must be at least 1, got 0"),
        ({"m": [10, math.inf]}, "m must be a whole number of at least 1, got inf"),
        ({"n": []}, "n must list at least one size"),
        ({"k": [0]}, "k must be at least 1, got 0"),
        ({"dtype": ["float16"]}, "dtype: dtype float16 is not supported"),
        ({"dtype": []}, "dtype must list at least one dtype"),
    ],
)
def test_run_checks_its_arguments_before_making_the_folder(tmp_path, kwargs, message):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        run(out=out, isolate=False, **kwargs)
    assert not out.exists()

"""gradrace.check and gradrace.race: the objects a notebook displays, their text and escaping."""

import base64
import re
import subprocess
import sys

import numba
import numpy as np
import pandas as pd
import pytest

import gradrace
from gradrace import Implementation
from gradrace.bench.check import COLUMNS as CHECK_COLUMNS
from gradrace.bench.grids import CHECK_CASES
from gradrace.bench.registry import RegistryError
from gradrace.bench.results import COLUMNS
from gradrace.notebook import CheckResult, RaceResult, Verdict, check_cases

HOSTILE = "<script>alert(1)</script>"
SMALL = {"against": ("numpy-dot",), "m": (50, 200), "n": (3,), "threads": 1}


def learner_gradient(X, Y, W, b, lam):
    """The textbook ridge gradient."""
    m = X.shape[0]
    r = X @ W + b - Y
    return X.T @ r / m + lam / m * W, r.mean(axis=0)


def forgot_lambda(X, Y, W, b, lam):
    """<img src=x onerror=alert(1)>"""
    r = X @ W + b - Y
    return X.T @ r / X.shape[0], r.mean(axis=0)


def hostile_raise(X, Y, W, b, lam):
    raise ValueError(HOSTILE)


def _img(html: str) -> bytes:
    found = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert found, "no inline PNG in the HTML"
    return base64.b64decode(found.group(1))


# -- check -------------------------------------------------------------------------------


def test_check_of_a_correct_function_agrees_on_every_case():
    result = gradrace.check(learner_gradient)
    assert result.agrees
    assert list(result.results.columns) == CHECK_COLUMNS
    assert len(result.results) == len(CHECK_CASES)
    assert str(result.verdicts["learner_gradient"]) == "agrees (24/24 cases)"
    text = repr(result)
    assert text == str(result)
    assert "Agreement with the float64 reference" in text
    assert "learner_gradient: agrees" in text
    html = result._repr_html_()
    assert "<table>" in html and "<th>learner_gradient</th>" in html
    assert "agrees (24/24 cases)" in html and "The textbook ridge gradient." in html


def test_check_names_each_failure_with_its_diagnosis():
    result = gradrace.check([forgot_lambda, "numpy-dot"], dtype="float64", problem="linear")
    assert not result.agrees
    assert result.verdicts["numpy-dot"].agrees
    assert not result.verdicts["forgot_lambda"].agrees
    failures = result.failures
    assert set(failures["implementation"]) == {"forgot_lambda"}
    assert set(failures["diagnosis"]) == {"regularization term missing"}
    assert "looks like: regularization term missing" in str(result)
    html = result._repr_html_()
    assert "Failures" in html and "regularization term missing" in html
    assert "DISAGREES on 6 of 12 cases" in html
    assert "<details><summary>" not in html  # 6 failures are all listed


def test_many_failures_fold_into_details():
    html = gradrace.check(forgot_lambda)._repr_html_()
    assert html.count("regularization term missing</li>") == 12
    assert "<details><summary>4 more</summary>" in html


def test_check_restricts_the_cases_by_m_n_k_and_dtype():
    result = gradrace.check(learner_gradient, m=[20, 50], k=1, dtype="float32")
    cases = result.results[["m", "k", "dtype"]].drop_duplicates()
    assert cases.to_dict("records") == [{"m": 20, "k": 1, "dtype": "float32"}]
    assert len(check_cases(n=np.int64(3))) == 8  # m=1 n=3 and m=7 n=3, 2 dtypes, 2 λ


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"m": 3}, "no check case has m=3; the check cases are m=1 n=3 k=1, m=5 n=1 k=1"),
        ({"m": 0}, "m: 0 is not a positive integer"),
        ({"n": "ten"}, "n: 'ten' is not a positive integer"),
        ({"dtype": "int8"}, "dtype int8 is not supported"),
    ],
)
def test_check_refuses_options_that_select_no_case(options, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        gradrace.check(learner_gradient, **options)


def test_check_refuses_unnamed_duplicate_and_unknown_implementations():
    with pytest.raises(ValueError, match=r"no usable name; wrap it as gradrace.Implementation"):
        gradrace.check(lambda X, Y, W, b, lam: (W, b))
    with pytest.raises(ValueError, match=r"no usable name; wrap it as gradrace.course\(fn"):
        gradrace.check(lambda X, y, w, b, lambda_: (b, w))
    twin = Implementation("numpy-dot", learner_gradient)
    with pytest.raises(ValueError, match="two implementations are named 'numpy-dot'"):
        gradrace.check([twin, "numpy-dot"])
    with pytest.raises(RegistryError, match="unknown implementation"):
        gradrace.check("no-such-thing")
    with pytest.raises(TypeError, match="the argument is int 42, which is neither"):
        gradrace.check(42)


def test_a_message_from_user_code_is_escaped_in_the_html():
    result = gradrace.check(hostile_raise, m=1)
    assert HOSTILE in str(result)  # the terminal shows it as it is
    html = result._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    doc = gradrace.check(forgot_lambda, m=1)._repr_html_()
    assert "<img src=x" not in doc and "&lt;img src=x onerror=alert(1)&gt;" in doc


def _check_frame(names, statuses) -> pd.DataFrame:
    rows = []
    for name in names:
        for i, status in enumerate(statuses):
            rows.append(
                {
                    "implementation": name,
                    "case": f"case {i}",
                    "m": 5,
                    "n": 1,
                    "k": i + 1,
                    "dtype": "float64",
                    "lam": 0.0,
                    "status": status,
                    "kind": status,
                    "err_dW": 1e-16,
                    "err_db": 2e-16,
                    "diagnosis": "",
                    "message": f"{HOSTILE} message",
                }
            )
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def test_a_hostile_implementation_name_is_escaped_in_both_tables():
    frame = _check_frame([HOSTILE], ["ok", "disagrees"])
    html = CheckResult(frame, {HOSTILE: HOSTILE})._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    timings = pd.DataFrame(
        [
            {
                "implementation": HOSTILE,
                "m": 10,
                "n": 2,
                "k": 1,
                "dtype": "float64",
                "status": "ok",
                "median_s": 1e-5,
                "ratio_to_fastest": 1.0,
                "message": HOSTILE,
            }
        ],
        columns=COLUMNS,
    )
    race = RaceResult(timings, CheckResult(frame), note=HOSTILE)
    html = race._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert _img(html).startswith(b"\x89PNG")


def test_not_applicable_cases_count_for_nothing_in_the_verdict():
    result = CheckResult(_check_frame(["course"], ["ok", "ok", "n/a"]))
    assert result.agrees and result.failures.empty
    assert str(result.verdicts["course"]) == "agrees (2/2 cases; 1 n/a)"
    assert '<td class="na" title="&lt;script&gt;alert(1)&lt;/script&gt; message">n/a</td>' in (
        result._repr_html_()
    )
    assert not Verdict(0, 0, 3).agrees  # a verdict needs at least one case that applies


def test_a_verdict_with_no_applicable_case_says_so_rather_than_disagrees():
    assert str(Verdict(0, 0, 24)) == "no applicable case (24 n/a)"


def test_a_disagreeing_verdict_counts_the_cases_that_disagree():
    assert str(Verdict(6, 24)) == "DISAGREES on 18 of 24 cases"
    assert str(Verdict(1, 3, 2)) == "DISAGREES on 2 of 3 cases (2 n/a)"
    assert str(Verdict(0, 2, 0, ("raised", "raised"))) == "FAILS on 2 of 2 cases (2 raised)"


# -- race --------------------------------------------------------------------------------


def test_race_times_each_function_at_each_size_and_ranks_the_agreeing_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = gradrace.race(learner_gradient, forgot_lambda, **SMALL)
    frame = result.results
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == COLUMNS
    assert sorted(zip(frame["implementation"], frame["m"], strict=True)) == sorted(
        (name, m) for name in ("learner_gradient", "forgot_lambda", "numpy-dot") for m in (50, 200)
    )
    by = frame.set_index(["implementation", "m"])
    assert (by.loc["learner_gradient", "status"] == "ok").all()
    assert (by.loc["forgot_lambda", "status"] == "disagrees").all()
    assert (by["median_s"] > 0).all()
    assert by.loc["forgot_lambda", "ratio_to_fastest"].isna().all()
    for m in (50, 200):
        ok = frame[(frame["m"] == m) & (frame["status"] == "ok")]
        assert ok["ratio_to_fastest"].min() == 1.0
    assert result.check.verdicts["learner_gradient"].agrees
    assert not result.check.verdicts["forgot_lambda"].agrees
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_race_displays_a_table_the_verdicts_and_an_inline_plot():
    result = gradrace.race(learner_gradient, forgot_lambda, **SMALL)
    text = str(result)
    assert text == repr(result)
    assert "Median time per gradient" in text and "m=200 n=3 k=1 float64" in text
    assert "forgot_lambda: DISAGREES" in text and "learner_gradient: agrees" in text
    assert "≠ ref" in text and "1 thread(s)" in text
    html = result._repr_html_()
    assert "<th>learner_gradient</th>" in html and "<th>numpy-dot</th>" in html
    assert 'class="best"' in html and "≠ ref" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # a docstring, escaped
    assert _img(html) == result.plot_png()
    assert result.plot_png().startswith(b"\x89PNG")


def test_race_without_built_ins_and_with_bad_options():
    before = numba.get_num_threads()
    result = gradrace.race(learner_gradient, against=(), m=30, n=2, threads=1)
    assert list(result.results["implementation"]) == ["learner_gradient"]
    assert numba.get_num_threads() == before  # the notebook's numba threads are left alone
    with pytest.raises(ValueError, match="m: give at least one size"):
        gradrace.race(learner_gradient, m=())
    with pytest.raises(ValueError, match="budget must be a number of seconds greater than 0"):
        gradrace.race(learner_gradient, budget=0)
    with pytest.raises(RegistryError, match="'nope'"):
        gradrace.race(learner_gradient, against="nope")


def test_nothing_timed_gives_no_plot():
    result = gradrace.race(hostile_raise, against=(), m=10, n=2, threads=1)
    assert set(result.results["status"]) == {"error"}
    assert result.plot_png() is None
    html = result._repr_html_()
    assert "Nothing was timed" in html and "<script>" not in html


def test_importing_gradrace_loads_neither_the_notebook_module_nor_matplotlib():
    code = (
        "import sys, gradrace\n"
        "assert 'gradrace.notebook' not in sys.modules\n"
        "assert 'matplotlib' not in sys.modules\n"
        "from gradrace.notebook import check, race\n"
        "assert gradrace.check is check and gradrace.race is race\n"
        "assert 'matplotlib' not in sys.modules\n"
        "assert {'check', 'race'} <= set(dir(gradrace)) and 'race' in gradrace.__all__\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        gradrace.nothing_here  # noqa: B018


def test_a_race_never_ranks_against_an_implementation_that_precomputes():
    race = gradrace.race("gram", against=("numpy-dot",), m=(100, 1000), n=(10,))
    ranked = race.results.set_index(["implementation", "m"])["ratio_to_fastest"]
    assert ranked[("numpy-dot", 1000)] == 1.0 and ranked[("numpy-dot", 100)] == 1.0

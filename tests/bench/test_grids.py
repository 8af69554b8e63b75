"""The agreement check's cases, and their restriction by --m, --n, --k and --dtype."""

import pytest

from gradrace.bench.grids import CHECK_CASES, check_cases


def test_no_restriction_gives_every_check_case():
    assert check_cases() == CHECK_CASES and len(CHECK_CASES) == 24


def test_k_and_dtype_filter_the_check_cases():
    cases = check_cases(k=[1], dtype=["float32"])
    assert len(cases) == 6 and {(c.k, c.dtype) for c in cases} == {(1, "float32")}
    assert set(cases) <= set(CHECK_CASES)


def test_m_and_n_together_build_cases_with_and_without_regularization():
    cases = check_cases(m=[20, 30], n=[4])
    assert len(cases) == 2 * 2 * 2  # m × dtype × (λ = 0, λ = m/2)
    assert {(c.m, c.n, c.k) for c in cases} == {(20, 4, 1), (30, 4, 1)}
    assert {c.lam for c in cases if c.m == 20} == {0.0, 10.0}
    assert check_cases(m=[20, 30], n=[4]) == cases  # fixed seeds


def test_a_restriction_that_leaves_nothing_names_what_there_is():
    with pytest.raises(ValueError, match=r"no check case has k=7; the check cases are m=1 n=3"):
        check_cases(k=[7])

"""What a message says about a call: arguments passed, output expected, the user's line."""

import numpy as np

from gradrace.bench.explain import describe_call, describe_exception, likely_causes


def test_a_call_is_described_by_parameter_names_shapes_and_dtypes():
    def compute_gradient_linear_reg(X, y, w, b, lambda_):
        pass

    args = (np.zeros((20, 4)), np.zeros(20), np.zeros(4), 0.5, 1.0)
    assert describe_call(compute_gradient_linear_reg, args) == (
        "called compute_gradient_linear_reg(X (20, 4) float64, y (20,) float64, "
        "w (4,) float64, b float, lambda_ float)"
    )


def test_arguments_beyond_the_signature_are_numbered():
    assert (
        describe_call(print, (np.zeros((2, 3), np.float32),)) == "called print(arg1 (2, 3) float32)"
    )


def test_likely_causes_name_the_usual_mismatches():
    n, k = 4, 1
    dW, db = np.zeros((n, k)), np.zeros(k)
    (course,) = likely_causes((0.5, np.zeros(n)), n, k)
    assert "the course's order (db, dW)" in course and "--convention course" in course
    assert "dW is 1-D" in likely_causes((np.zeros(n), db), n, k)[0]
    assert "db is a float" in likely_causes((dW, 0.5), n, k)[0]
    assert "dW looks transposed: (2, 4) instead of (4, 2)" in likely_causes(
        (np.zeros((2, 4)), np.zeros(2)), 4, 2
    )
    assert (
        "the other order: return dW, db" in likely_causes((np.zeros(2), np.zeros((4, 2))), 4, 2)[0]
    )
    assert likely_causes((dW, db), n, k) == []


def test_an_exception_shows_the_last_line_of_the_users_code():
    def user_code():
        return np.zeros(3).reshape(2, 2)  # raises inside numpy

    try:
        user_code()
    except ValueError as exc:
        text = describe_exception(exc)
    assert text.startswith("ValueError: cannot reshape array")
    assert "test_explain.py:" in text
    assert text.endswith(": return np.zeros(3).reshape(2, 2)  # raises inside numpy)")


def test_an_exception_text_is_one_line_without_escapes_and_clipped():
    from gradrace.bench.explain import describe_exception

    try:
        raise ValueError("\x1b[2J<script>\n=HYPERLINK()" + "A" * 5_000_000)
    except ValueError as exc:
        text = describe_exception(exc)
    assert "\x1b" not in text and "\n" not in text and len(text) < 1200
    assert "(5,000,025 characters in all)" in text


def test_a_plugin_module_missing_from_numbas_cache_says_to_clear_it():
    try:
        raise ModuleNotFoundError(
            "No module named 'gradrace_plugin_k_1f'", name="gradrace_plugin_k_1f"
        )
    except ModuleNotFoundError as exc:
        text = describe_exception(exc)
    assert "delete that folder's __pycache__" in text
    try:
        raise ModuleNotFoundError("No module named 'lab'", name="lab")
    except ModuleNotFoundError as exc:
        assert "__pycache__" not in describe_exception(exc)

"""Progress lines of a run: what each implementation did on a case, in one short line."""

import io

from gradrace import Implementation, make_problem
from gradrace.bench.agreement import evaluate
from gradrace.bench.grids import Case
from gradrace.bench.measure import case_row
from gradrace.bench.progress import REASON_CHARS, Progress
from plugins import misbehaving

CASE = Case(100, 10, 1, "float32", 1.0)


def _line(rows: list[dict]) -> str:
    stream = io.StringIO()
    Progress(1, stream=stream, bar=False).case_done(CASE, rows)
    return stream.getvalue().strip()


def _float64_out(X, Y, W, b, lam):
    return misbehaving.plain_gradient(*(a.astype("float64") for a in (X, Y, W, b)), lam)


def test_an_error_line_gives_the_short_reason_of_a_wrong_dtype():
    impl = Implementation(name="wrong-dtype", gradient=_float64_out)
    outcome = evaluate(impl, make_problem(100, 10, 1, dtype="float32"))
    row = case_row(CASE, "wrong-dtype", 1, outcome)
    line = _line([row, {"implementation": "numpy-dot", "status": "ok", "median_s": 1e-5}])
    assert "wrong-dtype error (dW has dtype float64, expected the input dtype float32)" in line
    assert "called" not in line  # the rest of the message is the results file's


def test_a_long_reason_is_cut_at_a_word_and_marked():
    why = (
        "over the budget: a call would take about 0.72 s (from 0.0023 s at m=1,000 n=10 k=1, "
        "scaled by m·n·k); the budget is 0.5 s (--budget)"
    )
    line = _line([{"implementation": "python-loops", "status": "skipped", "message": why}])
    reason = line.split("python-loops skipped (", 1)[1][:-1]
    assert reason == "over the budget: a call would take about 0.72 s…"
    assert len(reason) <= REASON_CHARS


def test_a_row_without_a_message_shows_its_status_alone():
    line = _line([{"implementation": "lost", "status": "error", "message": float("nan")}])
    assert line.endswith(": lost error")

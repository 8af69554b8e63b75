"""A run that survives any plugin: each misbehaviour is caught, named, and costs nothing else.

One isolated run (the default: measurements in a worker process) holds every
misbehaving plugin from tests/plugins/misbehaving.py next to numpy-dot; each test
below checks one misbehaviour in its results. The hanging and crashing plugins do so
only at m ≥ 1000, so the agreement check (m ≤ 200) passes them and the run must
contain them.
"""

from pathlib import Path

import pytest

from gradrace import run
from gradrace.bench.progress import Progress

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
MISBEHAVING = PLUGINS / "misbehaving.py"
CULPRITS = [
    "raises_in_prepare",
    "raises_in_gradient",
    "wrong_shape",
    "wrong_dtype",
    "returns_nan",
    "returns_inf",
    "wrong_values",
    "modifies_inputs",
    "too_slow",
    "runs_forever",
    "crashes",
    "segfaults",
    "crashes_while_timed",
]
TIMEOUT_S = 4.0


@pytest.fixture(scope="module")
def survived(tmp_path_factory):
    out = tmp_path_factory.mktemp("survive")
    plugins = [f"{MISBEHAVING}:{name}" for name in CULPRITS]
    plugins.append(f"{PLUGINS / 'broken_import.py'}:anything")
    frame = run(
        m=[10, 1000, 10000],
        n=[3],
        impl=None,
        plugins=plugins,
        entry_points=False,
        threads=1,
        budget=0.02,
        timeout=TIMEOUT_S,
        quick=True,
        out=out,
        progress=Progress(3, bar=False),
    )
    return frame.set_index(["implementation", "m"]), frame.attrs["metadata"]


def test_every_other_result_is_kept(survived):
    frame, _ = survived
    for name in ("python-loops", "numpy-dot", "einsum", "reshaped-mn1", "numba"):
        for m in (10, 1000):
            assert frame.loc[(name, m), "status"] == "ok", (name, m)
    assert frame.loc[("numpy-dot", 10000), "status"] == "ok"


def test_plugin_that_fails_to_import_is_reported(survived):
    _, metadata = survived
    (error,) = metadata["load_errors"]
    assert "broken_import.py" in error and "ImportError" in error


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("raises-in-prepare", "error", "prepare raised RuntimeError: prepare exploded"),
        ("raises-in-gradient", "error", "gradient raised ZeroDivisionError: gradient exploded"),
        ("wrong-shape", "error", "dW has shape (3,), expected (3, 1)"),
        ("wrong-dtype", "error", "dW has dtype float16"),
        ("returns-nan", "error", "NaN or infinite"),
        ("returns-inf", "error", "NaN or infinite"),
        ("wrong-values", "disagrees", "dW wrong"),
        ("modifies-inputs", "error", "modified its input arrays"),
    ],
)
def test_misbehaving_output_is_reported_with_a_clear_status(survived, name, status, message):
    frame, _ = survived
    assert frame.loc[(name, 10), "status"] == status
    assert message in frame.loc[(name, 10), "message"]


def test_far_too_slow_plugin_is_skipped_by_the_budget(survived):
    frame, _ = survived
    assert frame.loc[("too-slow", 10), "status"] == "ok"
    assert frame.loc[("too-slow", 10000), "status"] == "skipped"
    assert "over the budget" in frame.loc[("too-slow", 10000), "message"]


def test_plugin_that_runs_forever_is_stopped_by_the_wall_clock_limit(survived):
    frame, _ = survived
    row = frame.loc[("runs-forever", 1000)]
    assert row["status"] == "error"
    assert f"no progress for {TIMEOUT_S:g} s" in row["message"] and "(in check)" in row["message"]
    later = frame.loc[("runs-forever", 10000)]
    assert later["status"] == "skipped" and "lost the worker" in later["message"]


@pytest.mark.parametrize(
    ("name", "how"), [("crashes", "exit code 99"), ("segfaults", "killed by signal SIGSEGV")]
)
def test_plugin_that_crashes_the_interpreter_is_contained(survived, name, how):
    frame, _ = survived
    assert frame.loc[(name, 10), "status"] == "ok"
    row = frame.loc[(name, 1000)]
    assert row["status"] == "error"
    assert f"the worker process died ({how})" in row["message"]


def test_crash_during_the_timing_rounds_is_charged_to_the_implementation_timed(survived):
    frame, _ = survived
    row = frame.loc[("crashes-while-timed", 1000)]
    assert row["status"] == "error"
    assert "the worker process died (exit code 98) (in time)" in row["message"]
    for name in ("numpy-dot", "einsum", "numba"):  # timed in the same interleaved rounds
        assert frame.loc[(name, 1000), "status"] == "ok", name
        assert frame.loc[(name, 10000), "status"] == "ok", name


def test_the_workers_environment_defaults_never_override_what_the_user_chose(monkeypatch):
    import os

    from gradrace.bench.worker import WORKER_ENV, _environment, environment_additions

    for name in (*WORKER_ENV, "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    with _environment(WORKER_ENV):
        assert os.environ["GOMP_SPINCOUNT"] == "30000"
        assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "4"
    assert "GOMP_SPINCOUNT" not in os.environ  # put back as it was
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # a spin count would override it
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "1")
    with _environment(WORKER_ENV):
        assert "GOMP_SPINCOUNT" not in os.environ
        assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "1"
    assert environment_additions() == {}  # nothing left to add: no restart of a script

"""How many cores a parallel kernel may count on: the load read from /proc, injected here."""

import numba
import pytest

from gradrace import _load
from gradrace._jit import with_threads


def test_running_now_reads_the_runnable_field(tmp_path):
    path = tmp_path / "loadavg"
    path.write_text("0.50 0.40 0.30 3/250 12345\n")
    assert _load.running_now(str(path)) == 3
    path.write_text("garbage")
    assert _load.running_now(str(path)) is None
    assert _load.running_now(str(tmp_path / "missing")) is None


def test_own_running_counts_this_process_threads_in_state_r(tmp_path):
    for task, state in (("1", "R"), ("2", "S"), ("3", "R")):
        (tmp_path / task).mkdir()
        (tmp_path / task / "stat").write_text(f"{task} (python (worker) x) {state} 1 2 3\n")
    assert _load.own_running(str(tmp_path)) == 2
    assert _load.own_running(str(tmp_path / "none")) == 1  # at least the reader


def test_others_running_takes_the_least_of_a_few_counts():
    counts = iter([3, 1, 4, 2, 5])
    assert _load.others_running(lambda: next(counts), samples=5, gap_s=0) == 1.0


def test_others_running_falls_back_to_the_load_average(monkeypatch):
    monkeypatch.setattr(_load.os, "getloadavg", lambda: (2.5, 0.0, 0.0))
    assert _load.others_running(lambda: None, samples=3, gap_s=0) == 1.5


@pytest.mark.parametrize(
    ("threads", "cores", "others", "expected"),
    [
        (2, 2, 0.0, 2),  # a quiet machine: every thread
        (2, 2, 1.0, 1),  # a core held: one
        (2, 2, 4.0, 1),  # over-full: still one
        (8, 16, 10.0, 6),
        (4, 16, 0.0, 4),  # never more than asked
        (2, 2, 0.4, 2),  # a thread now and then is not a held core
    ],
)
def test_threads_to_use_leaves_the_cores_others_hold(threads, cores, others, expected):
    assert _load.threads_to_use(threads, cores, others) == expected


def test_threads_to_use_measures_when_not_told(monkeypatch):
    monkeypatch.setattr(_load, "recent_others", lambda: 1.0)
    assert _load.threads_to_use(4, cores=4) == 3


def test_one_reading_serves_for_a_while(monkeypatch):
    readings = iter([2.0, 0.0])
    monkeypatch.setattr(_load, "others_running", lambda: next(readings))
    _load.forget()
    try:
        assert _load.recent_others() == 2.0
        assert _load.recent_others() == 2.0  # remembered: the kernels and floors of a case agree
        assert _load.recent_others(max_age_s=0.0) == 0.0  # too old: read again
    finally:
        _load.forget()


def test_the_real_probe_answers_a_count():
    assert _load.others_running(samples=2, gap_s=0) >= 0.0
    assert _load.usable_cores() >= 1


def test_with_threads_sets_the_count_for_the_call_only():
    before = numba.get_num_threads()
    seen = with_threads(lambda: numba.get_num_threads(), 1)
    assert seen() == 1
    assert numba.get_num_threads() == before

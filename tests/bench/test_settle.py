"""Before a round: the threads the last round left spinning are let go to sleep first."""

import sys
import threading
import time

import pytest

from gradrace import load_registry
from gradrace.bench import measure, settle
from gradrace.bench.grids import Case
from gradrace.bench.measure import Settings, measure_case

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="thread states come from /proc")


def _spin(stop: threading.Event, until: float = float("inf")) -> None:
    while not stop.is_set() and time.perf_counter() < until:
        pass


@linux_only
def test_a_round_waits_until_a_spinning_pool_thread_stops():
    stop = threading.Event()
    thread = threading.Thread(target=_spin, args=(stop, time.perf_counter() + 0.05))
    thread.start()
    try:
        waited = settle.until_quiet(max_wait_s=10.0)
        assert waited >= 0.02  # it began well before the thread's 50 ms of spinning ended
        thread.join(1.0)
        assert not thread.is_alive()
    finally:
        stop.set()


@linux_only
def test_a_thread_that_never_stops_holds_a_round_back_only_so_long():
    stop = threading.Event()
    thread = threading.Thread(target=_spin, args=(stop,))
    thread.start()
    try:
        waited = settle.until_quiet(max_wait_s=0.02)
        assert thread.is_alive() and waited >= 0.02
    finally:
        stop.set()
        thread.join(1.0)


def test_a_quiet_process_starts_its_round_at_once():
    assert settle.until_quiet(max_wait_s=0.0) == pytest.approx(0.0, abs=0.01)


def test_every_round_of_a_case_waits_for_quiet_first(monkeypatch):
    events = []
    monkeypatch.setattr(measure, "until_quiet", lambda: events.append("quiet"))
    fast = Settings(threads=1, round_target_s=0.001, rounds=3, time_cap_s=0.05, memory=False)
    measure_case(
        load_registry(),
        Case(200, 5),
        ["numpy-dot", "einsum"],
        fast,
        report=lambda kind, name, phase: events.append(name) if phase == "time" else None,
    )
    rounds = [i for i, e in enumerate(events) if e != "quiet"]
    assert rounds and all(events[i + 1] == "quiet" for i in rounds)

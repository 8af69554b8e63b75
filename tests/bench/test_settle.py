"""Before a round: the threads the last round left spinning are let go to sleep first."""

import sys
import threading
import time

import pytest

from gradrace import _load, load_registry
from gradrace.bench import measure, settle
from gradrace.bench.grids import Case
from gradrace.bench.measure import Settings, measure_case


class _Clock:
    """perf_counter and sleep for until_quiet: time passes only when it sleeps."""

    def __init__(self):
        self.now, self.sleeps = 0.0, 0

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s
        self.sleeps += 1


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(settle.time, "perf_counter", fake.perf_counter)
    monkeypatch.setattr(settle.time, "sleep", fake.sleep)
    return fake


def test_a_round_waits_while_other_threads_run_and_starts_once_they_sleep(clock, monkeypatch):
    running = iter([3, 2, 2, 1])  # this thread and two spinning, then one, then none
    monkeypatch.setattr(_load, "own_running", lambda: next(running))
    waited = settle.until_quiet(max_wait_s=1.0, gap_s=0.001)
    assert clock.sleeps == 3 and waited == pytest.approx(0.003)


def test_a_quiet_process_starts_its_round_without_waiting(clock, monkeypatch):
    monkeypatch.setattr(_load, "own_running", lambda: 1)
    assert settle.until_quiet() == 0.0 and clock.sleeps == 0


def test_a_thread_that_never_sleeps_holds_a_round_back_only_so_long(clock, monkeypatch):
    monkeypatch.setattr(_load, "own_running", lambda: 2)
    waited = settle.until_quiet(max_wait_s=0.03, gap_s=0.001)
    assert 0.03 <= waited < 0.032 and settle.held_back(waited, 0.03)


@pytest.mark.skipif(sys.platform != "linux", reason="thread states come from /proc")
def test_a_real_spinning_thread_is_waited_for_until_it_ends():
    stop = threading.Event()
    end = time.perf_counter() + 0.05

    def spin() -> None:
        while not stop.is_set() and time.perf_counter() < end:
            pass

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        waited = settle.until_quiet(max_wait_s=5.0)
        thread.join(1.0)
        assert not thread.is_alive() and 0.02 <= waited < 5.0  # it began well before the end
    finally:
        stop.set()


def _measured(monkeypatch, waited: float) -> tuple[list, list[dict]]:
    events = []

    def until_quiet():
        events.append("quiet")
        return waited

    monkeypatch.setattr(measure, "until_quiet", until_quiet)
    fast = Settings(threads=1, round_target_s=0.001, rounds=3, time_cap_s=0.05, memory=False)
    rows = measure_case(
        load_registry(),
        Case(200, 5),
        ["numpy-dot", "einsum"],
        fast,
        report=lambda kind, name, phase: events.append(name) if phase == "time" else None,
    )
    return events, rows


def test_every_round_of_a_case_waits_for_quiet_first(monkeypatch):
    events, rows = _measured(monkeypatch, 0.0)
    rounds = [i for i, e in enumerate(events) if e != "quiet"]
    assert rounds and all(events[i + 1] == "quiet" for i in rounds)
    assert not any("still running" in (r.get("message") or "") for r in rows)


def test_rounds_begun_beside_a_thread_that_never_slept_are_noted_on_the_rows(monkeypatch):
    _, rows = _measured(monkeypatch, settle.MAX_WAIT_S)
    for row in rows:
        assert row["status"] == "ok"
        assert "began with another thread of the worker still running" in row["message"]

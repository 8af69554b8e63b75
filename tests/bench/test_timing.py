"""The timing engine's logic (never its speed): calibration, interleaving, statistics, rounds."""

import typing

import pytest

from gradrace.bench import timing
from gradrace.bench.timing import MIN_ROUNDS, Timing, calibrate, measure, plan_rounds


class FakeTimer:
    """Stands in for timeit.Timer: each call 'takes' a fixed number of seconds."""

    log: typing.ClassVar[list] = []

    def __init__(self, fn):
        self.fn = fn

    def timeit(self, number):
        for _ in range(number):
            self.fn()
        FakeTimer.log.append((self.fn.name, number))
        return number * self.fn.seconds


class Fn:
    def __init__(self, name, seconds):
        self.name, self.seconds, self.calls = name, seconds, 0

    def __call__(self):
        self.calls += 1


@pytest.fixture
def fake_timer(monkeypatch):
    FakeTimer.log = []
    monkeypatch.setattr(timing.timeit, "Timer", FakeTimer)
    return FakeTimer


def test_calibrate_grows_calls_until_a_round_lasts_the_target(fake_timer):
    number, per_call = calibrate(Fn("a", 1e-4), target=0.01)
    assert number == 100 and per_call == pytest.approx(1e-4)
    assert [n for _, n in fake_timer.log] == [1, 2, 5, 10, 20, 50, 100]


def test_calibrate_takes_one_call_when_a_call_is_longer_than_the_target(fake_timer):
    assert calibrate(Fn("slow", 0.5), target=0.01) == (1, 0.5)


def test_measure_interleaves_and_rotates_the_order(fake_timer):
    fns = {name: Fn(name, 1e-3) for name in "ABC"}
    timings, errors = measure(fns, {n: 1 for n in fns}, {n: 3 for n in fns})
    order = "".join(name for name, _ in fake_timer.log)
    assert order == "ABCBCACAB"
    assert not errors and all(t.rounds == 3 for t in timings.values())


def test_measure_gives_each_implementation_its_own_rounds(fake_timer):
    fns = {"fast": Fn("fast", 1e-6), "slow": Fn("slow", 1.0)}
    timings, _ = measure(fns, {"fast": 10, "slow": 1}, {"fast": 5, "slow": 2})
    assert timings["fast"].rounds == 5 and timings["slow"].rounds == 2
    assert timings["fast"].number == 10 and fns["fast"].calls == 50


def test_measure_drops_a_function_that_raises_and_goes_on(fake_timer):
    class Boom(Fn):
        def __call__(self):
            raise RuntimeError("later call fails")

    fns = {"ok": Fn("ok", 1e-3), "boom": Boom("boom", 1e-3)}
    timings, errors = measure(fns, {"ok": 1, "boom": 1}, {"ok": 3, "boom": 3})
    assert set(timings) == {"ok"} and str(errors["boom"]) == "later call fails"


def test_timing_statistics_from_rounds():
    t = Timing.from_rounds([4.0, 1.0, 3.0, 2.0, 5.0], number=7)
    assert (t.min_s, t.median_s, t.mean_s, t.rounds, t.number) == (1.0, 3.0, 3.0, 5, 7)
    assert t.iqr_s == pytest.approx(2.0)  # quartiles 2 and 4
    assert Timing.from_rounds([2.0], 1).iqr_s == 0.0


@pytest.mark.parametrize(
    ("per_call", "number", "expected"),
    [(1e-5, 1000, 9), (0.25, 1, 4), (0.5, 1, MIN_ROUNDS), (0.11, 1, 9), (2.0, 1, 1)],
)
def test_plan_rounds_fits_the_time_cap_but_keeps_a_minimum(per_call, number, expected):
    assert plan_rounds(per_call, number, rounds=9, time_cap_s=1.0) == expected

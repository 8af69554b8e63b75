"""Measuring one case: the read floor is timed beside the implementations, in the same rounds."""

import math

import numpy as np
import pytest

from gradrace import load_registry
from gradrace.bench.grids import Case
from gradrace.bench.measure import READ, Settings, measure_case
from gradrace.bench.problem import make_problem

FAST = Settings(threads=1, round_target_s=0.001, rounds=3, time_cap_s=0.05, memory=False)


def test_the_read_floor_is_timed_with_the_implementations_and_gives_their_fraction():
    rounds = []
    rows = measure_case(
        load_registry(),
        Case(2000, 20),
        ["numpy-dot", "numba-fused"],
        FAST,
        report=lambda kind, name, phase: rounds.append(name) if phase == "time" else None,
    )
    assert [r["implementation"] for r in rows] == ["numpy-dot", "numba-fused"]
    assert READ in rounds  # timed in the interleaved rounds, but given no row of its own
    read_s = rows[0]["read_s"]
    assert 0 < read_s < 1 and all(r["read_s"] == read_s for r in rows)
    for row in rows:
        assert math.isclose(row["bandwidth_fraction"], read_s / row["median_s"])


def test_no_read_floor_when_nothing_is_timed():
    rows = measure_case(
        load_registry(["tests/plugins/misbehaving.py:raises_in_gradient"]),
        Case(50, 3),
        ["raises-in-gradient"],
        FAST,
    )
    assert rows[0]["status"] == "error" and "read_s" not in rows[0]


def test_the_call_after_the_timed_calls_is_judged():
    rows = measure_case(
        load_registry(["tests/plugins/stateful.py:wrong_after_30_calls"]),
        Case(50, 3),
        ["numpy-dot", "wrong-after-30-calls"],
        FAST,
    )
    good, drifted = rows
    assert good["status"] == "ok"
    assert drifted["status"] == "disagrees" and drifted["median_s"] > 0
    assert drifted["message"].startswith(
        "the result changed between calls: the first call agreed, the call after the timed "
        "calls did not: disagrees: dW wrong"
    )


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_a_result_stored_by_the_inputs_identity_is_caught_and_never_ranked(model):
    case = Case(200, 4, model=model)
    rows = measure_case(
        load_registry(["tests/plugins/stateful.py:memoised"]),
        case,
        ["numpy-dot", "memoised"] if model == "linear" else ["memoised"],
        FAST,
    )
    cheat = rows[-1]
    assert cheat["status"] == "disagrees" and cheat["kind"] == "stale"
    assert (
        "after X was doubled in place (the same array), the result did not follow"
        in (cheat["message"])
    )
    assert all(r["status"] == "ok" for r in rows[:-1])


def _beside_numpy_dot(spec: str, name: str) -> list[dict]:
    """The rows of numpy-dot and the plugin ``spec`` (registered as ``name``) measured on
    one small case."""
    return measure_case(load_registry([spec]), Case(200, 4), ["numpy-dot", name], FAST)


def test_a_result_stored_by_a_few_entries_of_x_is_caught_too():
    good, cheat = _beside_numpy_dot("tests/plugins/stateful.py:by_corners", "by-corners")
    assert good["status"] == "ok"
    assert cheat["status"] == "disagrees" and cheat["kind"] == "stale"
    assert "after the middle half of X's rows were doubled in place" in cheat["message"]


def test_a_result_stored_only_in_calls_like_timed_ones_is_caught_too():
    spec = "tests/plugins/stateful.py:caches_when_timed"
    good, cheat = _beside_numpy_dot(spec, "caches-when-timed")
    assert good["status"] == "ok"
    assert cheat["status"] == "disagrees" and cheat["kind"] == "stale"


def test_what_the_counted_and_timed_calls_print_is_counted_not_shown(capsys):
    good, printer = _beside_numpy_dot("tests/plugins/misbehaving.py:prints", "prints")
    assert printer["status"] == "ok" and "its timed calls printed" in printer["message"]
    assert not isinstance(good.get("message"), str) or "printed" not in good["message"]
    shown = capsys.readouterr().out.count("a learner's progress line")
    assert 0 < shown < 10  # the judged calls' lines only


def test_a_write_into_x_after_the_check_costs_the_writer_only():
    rows = measure_case(
        load_registry(["tests/plugins/stateful.py:writes_x_later"]),
        Case(300, 4),
        ["writes-x-later", "numpy-dot", "einsum"],
        FAST,
    )
    writer, *others = rows
    assert writer["status"] == "error" and writer["kind"] == "modified-input"
    assert "wrote into X" in writer["message"]
    assert all(r["status"] == "ok" for r in others)  # judged on X as it was made


def test_a_call_far_faster_than_reading_its_inputs_is_not_ranked():
    from gradrace.bench.measure import TOO_FAST, _judge_too_fast
    from gradrace.implementations import numpy_dot

    case = Case(4_000, 10)  # 352 kB of X and Y: past TOO_FAST_MIN_BYTES
    row = {"status": "ok", "median_s": 1e-6, "read_s": 1e-3}
    _judge_too_fast(numpy_dot.IMPLEMENTATION, case, row)
    assert row["status"] == "error" and row["kind"] == "too-fast" and row["median_s"] == 1e-6
    honest = {"status": "ok", "median_s": 2 * TOO_FAST * 1e-3, "read_s": 1e-3}
    _judge_too_fast(numpy_dot.IMPLEMENTATION, case, honest)
    assert honest["status"] == "ok"
    gpu = {"status": "ok", "median_s": 2e-4, "read_s": 3e-2}  # X on a device: 0.007× the read
    _judge_too_fast(numpy_dot.IMPLEMENTATION, case, gpu)
    assert gpu["status"] == "ok"
    from gradrace.implementations import gram

    precomputed = {"status": "ok", "median_s": 1e-6, "read_s": 1e-3}
    _judge_too_fast(gram.IMPLEMENTATION, case, precomputed)
    assert precomputed["status"] == "ok"  # its prepare says it precomputes
    small = {"status": "ok", "median_s": 1e-7, "read_s": 1e-6}  # m = 8: overheads, not data
    _judge_too_fast(numpy_dot.IMPLEMENTATION, Case(8, 2), small)
    assert small["status"] == "ok"


def test_every_builtin_follows_x_changed_in_place_and_x_is_put_back():
    registry = load_registry(entry_points=False)
    case = Case(60, 3, 2)
    names = [e.name for e in registry if e.name not in ("python-loops",)]
    rows = measure_case(registry, case, names, FAST)
    assert {r["implementation"]: r["status"] for r in rows} == dict.fromkeys(names, "ok")


def test_x_is_put_back_exactly_after_the_changed_x_check():
    from gradrace.bench.measure import _judge_changed_x

    problem = make_problem(30, 3, dtype="float32")
    before = problem.X.copy()
    row = {"status": "ok"}
    impl = load_registry(entry_points=False)["numpy-dot"]
    _judge_changed_x(impl, problem, "linear", row, lambda *event: None)
    assert row == {"status": "ok"} and np.array_equal(problem.X, before)


def test_a_case_beyond_max_outputs_is_not_applicable_and_not_measured():
    registry = load_registry(["tests/plugins/learner/lab.py:compute_gradient_linear_reg"])
    name = "compute_gradient_linear_reg"
    one, two = (measure_case(registry, Case(50, 3, k), [name], FAST)[0] for k in (1, 2))
    assert one["status"] == "ok" and one["median_s"] > 0
    assert two["status"] == "n/a" and "median_s" not in two
    assert two["message"] == "handles at most k=1 output(s); this case has k=2"


def test_a_lock_in_prepared_arguments_is_measured_like_any_other():
    registry = load_registry(
        ["tests/plugins/scratch.py:locked", "tests/plugins/scratch.py:out_buffers"]
    )
    rows = measure_case(registry, Case(50, 3, 2), ["locked", "out-buffers", "numpy-dot"], FAST)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok"]


def test_rows_keep_the_samples_of_every_round_and_of_the_probes():
    rows = measure_case(load_registry(), Case(500, 5), ["numpy-dot", "einsum"], FAST)
    for row in rows:
        assert len(row["samples"]) == row["rounds"] and min(row["samples"]) == row["min_s"]
        assert len(row["read_samples"]) >= 1 and len(row["compute_samples"]) >= 1
        assert row["ci_low_s"] <= row["median_s"] <= row["ci_high_s"]
        assert row["load_before"] >= 0 and row["load_after"] >= 0


def test_a_logistic_case_times_the_exp_probe_beside_it_and_a_linear_one_does_not():
    linear, logistic = Case(500, 5), Case(500, 5, model="logistic")
    (row,) = measure_case(load_registry(), linear, ["numpy-dot"], FAST)
    assert row["exp_samples"] is None and row["exp_s"] != row["exp_s"]  # NaN
    (row,) = measure_case(load_registry(), logistic, ["numpy-dot"], FAST)
    assert len(row["exp_samples"]) >= 1 and row["exp_s"] > 0
    assert row["limit_s"] >= row["exp_s"]


def test_an_imprecise_median_gets_more_rounds_up_to_the_most_allowed():
    demanding = Settings(
        threads=1, round_target_s=1e-4, rounds=3, time_cap_s=5.0, precision=0.0, max_rounds=7
    )
    (row,) = measure_case(load_registry(), Case(100, 5), ["numpy-dot"], demanding)
    assert row["rounds"] == 7 and len(row["samples"]) == 7
    assert len(row["read_samples"]) == 7  # the probes too: drift stays known for every round


def test_versions_whose_paired_ratio_stays_imprecise_get_rounds_past_the_most_allowed():
    from gradrace.bench.measure import PAIRED_ROUNDS

    plugin = "tests/plugins/versions.py"
    registry = load_registry([f"{plugin}:my_numpy@old", f"{plugin}:my_numpy@new"])
    names = ["numpy-dot", "my_numpy@old", "my_numpy@new"]
    never_precise = Settings(  # no real ratio is known to ±0 %: every batch is taken
        threads=1, round_target_s=1e-4, rounds=3, time_cap_s=5.0, precision=0.0, max_rounds=5
    )
    other, old, new = measure_case(registry, Case(100, 5), names, never_precise)
    assert other["rounds"] == 5  # not a version of anything: the most allowed
    assert old["rounds"] == new["rounds"] == PAIRED_ROUNDS * 5  # together, so still paired
    assert len(old["read_samples"]) == PAIRED_ROUNDS * 5  # the probes beside them


def test_a_version_timed_once_over_the_budget_is_not_timed_again_with_its_siblings():
    from gradrace.bench.measure import _with_versions
    from gradrace.bench.timing import Timing

    rounds = Timing.from_rounds([1.0, 1.1, 0.9, 1.0, 1.2], 1)
    timings = {"mine@old": rounds, "mine@new": rounds, "mine@slow": Timing.from_rounds([2.0], 1)}
    assert _with_versions({"mine@old"}, timings) == {"mine@old", "mine@new"}


def test_two_versions_whose_paired_ratio_is_imprecise_both_get_more_rounds():
    from gradrace.bench.measure import _imprecise_pairs
    from gradrace.bench.timing import Timing

    steady = Timing.from_rounds([1.0, 1.0, 1.0, 1.0, 1.0], 1)
    tracks = Timing.from_rounds([1.1, 1.1, 1.1, 1.1, 1.1], 1)  # +10 % in every round
    wobbles = Timing.from_rounds([0.9, 1.3, 1.0, 1.25, 0.95], 1)  # a ratio known to ±15 %
    other = Timing.from_rounds([0.5, 2.0, 1.0, 3.0, 0.7], 1)  # not a version: never paired
    timings = {"mine@old": steady, "mine@new": tracks, "mine": wobbles, "numpy-dot": other}
    assert _imprecise_pairs(timings, 0.05) == {"mine", "mine@old", "mine@new"}
    assert _imprecise_pairs({k: timings[k] for k in ("mine@old", "mine@new")}, 0.05) == set()

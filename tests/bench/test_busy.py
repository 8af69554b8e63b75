"""A busy machine, told from the load average and the spread of the probes' rounds."""

from gradrace.bench.busy import assess, cores_held


def row(load: float, probes: list[float], m: int = 100) -> dict:
    case = {"m": m, "n": 10, "k": 1, "dtype": "float64"}
    loads = {"load_before": load, "load_after": load}
    return {**case, **loads, "read_samples": probes, "compute_samples": probes}


def test_a_load_above_the_cores_is_busy():
    found = assess([row(2.3, [1.0] * 5), row(1.0, [1.0] * 5, m=200)], cores=2)
    assert found["busy"] and found["load"] == 2.3
    assert found["warning"] == (
        "the machine was busy: load 2.3 on 2 cores; comparisons are less certain"
    )


def test_probes_that_spread_widely_are_busy():
    found = assess([row(0.5, [1.0, 1.0, 2.0, 3.0, 1.0])], cores=2)
    assert found["busy"] and "the probes' rounds spread by" in found["warning"]


def test_a_quiet_machine_is_not_busy():
    found = assess([row(0.5, [1.0, 1.01, 0.99, 1.0, 1.0])], cores=2)
    assert not found["busy"] and found["warning"] == ""


def test_rows_without_loads_or_samples_are_not_busy():
    assert not assess([{"m": 1, "n": 1, "k": 1, "dtype": "float64"}], cores=2)["busy"]


def test_other_work_holding_a_core_on_most_cases_is_busy():
    quiet = [1.0, 1.01, 0.99, 1.0, 1.0]
    rows = [{**row(1.8, quiet, m=m), "other_threads": t} for m, t in ((1, 1), (2, 1), (3, 0))]
    found = assess(rows, cores=2)
    assert found["busy"] and found["other_threads"] == 1
    assert "other work kept 1 thread(s) running on 2 cores" in found["warning"]
    rows[1]["other_threads"] = 0  # one case only: a blip
    assert not assess(rows, cores=2)["busy"]
    half = [{**row(1.8, quiet, m=m), "other_threads": t} for m, t in ((1, 1), (2, 0))]
    assert "other work kept 0.5 thread(s)" in assess(half, cores=2)["warning"]  # not "0"


def test_each_problem_of_a_case_counts():
    quiet, wide = [1.0, 1.01, 0.99, 1.0, 1.0], [1.0, 1.0, 2.0, 3.0, 1.0]
    rows = [{**row(0.5, quiet), "problem": "linear"}, {**row(0.5, wide), "problem": "logistic"}]
    rows.append({**row(0.5, wide, m=7), "problem": "logistic"})
    assert assess(rows, cores=2)["busy"]


def test_a_load_left_by_work_that_ended_holds_no_core_where_other_threads_were_counted():
    quiet = [1.0, 1.01, 0.99, 1.0, 1.0]
    after_a_busy_run = [{**row(2.4, quiet, m=m), "other_threads": 0} for m in (1, 2, 3)]
    found = assess(after_a_busy_run, cores=2)
    assert found["busy"] and "load 2.4 on 2 cores" in found["warning"]  # warned
    assert not cores_held(found)  # but no slowdown is the busy machine's
    uncounted = assess([row(2.4, quiet)], cores=2)  # an older file: the load is all there is
    assert cores_held(uncounted)

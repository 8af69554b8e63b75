"""A thread that plugin code leaves computing is found, charged to its plugin, and
spoils no other implementation's timing or verdict."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gradrace import run
from gradrace.bench.guard import Tampered, Watch
from gradrace.bench.stray import Strays, cpu_seconds
from gradrace.bench.worker import guarded
from gradrace.cli import main

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
SPINS = PLUGINS / "spins.py"


@pytest.fixture
def thread_of():
    """Start threads running ``target`` until the test ends."""
    stop, threads = threading.Event(), []

    def start(target, name="helper"):
        thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
        thread.start()
        threads.append(thread)
        return thread

    yield start
    stop.set()
    for thread in threads:
        thread.join(5)


def spin(stop):
    while not stop.is_set():
        pass


def sleep(stop):
    stop.wait()


@pytest.fixture(autouse=True)
def _spinners_stopped():
    """Stop the threads a plugin of ``spins.py`` started in this process (no-isolate)."""
    yield
    for module in [m for m in list(sys.modules.values()) if _is_spins(m)]:
        module.stop.set()
        for thread in module._started:
            thread.join(5)
        module._started.clear()
        module.stop.clear()


def _is_spins(module) -> bool:
    return getattr(module, "__file__", None) == str(SPINS)


def _timed(tmp_path, plugin: str, impl: list[str]):
    """A quick run of ``impl`` at m=1000, n=10 on one thread, with ``plugin`` loaded."""
    return run(
        m=[1000],
        n=[10],
        impl=impl,
        plugins=[plugin],
        out=tmp_path,
        entry_points=False,
        threads=1,
        quick=True,
        timeout=20,
    )


def _check_argv(plugin: str, impl: list[str]) -> list[str]:
    """``gradrace check`` of ``impl`` on m=20, n=4 with ``plugin`` loaded."""
    selected = [arg for name in impl for arg in ("--impl", name)]
    head = ["check", "--problem", "linear", "--no-entry-points", "--timeout", "20"]
    return [*head, "--plugin", plugin, *selected, "--m", "20", "--n", "4"]


def test_a_thread_this_process_runs_has_a_cpu_clock_that_grows_while_it_computes(thread_of):
    thread = thread_of(spin)
    before = cpu_seconds(thread.native_id)
    time.sleep(0.05)
    assert before is not None and cpu_seconds(thread.native_id) > before
    assert cpu_seconds(2**31 - 7) is None  # no such thread


def test_a_new_computing_thread_is_a_stray_named_by_its_function_file_and_first_run(thread_of):
    strays = Strays()
    thread_of(spin, name="spinner")
    strays.note("my-impl")
    (stray,) = strays.spinning()
    assert stray.kind == "thread" and stray.first_seen == "my-impl"
    assert stray.where.startswith("spin() in test_stray.py, line ")
    assert __file__ in stray.files and stray.share >= 0.25


def test_threads_that_sleep_or_were_there_before_are_not_strays(thread_of):
    thread_of(spin, name="older")
    strays = Strays()
    thread_of(sleep, name="sleeper")
    strays.note("my-impl")
    assert strays.spinning() == []


def test_a_thread_that_computes_only_briefly_after_it_starts_is_not_a_stray(thread_of):
    strays = Strays()

    def burst(stop):
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pass
        stop.wait()

    thread_of(burst)
    assert strays.spinning() == []


def test_a_child_process_that_computes_is_a_stray_charged_to_what_ran_when_it_started():
    strays = Strays()
    strays.note("einsum")
    time.sleep(0.05)  # start times are known to a clock tick (10 ms)
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.05)
        strays.note("starter")  # "starter" ran until now: the child started meanwhile
        strays.note("numpy-dot")
        (stray,) = strays.spinning()
    finally:
        child.kill()
        child.wait()
    assert stray.kind == "process" and stray.first_seen == "starter"
    assert stray.where.startswith(f"pid {child.pid}: ") and "while True: pass" in stray.where
    assert "left a process running (pid" in stray.left()


def test_the_guard_charges_a_stray_to_the_plugin_whose_file_it_runs_in(thread_of):
    strays = Strays()
    report = guarded(lambda *event: None, Watch([]), {__file__: {"spinner-plugin"}}, strays)
    report("phase", "einsum", "time")
    thread_of(spin)  # as if spinner-plugin's thread had been left running earlier
    report("phase", "numpy-dot", "time")
    with pytest.raises(Tampered) as caught:
        report("checked")
    assert caught.value.implementation == "spinner-plugin"
    assert "left a thread running (spin() in test_stray.py" in caught.value.reason
    assert caught.value.phase == "a thread it started"  # not "found after numpy-dot ran"


def test_a_thread_is_charged_to_the_plugin_where_its_loop_began_not_to_what_it_calls(thread_of):
    space: dict = {}
    exec(compile("def work():\n    return sum(range(1000))\n", "/plugins/b.py", "exec"), space)
    loop = "def loop(stop):\n    while not stop.is_set():\n        work()\n"
    exec(compile(loop, "/plugins/a.py", "exec"), space)
    strays = Strays()
    files = {"/plugins/a.py": {"a"}, "/plugins/b.py": {"b"}}
    report = guarded(lambda *event: None, Watch([]), files, strays)
    report("phase", "b", "time")
    thread_of(space["loop"])  # a's thread, which spends its time in b's function
    with pytest.raises(Tampered) as caught:
        report("checked")
    assert caught.value.implementation == "a"


def test_a_stray_from_a_file_of_no_plugin_is_charged_to_what_ran_when_it_appeared(thread_of):
    strays = Strays()
    report = guarded(lambda *event: None, Watch([]), {}, strays)
    report("phase", "einsum", "time")
    thread_of(spin)  # started while einsum ran
    report("phase", "numpy-dot", "time")
    with pytest.raises(Tampered) as caught:
        report("checked")
    assert caught.value.implementation == "einsum"


@pytest.mark.parametrize("isolate", [True, False], ids=["worker", "no-isolate"])
def test_a_plugin_that_leaves_a_thread_computing_is_charged_and_the_others_agree(isolate, capsys):
    argv = _check_argv(f"{SPINS}:spins_after_call", ["spins-after-call", "numpy-dot", "einsum"])
    argv += [] if isolate else ["--no-isolate"]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 1
    assert "numpy-dot: agrees (4/4 cases)" in out and "einsum: agrees (4/4 cases)" in out
    assert "spins-after-call: agrees" not in out
    assert "left a thread running (spin() in spins.py, line" in out


def test_a_plugin_that_leaves_a_process_computing_is_charged_and_the_others_agree(capsys):
    argv = _check_argv(f"{SPINS}:spawns_a_spinner", ["numpy-dot", "spawns-a-spinner", "einsum"])
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 1
    assert "numpy-dot: agrees (4/4 cases)" in out and "einsum: agrees (4/4 cases)" in out
    assert "spawns-a-spinner: agrees" not in out
    assert "lost: left a process running (pid " in out


def test_a_plugin_whose_import_starts_a_computing_thread_is_not_loaded_here(capsys):
    path = PLUGINS / "spins_at_import.py"
    code = main(["list", "--no-entry-points", "--plugin", f"{path}:gradient"])
    err = capsys.readouterr().err
    assert code == 1 and "plugin not loaded" in err
    assert "started a thread at import that keeps computing (spin() in spins_at_import.py" in err
    # the probe process found it: this process never ran its import (nor its thread)
    assert not [m for m in list(sys.modules.values()) if getattr(m, "__file__", "") == str(path)]


def test_a_thread_left_computing_in_the_timing_costs_its_plugin_only(tmp_path):
    frame = _timed(
        tmp_path, f"{SPINS}:spins_when_timed", ["numpy-dot", "spins-when-timed", "einsum"]
    )
    status = dict(zip(frame["implementation"], frame["status"], strict=True))
    assert status == {"numpy-dot": "ok", "einsum": "ok", "spins-when-timed": "error"}
    (row,) = frame[frame["implementation"] == "spins-when-timed"].to_dict("records")
    assert "left a thread running (spin() in spins.py" in row["message"]


def test_a_plain_function_whose_trial_call_starts_a_computing_thread_is_not_loaded(capsys):
    code = main(["list", "--no-entry-points", "--plugin", f"{SPINS}:gradient"])
    err = capsys.readouterr().err
    assert code == 1 and "plugin not loaded" in err
    assert "started a thread in its trial call (the one that tells its convention)" in err


def test_a_process_a_plugins_import_started_in_the_worker_is_charged_to_it(tmp_path):
    frame = _timed(tmp_path, f"{PLUGINS / 'spins_later.py'}:gradient", ["numpy-dot", "gradient"])
    status = dict(zip(frame["implementation"], frame["status"], strict=True))
    # found while the worker measured the machine, or later: quarantined, or an error
    assert status["numpy-dot"] == "ok" and status["gradient"] in ("error", "skipped")
    (row,) = frame[frame["implementation"] == "gradient"].to_dict("records")
    assert "left a process running (pid " in row["message"]


def test_the_command_exits_though_a_plugin_left_a_thread_that_would_keep_it_alive():
    spec = f"{PLUGINS / 'lingers.py'}:gradient"
    done = subprocess.run(
        [sys.executable, "-m", "gradrace", "list", "--no-entry-points", "--plugin", spec],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "gradient" in done.stdout


def test_a_plugin_computing_in_a_process_pool_it_keeps_is_measured_not_charged(tmp_path):
    frame = _timed(tmp_path, f"{PLUGINS / 'pool.py'}:gradient", ["numpy-dot", "gradient"])
    assert set(frame["status"]) == {"ok"}  # its pool may have children; idle, they are no strays


SNIPES = f"{PLUGINS / 'snipes.py'}:gradient"
SNIPES_RUN = dict(entry_points=False, threads=1, quick=True, timeout=30)


def test_a_sleeping_thread_that_ends_the_worker_on_anothers_turn_spoils_no_verdict(tmp_path):
    results = run(
        m=[300, 400],
        n=[4],
        impl=["gradient", "numpy-dot"],
        plugins=[SNIPES],
        out=tmp_path,
        **SNIPES_RUN,
    )
    dot = results[results["implementation"] == "numpy-dot"]
    assert (dot["status"] == "ok").all()  # measured apart from the thread, not charged
    check = results.attrs["metadata"]["check"]
    assert all(r["status"] == "ok" for r in check if r["implementation"] == "numpy-dot")
    sniper = results[results["implementation"] == "gradient"]
    kept = "measured in a worker of its own since its threads or processes were alive"
    assert sniper["message"].str.contains(kept, regex=False).all()  # at every size: named
    assert results.attrs["metadata"]["apart"].keys() == {"gradient"}  # for a resumed run


def test_a_resumed_run_keeps_apart_what_the_interrupted_one_kept_apart(tmp_path, capsys):
    run(
        m=[300, 400],
        n=[4],
        impl=["gradient", "numpy-dot"],
        plugins=[SNIPES],
        out=tmp_path,
        **SNIPES_RUN,
    )
    payload = json.loads((tmp_path / "results.json").read_text())
    payload["results"] = [r for r in payload["results"] if r["m"] == 300]  # stopped there
    (tmp_path / "results.json").write_text(json.dumps(payload))
    capsys.readouterr()
    results = run(out=tmp_path, resume=True, plugins=[SNIPES])
    assert "measured again apart" not in capsys.readouterr().err  # no worker lost again
    last = results[results["m"] == 400].set_index("implementation")
    assert (last["status"] == "ok").all()
    assert "measured in a worker of its own" in last.loc["gradient", "message"]

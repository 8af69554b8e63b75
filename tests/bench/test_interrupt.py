"""Ctrl-C stops a run; a plugin raising KeyboardInterrupt or SystemExit itself is its failure."""

import os
import signal

import pytest

from gradrace.bench import interrupt
from gradrace.bench.runner import run

PLUGIN = "tests/plugins/misbehaving.py"
FAST = dict(entry_points=False, threads=1, quick=True, m=[10, 100], n=[2])


def test_a_raise_is_the_users_unless_a_run_watches_for_ctrl_c():
    assert interrupt.pressed(KeyboardInterrupt())  # no watcher: as Python takes it
    with interrupt.watching_ctrl_c():
        assert not interrupt.pressed(KeyboardInterrupt())
        assert not interrupt.pressed(SystemExit(3))
    assert interrupt.pressed(KeyboardInterrupt())


def test_a_real_sigint_while_watching_is_the_users_and_the_handler_is_put_back():
    before = signal.getsignal(signal.SIGINT)
    with interrupt.watching_ctrl_c():
        with pytest.raises(KeyboardInterrupt) as caught:
            os.kill(os.getpid(), signal.SIGINT)
        assert interrupt.pressed(caught.value)
        with pytest.raises(KeyboardInterrupt):
            interrupt.pass_on_ctrl_c(caught.value)
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "isolated"])
@pytest.mark.parametrize(
    ("name", "raised"),
    [("interrupts-while-timed", "KeyboardInterrupt"), ("exits-while-timed", "SystemExit: 3")],
)
def test_a_plugin_raising_interrupt_or_exit_when_timed_fails_alone(tmp_path, isolate, name, raised):
    frame = run(
        impl=["numpy-dot", name],
        plugins=[f"{PLUGIN}:{name.replace('-', '_')}"],
        out=tmp_path,
        isolate=isolate,
        **FAST,
    )
    own = frame[frame.implementation == name]
    assert (own["status"] == "error").all() and (own["kind"] == "raised").all()
    assert own["message"].str.contains(raised, regex=False).all()
    assert (frame[frame.implementation == "numpy-dot"]["status"] == "ok").all()


def test_the_check_command_reports_a_plugin_raising_keyboardinterrupt_and_goes_on(capsys):
    from gradrace.cli import main

    args = ["check", "--problem", "linear", "--no-entry-points", "--no-isolate"]
    code = main([*args, "--plugin", f"{PLUGIN}:interrupts", "--impl", "interrupts"])
    out = capsys.readouterr().out
    assert code == 1 and "raised: gradient raised KeyboardInterrupt" in out
    assert "interrupts: FAILS on" in out

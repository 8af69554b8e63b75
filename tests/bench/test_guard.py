"""Plugins that replace numpy's or gradrace's judge functions are named, and harm no other."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradrace.bench import agreement
from gradrace.bench.guard import Watch
from gradrace.bench.loading import load_registry_safely
from gradrace.cli import main

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
TAMPERING = PLUGINS / "tampering.py"


def test_watch_names_a_replaced_function_and_puts_it_back(monkeypatch):
    real = np.dot
    watch = Watch()
    monkeypatch.setattr(np, "dot", lambda *a: 0)
    monkeypatch.setattr(agreement, "relative_error", lambda x, ref: 0.0)
    assert set(watch.changed()) == {"numpy.dot", "gradrace.bench.agreement.relative_error"}
    watch.restore()
    assert np.dot is real and not watch.changed()


def test_watch_names_a_replaced_timing_function_or_method_and_puts_it_back(monkeypatch):
    import statistics
    import timeit

    real_median, real_timeit = statistics.median, timeit.Timer.timeit
    watch = Watch()
    monkeypatch.setattr(statistics, "median", lambda values: 0.0)
    monkeypatch.setattr(timeit.Timer, "timeit", lambda self, number=1: 0.0)
    assert set(watch.changed()) == {"statistics.median", "timeit.Timer.timeit"}
    watch.restore()
    assert statistics.median is real_median and timeit.Timer.timeit is real_timeit
    assert not watch.changed()


def test_watch_names_a_changed_template_method_code_or_default_and_puts_them_back():
    import timeit

    from gradrace.bench.timing import Timing

    template, method = timeit.template, vars(Timing)["from_rounds"].__func__
    code, defaults = method.__code__, timeit.Timer.__init__.__defaults__
    watch = Watch()
    try:
        timeit.template = template.replace("return _t1 - _t0", "return (_t1 - _t0) / 3")
        method.__code__ = (lambda cls, samples, number: None).__code__  # inside a classmethod
        timeit.Timer.__init__.__defaults__ = ("pass", "pass", lambda: 0.0, None)
        assert watch.changed() == [
            "gradrace.bench.timing.Timing.from_rounds",
            "timeit.Timer.__init__",
            "timeit.template",
        ]
        watch.restore()
        assert timeit.template is template and method.__code__ is code
        assert timeit.Timer.__init__.__defaults__ is defaults and not watch.changed()
    finally:
        timeit.template, method.__code__ = template, code
        timeit.Timer.__init__.__defaults__ = defaults


def test_a_plugin_faking_the_timings_is_discarded_and_the_others_times_stay_real(tmp_path):
    argv = ["run", "--quick", "--no-entry-points", "--timeout", "30", "--m", "1000"]
    argv += ["--n", "10", "--out", str(tmp_path / "run")]
    argv += ["--plugin", f"{TAMPERING}:fakes_timings", "--impl", "fakes-timings"]
    argv += ["--impl", "numpy-dot"]
    assert main(argv) == 1
    rows = pd.read_csv(tmp_path / "run" / "results.csv").set_index("implementation")
    assert rows.loc["fakes-timings", "kind"] == "quarantined"
    assert "replaced statistics.median, timeit.Timer.timeit" in rows.loc["fakes-timings", "message"]
    assert rows.loc["numpy-dot", "status"] == "ok" and rows.loc["numpy-dot", "median_s"] > 1e-7


def test_a_name_that_only_ends_like_a_good_one_is_refused():
    from gradrace import Implementation

    for name in ("numpy-dot\n", "a" * 81, "numpy dot", "@old"):
        with pytest.raises(ValueError, match="must be a non-empty string of at most 80"):
            Implementation(name=name, gradient=lambda X, Y, W, b, lam: None)


def test_a_plugin_patching_einsum_at_import_is_not_loaded_and_einsum_stays_right():
    real = np.einsum
    registry = load_registry_safely(
        [f"{PLUGINS / 'patches_einsum_at_import.py'}:innocent_looking"], entry_points=False
    )
    (error,) = registry.errors
    assert "replaced numpy.einsum at import" in error.message
    assert np.einsum is real and "innocent_looking" not in registry


def test_a_plugin_refused_at_import_is_refused_again_the_next_time_it_is_loaded():
    spec = f"{PLUGINS / 'patches_einsum_at_import.py'}:innocent_looking"
    for _ in range(2):  # a file runs once per process, but a refused one is not kept
        registry = load_registry_safely([spec], entry_points=False)
        assert ["replaced numpy.einsum at import" in e.message for e in registry.errors] == [True]


@pytest.mark.parametrize("isolate", [True, False], ids=["worker", "no-isolate"])
def test_a_plugin_patching_numpy_or_the_judge_is_the_culprit_and_innocents_agree(isolate, capsys):
    argv = [
        "check",
        "--problem",
        "linear",
        "--no-entry-points",
        "--timeout",
        "20",
        "--plugin",
        f"{TAMPERING}:patches_numpy",
        "--plugin",
        f"{TAMPERING}:patches_judge",
        "--plugin",
        f"{PLUGINS / 'patches_einsum_at_import.py'}:innocent_looking",
        "--impl",
        "einsum",
        "--impl",
        "patches-numpy",
        "--impl",
        "patches-judge",
        "--impl",
        "numpy-dot",
    ] + ([] if isolate else ["--no-isolate"])
    real = (np.einsum, np.dot, agreement.relative_error)
    try:
        code = main(argv)
    finally:
        np.einsum, np.dot, agreement.relative_error = real  # in case the guard failed
    out = capsys.readouterr().out
    assert code == 1
    assert "einsum: agrees (24/24 cases)" in out and "numpy-dot: agrees (24/24 cases)" in out
    assert "patches-judge: agrees" not in out and "patches-numpy: agrees" not in out
    assert "patches-judge on m=1 n=3 k=1 float64 λ=0: lost: replaced " in out
    assert "gradrace.bench.agreement.relative_error while it ran" in out
    assert "replaced numpy.dot, numpy.einsum while it ran" in out
    assert "NOT LOADED: --plugin" in out and "replaced numpy.einsum at import" in out


def test_a_plain_function_that_patches_the_judge_is_charged_and_nobody_else(capsys):
    real_norm, real_tolerance = np.linalg.norm, agreement.TOLERANCE
    try:
        code = main(
            [
                "check",
                "--problem",
                "linear",
                "--no-entry-points",
                "--timeout",
                "20",
                "--plugin",
                f"{TAMPERING}:gradient",
                "--plugin",
                f"{TAMPERING}:loosens_tolerance",
                "--impl",
                "numpy-dot",
                "--impl",
                "gradient",
                "--impl",
                "loosens-tolerance",
                "--m",
                "20",
                "--n",
                "4",
            ]
        )
    finally:
        np.linalg.norm, agreement.TOLERANCE = real_norm, real_tolerance
    out = capsys.readouterr().out
    assert code == 1 and "numpy-dot: agrees (4/4 cases)" in out
    assert "replaced numpy.linalg.norm while it ran" in out
    assert "replaced gradrace.bench.agreement.TOLERANCE while it ran" in out
    assert "loosens-tolerance: agrees" not in out and "gradient: agrees" not in out


def test_a_replacement_defined_in_another_plugins_file_names_that_plugin():
    import sys
    import types

    from gradrace.bench.guard import Tampered, Watch
    from gradrace.bench.worker import guarded

    module = types.ModuleType("gradrace_test_watched")
    exec("def norm(x):\n    return x\n", module.__dict__)
    sys.modules[module.__name__] = module
    try:
        watch = Watch([module.__name__])
        framer = "/plugins/framer.py"
        space: dict = {}
        exec(compile("def fake(x):\n    return 0.0\n", framer, "exec"), space)
        report = guarded(lambda *event: None, watch, {framer: {"framer"}})
        report("phase", "einsum", "time")
        module.norm = space["fake"]  # a thread framer left running did this while einsum ran
        with pytest.raises(Tampered) as caught:
            report("phase", "einsum", "check after timing")
        assert caught.value.implementation == "framer"
        assert caught.value.phase == "its code, found while einsum ran"
    finally:
        del sys.modules[module.__name__]

"""Shared fixtures, and how gradrace's own checkout runs its benchmark suite.

The --gradrace-* options and the benchmark fixtures come from gradrace's pytest plugin
(``gradrace.pytest_plugin``), loaded here when the installed gradrace does not register it
yet. In this checkout a plain ``pytest`` executes each benchmark once, as a test
(pytest-benchmark's ``--benchmark-disable``), so the suite stays fast; ``pytest
--benchmark-only`` times them. The shipped plugin leaves other projects' settings alone.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

PLUGIN = "gradrace.pytest_plugin"


def _plugin_registered() -> bool:
    return any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))


pytest_plugins = [] if _plugin_registered() else [PLUGIN]


def pytest_configure(config):
    """Run benchmarks once as plain tests unless benchmarking was asked for."""
    opt = config.option
    if hasattr(opt, "benchmark_disable"):
        asked = (
            opt.benchmark_only or opt.benchmark_enable or opt.benchmark_json or opt.benchmark_save
        )
        if not asked:
            opt.benchmark_disable = True


@pytest.fixture
def rng():
    return np.random.default_rng(12345)

"""The package root: its public names, imported on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gradrace


def test_every_public_name_resolves_to_its_module():
    assert set(gradrace.__all__) == set(gradrace._WHERE)
    for name in gradrace.__all__:
        value = getattr(gradrace, name)
        assert getattr(sys.modules[gradrace._WHERE[name]], name) is value


def test_importing_gradrace_loads_neither_numpy_nor_numba():
    code = "import sys, gradrace; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not set(eval(done.stdout)) & {"numpy", "numba", "pandas", "gradrace.bench"}


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no_such_name"):
        gradrace.no_such_name  # noqa: B018

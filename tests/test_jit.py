"""gradrace/_jit.py: numba's options in one place, and the vector width it asks numba for."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradrace import _jit


def _child(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (numba's code generator is set up once per
    process) with ``env`` added; return what it prints."""
    unset = ("NUMBA_CPU_FEATURES", "NUMBA_DISABLE_JIT")  # the child compiles, as numba does
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.pop(_jit.VECTORS_VARIABLE, None)
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


REPORT = (
    "import gradrace._jit as j\n"
    "from numba.core.registry import cpu_target\n"
    "features = cpu_target.target_context.codegen()._tm_features.split(',')\n"
    "print(j.wide_vectors(), '-prefer-256-bit' in features)\n"
)

AVX512 = "+avx512f" in _jit._host_features().split(",")


@pytest.mark.skipif(not AVX512, reason="the processor has no AVX-512: nothing to widen")
def test_numba_compiles_with_wide_vectors_by_default_on_avx512():
    assert _child(REPORT) == "True True"


def test_numba_keeps_its_own_vectors_when_asked():
    assert _child(REPORT, GRADRACE_NUMBA_VECTORS="native") == "False False"


def test_a_users_numba_cpu_features_are_left_as_they_are():
    features = _jit._host_features()
    assert _child(REPORT, NUMBA_CPU_FEATURES=features) == "False False"


def test_nothing_changes_once_numba_has_compiled():
    code = (
        "import numba\n"
        "numba.njit(lambda x: x + 1)(1)\n"  # numba's code generator is set up now
        "import gradrace._jit as j\n"
        "print(j.wide_vectors())\n"
    )
    assert _child(code) == "False"


@pytest.mark.skipif(not AVX512, reason="the processor has no AVX-512: nothing to widen")
def test_the_run_records_the_vectors_numba_compiled_with():
    code = (
        "from gradrace.bench.machine import environment\n"
        "e = environment()\n"
        "print(e['numba_vectors'], e['numba_tuning'])\n"
    )
    tuning = ",".join(("-prefer-256-bit", *_jit._tuning()))
    assert _child(code) == f"wide {tuning}"
    assert _child(code, GRADRACE_NUMBA_VECTORS="native") == "native none"


def test_numba_loads_strided_data_without_gathers_by_default():
    code = (
        "import gradrace._jit as j\n"
        "from numba.core.registry import cpu_target\n"
        "features = cpu_target.target_context.codegen()._tm_features.split(',')\n"
        "print('+prefer-no-gather' in features)\n"
    )
    assert _child(code) == str(bool(_jit._tuning()))
    assert _child(code, GRADRACE_NUMBA_VECTORS="native") == "False"

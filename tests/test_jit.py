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
    "print(j.wide_vectors(), '-prefer-256-bit' in features, '+prefer-no-gather' in features,"
    " repr(j.tuning_flags()))\n"
)

HOST = _jit._host_features()
AVX512 = "+avx512f" in HOST.split(",")
#: What gradrace adds on this machine and this LLVM: the default run's tuning.
TUNED = _jit._tuning(HOST)


def _expected(wide: bool, no_gather: bool, flags: str) -> str:
    return f"{wide} {wide} {no_gather} {flags!r}"


def test_numba_compiles_with_gradraces_tuning_by_default():
    wide, no_gather = _jit.WIDE in TUNED, _jit.NO_GATHER in TUNED
    assert _child(REPORT) == _expected(wide, no_gather, ",".join(TUNED))


@pytest.mark.skipif(not AVX512, reason="the processor has no AVX-512: nothing to widen")
def test_numba_compiles_with_wide_vectors_by_default_on_avx512():
    assert _child(REPORT).startswith("True True")


def test_numba_keeps_its_own_code_generation_when_asked():
    assert _child(REPORT, GRADRACE_NUMBA_VECTORS="native") == _expected(False, False, "")


def test_a_users_numba_cpu_features_are_left_as_they_are():
    assert _child(REPORT, NUMBA_CPU_FEATURES=HOST) == _expected(False, False, "")


def test_avx_turned_off_in_numba_is_not_turned_back_on():
    code = REPORT + "print('+avx2' in features)\n"
    assert _child(code, NUMBA_ENABLE_AVX="0").splitlines() == [_expected(False, False, ""), "False"]


def test_tuning_needs_the_instructions_it_tunes():
    assert _jit._tuning("+sse2,+fma") == ()  # no AVX2: no gathers to avoid, no AVX-512
    assert _jit._tuning("+neon,+fp-armv8") == ()  # another architecture: the flags are x86's
    assert _jit.WIDE in _jit._tuning("+avx2,+avx512f")


def test_nothing_changes_once_numba_has_compiled():
    code = (
        "import numba\n"
        "numba.njit(lambda x: x + 1)(1)\n"  # numba's code generator is set up now
        "import gradrace._jit as j\n"
        "print(j.wide_vectors(), repr(j.tuning_flags()))\n"
    )
    assert _child(code) == "False ''"


def test_the_run_records_how_numba_compiled():
    code = (
        "from gradrace.bench.machine import environment\n"
        "e = environment()\n"
        "print(e['numba_vectors'], e['numba_tuning'])\n"
    )
    wide = "wide" if _jit.WIDE in TUNED else "native"
    assert _child(code) == f"{wide} {','.join(TUNED) or 'none'}"
    assert _child(code, GRADRACE_NUMBA_VECTORS="native") == "native none"

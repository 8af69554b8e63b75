"""reports/mismatch.py: what differs between two runs' machines and software."""

from __future__ import annotations

from gradrace.reports.mismatch import differences

META = {
    "config": {"settings": {"threads": 2}},
    "cpu": "Some CPU",
    "cores": 2,
    "numpy": "2.4.6",
    "numba": "0.68.1",
    "numba_vectors": "wide",
    "numba_tuning": "-prefer-256-bit,+prefer-no-gather",
    "blas": [{"internal_api": "openblas", "version": "0.3.30"}],
}


def test_identical_runs_differ_in_nothing():
    assert differences(META, dict(META)) == []


def test_each_differing_setting_is_named_with_both_values():
    new = {**META, "config": {"settings": {"threads": 1}}, "numba_vectors": "native"}
    assert differences(META, new) == [
        "threads: 2 in OLD, 1 in NEW",
        "numba's vectors: wide in OLD, native in NEW",
    ]


def test_a_setting_one_run_did_not_record_is_not_compared():
    old = {k: v for k, v in META.items() if k != "numba_vectors"}
    assert differences(old, {**META, "numba_vectors": "native"}) == []


def test_runs_compiled_with_different_llvm_tuning_are_told_apart():
    new = {**META, "numba_tuning": "-prefer-256-bit"}
    assert differences(META, new) == [
        "numba's code generation: -prefer-256-bit,+prefer-no-gather in OLD, -prefer-256-bit in NEW"
    ]


def test_a_run_from_before_the_flags_were_recorded_is_read_as_compiled_then():
    old = {k: v for k, v in META.items() if k != "numba_tuning"}
    assert differences(old, META) == [
        "numba's code generation: -prefer-256-bit in OLD, -prefer-256-bit,+prefer-no-gather in NEW"
    ]

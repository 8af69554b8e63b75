"""What differs between two runs' machines and software, said before comparing them.

A comparison across thread counts, CPUs or versions of numpy, numba or the BLAS measures
those differences as much as the code's, so ``gradrace report`` warns of each one.
"""

from __future__ import annotations


def _threads(meta: dict):
    return (meta.get("config") or {}).get("settings", {}).get("threads")


def _blas(meta: dict) -> str | None:
    libraries = meta.get("blas")
    if not isinstance(libraries, list) or not libraries:
        return None
    return ", ".join(
        f"{b.get('internal_api')} {b.get('version')}" for b in libraries if isinstance(b, dict)
    )


def tuning_of(meta: dict) -> str | None:
    """The LLVM flags numba compiled with (``numba_tuning``); for a run from before gradrace
    recorded them, what it added then: ``-prefer-256-bit`` with wide vectors, else none."""
    if meta.get("numba_tuning") is not None:
        return meta["numba_tuning"]
    return {"wide": "-prefer-256-bit", "native": "none"}.get(meta.get("numba_vectors"))


#: What is compared: (what it is called, how it is read from a run's metadata).
FIELDS = [
    ("threads", _threads),
    ("CPU", lambda meta: meta.get("cpu")),
    ("cores", lambda meta: meta.get("cores")),
    ("numpy", lambda meta: meta.get("numpy")),
    ("numba", lambda meta: meta.get("numba")),
    ("numba's vectors", lambda meta: meta.get("numba_vectors")),
    ("numba's code generation", tuning_of),
    ("BLAS", _blas),
]


def differences(old: dict, new: dict) -> list[str]:
    """One warning per setting that differs between two runs' metadata ("threads: 2 in
    OLD, 1 in NEW"); a setting either run did not record is not compared."""
    found = []
    for what, read in FIELDS:
        a, b = read(old or {}), read(new or {})
        if a is not None and b is not None and a != b:
            found.append(f"{what}: {a} in OLD, {b} in NEW")
    return found

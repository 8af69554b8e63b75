"""What a resumed run may take from a results file: settings, never code.

A results folder can come from anyone. Its stored run config names the plugins the
run used, but resuming imports only plugins the user names again with ``--plugin``:
the stored list is only compared with the given one, and a difference is refused
with the options to add or drop. Entry points are installed by the user and load as
in any run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def stored_config(metadata: dict, out: Path) -> dict:
    """The run config stored in a results file's metadata; a clear error if there is none."""
    config = metadata.get("config") if isinstance(metadata, dict) else None
    if not isinstance(config, dict) or "cases" not in config:
        raise ValueError(
            f"{out / 'results.json'} holds no run config (it was not written by gradrace run, "
            "or by an older version): it cannot be resumed; start a new run with another --out"
        )
    return config


def check_plugins(stored: Sequence[str], given: Sequence[str]) -> None:
    """Refuse a resume whose ``--plugin`` options differ from the stored run's plugins."""
    missing = [s for s in stored if s not in given]
    extra = [g for g in given if g not in stored]
    problems = []
    if missing:
        options = " ".join(f"--plugin {s}" for s in missing)
        problems.append(
            "the run used plugins that --resume does not load from the results file (it "
            f"imports only code named on the command line); to continue it, add: {options}"
        )
    if extra:
        problems.append(
            f"{', '.join(f'--plugin {g}' for g in extra)} was not part of the run; drop it"
        )
    if problems:
        raise ValueError("; ".join(problems))

"""The output folder of a run: a unique default name, and no silent overwrite.

``new_run_folder`` creates ``reports/<date>-<time>-<pid>`` atomically (``mkdir``
without ``exist_ok``), so two runs started in the same second never share it.
``check_out`` refuses an ``--out`` that is a file or lies under one, and a folder that
already holds a run's outputs, unless the run resumes or is told to overwrite.
"""

from __future__ import annotations

import datetime as _dt
import os
import secrets
from pathlib import Path

from gradrace.bench.lock import LOCK_NAME, locked

#: The files a run or its report writes; finding one in --out means an earlier run's output.
OUTPUTS = ("results.json", "results.csv", "check.csv", "summary.txt", "index.html")


def new_run_folder(parent: str | os.PathLike = "reports") -> Path:
    """A new, empty folder ``parent/<YYYYmmdd-HHMMSS>-<pid>``, created here and now."""
    parent = Path(parent).absolute()
    parent.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{os.getpid()}"
    while True:
        try:
            (parent / name).mkdir()
            return parent / name
        except FileExistsError:
            name = f"{stamp}-{os.getpid()}-{secrets.token_hex(2)}"


def _file_above(out: Path) -> Path | None:
    for folder in [out, *out.parents]:
        if folder.exists():
            return None if folder.is_dir() else folder
    return None


def earlier_outputs(out: Path) -> list[str]:
    """The names of the files of an earlier run (results, tables, report, plots) in ``out``."""
    if not out.is_dir():
        return []
    names = [n for n in OUTPUTS if (out / n).exists()]
    return names + sorted(p.name for p in out.glob("*.png"))


def check_out(
    out: str | os.PathLike, *, resume: bool = False, force: bool = False, held: bool = False
) -> Path:
    """``out`` made absolute, after refusing a file, a folder under a file, a folder
    another run holds now (unless this process ``held`` it), or a folder holding an
    earlier run's outputs (unless ``resume`` or ``force``)."""
    out = Path(out).expanduser().absolute()
    blocker = _file_above(out)
    if blocker == out:
        raise FileExistsError(f"{out} is a file, not a folder: choose another --out")
    if blocker is not None:
        raise FileExistsError(f"--out {out} lies under {blocker}, which is a file, not a folder")
    if not held and (out / LOCK_NAME).exists():  # a run may be writing there: say so first
        with locked(out):  # FolderInUse if it is; a stale lock file is taken and let go
            pass
    if resume and not held and not (out / "results.json").is_file():
        raise FileNotFoundError(
            f"{out} holds no run to continue (no results.json): run without --resume "
            "(resume=False in Python), or give the folder of an interrupted run"
        )
    if resume or force:
        return out
    if (out / "results.json").exists():
        raise FileExistsError(
            f"{out} already holds a run's results; continue it with --resume (resume=True "
            "in Python), overwrite it with --force (force=True), or choose another --out (out=)"
        )
    found = earlier_outputs(out)
    if found:
        raise FileExistsError(
            f"{out} already holds {', '.join(found)} from an earlier run; overwrite them with "
            "--force (force=True in Python), or choose another --out"
        )
    return out

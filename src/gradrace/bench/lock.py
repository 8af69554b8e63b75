"""One run per output folder: a lock file that names the process holding the folder.

``locked(out)`` holds an exclusive ``flock`` on ``out/.gradrace.lock`` for the whole run
and writes its pid into the file. A second run on the same folder finds the lock taken
and refuses, naming the holder's pid (``FolderInUse``). The kernel drops the lock when
its holder dies, so the lock file a killed run leaves behind is taken over at once.
Where ``fcntl`` is missing (Windows), the lock file is created exclusively instead and
a file naming a process that no longer runs is taken over.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = ".gradrace.lock"


class FolderInUse(RuntimeError):
    """Another gradrace run holds the output folder."""


def holder(path: Path) -> int | None:
    """The pid written in a lock file, or None."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _in_use(out: Path, pid: int | None) -> FolderInUse:
    who = f"gradrace process {pid}" if pid else "another gradrace process"
    return FolderInUse(
        f"{out} is in use by {who} (lock file {out / LOCK_NAME}); wait until it ends, "
        "or choose another --out"
    )


#: Never follow a symbolic link planted where the lock file goes (it would be overwritten).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _acquire_flock(path: Path) -> int:
    """An open descriptor of ``path`` with an exclusive lock held; raises FolderInUse."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _in_use(path.parent, holder(path)) from None
        try:  # a holder that just ended may have removed the file we opened: lock the new one
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _acquire_exclusive(path: Path) -> int:
    """Without flock: create the file exclusively, taking over one left by a dead process."""
    for _ in range(3):
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | NOFOLLOW | os.O_EXCL, 0o644)
        except FileExistsError:
            pid = holder(path)
            if pid is not None and _alive(pid):
                raise _in_use(path.parent, pid) from None
            path.unlink(missing_ok=True)
    raise _in_use(path.parent, holder(path))


@contextlib.contextmanager
def locked(out: str | os.PathLike) -> Iterator[Path]:
    """Hold ``out`` (created if missing) for this process; raise FolderInUse if another has it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    fd = _acquire_flock(path) if fcntl is not None else _acquire_exclusive(path)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # before the lock goes: a waiting opener then sees a new inode
        os.close(fd)

"""One run at a time: an exclusive, non-blocking ``flock`` on ``<home>/newsdesk.lock``.

Used by ``newsdesk fetch``, ``newsdesk brief`` and the scheduler, so two
fetch/brief runs never overlap. The lock belongs to the open file, so the OS
releases it when the process dies: no stale lock after a crash or SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from newsdesk.errors import NewsdeskError


class LockBusy(NewsdeskError):
    """Another fetch/brief run holds the lock."""


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold the lock at ``path`` for the duration of the block; raise :class:`LockBusy` if taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            except OSError:
                holder = ""
            raise LockBusy(
                f"another newsdesk fetch/brief run is in progress (lock {path}"
                + (f" held by pid {holder}" if holder else "") + "); not starting a second one"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

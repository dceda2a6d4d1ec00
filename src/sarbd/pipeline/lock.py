"""One build at a time per dataset folder: an advisory ``flock`` on ``<folder>/.sarbd-build.lock``.

The kernel releases the lock when its process ends, however it ends (SIGKILL
included), so a crashed build never leaves a stale lock behind. A second build on
the same folder refuses at once with a message naming the holder; it never
interleaves its writes with the first. ``flock`` is POSIX; on network file systems
without lock support the lock may not hold (documented in docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from sarbd.errors import OutputError
from sarbd.utils.files import is_environment_error, output_error

__all__ = ["LOCK_NAME", "build_lock"]

LOCK_NAME = ".sarbd-build.lock"


@contextlib.contextmanager
def build_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the build lock of ``folder`` for the duration; yields the lock file's path.

    Raises
    ------
    OutputError
        Another process holds the lock (the message says which), or the lock file
        cannot be created (read-only folder, disk full).
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if is_environment_error(exc):
            raise output_error(exc, path) from None
        raise
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise OutputError(
                f"another sarbd build ({holder}) is writing this dataset folder",
                path=folder,
                hint="wait for it to finish, or build into another --out folder",
            ) from None
        with contextlib.suppress(OSError):  # the holder's description is a courtesy, not needed
            os.ftruncate(fd, 0)
            os.pwrite(
                fd,
                f"pid {os.getpid()} on {socket.gethostname()}, since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(),
                0,
            )
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock

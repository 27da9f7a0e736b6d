"""One writer at a time per data folder, across processes: an OS lock on `writer.lock`.

`fcntl.flock` on a lock file inside the data folder. The kernel drops the lock when the holder
exits in any way (`kill -9` included), so there is never a stale lock to clean up by hand.
The holder's pid is written into the file so a waiting writer can say whom it waits for.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path

from samsok.search.errors import ReadOnlyIndex, WriterBusy

__all__ = ["LOCK_NAME", "WriterLock"]

log = logging.getLogger(__name__)

LOCK_NAME = "writer.lock"


class WriterLock:
    """The data folder's writer lock. `acquire()` waits (or fails at once with `wait=False`)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> int | None:
        """Pid written by the current holder (None when unknown)."""
        try:
            return int(self.path.read_text("ascii").strip() or 0) or None
        except (OSError, ValueError):
            return None

    def acquire(self, *, wait: bool = True, poll_seconds: float = 0.2) -> None:
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ReadOnlyIndex(
                f"cannot write to the data folder {self.path.parent}: {exc.strerror or exc}; "
                "reading commands (search, status, serve) still work there"
            ) from exc
        try:
            if not self._try(fd):
                pid = self.holder()
                who = f"pid {pid}" if pid else "another process"
                if not wait:
                    raise WriterBusy(
                        f"another writer ({who}) holds the lock on {self.path.parent}; "
                        "try again when it has finished (or leave out --no-wait to wait)"
                    )
                log.warning("waiting for the writer lock held by %s on %s …", who, self.path)
                started = time.monotonic()
                # Polling rather than a blocking flock: a signal (Ctrl-C) is then handled at
                # once, and the wait is visible in the log instead of a silent hang.
                while not self._try(fd):
                    time.sleep(poll_seconds)
                log.info("got the writer lock after %.1f s", time.monotonic() - started)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    @staticmethod
    def _try(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

"""SIGINT and SIGTERM for the CLI: a writer stops between items, everything else at once.

While a writer applies crawl or ingest events (`cooperative()`), the first signal only asks
it to stop: the current item finishes, what is complete is committed, the writer lock is
released. A second signal, or a signal outside that section (waiting for the lock, loading the
model, serving, searching), raises `KeyboardInterrupt`, which unwinds through every `finally`
(a writer's store transaction rolls back; its commit re-checks FAISS against the store).
`samsok` then exits with 128 + the signal number (130, 143) and one line saying why.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["STOP", "Stop"]

log = logging.getLogger(__name__)

# The shell's convention for "killed by signal N": exit status 128 + N.
SIGNAL_EXIT_BASE = 128


class Stop:
    def __init__(self) -> None:
        self.signum: int | None = None
        self._event = threading.Event()
        self._cooperative = 0
        self._exiting = False

    def install(self) -> None:
        """Handle SIGINT and SIGTERM in this process (call from the main thread)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "signal"

    @property
    def exit_code(self) -> int:
        return SIGNAL_EXIT_BASE + (self.signum or signal.SIGINT)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True as soon as a stop was asked for."""
        return self._event.wait(seconds)

    @contextmanager
    def cooperative(self) -> Iterator[None]:
        """Inside, the first signal only sets `requested`; the caller stops at an item boundary."""
        self._cooperative += 1
        try:
            yield
        finally:
            self._cooperative -= 1

    def exiting(self) -> None:
        """The command is done and the process is on its way out: from now on SIGINT/SIGTERM
        are ignored. Raising then would turn a finished, committed run into a traceback, and
        Python's finalisation restores the default action (death by the signal) for Python
        handlers, though not for ignored signals."""
        self._exiting = True
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._exiting:
            return
        first = not self._event.is_set()
        if first:
            self.signum = signum
            self._event.set()
        if first and self._cooperative:
            log.warning(
                "%s: stopping after the current item (committing what is complete); "
                "send it again to abort at once",
                signal.Signals(signum).name,
            )
            return
        raise KeyboardInterrupt


STOP = Stop()

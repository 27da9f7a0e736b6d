"""The recrawling crawler's sign of life, for container health checks.

`samsok crawl --every` keeps `DATA_DIR/crawler-heartbeat.json` fresh from a background thread and
records when each crawl started and finished; `samsok crawler-health` (the compose healthcheck)
reads it. Healthy means: the process is alive (heartbeat newer than `STALE_AFTER_SECONDS`) and a
crawl finished within two recrawl intervals — or the process is younger than that, so its first
crawl may still be running.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["HEARTBEAT_FILE", "Heartbeat", "HeartbeatState", "health_problem"]

HEARTBEAT_FILE = "crawler-heartbeat.json"
BEAT_SECONDS = 20.0
# Three missed beats: long enough not to flap when the machine is briefly busy.
STALE_AFTER_SECONDS = 3 * BEAT_SECONDS
# A crawl may take as long as the interval it waits: only past two intervals is it overdue.
LATE_AFTER_INTERVALS = 2


@dataclass
class HeartbeatState:
    pid: int
    started: float
    updated: float
    crawling: bool = False
    last_crawl_started: float | None = None
    last_crawl_finished: float | None = None


class Heartbeat:
    """Writes the heartbeat file atomically every `BEAT_SECONDS` until `stop()`."""

    def __init__(self, data_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = data_dir / HEARTBEAT_FILE
        self._clock = clock
        now = clock()
        self._state = HeartbeatState(pid=os.getpid(), started=now, updated=now)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join()

    def crawl_started(self) -> None:
        with self._lock:
            self._state.crawling = True
            self._state.last_crawl_started = self._clock()
        self.beat()

    def crawl_finished(self) -> None:
        with self._lock:
            self._state.crawling = False
            self._state.last_crawl_finished = self._clock()
        self.beat()

    def beat(self) -> None:
        with self._lock:
            self._state.updated = self._clock()
            payload = json.dumps(asdict(self._state))
            fd, tmp = tempfile.mkstemp(prefix=".heartbeat-", dir=self._path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(payload)
            os.replace(tmp, self._path)

    def _run(self) -> None:
        while not self._stopped.wait(BEAT_SECONDS):
            # A full or vanished disk shows as a stale heartbeat: that is the signal.
            with contextlib.suppress(OSError):
                self.beat()


def health_problem(data_dir: Path, recrawl_interval: float, *, now: float) -> str | None:
    """Why the crawler is unhealthy, or None when it is healthy."""
    path = data_dir / HEARTBEAT_FILE
    try:
        state = HeartbeatState(**json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        return f"no heartbeat at {path}: the crawler has not started"
    except (OSError, ValueError, TypeError) as exc:
        return f"unreadable heartbeat {path}: {exc}"
    if now - state.updated > STALE_AFTER_SECONDS:
        age = now - state.updated
        return f"heartbeat is {age:.0f} s old: crawler pid {state.pid} is gone or stuck"
    allowed = LATE_AFTER_INTERVALS * recrawl_interval
    if state.last_crawl_finished is None:
        if now - state.started > allowed:
            return f"no crawl has finished in {now - state.started:.0f} s"
    elif now - state.last_crawl_finished > allowed:
        return f"last crawl finished {now - state.last_crawl_finished:.0f} s ago"
    return None

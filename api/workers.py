"""`samsok serve` over several worker processes, so a server is not capped at one core.

A search spends most of its CPU in Python (HTTP, ranking, snippets), which one process runs on
one core at a time (the GIL): one process kept a 2-core machine's second core half idle under
16 concurrent clients. `SAMSOK_SERVE_WORKERS` processes (default: one per core, at most
`MAX_DEFAULT_WORKERS`) share the listening socket; uvicorn's supervisor starts them, restarts
one that dies and stops them all on Ctrl-C or SIGTERM. Each worker is an ordinary reader: it
opens the index read-only and picks up what writers publish by itself, as a single server does.

Workers are spawned interpreters: they get what to serve from `WORKER_SPEC_ENV`, written by the
parent, that is the parent's settings (command-line overrides included) and the import path of
its embedder factory. A worker whose parent dies (kill -9) stops itself instead of keeping the
port.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from samsok.api.reports import ServiceError
from samsok.api.settings import Settings
from samsok.api.wiring import EmbedderFactory, open_index
from uvicorn.supervisors import Multiprocess

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["MAX_DEFAULT_WORKERS", "WORKER_SPEC_ENV", "WorkerSpec", "serve_workers", "worker_app"]

log = logging.getLogger(__name__)

#: The environment variable that carries a `WorkerSpec` to spawned workers (not a setting).
WORKER_SPEC_ENV = "_SAMSOK_WORKER_SPEC"
# Each worker holds its own model and index reader (~0.3 GB on the mirror; the vector index per
# worker at scale): past a few cores the memory costs more than the extra throughput gives.
MAX_DEFAULT_WORKERS = 4
PARENT_POLL_SECONDS = 1.0  # how soon an orphaned worker notices
# uvicorn's supervisor kills a worker that does not answer its ping in time (default 5 s). The
# ping is answered by a thread of the worker, which needs the GIL: loading the model on the
# first search holds it for seconds on a busy machine, and 5 s killed healthy workers there.
WORKER_HEALTHCHECK_SECONDS = 60


class WorkerSpecError(RuntimeError):
    """The worker processes cannot be given what they need (e.g. an unimportable factory)."""


def default_workers() -> int:
    """One worker per core this process may run on, at most `MAX_DEFAULT_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


@dataclass(frozen=True)
class WorkerSpec:
    settings: dict[str, object]  # `Settings.model_dump(mode="json")`
    embedder_factory: str  # "module:qualified.name"
    parent_pid: int

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> WorkerSpec:
        return cls(**json.loads(text))


def factory_path(factory: EmbedderFactory) -> str:
    """The import path a spawned worker finds `factory` under; a clear error if there is none
    (a lambda or a function defined inside another one)."""
    module = getattr(factory, "__module__", None)
    name = getattr(factory, "__qualname__", "")
    if not module or not name or "<" in name:
        raise WorkerSpecError(
            f"the embedder factory {factory!r} cannot be imported by worker processes; "
            "define it at module level or set SAMSOK_SERVE_WORKERS=1"
        )
    return f"{module}:{name}"


def serve_workers(
    settings: Settings, embedder_factory: EmbedderFactory, host: str, port: int, workers: int
) -> None:
    """Serve with `workers` processes until SIGINT/SIGTERM, which is then raised again here
    (as a single uvicorn server does) for the CLI's own handler to report."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    spec = WorkerSpec(
        settings.model_dump(mode="json"), factory_path(embedder_factory), parent_pid=os.getpid()
    )
    os.environ[WORKER_SPEC_ENV] = spec.dumps()
    config = uvicorn.Config(
        "samsok.api.workers:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        log_level=settings.log_level.lower(),
    )
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    sock = config.bind_socket()
    try:
        supervisor = _Supervisor(config, sockets=[sock])
        log.info("serving with %d worker processes", workers)
        supervisor.run()
    finally:
        sock.close()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        raise ServiceError("the server's worker processes failed to start; see the log above")
    if supervisor.stopped_by is not None:
        signal.raise_signal(supervisor.stopped_by)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, remembering which signal stopped it."""

    stopped_by: int | None = None

    def handle_int(self) -> None:
        self.stopped_by = signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by = signal.SIGTERM
        super().handle_term()


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn calls this in each spawned worker)."""
    from pkgutil import resolve_name

    from samsok.api.app import create_app
    from samsok.api.console import configure_logging

    text = os.environ.get(WORKER_SPEC_ENV)
    if not text:
        raise WorkerSpecError(f"{WORKER_SPEC_ENV} is not set: start workers with `samsok serve`")
    spec = WorkerSpec.loads(text)
    settings = Settings(**spec.settings)  # type: ignore[arg-type]
    configure_logging(settings.log_level)
    _stop_when_orphaned(spec.parent_pid)
    factory: EmbedderFactory = resolve_name(spec.embedder_factory)
    embedder = factory(settings.serving())
    return create_app(settings, open_index(settings, embedder=embedder, read_only=True))


def _stop_when_orphaned(parent_pid: int) -> None:
    """SIGTERM this worker (a graceful uvicorn shutdown) once its parent is gone: killed with
    kill -9, the supervisor cannot stop its workers, and they would keep serving the port."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        log.warning("the serving parent process %d is gone; stopping this worker", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="samsok-parent-watch", daemon=True).start()

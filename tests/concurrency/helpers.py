"""Shared by the concurrency tests and the soak: run the CLI in subprocesses, serve, check."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from samsok.search.index import DenseIndex

from tests.paths import PROJECT_ROOT

__all__ = [
    "FAKE_CLI",
    "REAL_CLI",
    "assert_disk_consistent",
    "cli",
    "cli_env",
    "data_hashes",
    "documents_in",
    "free_port",
    "start_server",
    "stop",
    "write_pages",
]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SAMSOK_DATA_DIR": str(data_dir),
        "SAMSOK_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    # Run the CLI side from another checkout (e.g. the code before issue 8) to see a test fail.
    older = os.environ.get("SAMSOK_TEST_CLI_PYTHONPATH")
    if older:
        env["PYTHONPATH"] = older
    return env


FAKE_CLI = "tests.concurrency.fakecli"  # the CLI with the hashing embedder
REAL_CLI = "samsok.api.cli"


def cli(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    module: str = FAKE_CLI,
    **popen: object,
) -> subprocess.Popen[str]:
    """`samsok ARGS` in a subprocess (by default with the hashing embedder)."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        env=env or cli_env(data_dir),
        text=True,
        **streams,  # type: ignore[arg-type]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    *,
    module: str = FAKE_CLI,
    seconds: float = 60,
) -> tuple[subprocess.Popen[str], str]:
    """`samsok serve` on a free port, healthy within `seconds`, its log going to `log` (default:
    beside the data folder; a pipe nobody reads would fill up with access lines and block the
    server)."""
    port = free_port()
    log = log or data_dir.parent / f"serve-{port}.log"
    with log.open("w") as sink:
        proc = cli(
            data_dir, "serve", "--port", str(port), env=env, module=module, stdout=sink, stderr=sink
        )
    proc.log = log  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server did not start in {seconds:g} s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[str], sig: int, timeout: float = 30) -> tuple[int, str, str]:
    """Send `sig`, wait; (exit code, stdout, stderr), a server's log standing in for both."""
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    log = getattr(proc, "log", None)
    if log is not None:
        out = err = log.read_text()
    return proc.returncode, out or "", err or ""


def write_pages(folder: Path, pages: dict[str, tuple[str, str]]) -> None:
    """name -> (title, body text) as small HTML files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, text) in pages.items():
        paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        (folder / f"{name}.html").write_text(
            f"<!doctype html><html lang='nb'><head><title>{title}</title></head><body>"
            f"<main><article><h1>{title}</h1>{paragraphs}</article></main></body></html>",
            "utf-8",
        )


def documents_in(data_dir: Path) -> int:
    db = data_dir / "store.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def assert_disk_consistent(data_dir: Path) -> tuple[int, int]:
    """The published pair on disk: the FAISS file of the store's generation exists and holds
    exactly the store's chunk ids. Returns (generation, chunks)."""
    with sqlite3.connect(f"file:{data_dir / 'store.db'}?mode=ro", uri=True, timeout=10) as conn:
        conn.execute("BEGIN")
        row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        generation = int(row[0])
        ids = np.array([r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY id")], np.int64)
        conn.execute("ROLLBACK")
    dense = DenseIndex.load_generation(data_dir, generation)
    assert dense is not None, f"no FAISS file for the store's generation {generation}"
    faiss_ids = dense.ids()
    assert np.array_equal(faiss_ids, ids), (
        f"generation {generation}: store has {len(ids)} chunks, FAISS {len(faiss_ids)}; "
        f"{len(np.setdiff1d(ids, faiss_ids))} missing, {len(np.setdiff1d(faiss_ids, ids))} stale"
    )
    return generation, len(ids)


def data_hashes(data_dir: Path) -> dict[str, str]:
    """Content hash of every file in the data folder except SQLite's own coordination files:
    the shared-memory index (`-shm`) and an empty write-ahead log, which SQLite creates and
    updates for any connection, a read-only one included, to coordinate with a writer."""
    out = {}
    for path in sorted(data_dir.rglob("*")):
        sqlite_own = path.name.endswith("-shm") or (
            path.name.endswith("-wal") and path.stat().st_size == 0
        )
        if path.is_file() and not sqlite_own:
            out[str(path.relative_to(data_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out

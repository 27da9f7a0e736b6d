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
from samsok.search.dense import DenseIndex

from tests.paths import PROJECT_ROOT

__all__ = [
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
    return env


def cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, **popen: object
) -> subprocess.Popen[str]:
    """`samsok ARGS` (with the hashing embedder) in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.concurrency.fakecli", *args],
        cwd=PROJECT_ROOT,
        env=env or cli_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[arg-type]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = cli(data_dir, "serve", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.communicate()[1][-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start in 60 s")


def stop(proc: subprocess.Popen[str], sig: int, timeout: float = 30) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


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
    """Content hash of every file in the data folder except SQLite's shared-memory index
    (`-shm`), which SQLite itself updates to coordinate readers with a writer."""
    out = {}
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and not path.name.endswith("-shm"):
            out[str(path.relative_to(data_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out

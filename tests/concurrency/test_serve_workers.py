"""`samsok serve` with several worker processes, run as an operator runs it: kill -9 the parent
or one worker, publish while they serve. (Ctrl-C and SIGTERM: test_readers_writers.py, with
one worker and with two.) The CLI runs with the hashing embedder."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.concurrency.conftest import make_pages
from tests.concurrency.helpers import assert_disk_consistent, cli, cli_env, start_server

INDEXED = tuple[Path, dict[str, str]]
slow = pytest.mark.slow


def _workers(parent: int) -> list[int]:
    """The worker processes of the server `parent` (not multiprocessing's resource tracker)."""
    found = []
    for children in Path(f"/proc/{parent}/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.append(int(pid))
    return sorted(found)


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        return b"zombie" not in Path(f"/proc/{pid}/status").read_bytes().lower()
    except OSError:
        return False


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _search(base: str, word: str) -> list[dict[str, object]]:
    response = httpx.get(f"{base}/search", params={"q": word, "mode": "lexical"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


def _two_workers(data: Path) -> tuple[subprocess.Popen[str], str]:
    proc, base = start_server(data, cli_env(data, SAMSOK_SERVE_WORKERS="2"))
    _wait_for(lambda: len(_workers(proc.pid)) == 2, 30, "two workers did not start")
    return proc, base


@slow
def test_killing_the_parent_stops_its_workers_and_frees_the_port(indexed: INDEXED) -> None:
    data, _ = indexed
    proc, base = _two_workers(data)
    try:
        workers = _workers(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _wait_for(
            lambda: not any(_alive(pid) for pid in workers), 15, "orphaned workers kept running"
        )
        assert not _answers(base)
    finally:
        for pid in _workers(proc.pid):
            os.kill(pid, signal.SIGKILL)
    assert_disk_consistent(data)


@slow
def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(indexed: INDEXED) -> None:
    data, words = indexed
    word = next(iter(words.values()))
    proc, base = _two_workers(data)
    try:
        first, second = _workers(proc.pid)
        os.kill(first, signal.SIGKILL)
        # The other worker answers meanwhile: no request fails.
        for _ in range(20):
            assert len(_search(base, word)) == 1
        _wait_for(
            lambda: len(_workers(proc.pid)) == 2 and first not in _workers(proc.pid),
            30,
            "the killed worker was not replaced",
        )
        assert second in _workers(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


@slow
def test_every_worker_serves_what_a_writer_publishes(indexed: INDEXED, tmp_path: Path) -> None:
    """Each worker is a reader of its own: none may keep serving the old generation."""
    data, _ = indexed
    proc, base = _two_workers(data)
    try:
        new = make_pages(tmp_path / "new", 3, seed=9)
        writer = cli(data, "ingest", str(tmp_path / "new"), "--region", "vaernes")
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err[-2000:]
        generation = assert_disk_consistent(data)[0]
        # A reader checks for a new generation at most every 0.5 s (refresh_seconds), on the
        # next request: after that, whichever worker a new connection reaches has it.
        time.sleep(1.0)
        for word in list(new.values()) * 10:  # 30 new connections, spread over the workers
            health = httpx.get(f"{base}/health", timeout=10).json()
            assert health["generation"] == generation
            hits = _search(base, word)
            assert len(hits) == 1 and word in hits[0]["snippet"], word
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

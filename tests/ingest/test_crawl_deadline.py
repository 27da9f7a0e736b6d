"""The total wall-clock cap holds while waiting for response headers too (local server)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from samsok.ingest.fetch import Fetcher, Outcome
from samsok.ingest.fetch.exchange import Deadline, DeadlineExceeded

from tests.ingest.hostile_server import HostileServer, fast_config


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "samsok-fetch" and t.is_alive()]


def _settled(seconds: float = 1.0) -> list[threading.Thread]:
    deadline = time.monotonic() + seconds
    while _workers() and time.monotonic() < deadline:
        time.sleep(0.02)
    return _workers()


def test_headers_dripped_one_byte_at_a_time_stop_at_the_total_cap(server: HostileServer) -> None:
    # Each header byte arrives well within the read timeout: only the total cap can stop it.
    config = fast_config(read_timeout=0.5, total_timeout=1.0, retries=2)
    with httpx.Client() as client:
        fetcher = Fetcher(client, config)
        started = time.monotonic()
        result = fetcher.fetch(server.url("/hostile/drip-headers"))
        elapsed = time.monotonic() - started
        assert (result.outcome, result.reason) == (Outcome.FAILED, "total_timeout")
        assert result.status_code is None and "response headers" in result.detail
        assert 0.95 <= elapsed < 1.5
        assert result.attempts == 1  # a total timeout is not retried
        assert len(server.state.hits(exact="/hostile/drip-headers")) == 1
        # The connection was opened for this request, so it is shut down too: the worker
        # does not go on reading the drip in the background.
        assert _settled() == []
        # The client still works afterwards.
        assert fetcher.fetch(server.url("/hostile/after")).outcome is Outcome.OK


def test_a_server_that_never_answers_is_capped_by_the_total_timeout(server: HostileServer) -> None:
    config = fast_config(read_timeout=5.0, total_timeout=0.6)
    with httpx.Client() as client:
        started = time.monotonic()
        result = Fetcher(client, config).fetch(server.url("/hostile/silent"))
        elapsed = time.monotonic() - started
        assert (result.outcome, result.reason, result.attempts) == (
            Outcome.FAILED,
            "total_timeout",
            1,
        )
        assert elapsed < 1.0
        assert _settled() == []


def test_header_drip_on_a_reused_connection_still_ends_at_the_cap(server: HostileServer) -> None:
    config = fast_config(read_timeout=0.5, total_timeout=1.0)
    with httpx.Client() as client:
        fetcher = Fetcher(client, config)
        assert fetcher.fetch(server.url("/hostile/after")).outcome is Outcome.OK  # keep-alive
        started = time.monotonic()
        result = fetcher.fetch(server.url("/hostile/drip-headers"))
        assert result.reason == "total_timeout" and time.monotonic() - started < 1.5
        assert fetcher.fetch(server.url("/hostile/after")).outcome is Outcome.OK


def test_deadline_runs_work_and_passes_on_its_result_or_error() -> None:
    assert Deadline(1.0, time.monotonic).run(lambda: 42) == 42
    missing: dict[str, int] = {}
    with pytest.raises(KeyError):
        Deadline(1.0, time.monotonic).run(lambda: missing["x"])
    release = threading.Event()
    deadline = Deadline(0.1, time.monotonic)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        deadline.run(lambda: release.wait(5))
    assert time.monotonic() - started < 0.5 and deadline.expired()
    release.set()

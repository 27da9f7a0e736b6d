"""The bounded soak (< 2 minutes): one writer run of each kind — a plain crawl, one stopped by
SIGINT, one killed with `kill -9`, two started at once — under 16 concurrent HTTP clients.
benchmarks/soak.py runs the same for longer. The checks are in tests/concurrency/soak.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.concurrency.soak import run_soak

log = logging.getLogger(__name__)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_soak(tmp_path: Path) -> None:
    report = run_soak(tmp_path, duration=0, clients=16, log=log.info)
    print(report.render())  # the figures, for `pytest -s`
    assert report.rounds["normal"] == report.rounds["sigint"] == report.rounds["kill9"] == 1
    assert report.rounds["two_writers"] == 1
    assert report.requests > 500
    assert not any(status >= 500 for status in report.statuses)
    assert max(report.served_after_s) <= 5.0
    assert int(report.server["reloads"]) >= 4  # type: ignore[call-overload]

"""The crawler's heartbeat and `samsok crawler-health`, the compose crawler's healthcheck."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from samsok.api.cli import CliDeps, cli
from samsok.api.heartbeat import HEARTBEAT_FILE, STALE_AFTER_SECONDS, Heartbeat, health_problem

INTERVAL = 3600.0


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_no_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    assert "has not started" in (health_problem(tmp_path, INTERVAL, now=0.0) or "")


def test_fresh_first_crawl_is_healthy_until_it_takes_too_long(tmp_path: Path) -> None:
    clock = Clock()
    beat = Heartbeat(tmp_path, clock=clock)
    beat.crawl_started()
    assert health_problem(tmp_path, INTERVAL, now=clock.now + 1) is None
    clock.now += 2 * INTERVAL + 1
    beat.beat()
    assert "no crawl has finished" in (health_problem(tmp_path, INTERVAL, now=clock.now) or "")


def test_finished_crawl_keeps_it_healthy_while_it_beats(tmp_path: Path) -> None:
    clock = Clock()
    beat = Heartbeat(tmp_path, clock=clock)
    beat.crawl_started()
    beat.crawl_finished()
    clock.now += INTERVAL
    beat.beat()
    assert health_problem(tmp_path, INTERVAL, now=clock.now) is None
    # The process died: nothing beats any more.
    later = clock.now + STALE_AFTER_SECONDS + 1
    assert "gone or stuck" in (health_problem(tmp_path, INTERVAL, now=later) or "")


def test_heartbeat_thread_writes_and_stops(tmp_path: Path) -> None:
    with Heartbeat(tmp_path) as beat:
        beat.crawl_started()
        state = json.loads((tmp_path / HEARTBEAT_FILE).read_text("utf-8"))
        assert state["crawling"] is True
    assert not list(tmp_path.glob(".heartbeat-*")), "temp files left behind"


def test_garbled_heartbeat_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / HEARTBEAT_FILE).write_text("{not json", "utf-8")
    assert "unreadable heartbeat" in (health_problem(tmp_path, INTERVAL, now=0.0) or "")


def test_cli_crawler_health_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--data-dir", str(tmp_path), "crawler-health"])
    assert result.exit_code == 1
    assert "has not started" in result.output
    Heartbeat(tmp_path).crawl_started()
    result = runner.invoke(cli, ["--data-dir", str(tmp_path), "crawler-health"])
    assert result.exit_code == 0, result.output


def test_cli_crawler_health_reads_the_injected_clock(tmp_path: Path) -> None:
    beat_time = Clock()
    Heartbeat(tmp_path, clock=beat_time).crawl_started()
    args = ["--data-dir", str(tmp_path), "crawler-health"]

    def at(seconds: float) -> CliDeps:
        return CliDeps(clock=lambda: datetime.fromtimestamp(seconds, UTC))

    fresh = CliRunner().invoke(cli, args, obj=at(beat_time.now + 1))
    assert fresh.exit_code == 0, fresh.output
    later = CliRunner().invoke(cli, args, obj=at(beat_time.now + STALE_AFTER_SECONDS + 1))
    assert later.exit_code == 1 and "gone or stuck" in later.output

"""What a person sees in the terminal: the bar owns it, no per-request log lines at the
default level, a summary table after each crawl, `status` as a table (JSON on request)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import PROJECT_ROOT

REQUEST_LINE = re.compile(r"HTTP Request:|httpx|httpcore|GET https?://", re.IGNORECASE)


def _samsok(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSOK_")}
    return subprocess.run(
        [sys.executable, "-m", "tests.fake_cli", "--data-dir", str(data), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def crawled(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    data = tmp_path_factory.mktemp("console") / "data"
    return data, _samsok(data, "crawl", "vaernesregionen", "--mirror")


def test_crawl_output_has_no_per_request_lines(crawled) -> None:
    _, result = crawled
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert not [line for line in output.splitlines() if REQUEST_LINE.search(line)]
    # The summary table closes the crawl, on stdout.
    assert re.search(r"^\s+crawl\s+index$", result.stdout, re.MULTILINE)
    assert re.search(r"^new\s+\d+\s+\d+$", result.stdout, re.MULTILINE)
    assert "requests in" in result.stdout
    # The bar (stderr) shows counts and a rate.
    assert re.search(r"crawl: .*\d+url \[.*url/s", result.stderr)


def test_debug_brings_the_request_lines_back(tmp_path: Path) -> None:
    result = _samsok(
        tmp_path / "data", "--log-level", "DEBUG", "crawl", "vaernesregionen", "--mirror"
    )
    assert result.returncode == 0, result.stderr
    assert "HTTP Request:" in result.stderr


def test_status_is_a_table_with_json_for_scripts(crawled) -> None:
    data, _ = crawled
    table = _samsok(data, "status")
    assert table.returncode == 0, table.stderr
    assert "Index:" in table.stdout and "Local originals:" in table.stdout
    assert re.search(r"^vaernes\s+\d+$", table.stdout, re.MULTILINE)
    assert re.search(
        r"^vaernesregionen\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+complete", table.stdout, re.MULTILINE
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(table.stdout)
    as_json = json.loads(_samsok(data, "status", "--json").stdout)
    assert as_json["index"]["documents"] > 20
    assert as_json["originals"] == {"documents": 0, "files": 0, "bytes": 0, "skipped": 0}


def test_an_unknown_log_level_is_a_clear_error(tmp_path: Path) -> None:
    result = _samsok(tmp_path / "data", "--log-level", "LOUD", "status")
    assert result.returncode != 0
    assert "unknown log level 'LOUD'" in result.stderr and "Traceback" not in result.stderr

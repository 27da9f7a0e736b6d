"""What `create_app` sets up (nothing at import) and the clock it is given: every date a user
sees follows that clock, in the Norwegian calendar."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from samsok.api.app import create_app
from samsok.api.cli import CliDeps, cli
from samsok.api.settings import Settings
from samsok.api.web import static_version
from samsok.search.index import SearchIndex
from samsok.search.store.changes import since_instant

from tests.api.conftest import NOW, TODAY, fixed_clock

# Importing the app and every page module must read no file: the templates and the static
# files' hash are made by create_app.
NO_FILE_WORK_AT_IMPORT = """
import pathlib, jinja2
def refuse(*args, **kwargs):
    raise AssertionError("file work at import")
pathlib.Path.read_bytes = refuse
pathlib.Path.glob = refuse
jinja2.FileSystemLoader.get_source = refuse
import samsok.api.app, samsok.api.web, samsok.api.cli
print("imported")
"""


def test_importing_the_app_reads_no_files() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_FILE_WORK_AT_IMPORT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"


def test_each_app_has_its_templates_with_the_static_hash(
    app: object, fixture_index: SearchIndex, tmp_path: Path, browser: TestClient
) -> None:
    version = static_version()
    assert f"/static/samsok.css?v={version}" in browser.get("/").text
    other = create_app(Settings(data_dir=tmp_path), fixture_index)
    assert other.state.templates is not app.state.templates  # type: ignore[attr-defined]


def test_briefing_is_dated_by_the_clock_in_norwegian_time(client: TestClient) -> None:
    assert NOW.astimezone(UTC).date() < TODAY  # still yesterday in UTC
    assert client.get("/briefing").json()["created"] == TODAY.isoformat()
    markdown = client.get("/briefing", params={"format": "md"})
    assert f"samsok-briefing-{TODAY.isoformat()}.md" in markdown.headers["content-disposition"]


def test_changes_default_and_future_follow_the_clock(
    client: TestClient, browser: TestClient
) -> None:
    days = Settings().changes_days
    start = TODAY - timedelta(days=days)
    since = datetime.fromisoformat(client.get("/changes").json()["since"].replace("Z", "+00:00"))
    assert since == since_instant(start)
    page = browser.get("/changes")
    assert page.status_code == 200 and f"{start:%d.%m.%Y}" in page.text
    tomorrow = TODAY + timedelta(days=1)
    late = client.get("/changes", params={"since": tomorrow.isoformat()})
    assert late.status_code == 422 and "in the future" in late.text
    assert client.get("/changes", params={"since": TODAY.isoformat()}).status_code == 200


def test_cli_changes_follow_the_injected_clock(tmp_path: Path) -> None:
    runner = CliRunner(env={"SAMSOK_DATA_DIR": str(tmp_path / "data")})
    deps = CliDeps(clock=fixed_clock)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    result = runner.invoke(cli, ["changes", "--since", tomorrow], obj=deps)
    assert result.exit_code != 0 and "in the future" in result.output
    today = runner.invoke(cli, ["changes", "--since", TODAY.isoformat(), "--json"], obj=deps)
    assert today.exit_code == 0, today.output

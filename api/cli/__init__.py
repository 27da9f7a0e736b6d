"""`samsok`: the command line over the same core as the HTTP API.

Each command turns options into arguments for core calls; output shapes are the API's
(`search --json` prints exactly what `GET /search` returns). The commands live by group:
`base` (the group, shared options and checks, one-line errors), `ingesting` (crawl, ingest,
demo, reindex), `searching` (search, similar, extract, eval, prepare-model), `serving` (serve,
changes, status).

Start-up stays light (issue 10): these modules import only what declaring the commands needs;
a command imports the crawler, the extractors, the index, the web stack or the model when it
runs (`tests/api/test_cli_startup.py` checks `sys.modules`; `benchmarks/cli_startup.py` times it).
"""

from __future__ import annotations

import sys

import click
from samsok.api.cli import ingesting, searching, serving  # noqa: F401 - registers the commands
from samsok.api.cli.base import CliDeps, check_data_dir, check_http_url, cli
from samsok.api.cli.serving import render_status
from samsok.api.signals import STOP
from samsok.api.wiring import EmbedderFactory, make_embedder

__all__ = ["CliDeps", "check_data_dir", "check_http_url", "cli", "main", "render_status"]


def main(embedder_factory: EmbedderFactory = make_embedder) -> None:
    """The `samsok` entry point: SIGINT/SIGTERM end any command with one line, not a traceback
    (see `samsok.api.signals`), and exit 128 + the signal number.

    `embedder_factory` makes the embedder from the settings: the configured model (loaded on
    first use) by default; the tests' fake CLIs pass the hashing embedder."""
    STOP.install()
    try:
        code = cli.main(
            prog_name="samsok",
            standalone_mode=False,
            obj=CliDeps(embedder_factory=embedder_factory),
        )
    except click.ClickException as exc:
        STOP.exiting()
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        STOP.exiting()
        if STOP.signum is None:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        click.echo(f"samsok: stopped by {STOP.name}", err=True)
        sys.exit(STOP.exit_code)
    STOP.exiting()
    sys.exit(code if isinstance(code, int) else 0)

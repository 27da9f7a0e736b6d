"""Commands that write the index: `crawl`, `crawler-health`, `ingest`, `demo`, `reindex`."""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from pathlib import Path

import click
from samsok.api.cli.base import (
    NO_WAIT,
    PORTS,
    RAY,
    REGIONS,
    TEXT,
    TYPES,
    WORKERS,
    check_http_url,
    cli,
    clock_of,
    exit_if_stopped,
    open_services,
    with_ray,
    with_workers,
)
from samsok.api.heartbeat import Heartbeat, health_problem
from samsok.api.settings import Settings
from samsok.api.signals import STOP
from samsok.ingest.documents import DocType, Region

__all__ = ["crawl", "crawler_health", "demo", "ingest", "reindex"]

log = logging.getLogger("samsok")


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--url", help="Crawl one ad-hoc start URL instead of configured sources.")
@click.option("--region", type=REGIONS, help="Region of the ad-hoc URL (required with --url).")
@click.option(
    "--mirror", is_flag=True, help="Crawl the bundled offline mirror instead of the live sites."
)
@click.option("--every", is_flag=True, help="Keep crawling every SAMSOK_RECRAWL_INTERVAL seconds.")
@NO_WAIT
@RAY
@click.pass_context
def crawl(
    ctx: click.Context,
    sources: tuple[str, ...],
    url: str | None,
    region: str | None,
    mirror: bool,
    every: bool,
    no_wait: bool,
    ray_address: str | None,
) -> None:
    """Crawl sources (all in sources.toml by default), index what changed, print a summary."""
    if url is not None and not region:
        raise click.UsageError("--url needs --region (orkdal or vaernes)")
    if url is not None:  # `--url ""` too: it must not fall back to every configured source
        check_http_url(url)
    with_ray(ctx, ray_address)
    settings: Settings = ctx.obj
    with open_services(ctx, wait=not no_wait) as services, ExitStack() as stack:
        heartbeat = None
        if every:  # the compose crawler: its healthcheck reads this heartbeat
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            heartbeat = stack.enter_context(Heartbeat(settings.data_dir))
        while True:
            if heartbeat is not None:
                heartbeat.crawl_started()
            summary = services.crawl(
                list(sources), url=url, region=region, mirror=mirror, progress=True
            )
            click.echo(summary.render())
            if heartbeat is not None:
                heartbeat.crawl_finished()
            # The lock is released between rounds: `samsok ingest` need not wait a day.
            services.close()
            if not every or STOP.requested:
                break
            log.info("next crawl in %.0f s", settings.recrawl_interval)
            if STOP.wait(settings.recrawl_interval):
                break
    exit_if_stopped(ctx)


@cli.command("crawler-health")
@click.pass_context
def crawler_health(ctx: click.Context) -> None:
    """Exit 0 when `crawl --every` is alive and crawling on schedule (container healthcheck)."""
    settings: Settings = ctx.obj
    problem = health_problem(
        settings.data_dir, settings.recrawl_interval, now=clock_of(ctx)().timestamp()
    )
    if problem:
        raise click.ClickException(problem)
    click.echo("crawler healthy")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--region", type=REGIONS, required=True, help="Region the documents belong to.")
@click.option(
    "--source", default="local", show_default=True, type=TEXT, help="Source name to record."
)
@click.option("--type", "doc_type", type=TYPES, help="Document type (default: guessed).")
@NO_WAIT
@RAY
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    region: str,
    source: str,
    doc_type: str | None,
    no_wait: bool,
    ray_address: str | None,
) -> None:
    """Index local HTML and PDF files and folders."""
    with_ray(ctx, ray_address)
    with open_services(ctx, wait=not no_wait) as services:
        summary = services.ingest_paths(
            list(paths),
            Region(region),
            source,
            DocType(doc_type) if doc_type else None,
            progress=True,
        )
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    exit_if_stopped(ctx)


@cli.command()
@click.option("--host", default=None, help="Bind address (default: $SAMSOK_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=PORTS, help="Port (default: $SAMSOK_PORT or 8000).")
@click.option("--no-serve", is_flag=True, help="Crawl and index, then exit.")
@WORKERS
@NO_WAIT
@click.pass_context
def demo(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    no_serve: bool,
    workers: int | None,
    no_wait: bool,
) -> None:
    """Serve the bundled mirror on loopback, crawl and index it, then serve search."""
    with_workers(ctx, workers)
    settings: Settings = ctx.obj
    with open_services(ctx, wait=not no_wait) as services:
        summary = services.crawl([], mirror=True, progress=True)
        click.echo(summary.render())
        if STOP.requested:
            no_serve = True
        if not no_serve:
            bind_host, bind_port = host or settings.host, port or settings.port
            click.echo(f"Samsøk: http://{bind_host}:{bind_port}/  (API docs: /docs)")
            services.serve(bind_host, bind_port)
    exit_if_stopped(ctx, writer=no_serve)


@cli.command()
@NO_WAIT
@click.pass_context
def reindex(ctx: click.Context, no_wait: bool) -> None:
    """Embed every chunk again with the configured model (after changing SAMSOK_MODEL)."""
    with open_services(ctx, wait=not no_wait) as services:
        embedded = services.reindex()
        click.echo(f"re-embedded {embedded} chunks")

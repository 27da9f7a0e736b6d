"""Commands that serve or report: `serve`, `changes`, `status`."""

from __future__ import annotations

import json
from typing import Any

import click
from samsok.api.cli.base import (
    PORTS,
    REGIONS,
    WORKERS,
    cli,
    clock_of,
    exit_if_stopped,
    open_services,
    with_workers,
)
from samsok.api.clock import local_today
from samsok.api.console import table
from samsok.api.settings import Settings
from samsok.search.store import LOCAL_TZ

__all__ = ["changes", "render_status", "serve", "status"]


@cli.command()
@click.option("--host", default=None, help="Bind address (default: $SAMSOK_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=PORTS, help="Port (default: $SAMSOK_PORT or 8000).")
@WORKERS
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API, its OpenAPI docs (/docs) and the search page on HTTP."""
    with_workers(ctx, workers)
    settings: Settings = ctx.obj
    with open_services(ctx) as services:
        services.serve(host or settings.host, port or settings.port)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and returns; say why we stopped.
    exit_if_stopped(ctx, writer=False)


@cli.command()
@click.option(
    "--since",
    help="Start date: YYYY-MM-DD, DD.MM.YYYY or an ISO timestamp "
    "(default: SAMSOK_CHANGES_DAYS days ago).",
)
@click.option("--region", type=REGIONS, help="Only this region (default: both).")
@click.option("--json", "as_json", is_flag=True, help="Print what GET /changes returns.")
@click.pass_context
def changes(ctx: click.Context, since: str | None, region: str | None, as_json: bool) -> None:
    """New, changed and removed documents since a date, by region and source, newest first."""
    from samsok.api.web import change_summary, read_changes_query
    from samsok.search.compare import REGION_NAMES

    settings: Settings = ctx.obj
    today = local_today(clock_of(ctx))
    query = read_changes_query(since, region, settings.changes_days, today)
    if query.problems:
        raise click.BadParameter(
            "; ".join(str(p["msg"]) for p in query.problems), param_hint="--since/--region"
        )
    with open_services(ctx) as services:
        result = services.changes(query.since, query.region)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    start = result.since.astimezone(LOCAL_TZ)
    click.echo(
        f"Since {start:%d.%m.%Y %H:%M}: {result.new} new, {result.changed} changed, "
        f"{result.removed} removed"
    )
    for note in result.baseline:
        click.echo(
            f"First crawl of {note.source} ({REGION_NAMES[note.region]}): {note.documents} "
            "documents that already existed, not listed as new"
        )
    for group in result.groups:
        click.echo("")
        click.secho(f"{REGION_NAMES[group.region]} · {group.source}", bold=True)
        for item in group.items:
            when = item.at.astimezone(LOCAL_TZ)
            click.echo(f"  {item.kind.upper():<8} {when:%d.%m.%Y %H:%M}  {item.title}")
            click.echo(f"           {change_summary(item)}  {item.url}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """The last crawl of each source and what the index holds."""
    with open_services(ctx) as services:
        report = services.status()
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(render_status(report))


def render_status(report: dict[str, Any]) -> str:
    """`samsok status` for a person: what the index holds, kept originals, last crawls."""
    index, originals = report["index"], report["originals"]
    last = index.get("last_indexed")
    lines = [
        f"Index: {index['documents']} documents, {index['chunks']} chunks, "
        f"{index['duplicates']} near-duplicates (model {index['model']}, dim {index['dim']})",
        f"Last indexed: {last:%Y-%m-%d %H:%M} UTC" if last else "Last indexed: never",
        "",
        table([(k, v) for k, v in index["by_region"].items()], header=("region", "documents")),
        "",
        table([(k, v) for k, v in index["by_type"].items()], header=("type", "documents")),
        "",
        table([(k, v) for k, v in index["by_source"].items()], header=("source", "documents")),
        "",
        f"Local originals: {originals['documents']} documents, {originals['files']} files, "
        f"{_size(originals['bytes'])}"
        + (f", {originals['skipped']} not kept (over the cap)" if originals["skipped"] else ""),
    ]
    crawls = report.get("last_crawl_per_source") or []
    if crawls:
        rows = []
        for crawl in sorted(crawls, key=lambda c: c["source"]):
            counts = crawl.get("counts") or {}
            finished = crawl.get("finished")
            rows.append(
                (
                    crawl["source"],
                    _when(finished or crawl.get("started")),
                    "complete" if crawl.get("complete") else ("stopped" if finished else "running"),
                    counts.get("new", 0),
                    counts.get("changed", 0),
                    counts.get("removed", 0),
                    sum((counts.get("failed") or {}).values()),
                )
            )
        lines += [
            "",
            table(
                rows,
                header=("source", "last crawl", "status", "new", "changed", "removed", "failed"),
            ),
        ]
    else:
        lines += ["", "No crawl yet."]
    return "\n".join(lines)


BYTES_PER_KB = 1024  # binary units, as `du -h` shows the same folder
MINUTE_CHARS = len("YYYY-MM-DDTHH:MM")  # an ISO timestamp shown to the minute


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < BYTES_PER_KB or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= BYTES_PER_KB
    return f"{n} B"


def _when(value: object) -> str:
    if not value:
        return "-"
    text = str(value)
    return text[:MINUTE_CHARS].replace("T", " ")

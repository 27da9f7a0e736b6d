"""`samsok`: the command line over the same core as the HTTP API.

Each command turns options into arguments for core calls; output shapes are the API's
(`search --json` prints exactly what `GET /search` returns).
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from pydantic import ValidationError
from samsok.api.console import configure_logging, table
from samsok.api.errors import validation_message
from samsok.api.heartbeat import Heartbeat, health_problem
from samsok.api.services import ServiceError, Services
from samsok.api.settings import Settings
from samsok.api.signals import STOP
from samsok.ingest.documents import DocType, Region
from samsok.ingest.errors import IngestError
from samsok.search.compare import REGION_NAMES
from samsok.search.errors import SearchError
from samsok.search.schemas import SearchMode, SearchRequest, SearchResponse
from samsok.search.store.changes import LOCAL_TZ

__all__ = ["main"]

log = logging.getLogger("samsok")

REGIONS = click.Choice([r.value for r in Region])
TYPES = click.Choice([t.value for t in DocType])
MODES = click.Choice([m.value for m in SearchMode])
PORTS = click.IntRange(1, 65535)  # the Settings rule; uvicorn would die with a traceback


class _Text(click.ParamType):
    """A non-empty, printable, valid Unicode name: an argument with undecodable bytes reaches
    Python as lone surrogates, which SQLite cannot store."""

    name = "text"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(f"{text!r} is not valid UTF-8 text", param, ctx)
        if not text.strip() or not text.isprintable():
            self.fail(f"{text!r}: give a non-empty name without control characters", param, ctx)
        return text


TEXT = _Text()

# Commands that write to the data folder: checked for writability before anything loads.
WRITING_COMMANDS = frozenset({"crawl", "ingest", "reindex", "demo"})


# -- errors: one line, never a traceback ------------------------------------------------------


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _os_message(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    where = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    hint = {
        PermissionError: " (not allowed for this user: check the owner and mode)",
        NotADirectoryError: " (a file stands where a folder is needed)",
        FileExistsError: " (a file stands where a folder is needed)",
        IsADirectoryError: " (a folder stands where a file is needed)",
    }.get(type(exc), "")
    if exc.errno == 30:  # EROFS
        hint = " (read-only file system)"
    return f"{where}: {what}{hint}" if where else f"{what}{hint}"


class _UsageLine(click.ClickException):
    """A usage error as one line (click's own prints the usage block first)."""

    exit_code = 2


@contextmanager
def _clear_errors() -> Iterator[None]:
    """The one place that turns the project's exceptions into a click error: one line
    `Error: …` on stderr and a non-zero exit. Usage errors lose click's usage block too, so
    every failure is exactly one line (with a pointer to --help)."""
    try:
        yield
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        raise _UsageLine(_one_line(exc.format_message()) + hint) from exc
    except click.ClickException as exc:
        if "\n" not in exc.format_message():
            raise
        raise click.ClickException(_one_line(exc.format_message())) from exc
    except (IngestError, SearchError, ServiceError) as exc:
        raise click.ClickException(_one_line(str(exc))) from exc
    except OSError as exc:
        raise click.ClickException(_one_line(_os_message(exc))) from exc
    except UnicodeError as exc:  # text that cannot be stored or printed, e.g. undecodable bytes
        raise click.ClickException(f"not valid UTF-8 text: {_one_line(str(exc))}") from exc
    except sqlite3.Error as exc:  # e.g. a damaged or foreign store.db in the data folder
        raise click.ClickException(f"data folder database: {_one_line(str(exc))}") from exc


class _Cli(click.Group):
    """`samsok`: every command's errors go through `_clear_errors`."""

    def make_context(self, *args: object, **kwargs: object) -> click.Context:
        with _clear_errors():
            return super().make_context(*args, **kwargs)  # type: ignore[arg-type]

    def invoke(self, ctx: click.Context) -> object:
        with _clear_errors():
            return super().invoke(ctx)


def check_data_dir(path: Path, *, write: bool) -> None:
    """Fail early and clearly (before the embedding model loads) on a data folder that is a
    file, lies under a file, or — for writing commands — cannot be written."""
    existing = path
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if existing != path:
        if not existing.is_dir():
            raise click.ClickException(
                f"cannot create the data folder {path}: {existing} is a file, not a folder"
            )
        if write and not os.access(existing, os.W_OK | os.X_OK):
            raise click.ClickException(
                f"cannot create the data folder {path}: {existing} is not writable"
            )
        return
    if not path.is_dir():
        raise click.ClickException(f"the data folder {path} is a file, not a folder")
    if not write:
        return
    if not os.access(path, os.W_OK | os.X_OK):
        raise click.ClickException(f"the data folder {path} is not writable (read-only)")
    for name in ("store.db", "faiss.index", "manifest.json", "crawl.db"):
        file = path / name
        if file.exists() and not os.access(file, os.R_OK | os.W_OK):
            raise click.ClickException(f"{file} is not writable (read-only)")


_HOST = re.compile(r"[\w.:-]+")  # names (IDN letters too), IPv4, IPv6 without brackets


def check_http_url(url: str) -> None:
    """An ad-hoc crawl URL must be an absolute http(s) URL with a host (no file://, ftp://)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise click.ClickException(f"--url {url!r}: malformed URL ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise click.ClickException(
            f"--url {url!r}: not an http(s) URL; give an address like https://www.example.no/"
        )
    if any(c.isspace() or not c.isprintable() for c in url) or not _HOST.fullmatch(parts.hostname):
        raise click.ClickException(f"--url {url!r}: malformed URL (spaces or a bad host name)")


NO_WAIT = click.option(
    "--no-wait",
    is_flag=True,
    help="Fail at once if another writer (crawl, ingest, reindex) holds the data folder's lock.",
)
RAY = click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="local",
    default=None,
    metavar="[=ADDRESS]",
    help="Embed on Ray: --ray starts a local instance, --ray=ADDRESS (or auto) joins a cluster "
    "(default: $SAMSOK_RAY_ADDRESS). Needs samsok[ray].",
)


def _with_ray(ctx: click.Context, ray_address: str | None) -> None:
    if ray_address:
        ctx.obj = ctx.obj.model_copy(update={"ray_address": ray_address})


@contextmanager
def _services(ctx: click.Context, *, wait: bool = True) -> Iterator[Services]:
    settings: Settings = ctx.obj
    check_data_dir(settings.data_dir, write=ctx.command.name in WRITING_COMMANDS)
    services = Services(settings, wait=wait, stop=STOP)
    try:
        yield services  # errors become one line in _clear_errors
    finally:
        services.close()


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder (default: $SAMSOK_DATA_DIR or ./data).",
)
@click.option(
    "--log-level", default=None, help="DEBUG, INFO, WARNING … (default: $SAMSOK_LOG_LEVEL or INFO)."
)
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, log_level: str | None) -> None:
    """Samsøk: search the experiences of the Orkdal (SiO) and Værnes health collaborations."""
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if log_level is not None:
        overrides["log_level"] = log_level
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise click.ClickException(f"invalid setting: {validation_message(exc.errors())}") from exc  # type: ignore[arg-type]
    try:
        configure_logging(settings.log_level)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.obj = settings


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
    _with_ray(ctx, ray_address)
    settings: Settings = ctx.obj
    with _services(ctx, wait=not no_wait) as services, ExitStack() as stack:
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
    _exit_if_stopped(ctx)


def _exit_if_stopped(ctx: click.Context, *, writer: bool = True) -> None:
    """Stopped by a signal: one line saying so, exit 128 + signal (130 SIGINT, 143 SIGTERM).
    A writer has committed what was complete; the next run resumes from there."""
    if STOP.requested:
        detail = (
            "; what was complete is committed, the next run resumes from there" if writer else ""
        )
        click.echo(f"samsok: stopped by {STOP.name}{detail}", err=True)
        ctx.exit(STOP.exit_code)


@cli.command("crawler-health")
@click.pass_context
def crawler_health(ctx: click.Context) -> None:
    """Exit 0 when `crawl --every` is alive and crawling on schedule (container healthcheck)."""
    settings: Settings = ctx.obj
    problem = health_problem(settings.data_dir, settings.recrawl_interval, now=time.time())
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
    _with_ray(ctx, ray_address)
    with _services(ctx, wait=not no_wait) as services:
        summary = services.ingest_paths(
            list(paths),
            Region(region),
            source,
            DocType(doc_type) if doc_type else None,
            progress=True,
        )
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    _exit_if_stopped(ctx)


def _print_response(response: SearchResponse, as_json: bool) -> None:
    if as_json:
        click.echo(response.model_dump_json(indent=2))
        return
    if not response.results:
        click.echo("Ingen treff.")
        return
    click.echo(f"{response.total} dokumenter ({response.took_ms:.0f} ms)\n")
    for rank, hit in enumerate(response.results, start=response.offset + 1):
        when = hit.published.isoformat() if hit.published else "udatert"
        page = f", side {hit.page}" if hit.page else ""
        click.secho(f"{rank}. {hit.title}", bold=True)
        click.echo(f"   [{hit.region.value}] {hit.type.value} · {when}{page} · {hit.score:.3f}")
        click.echo(f"   {hit.page_url}")
        snippet = hit.snippet.replace("<mark>", "").replace("</mark>", "")
        click.echo(f"   {html.unescape(snippet)}\n")


@cli.command()
@click.argument("query")
@click.option("--region", type=REGIONS)
@click.option("--type", "doc_type", type=TYPES)
@click.option("--date-from", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--date-to", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--limit", default=10, show_default=True, type=int)
@click.option("--offset", default=0, show_default=True, type=int)
@click.option("--mode", type=MODES, default=SearchMode.HYBRID.value, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    region: str | None,
    doc_type: str | None,
    date_from: object,
    date_to: object,
    limit: int,
    offset: int,
    mode: str,
    as_json: bool,
) -> None:
    """Search the index."""
    try:
        request = SearchRequest.model_validate(
            {
                "q": query,
                "region": region,
                "type": doc_type,
                "date_from": _as_date(date_from),
                "date_to": _as_date(date_to),
                "limit": limit,
                "offset": offset,
                "mode": mode,
            }
        )
    except ValidationError as exc:
        raise click.BadParameter(validation_message(exc.errors())) from exc  # type: ignore[arg-type]
    with _services(ctx) as services:
        _print_response(services.index.search(request), as_json)


def _as_date(value: object) -> date | None:
    return value.date() if hasattr(value, "date") else None  # type: ignore[union-attr]


@cli.command()
@click.argument("doc_id")
@click.option("--region", type=REGIONS, help="Only documents from this region.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def similar(ctx: click.Context, doc_id: str, region: str | None, limit: int, as_json: bool) -> None:
    """Documents like DOC_ID (more like this), e.g. the matching experience in the other region."""
    with _services(ctx) as services:
        response = services.index.similar(
            doc_id, region=Region(region) if region else None, limit=limit
        )
        _print_response(response, as_json)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="URL the file was fetched from (resolves links, names the document).")
@click.pass_context
def extract(ctx: click.Context, file: Path, url: str | None) -> None:
    """Extract one HTML/PDF/text file and print title, text, published, language, pages as JSON."""
    from samsok.api.services import extract_file

    try:
        result = extract_file(file, url=url, config=ctx.obj.extract_config())
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@cli.command()
@click.option("--host", default=None, help="Bind address (default: $SAMSOK_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=PORTS, help="Port (default: $SAMSOK_PORT or 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the API, its OpenAPI docs (/docs) and the search page on HTTP."""
    settings: Settings = ctx.obj
    with _services(ctx) as services:
        services.serve(host or settings.host, port or settings.port)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and returns; say why we stopped.
    _exit_if_stopped(ctx, writer=False)


@cli.command()
@click.option("--host", default=None, help="Bind address (default: $SAMSOK_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=PORTS, help="Port (default: $SAMSOK_PORT or 8000).")
@click.option("--no-serve", is_flag=True, help="Crawl and index, then exit.")
@NO_WAIT
@click.pass_context
def demo(
    ctx: click.Context, host: str | None, port: int | None, no_serve: bool, no_wait: bool
) -> None:
    """Serve the bundled mirror on loopback, crawl and index it, then serve search."""
    settings: Settings = ctx.obj
    with _services(ctx, wait=not no_wait) as services:
        summary = services.crawl([], mirror=True, progress=True)
        click.echo(summary.render())
        if STOP.requested:
            no_serve = True
        if not no_serve:
            bind_host, bind_port = host or settings.host, port or settings.port
            click.echo(f"Samsøk: http://{bind_host}:{bind_port}/  (API docs: /docs)")
            services.serve(bind_host, bind_port)
    _exit_if_stopped(ctx, writer=no_serve)


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
    from samsok.api.web.feeds import change_summary, read_changes_query

    settings: Settings = ctx.obj
    query = read_changes_query(since, region, settings.changes_days)
    if query.problems:
        raise click.BadParameter(
            "; ".join(str(p["msg"]) for p in query.problems), param_hint="--since/--region"
        )
    with _services(ctx) as services:
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
    with _services(ctx) as services:
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


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _when(value: object) -> str:
    if not value:
        return "-"
    text = str(value)
    return text[:16].replace("T", " ")


@cli.command()
@NO_WAIT
@click.pass_context
def reindex(ctx: click.Context, no_wait: bool) -> None:
    """Embed every chunk again with the configured model (after changing SAMSOK_MODEL)."""
    with _services(ctx, wait=not no_wait) as services:
        embedded = services.reindex()
        click.echo(f"re-embedded {embedded} chunks")


EVAL_MODES = click.Choice([*(m.value for m in SearchMode), "all"])
_EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@cli.command("eval")
@click.option("--corpus", type=_EXISTING_FILE, required=True, help="BEIR corpus.jsonl")
@click.option("--queries", type=_EXISTING_FILE, required=True, help="BEIR queries.jsonl")
@click.option(
    "--qrels", type=_EXISTING_FILE, required=True, help="qrels TSV (query-id, corpus-id, score)"
)
@click.option("--answers", type=_EXISTING_FILE, help="answers.jsonl {id, answer}: adds answer@5")
@click.option(
    "--mode",
    "modes",
    type=EVAL_MODES,
    multiple=True,
    help="hybrid, dense, lexical or all; repeatable (default: all). One ingest serves them all.",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data folder to ingest into and keep, so a later run embeds nothing "
    "(default: a throw-away temp folder). Use it for evaluation only.",
)
@click.option(
    "--baselines",
    is_flag=True,
    help="Also print every set side by side with the simple baselines in the same run (min-max "
    "and RRF at weight 0.5 without glossary or floor, bm25s over the same chunks).",
)
@click.option(
    "--devset",
    "devsets",
    type=_EXISTING_FILE,
    multiple=True,
    help="A development set of the paraphrase kind (JSON, docs/retrieval.md), scored in "
    "--dev-folder; its off-topic queries in --mirror-folder. Repeatable.",
)
@click.option(
    "--locked", type=_EXISTING_FILE, help="The locked third: report it (once, at the end)"
)
@click.option("--dev-folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--mirror-folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help='Print {"<mode>": {"ndcg@10": …}, …}.')
@click.pass_context
def eval_(
    ctx: click.Context,
    corpus: Path,
    queries: Path,
    qrels: Path,
    answers: Path | None,
    modes: tuple[str, ...],
    keep: Path | None,
    baselines: bool,
    devsets: tuple[Path, ...],
    locked: Path | None,
    dev_folder: Path | None,
    mirror_folder: Path | None,
    as_json: bool,
) -> None:
    """Score retrieval on a BEIR-layout set: nDCG@10, Recall@1/5/10, MRR@10 (documents),
    answer@5 (chunks), latency p50/p95. Chunking and fusion follow the settings
    (SAMSOK_CHUNK_MAX_TOKENS, SAMSOK_FUSION, SAMSOK_DENSE_WEIGHT, …)."""
    import tempfile
    from contextlib import ExitStack

    from samsok.api.services import open_index
    from samsok.search.evaluation.metrics import load_beir
    from samsok.search.evaluation.report import eval_report, format_rows
    from samsok.search.evaluation.runner import ingest_corpus, parse_modes, run_evaluation

    settings: Settings = ctx.obj
    table = []
    try:
        dataset = load_beir(corpus, queries, qrels, answers)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    with ExitStack() as stack:
        folder = keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="samsok-eval-"))
        )
        # The model stays where the settings keep it: a temp data folder must not convert it again.
        eval_settings = settings.model_copy(
            update={"data_dir": folder, "model_cache_dir": settings.models_dir}
        )
        try:
            index = open_index(eval_settings)
            stack.callback(index.close)
            report = ingest_corpus(index, dataset, progress=True)
            click.echo(
                f"ingested {report.documents} passages → {report.chunks} chunks in "
                f"{report.seconds:.0f} s {report.outcomes} ({folder})",
                err=True,
            )
            results = run_evaluation(
                dataset, parse_modes(modes), index=index, ingest=False, progress=True
            )
            if baselines or devsets or locked:
                table = eval_report(
                    index, folder, dataset, devsets, locked, dev_folder, mirror_folder
                )
        except (SearchError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        out = {m: s.as_dict() for m, s in results.items()}
        side = {"side_by_side": {row.system: row.figures for row in table}} if table else {}
        click.echo(json.dumps({**out, **side}, indent=2))
        return
    judged = next(iter(results.values())).queries
    click.echo(f"{judged} judged queries, {report.documents} passages, {report.chunks} chunks")
    click.echo(
        f"{'mode':<8} {'nDCG@10':>7} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} "
        f"{'ans@5':>6} {'p50 ms':>7} {'p95 ms':>7}"
    )
    for mode, s in results.items():
        answer = f"{s.answer_at_5:6.3f}" if s.answer_at_5 is not None else f"{'-':>6}"
        click.echo(
            f"{mode:<8} {s.ndcg_at_10:7.3f} {s.recall_at_1:6.3f} {s.recall_at_5:6.3f} "
            f"{s.recall_at_10:6.3f} {s.mrr_at_10:7.3f} {answer} "
            f"{s.latency_ms_p50:7.1f} {s.latency_ms_p95:7.1f}"
        )
        if s.unsearchable:
            click.echo(f"         ({s.unsearchable} queries had no searchable word)")
    if table:
        click.echo("\n".join(format_rows(table)))


@cli.command("prepare-model")
@click.pass_context
def prepare_model(ctx: click.Context) -> None:
    """Convert/load the configured embedding model once (e.g. at image build time)."""
    from samsok.search.embedding.embedder import Embedder

    embedder = Embedder(ctx.obj.embed_config())
    click.echo(f"{embedder.model_id} (dim {embedder.dim}, max {embedder.max_tokens} tokens)")


def main() -> None:
    """The `samsok` entry point: SIGINT/SIGTERM end any command with one line, not a traceback
    (see `samsok.api.signals`), and exit 128 + the signal number."""
    STOP.install()
    try:
        code = cli.main(prog_name="samsok", standalone_mode=False)
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


if __name__ == "__main__":
    main()

"""The `samsok` group and what every command shares: option types, the data-folder and URL
checks, `_clear_errors` (the one place that turns exceptions into one `Error: …` line), and
`open_services` (the core objects, built with the injected embedder factory)."""

from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click
from pydantic import ValidationError
from samsok.api.clock import Clock, system_clock
from samsok.api.console import configure_logging
from samsok.api.errors import validation_message
from samsok.api.reports import ServiceError
from samsok.api.settings import Settings
from samsok.api.signals import STOP
from samsok.api.wiring import EmbedderFactory, make_embedder
from samsok.ingest.documents import DocType, Region
from samsok.ingest.errors import IngestError
from samsok.search.errors import SearchError
from samsok.search.schemas import SearchMode

if TYPE_CHECKING:  # a command imports the jobs when it opens them (`open_services`)
    from samsok.api.services import Services
    from samsok.search.embedding import TextEmbedder

__all__ = [
    "MODES",
    "NO_WAIT",
    "PORTS",
    "RAY",
    "REGIONS",
    "TEXT",
    "TYPES",
    "WORKERS",
    "CliDeps",
    "check_data_dir",
    "check_http_url",
    "cli",
    "clock_of",
    "embedder_for",
    "exit_if_stopped",
    "open_services",
    "with_ray",
    "with_workers",
]

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


@dataclass(frozen=True)
class CliDeps:
    """What the commands build the core with. The default loads the configured model on first
    use; tests pass a fake (`main(embedder_factory=…)`, or `obj=CliDeps(…)` to CliRunner)."""

    embedder_factory: EmbedderFactory = make_embedder
    clock: Clock = system_clock  # the moment "now", for dates people see (`changes`)


_DEPS = "samsok.deps"  # the key of the CliDeps in click's shared `ctx.meta`


def clock_of(ctx: click.Context) -> Clock:
    deps: CliDeps = ctx.meta.get(_DEPS) or CliDeps()
    return deps.clock


def embedder_for(ctx: click.Context, settings: Settings) -> TextEmbedder:
    """The embedder for `settings`, made by the injected factory (model loads on first use)."""
    deps: CliDeps = ctx.meta.get(_DEPS) or CliDeps()
    return deps.embedder_factory(settings)


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
    if exc.errno == errno.EROFS:
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


# -- checks before anything loads -------------------------------------------------------------


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


def with_ray(ctx: click.Context, ray_address: str | None) -> None:
    if ray_address:
        ctx.obj = ctx.obj.model_copy(update={"ray_address": ray_address})


WORKERS = click.option(
    "--workers",
    type=click.IntRange(1, 64),  # the Settings rule
    default=None,
    help="Worker processes serving (default: $SAMSOK_SERVE_WORKERS, or one per core, at most 4).",
)


def with_workers(ctx: click.Context, workers: int | None) -> None:
    if workers is not None:
        ctx.obj = ctx.obj.model_copy(update={"serve_workers": workers})


@contextmanager
def open_services(ctx: click.Context, *, wait: bool = True) -> Iterator[Services]:
    from samsok.api.services import Services

    settings: Settings = ctx.obj
    check_data_dir(settings.data_dir, write=ctx.command.name in WRITING_COMMANDS)
    deps: CliDeps = ctx.meta.get(_DEPS) or CliDeps()
    services = Services(settings, wait=wait, stop=STOP, embedder_factory=deps.embedder_factory)
    try:
        yield services  # errors become one line in _clear_errors
    finally:
        services.close()


def exit_if_stopped(ctx: click.Context, *, writer: bool = True) -> None:
    """Stopped by a signal: one line saying so, exit 128 + signal (130 SIGINT, 143 SIGTERM).
    A writer has committed what was complete; the next run resumes from there."""
    if STOP.requested:
        detail = (
            "; what was complete is committed, the next run resumes from there" if writer else ""
        )
        click.echo(f"samsok: stopped by {STOP.name}{detail}", err=True)
        ctx.exit(STOP.exit_code)


# -- the group --------------------------------------------------------------------------------


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
    # What the caller injected (`obj=CliDeps(…)`) moves to ctx.meta; ctx.obj becomes the
    # settings every command reads.
    ctx.meta[_DEPS] = ctx.obj if isinstance(ctx.obj, CliDeps) else CliDeps()
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

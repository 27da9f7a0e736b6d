"""`samsok`: the command line over the same core as the HTTP API.

Each command turns options into arguments for core calls; output shapes are the API's
(`search --json` prints exactly what `GET /search` returns).
"""

from __future__ import annotations

import html
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from pydantic import ValidationError
from samsok.api.errors import validation_message
from samsok.api.services import ServiceError, Services
from samsok.api.settings import Settings
from samsok.ingest.models import DocType, Region
from samsok.search.errors import SearchError
from samsok.search.models import SearchMode, SearchRequest, SearchResponse

__all__ = ["main"]

log = logging.getLogger("samsok")

REGIONS = click.Choice([r.value for r in Region])
TYPES = click.Choice([t.value for t in DocType])
MODES = click.Choice([m.value for m in SearchMode])


@contextmanager
def _services(ctx: click.Context) -> Iterator[Services]:
    services = Services(ctx.obj)
    try:
        yield services
    except (SearchError, ServiceError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        services.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = settings


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--url", help="Crawl one ad-hoc start URL instead of configured sources.")
@click.option("--region", type=REGIONS, help="Region of the ad-hoc URL (required with --url).")
@click.option(
    "--mirror", is_flag=True, help="Crawl the bundled offline mirror instead of the live sites."
)
@click.option("--every", is_flag=True, help="Keep crawling every SAMSOK_RECRAWL_INTERVAL seconds.")
@click.pass_context
def crawl(
    ctx: click.Context,
    sources: tuple[str, ...],
    url: str | None,
    region: str | None,
    mirror: bool,
    every: bool,
) -> None:
    """Crawl sources (all in sources.toml by default), index what changed, print a summary."""
    if url and not region:
        raise click.UsageError("--url needs --region (orkdal or vaernes)")
    settings: Settings = ctx.obj
    with _services(ctx) as services:
        while True:
            summary = services.crawl(
                list(sources), url=url, region=region, mirror=mirror, progress=True
            )
            click.echo(summary.render())
            if not every:
                return
            log.info("next crawl in %.0f s", settings.recrawl_interval)
            time.sleep(settings.recrawl_interval)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--region", type=REGIONS, required=True, help="Region the documents belong to.")
@click.option("--source", default="local", show_default=True, help="Source name to record.")
@click.option("--type", "doc_type", type=TYPES, help="Document type (default: guessed).")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], region: str, source: str, doc_type: str | None
) -> None:
    """Index local HTML and PDF files and folders."""
    with _services(ctx) as services:
        summary = services.ingest_paths(
            list(paths), Region(region), source, DocType(doc_type) if doc_type else None
        )
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))


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
@click.option("--port", default=None, type=int, help="Port (default: $SAMSOK_PORT or 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the API, its OpenAPI docs (/docs) and the search page on HTTP."""
    settings: Settings = ctx.obj
    with _services(ctx) as services:
        services.serve(host or settings.host, port or settings.port)


@cli.command()
@click.option("--host", default=None, help="Bind address (default: $SAMSOK_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: $SAMSOK_PORT or 8000).")
@click.option("--no-serve", is_flag=True, help="Crawl and index, then exit.")
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None, no_serve: bool) -> None:
    """Serve the bundled mirror on loopback, crawl and index it, then serve search."""
    settings: Settings = ctx.obj
    with _services(ctx) as services:
        summary = services.crawl([], mirror=True, progress=True)
        click.echo(summary.render())
        if not no_serve:
            bind_host, bind_port = host or settings.host, port or settings.port
            click.echo(f"Samsøk: http://{bind_host}:{bind_port}/  (API docs: /docs)")
            services.serve(bind_host, bind_port)


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """The last crawl of each source and what the index holds."""
    with _services(ctx) as services:
        click.echo(json.dumps(services.status(), indent=2, ensure_ascii=False, default=str))


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Embed every chunk again with the configured model (after changing SAMSOK_MODEL)."""
    with _services(ctx) as services:
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
    help="Also score the simple baselines in the same run: min-max and RRF fusion at weight "
    "0.5, without query expansion or relevance floor (rows 'minmax-0.5', 'rrf').",
)
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
    as_json: bool,
) -> None:
    """Score retrieval on a BEIR-layout set: nDCG@10, Recall@1/5/10, MRR@10 (documents),
    answer@5 (chunks), latency p50/p95. Chunking and fusion follow the settings
    (SAMSOK_CHUNK_MAX_TOKENS, SAMSOK_FUSION, SAMSOK_DENSE_WEIGHT, …)."""
    import tempfile
    from contextlib import ExitStack

    from samsok.api.services import open_index
    from samsok.search.eval import load_beir
    from samsok.search.evaluation import ingest_corpus, parse_modes, run_evaluation

    settings: Settings = ctx.obj
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
            if baselines:
                plain = {"dense_weight": 0.5, "relevance_floor": False, "query_expansion": False}
                for name, fusion in (("minmax-0.5", "minmax"), ("rrf", "rrf")):
                    base = eval_settings.model_copy(update={**plain, "fusion": fusion})
                    with open_index(base, embedder=index.embedder) as other:
                        scored = run_evaluation(dataset, ["hybrid"], index=other, ingest=False)
                    results[name] = scored["hybrid"]
        except (SearchError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({m: s.as_dict() for m, s in results.items()}, indent=2))
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


@cli.command("prepare-model")
@click.pass_context
def prepare_model(ctx: click.Context) -> None:
    """Convert/load the configured embedding model once (e.g. at image build time)."""
    from samsok.search.embed import Embedder

    embedder = Embedder(ctx.obj.embed_config())
    click.echo(f"{embedder.model_id} (dim {embedder.dim}, max {embedder.max_tokens} tokens)")


def main() -> None:
    cli(prog_name="samsok")


if __name__ == "__main__":
    main()

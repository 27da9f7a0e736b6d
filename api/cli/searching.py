"""Commands that read the index or score it: `search`, `similar`, `extract`, `eval`,
`prepare-model`. Output shapes are the API's (`search --json` prints what `GET /search` returns).
"""

from __future__ import annotations

import html
import json
from datetime import date
from pathlib import Path

import click
from pydantic import ValidationError
from samsok.api.cli.base import MODES, REGIONS, TYPES, cli, embedder_for, open_services
from samsok.api.errors import validation_message
from samsok.api.reports import ServiceError
from samsok.api.settings import Settings
from samsok.ingest.documents import Region
from samsok.search.errors import SearchError
from samsok.search.schemas import MAX_LIMIT, SearchMode, SearchRequest, SearchResponse

__all__ = ["eval_", "extract", "prepare_model", "search", "similar"]

DEFAULT_LIMIT = SearchRequest.model_fields["limit"].default  # the API's: 10 results


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
@click.option("--limit", default=DEFAULT_LIMIT, show_default=True, type=int)
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
    with open_services(ctx) as services:
        _print_response(services.index.search(request), as_json)


def _as_date(value: object) -> date | None:
    return value.date() if hasattr(value, "date") else None  # type: ignore[union-attr]


@cli.command()
@click.argument("doc_id")
@click.option("--region", type=REGIONS, help="Only documents from this region.")
@click.option(
    "--limit", default=DEFAULT_LIMIT, show_default=True, type=click.IntRange(1, MAX_LIMIT)
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def similar(ctx: click.Context, doc_id: str, region: str | None, limit: int, as_json: bool) -> None:
    """Documents like DOC_ID (more like this), e.g. the matching experience in the other region."""
    with open_services(ctx) as services:
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
    from samsok.api.reports import extract_file

    try:
        result = extract_file(file, url=url, config=ctx.obj.extract_config())
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


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
    "--locked",
    type=_EXISTING_FILE,
    help="The locked third: report it in its own, labelled columns.",
)
@click.option(
    "--fresh",
    type=_EXISTING_FILE,
    help="The fresh locked set: report it in its own, labelled columns.",
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
    fresh: Path | None,
    dev_folder: Path | None,
    mirror_folder: Path | None,
    as_json: bool,
) -> None:
    """Score retrieval on a BEIR-layout set: nDCG@10, Recall@1/5/10, MRR@10 (documents),
    answer@5 (chunks), latency p50/p95. Chunking and fusion follow the settings
    (SAMSOK_CHUNK_MAX_TOKENS, SAMSOK_FUSION, SAMSOK_DENSE_WEIGHT, …)."""
    import tempfile
    from contextlib import ExitStack

    from samsok.api.wiring import open_index
    from samsok.search.evaluation import (
        FRESH_LABEL,
        LOCKED_LABEL,
        eval_report,
        format_rows,
        ingest_corpus,
        load_beir,
        parse_modes,
        run_evaluation,
    )

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
            index = open_index(eval_settings, embedder=embedder_for(ctx, eval_settings))
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
            named = {path.stem: path for path in devsets}
            named |= {
                label: path
                for label, path in ((LOCKED_LABEL, locked), (FRESH_LABEL, fresh))
                if path
            }
            if baselines or named:
                table = eval_report(
                    index,
                    eval_settings.index_config(),
                    folder,
                    dataset,
                    named,
                    dev_folder,
                    mirror_folder,
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
    embedder = embedder_for(ctx, ctx.obj)
    click.echo(f"{embedder.model_id} (dim {embedder.dim}, max {embedder.max_tokens} tokens)")

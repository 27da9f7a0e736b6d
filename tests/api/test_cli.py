"""The `samsok` CLI in-process: same core, same shapes as the API, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from samsok.api.cli import cli
from samsok.search.embedding.embedder import Embedder
from samsok.search.schemas import SearchResponse

from tests.paths import PROJECT_ROOT

VAERNES = PROJECT_ROOT / "corpus" / "mirror" / "www.varnesregionen.no"
SIO = PROJECT_ROOT / "corpus" / "mirror" / "arkiv.snillfjord.kommune.no"


@pytest.fixture(scope="module")
def runner(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    env = {
        "SAMSOK_DATA_DIR": str(tmp_path_factory.mktemp("cli") / "data"),
        "SAMSOK_MODEL_CACHE_DIR": str(embedder.config.cache_dir),
        "SAMSOK_LOG_LEVEL": "WARNING",
    }
    return CliRunner(env=env)


@pytest.fixture(scope="module")
def ingested(runner: CliRunner) -> dict:
    paths = [
        str(VAERNES / "dokumenter"),
        str(VAERNES / "samhandling"),
        str(VAERNES / "sitemap.xml"),
    ]
    result = runner.invoke(cli, ["ingest", *paths, "--region", "vaernes", "--source", "test"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_ingest_reports_indexed_and_skipped_files(ingested: dict) -> None:
    assert ingested["new"] >= 9  # 7 sub-project pages, an index page, 2 PDF reports
    assert ingested["skipped"] == {"unsupported_content_type": 1}  # sitemap.xml


@pytest.mark.slow
def test_search_json_has_the_api_shape(runner: CliRunner, ingested: dict) -> None:
    result = runner.invoke(
        cli,
        ["search", "felles legevakt og senger for øyeblikkelig hjelp", "--json", "--limit", "3"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    SearchResponse.model_validate(body)
    assert {"total", "results"} <= set(body)
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert set(first) >= {
        "doc_id",
        "url",
        "title",
        "region",
        "type",
        "published",
        "page",
        "snippet",
        "score",
    }
    assert first["region"] == "vaernes"


@pytest.mark.slow
def test_search_text_output_and_filters(runner: CliRunner, ingested: dict) -> None:
    result = runner.invoke(cli, ["search", "distriktsmedisinsk senter", "--type", "report"])
    assert result.exit_code == 0, result.output
    assert "Forprosjekt" in result.output or "Distriktsmedisinsk" in result.output
    assert "#page=" in result.output
    empty = runner.invoke(cli, ["search", "distriktsmedisinsk senter", "--region", "orkdal"])
    assert empty.exit_code == 0 and "Ingen treff" in empty.output


@pytest.mark.slow
def test_similar_and_status(runner: CliRunner, ingested: dict) -> None:
    hit = json.loads(runner.invoke(cli, ["search", "jordmor", "--json"]).stdout)["results"][0]
    result = runner.invoke(cli, ["similar", hit["doc_id"], "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert hit["doc_id"] not in {r["doc_id"] for r in json.loads(result.stdout)["results"]}
    status = runner.invoke(cli, ["status", "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["index"]["documents"] >= 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--limit", "0"], "limit"),
        (["search", "x", "--limit", "10000"], "limit"),
        (["search", "x" * 2000], "q"),
        (["search", "x", "--region", "oslo"], "region"),
        (["search", "x", "--date-from", "15.02.2011"], "date"),
        (["crawl", "--url", "https://example.no/"], "--region"),
        (["crawl", "no-such-source"], "unknown source"),
        (["similar", "0123456789abcdef"], "no document"),
    ],
)
@pytest.mark.slow
def test_bad_arguments_fail_with_a_message(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_extract_prints_json_for_html_pdf_and_text(tmp_path: Path) -> None:
    runner = CliRunner(env={"SAMSOK_DATA_DIR": str(tmp_path)})
    page = runner.invoke(
        cli,
        [
            "extract",
            str(VAERNES / "samhandling" / "delprosjekt-1-dms.html"),
            "--url",
            "https://www.varnesregionen.no/samhandling/delprosjekt-1-dms.html",
        ],
    )
    assert page.exit_code == 0, page.output
    body = json.loads(page.stdout)
    assert set(body) >= {"title", "text", "published", "language", "pages"}
    assert body["language"] == "nb" and "Tekststørrelse" not in body["text"]
    pdf = next(SIO.rglob("*Fase1*.pdf"))
    report = json.loads(runner.invoke(cli, ["extract", str(pdf)]).stdout)
    assert len(report["pages"]) >= 3 and report["pages"][1]["number"] == 2
    assert report["published"] == "2011-03-15"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF")
    result = runner.invoke(cli, ["extract", str(broken)])
    assert result.exit_code == 1 and "pdf_broken" in result.output

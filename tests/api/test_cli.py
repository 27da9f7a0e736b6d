"""The `samsok` CLI in-process: same core, same shapes as the API, clear errors.

The commands run with the hashing embedder (`CliDeps(embedder_factory=…)`, what `main` takes
too), so the module needs no model; `test_real_model_*` run the same path with the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from samsok.api.cli import CliDeps, cli
from samsok.api.settings import Settings
from samsok.search.embedding import Embedder, TextEmbedder
from samsok.search.schemas import SearchResponse

from tests.api.conftest import HIT_KEYS
from tests.fakes import HashingEmbedder
from tests.paths import PROJECT_ROOT

VAERNES = PROJECT_ROOT / "corpus" / "mirror" / "www.varnesregionen.no"
SIO = PROJECT_ROOT / "corpus" / "mirror" / "arkiv.snillfjord.kommune.no"


class FakeCli:
    """`samsok` in-process with the hashing embedder; counts the embedders it was asked for."""

    def __init__(self, data_dir: Path) -> None:
        self.runner = CliRunner(
            env={
                "SAMSOK_DATA_DIR": str(data_dir),
                # Should anything reach for the real model, it must not find or convert one.
                "SAMSOK_MODEL_CACHE_DIR": str(data_dir.parent / "no-models"),
                "SAMSOK_LOG_LEVEL": "WARNING",
            }
        )
        self.made: list[Settings] = []

    def _factory(self, settings: Settings) -> TextEmbedder:
        self.made.append(settings)
        return HashingEmbedder()

    def invoke(self, args: list[str]) -> Result:
        return self.runner.invoke(cli, args, obj=CliDeps(embedder_factory=self._factory))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> FakeCli:
    return FakeCli(tmp_path_factory.mktemp("cli") / "data")


INGEST_ARGS = [
    str(VAERNES / "dokumenter"),
    str(VAERNES / "samhandling"),
    str(VAERNES / "sitemap.xml"),
]


@pytest.fixture(scope="module")
def ingested(runner: FakeCli) -> dict:
    result = runner.invoke(["ingest", *INGEST_ARGS, "--region", "vaernes", "--source", "test"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_reports_indexed_and_skipped_files(ingested: dict) -> None:
    assert ingested["new"] >= 9  # 7 sub-project pages, an index page, 2 PDF reports
    assert ingested["skipped"] == {"unsupported_content_type": 1}  # sitemap.xml


def test_search_json_has_the_api_shape(runner: FakeCli, ingested: dict) -> None:
    result = runner.invoke(
        ["search", "felles legevakt og senger for øyeblikkelig hjelp", "--json", "--limit", "3"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    SearchResponse.model_validate(body)
    assert {"total", "results"} <= set(body)
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert first.keys() >= HIT_KEYS
    assert first["region"] == "vaernes"


def test_search_text_output_and_filters(runner: FakeCli, ingested: dict) -> None:
    result = runner.invoke(["search", "distriktsmedisinsk senter", "--type", "report"])
    assert result.exit_code == 0, result.output
    assert "Forprosjekt" in result.output or "Distriktsmedisinsk" in result.output
    assert "#page=" in result.output
    empty = runner.invoke(["search", "distriktsmedisinsk senter", "--region", "orkdal"])
    assert empty.exit_code == 0 and "Ingen treff" in empty.output


def test_similar_and_status(runner: FakeCli, ingested: dict) -> None:
    hit = json.loads(runner.invoke(["search", "jordmor", "--json"]).stdout)["results"][0]
    result = runner.invoke(["similar", hit["doc_id"], "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert hit["doc_id"] not in {r["doc_id"] for r in json.loads(result.stdout)["results"]}
    status = runner.invoke(["status", "--json"])
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
def test_bad_arguments_fail_with_a_message(runner: FakeCli, args: list[str], message: str) -> None:
    result = runner.invoke(args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_commands_build_with_the_injected_factory(runner: FakeCli, ingested: dict) -> None:
    made = len(runner.made)
    result = runner.invoke(["prepare-model"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "test:hashing (dim 64, max 512 tokens)"
    assert len(runner.made) == made + 1
    assert runner.made[-1].data_dir == Path(runner.runner.env["SAMSOK_DATA_DIR"] or "")
    status = json.loads(runner.invoke(["status", "--json"]).stdout)
    assert status["index"]["model"] == "test:hashing"
    assert not (runner.made[-1].model_cache_dir).exists()  # nothing reached for the real model


@pytest.fixture(scope="module")
def real_runner(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    env = {
        "SAMSOK_DATA_DIR": str(tmp_path_factory.mktemp("cli-real") / "data"),
        "SAMSOK_MODEL_CACHE_DIR": str(embedder.config.cache_dir),
        "SAMSOK_LOG_LEVEL": "WARNING",
    }
    return CliRunner(env=env)


@pytest.mark.slow
def test_real_model_ingest_and_search(real_runner: CliRunner) -> None:
    """No injected factory: the configured model, as `samsok` runs for a user."""
    args = ["ingest", *INGEST_ARGS, "--region", "vaernes", "--source", "test"]
    ingested = real_runner.invoke(cli, args)
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["new"] >= 9
    query = "felles legevakt og senger for øyeblikkelig hjelp"
    result = real_runner.invoke(cli, ["search", query, "--json", "--mode", "dense"])
    assert result.exit_code == 0, result.output
    body = SearchResponse.model_validate_json(result.stdout)
    assert body.results and body.results[0].region.value == "vaernes"
    model = real_runner.invoke(cli, ["prepare-model"])
    assert model.exit_code == 0, model.output
    status = json.loads(real_runner.invoke(cli, ["status", "--json"]).stdout)
    assert status["index"]["model"] != "test:hashing"
    assert status["index"]["model"] in model.stdout


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


def test_the_fake_embedder_is_a_text_embedder() -> None:
    fake: TextEmbedder = HashingEmbedder()  # mypy checks the members' signatures too
    assert isinstance(fake, TextEmbedder)
    assert not isinstance(object(), TextEmbedder)

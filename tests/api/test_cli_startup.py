"""`samsok` imports what a command uses when it runs: help, `status` and a lexical search start
without the model's libraries, the web stack or the crawler (issue 10's CLI start-up).

Each case runs the real entry point (`samsok.api.cli.main`, the production embedder factory) in
a fresh interpreter and reads `sys.modules` after the command: behaviour, not timing (the
figures are in benchmarks/cli_startup.py). The configured model is a folder that does not
exist, so a command that reached for the model would fail rather than quietly load it; the
controls show that the probe sees a command's own imports and that the model is really asked
for when a command embeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from samsok.api.cli import CliDeps, cli

from tests.fakes import HashingEmbedder
from tests.paths import PROJECT_ROOT

VAERNES = PROJECT_ROOT / "corpus" / "mirror" / "www.varnesregionen.no"
INGEST_FOLDERS = [str(VAERNES / "dokumenter"), str(VAERNES / "samhandling")]

#: Top-level packages by what loads them; a command that needs none of these must not import them.
MODEL = frozenset(
    {"torch", "sentence_transformers", "transformers", "onnxruntime", "onnx", "tokenizers"}
)
WEB = frozenset({"fastapi", "starlette", "uvicorn", "jinja2"})
CRAWL = frozenset({"trafilatura", "htmldate", "justext", "lxml", "pypdf", "httpx", "ray"})
INDEX = frozenset({"faiss", "numpy"})  # a reader opens the index: its FAISS file and the store
NOT_FOR_READERS = MODEL | WEB | CRAWL
NOT_FOR_HELP = NOT_FOR_READERS | INDEX

# Runs each argument list through `main()` in this interpreter, then writes the exit codes and
# the top-level packages imported by then (as JSON) to the file named first.
PROBE = """
import json, sys
out, runs = sys.argv[1], json.loads(sys.argv[2])
from samsok.api.cli import main
codes = []
for args in runs:
    sys.argv = ["samsok", *args]
    try:
        main()
    except SystemExit as exc:
        codes.append(exc.code or 0)
    sys.stdout.flush()
packages = sorted({name.partition(".")[0] for name in sys.modules})
with open(out, "w") as f:
    json.dump({"codes": codes, "packages": packages}, f)
"""


@dataclass
class Run:
    codes: list[int]
    packages: frozenset[str]
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small index (Værnes' pages and reports), built with the hashing embedder."""
    data = tmp_path_factory.mktemp("startup") / "data"
    result = CliRunner(env={"SAMSOK_DATA_DIR": str(data), "SAMSOK_LOG_LEVEL": "WARNING"}).invoke(
        cli,
        ["ingest", *INGEST_FOLDERS, "--region", "vaernes", "--source", "test"],
        obj=CliDeps(embedder_factory=lambda settings: HashingEmbedder()),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new"] >= 8
    return data


def probe(data_dir: Path, *runs: list[str]) -> Run:
    out = data_dir.parent / "probe.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSOK_")}
    env |= {
        "SAMSOK_DATA_DIR": str(data_dir),
        # Any model load fails here: nothing can be loaded quietly.
        "SAMSOK_MODEL": str(data_dir.parent / "no-such-model"),
        "SAMSOK_MODEL_CACHE_DIR": str(data_dir.parent / "no-models"),
        "SAMSOK_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), json.dumps(list(runs))],
        cwd=data_dir.parent,  # no .env of the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    return Run(report["codes"], frozenset(report["packages"]), done.stdout, done.stderr)


def test_help_of_every_command_imports_no_heavy_library(data_dir: Path) -> None:
    commands = sorted(cli.commands)
    assert {"search", "status", "crawl", "serve", "eval"} <= set(commands)
    run = probe(data_dir, ["--help"], *([name, "--help"] for name in commands))
    assert run.codes == [0] * (len(commands) + 1), run.stderr
    for name in commands:
        assert f"samsok {name} [OPTIONS]" in run.stdout
    assert sorted(run.packages & NOT_FOR_HELP) == []


def test_status_loads_neither_model_nor_web_nor_crawler(data_dir: Path) -> None:
    run = probe(data_dir, ["status", "--json"])
    assert run.codes == [0], run.stderr
    assert json.loads(run.stdout)["index"]["documents"] >= 8
    assert sorted(run.packages & NOT_FOR_READERS) == []


def test_status_for_people_too(data_dir: Path) -> None:
    run = probe(data_dir, ["status"])
    assert run.codes == [0], run.stderr
    assert "Index:" in run.stdout
    assert sorted(run.packages & NOT_FOR_READERS) == []


def test_lexical_search_finds_without_the_model(data_dir: Path) -> None:
    run = probe(data_dir, ["search", "jordmor", "--mode", "lexical", "--json"])
    assert run.codes == [0], run.stderr
    results = json.loads(run.stdout)["results"]
    assert results and all(r["region"] == "vaernes" for r in results)
    assert sorted(run.packages & NOT_FOR_READERS) == []


def test_similar_uses_stored_vectors_not_the_model(data_dir: Path) -> None:
    found = probe(data_dir, ["search", "jordmor", "--mode", "lexical", "--json"])
    doc_id = json.loads(found.stdout)["results"][0]["doc_id"]
    run = probe(data_dir, ["similar", doc_id, "--json"])
    assert run.codes == [0], run.stderr
    assert doc_id not in {r["doc_id"] for r in json.loads(run.stdout)["results"]}
    assert sorted(run.packages & NOT_FOR_READERS) == []


def test_control_the_probe_sees_what_a_command_imports(data_dir: Path) -> None:
    run = probe(data_dir, ["extract", str(VAERNES / "index.html")])
    assert run.codes == [0], run.stderr
    assert json.loads(run.stdout)["title"]
    assert "trafilatura" in run.packages  # the HTML extractor, imported by the command


def test_control_a_command_that_embeds_asks_for_the_model(data_dir: Path) -> None:
    """Hybrid search needs a query vector: the configured (missing) model is loaded and the
    command fails with one line naming it: so lexical search succeeded without it."""
    run = probe(data_dir, ["search", "jordmor", "--mode", "hybrid"])
    assert run.codes == [1]
    assert "no-such-model" in run.stderr
    assert "Traceback" not in run.stderr

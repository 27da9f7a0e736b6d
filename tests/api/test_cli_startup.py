"""`samsok` imports what a command uses when it runs: help, `status`, a lexical search and
`similar` start without the model's libraries, the web stack or the crawler (issue 10).

The commands run through the real entry point (`samsok.api.cli.main`, the production embedder
factory) in a fresh interpreter, which reports `sys.modules` after each: behaviour, not timing
(the figures are in benchmarks/cli_startup.py). The configured model is a folder that does not
exist, so a command that reached for the model would fail rather than quietly load it. The
controls show that the probe sees a command's own imports and that a command that embeds does
ask for the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from samsok.api.cli import cli

from tests.api.test_cli import FakeCli
from tests.paths import PROJECT_ROOT

VAERNES = PROJECT_ROOT / "corpus" / "mirror" / "www.varnesregionen.no"
INGEST_FOLDERS = [str(VAERNES / "dokumenter"), str(VAERNES / "samhandling")]

#: Top-level packages by what needs them.
MODEL = frozenset(
    {"torch", "sentence_transformers", "transformers", "onnxruntime", "onnx", "tokenizers"}
)
WEB = frozenset({"fastapi", "starlette", "uvicorn", "jinja2"})
CRAWL = frozenset({"trafilatura", "htmldate", "justext", "lxml", "pypdf", "httpx", "ray"})
INDEX = frozenset({"faiss", "numpy"})  # a reader opens the store and its generation's FAISS file
NOT_FOR_READERS = MODEL | WEB | CRAWL
NOT_FOR_HELP = NOT_FOR_READERS | INDEX

# Runs each argument list through `main()` in one interpreter, one after the other, and writes
# per run (as JSON, to the file named first): the exit code, what it printed, and the top-level
# packages imported by the end of it.
PROBE = """
import contextlib, io, json, sys
out, runs = sys.argv[1], json.loads(sys.argv[2])
from samsok.api.cli import main
report = []
for args in runs:
    sys.argv = ["samsok", *args]
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main()
        except SystemExit as exc:
            code = exc.code or 0
    packages = sorted({name.partition(".")[0] for name in sys.modules})
    report.append({"code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(),
                   "packages": packages})
with open(out, "w") as f:
    json.dump(report, f)
"""


@dataclass(frozen=True)
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    packages: frozenset[str]  # imported by the end of this run (and the runs before it)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small index (Værnes' pages and reports), built with the hashing embedder."""
    data = tmp_path_factory.mktemp("startup") / "data"
    result = FakeCli(data).invoke(
        ["ingest", *INGEST_FOLDERS, "--region", "vaernes", "--source", "test"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new"] >= 8
    return data


def probe(data_dir: Path, *runs: list[str]) -> list[Run]:
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
    return [
        Run(args, r["code"], r["stdout"], r["stderr"], frozenset(r["packages"]))
        for args, r in zip(runs, report, strict=True)
    ]


def assert_none_of(forbidden: frozenset[str], runs: list[Run]) -> None:
    """No run imported a forbidden package; on failure, which run imported which first."""
    seen: frozenset[str] = frozenset()
    culprits = {}
    for run in runs:
        new = (run.packages - seen) & forbidden
        if new:
            culprits[" ".join(run.args)] = sorted(new)
        seen = run.packages
    assert culprits == {}


def test_help_of_every_command_imports_no_heavy_library(data_dir: Path) -> None:
    commands = sorted(cli.commands)
    assert {"search", "status", "crawl", "serve", "eval", "similar"} <= set(commands)
    runs = probe(data_dir, ["--help"], *([name, "--help"] for name in commands))
    for run in runs:
        assert run.code == 0, run.stderr
        assert run.stdout.startswith(f"Usage: samsok {' '.join(run.args[:-1])}".rstrip())
    assert_none_of(NOT_FOR_HELP, runs)


def test_crawler_health_reads_only_its_heartbeat(data_dir: Path) -> None:
    (run,) = probe(data_dir, ["crawler-health"])
    assert run.code == 1 and "no heartbeat" in run.stderr  # no `crawl --every` here
    assert_none_of(NOT_FOR_HELP, [run])


def test_changes_loads_neither_model_nor_crawler(data_dir: Path) -> None:
    """`changes` shares the page's parameter rules (`samsok.api.web`), so it loads FastAPI's
    types; still no model and no crawler."""
    (run,) = probe(data_dir, ["changes", "--since", "2000-01-01", "--json"])
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["new"] >= 8
    assert_none_of(MODEL | CRAWL, [run])


@pytest.fixture(scope="module")
def readers(data_dir: Path) -> dict[str, Run]:
    """`status`, a lexical search and `similar` (of the lexical search's best hit) in one
    interpreter; the index was built with another embedder than the configured model."""
    lexical = ["search", "jordmor", "--mode", "lexical", "--json"]
    first = probe(data_dir, lexical)[0]
    assert first.code == 0, first.stderr
    doc_id = json.loads(first.stdout)["results"][0]["doc_id"]
    runs = probe(
        data_dir,
        ["status", "--json"],
        ["status"],
        lexical,
        ["similar", doc_id, "--json"],
    )
    return {" ".join(run.args[:2]): run for run in runs} | {"doc_id": first}


def test_readers_load_neither_model_nor_web_nor_crawler(readers: dict[str, Run]) -> None:
    for run in readers.values():
        assert run.code == 0, run.stderr
    assert_none_of(NOT_FOR_READERS, list(readers.values()))


def test_status_reports_the_index(readers: dict[str, Run]) -> None:
    assert json.loads(readers["status --json"].stdout)["index"]["documents"] >= 8
    assert "Index:" in readers["status"].stdout


def test_lexical_search_finds_without_the_model(readers: dict[str, Run]) -> None:
    results = json.loads(readers["search jordmor"].stdout)["results"]
    assert results and all(r["region"] == "vaernes" for r in results)
    assert any("jordmor" in r["snippet"].lower() for r in results)


def test_similar_uses_stored_vectors_not_the_model(readers: dict[str, Run]) -> None:
    doc_id = json.loads(readers["doc_id"].stdout)["results"][0]["doc_id"]
    run = next(r for key, r in readers.items() if key.startswith("similar"))
    similar = json.loads(run.stdout)["results"]
    assert similar and doc_id not in {r["doc_id"] for r in similar}


def test_controls_the_probe_sees_a_command_s_imports_and_the_model_is_asked_for(
    data_dir: Path,
) -> None:
    """`extract` imports the HTML extractor when it runs; a hybrid search needs a query vector,
    so the configured (missing) model is loaded and the command fails with one line naming it:
    lexical search above succeeded without it."""
    extract, hybrid = probe(
        data_dir,
        ["extract", str(VAERNES / "index.html")],
        ["search", "jordmor", "--mode", "hybrid"],
    )
    assert extract.code == 0, extract.stderr
    assert json.loads(extract.stdout)["title"]
    assert "trafilatura" in extract.packages
    assert hybrid.code == 1
    assert "no-such-model" in hybrid.stderr
    assert "Traceback" not in hybrid.stderr

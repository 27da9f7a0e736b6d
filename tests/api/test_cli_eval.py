"""`samsok eval` in-process on a tiny BEIR-layout set: with the hashing embedder (injected as
`CliDeps(embedder_factory=…)`), and once with the real model (`slow`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from samsok.api.cli import CliDeps, cli
from samsok.search.embedding import Embedder
from samsok.search.evaluation import FRESH_LABEL, LOCKED_LABEL

from tests.fakes import HashingEmbedder

PASSAGES = {
    "jordmor": (
        "Interkommunal jordmortjeneste",
        "Gravide i Tydal og Selbu får oppfølging av jordmor nær hjemmet. Jordmoren har "
        "kontordag i Selbu hver tirsdag.",
    ),
    "legevakt": (
        "Legevaktsamarbeid i Værnesregionen",
        "Legevakta i Stjørdal dekker Meråker, Selbu og Tydal om natta. Telefonnummeret er "
        "116 117 hele døgnet.",
    ),
    "kad": (
        "KAD-senger ved distriktsmedisinsk senter",
        "Senteret har seks KAD-senger for kommunale akutte døgnopphold og lege på dagtid.",
    ),
    "skolemat": (
        "Folkehelse i skolen",
        "Fysisk aktivitet hver dag og sunn skolemat er tiltak i folkehelseplanen.",
    ),
}
QUERIES = {  # id → (question, relevant passage, answer)
    "q1": ("Hvilken dag har jordmoren kontordag i Selbu?", "jordmor", "hver tirsdag"),
    "q2": ("Hva er telefonnummeret til legevakta?", "legevakt", "116 117"),
    "q3": ("Hvor mange KAD-senger har senteret?", "kad", "seks"),
    "q4": ("Hva gjør skolen for folkehelsa?", "skolemat", "sunn skolemat"),
}
KEYS = {
    "ndcg@10", "recall@1", "recall@5", "recall@10", "mrr@10", "answer@5",
    "latency_ms_p50", "latency_ms_p95",
}  # fmt: skip


@pytest.fixture(scope="module")
def beir(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("beir")
    files = {
        "corpus": [
            {"id": pid, "title": title, "text": f"{title}\n{text}"}
            for pid, (title, text) in PASSAGES.items()
        ],
        "queries": [{"id": q, "text": t} for q, (t, _, _) in QUERIES.items()],
        "answers": [{"id": q, "answer": a} for q, (_, _, a) in QUERIES.items()],
    }
    for name, records in files.items():
        (folder / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
    (folder / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n"
        + "".join(f"{q}\t{p}\t1\n" for q, (_, p, _) in QUERIES.items())
    )
    return [
        "eval",
        "--corpus", str(folder / "corpus.jsonl"),
        "--queries", str(folder / "queries.jsonl"),
        "--qrels", str(folder / "qrels.tsv"),
    ]  # fmt: skip


FAKE = CliDeps(embedder_factory=lambda settings: HashingEmbedder())


class FakeRunner(CliRunner):
    """The CLI with the hashing embedder: what eval ingests and queries with."""

    def invoke(self, *args: object, **kwargs: object) -> Result:  # type: ignore[override]
        return super().invoke(*args, obj=FAKE, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    folder = tmp_path_factory.mktemp("cli")
    return FakeRunner(
        env={
            # A data folder that must stay untouched: eval ingests into its own folder.
            "SAMSOK_DATA_DIR": str(folder / "data"),
            # Nothing may reach for the real model.
            "SAMSOK_MODEL_CACHE_DIR": str(folder / "no-models"),
            "SAMSOK_LOG_LEVEL": "WARNING",
        }
    )


@pytest.fixture(scope="module")
def real_runner(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    return CliRunner(
        env={
            # A data folder that must stay untouched: eval ingests into its own folder.
            "SAMSOK_DATA_DIR": str(tmp_path_factory.mktemp("cli") / "data"),
            "SAMSOK_MODEL_CACHE_DIR": str(embedder.config.cache_dir),
            "SAMSOK_LOG_LEVEL": "WARNING",
        }
    )


def test_eval_json_scores_every_mode_from_one_throwaway_ingest(
    runner: CliRunner, beir: list[str]
) -> None:
    answers = str(Path(beir[2]).with_name("answers.jsonl"))
    result = runner.invoke(cli, [*beir, "--answers", answers, "--mode", "all", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert list(body) == ["hybrid", "dense", "lexical"]
    for mode, scores in body.items():
        assert set(scores) == KEYS, mode
        assert all(0.0 <= scores[k] <= 1.0 for k in KEYS - {"latency_ms_p50", "latency_ms_p95"})
        assert 0 < scores["latency_ms_p50"] <= scores["latency_ms_p95"]
    # The query words are in the passages: lexical search finds every one first.
    assert body["lexical"]["recall@10"] == pytest.approx(1.0)
    # One ingest for all modes, into a temp folder that is gone afterwards.
    ingests = re.findall(r"ingested 4 passages → \d+ chunks .*\((.+)\)", result.stderr)
    assert len(ingests) == 1
    assert not Path(ingests[0]).exists()
    settings_data = Path(runner.env["SAMSOK_DATA_DIR"] or "")
    assert not (settings_data / "store.db").exists()


@pytest.mark.slow
def test_real_model_eval_finds_every_passage(real_runner: CliRunner, beir: list[str]) -> None:
    answers = str(Path(beir[2]).with_name("answers.jsonl"))
    result = real_runner.invoke(cli, [*beir, "--answers", answers, "--mode", "all", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert list(body) == ["hybrid", "dense", "lexical"]
    assert body["hybrid"]["ndcg@10"] == pytest.approx(1.0)
    assert body["hybrid"]["answer@5"] == pytest.approx(1.0)
    assert not (Path(real_runner.env["SAMSOK_DATA_DIR"] or "") / "store.db").exists()


def test_eval_keep_reuses_the_folder_and_prints_a_table(
    runner: CliRunner, beir: list[str], tmp_path: Path
) -> None:
    keep = tmp_path / "kept"
    first = runner.invoke(cli, [*beir, "--mode", "lexical", "--mode", "dense", "--keep", str(keep)])
    assert first.exit_code == 0, first.output
    assert (keep / "store.db").exists()
    second = runner.invoke(cli, [*beir, "--mode", "lexical", "--keep", str(keep)])
    assert second.exit_code == 0, second.output
    assert "'unchanged': 4" in second.stderr
    lines = second.stdout.splitlines()
    assert lines[0].startswith("4 judged queries")
    assert lines[1].split() == [
        "mode", "nDCG@10", "R@1", "R@5", "R@10", "MRR@10", "ans@5", "p50", "ms", "p95", "ms",
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[2:]] == ["lexical"]
    assert lines[2].split()[6] == "-"  # no --answers: no answer score


def test_eval_reports_a_malformed_file(runner: CliRunner, beir: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "qrels.tsv"
    bad.write_text("q1\tjordmor\n")
    args = [*beir]
    args[args.index("--qrels") + 1] = str(bad)
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "expected 3 columns" in result.output


@pytest.mark.slow
def test_eval_side_by_side_reports_every_set_with_the_baselines(
    runner: CliRunner, beir: list[str], tmp_path: Path
) -> None:
    """--baselines with development sets: one table, every system, every set's columns."""
    keep = tmp_path / "kept"
    first = runner.invoke(cli, [*beir, "--mode", "lexical", "--keep", str(keep)])
    assert first.exit_code == 0, first.output
    # A paraphrase-style set over the same passages (stored under eval:<id> URLs), plus
    # off-topic queries; the kept folder serves as both the dev and the mirror index here.
    dev = tmp_path / "dev.json"
    dev.write_text(
        json.dumps(
            {
                "queries": [
                    {"id": "d1", "query": "når kan gravide treffe jordmora", "tags": ["nn"],
                     "relevant": {"eval:jordmor": 2}},
                    {"id": "d2", "query": "KAD plasser", "tags": ["abbr"],
                     "relevant": {"eval:kad": 2}},
                ],
                "off_topic": [{"id": "o1", "query": "fotballresultater Rosenborg"}],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    args = [*beir, "--mode", "hybrid", "--keep", str(keep), "--baselines", "--devset", str(dev)]
    args += ["--dev-folder", str(keep), "--mirror-folder", str(keep)]
    # The two locked sets (here the same small file) each get their own, labelled columns.
    locked = ["--locked", str(dev), "--fresh", str(dev)]
    result = runner.invoke(cli, [*args, *locked, "--json"])
    assert result.exit_code == 0, result.output
    side = json.loads(result.stdout)["side_by_side"]
    assert list(side) == [
        "hybrid", "hybrid, no floor", "dense", "lexical", "before: z-score 0.5 plain",
        "min-max 0.5 plain", "RRF k=60 plain", "lexical plain", "bm25s stemmed",
    ]  # fmt: skip
    columns = {"eval set nDCG@10", "eval set R@10"}
    for name in ("dev", LOCKED_LABEL, FRESH_LABEL):
        kinds = ("nDCG@10", "R@10", "abbr", "nn", "off-topic ≤3")
        columns |= {f"{name} {kind}" for kind in kinds}
    assert columns == set(side["hybrid"])
    fresh, old = f"{FRESH_LABEL} nDCG@10", f"{LOCKED_LABEL} nDCG@10"
    assert side["hybrid"][fresh] == side["hybrid"][old] == side["hybrid"]["dev nDCG@10"]
    assert side["hybrid"]["eval set nDCG@10"] == pytest.approx(1.0)
    assert side["bm25s stemmed"]["dev off-topic ≤3"] is None  # no notion of "no match"
    assert 0.0 <= side["min-max 0.5 plain"]["dev nDCG@10"] <= 1.0
    table = runner.invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert "| system | eval set nDCG@10 |" in table.stdout
    assert "| bm25s stemmed |" in table.stdout
    missing = runner.invoke(cli, [*beir, "--keep", str(keep), "--devset", str(dev)])
    assert missing.exit_code == 1 and "--dev-folder" in missing.output
    missing = runner.invoke(cli, [*beir, "--keep", str(keep), "--fresh", str(dev)])
    assert missing.exit_code == 1 and "--dev-folder" in missing.output

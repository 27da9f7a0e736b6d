"""Retrieval metrics against hand-computed values, and BEIR loading."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import samsok.search.evaluation.metrics as metrics

from tests.paths import shared_data

# -- per-query metrics ------------------------------------------------------------------------


def test_ndcg_binary() -> None:
    # relevant a, b at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    value = metrics.ndcg_at_k(["x", "a", "y", "b"], {"a": 1, "b": 1}, 10)
    assert value == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert value == pytest.approx(0.650920, abs=1e-6)


def test_ndcg_graded_and_cutoff() -> None:
    # b (gain 1) first, a (gain 2) second: DCG = 1 + 2/log2(3); ideal = 2 + 1/log2(3)
    assert metrics.ndcg_at_k(["b", "a"], {"a": 2, "b": 1}) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    )
    # the relevant document at rank 3 is outside k=2
    assert metrics.ndcg_at_k(["x", "y", "a"], {"a": 1}, 2) == 0.0
    assert metrics.ndcg_at_k(["a"], {"a": 1}) == 1.0
    assert metrics.ndcg_at_k(["a"], {"a": 0}) == 0.0  # nothing relevant


def test_recall_and_mrr() -> None:
    ranked = ["x", "a", "y", "b", "z"]
    relevance = {"a": 1, "b": 1, "c": 1, "n": 0}
    assert metrics.recall_at_k(ranked, relevance, 1) == 0.0
    assert metrics.recall_at_k(ranked, relevance, 2) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(ranked, relevance, 5) == pytest.approx(2 / 3)
    assert metrics.mrr_at_k(ranked, relevance, 10) == 0.5
    assert metrics.mrr_at_k(ranked, relevance, 1) == 0.0
    assert metrics.mrr_at_k(["n", "b"], relevance, 10) == 0.5  # score 0 is not relevant


def test_documents_from_chunks_best_rank_wins() -> None:
    doc_of = {10: "d1", 11: "d2", 12: "d1", 13: "d3", 14: "d2"}
    assert metrics.documents_from_chunks([10, 11, 12, 13, 14], doc_of) == ["d1", "d2", "d3"]
    assert metrics.documents_from_chunks([13, 12, 11], doc_of.__getitem__) == ["d3", "d1", "d2"]


def test_evaluate_run_means_over_judged_queries() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1, "d3": 1}, "q3": {"d9": 0}, "q4": {"d4": 1}}
    run = {"q1": ["d1", "x"], "q2": ["x", "d3"], "q3": ["d9"]}  # q4 missing: scores 0
    scores = metrics.evaluate_run(run, qrels)
    assert scores.queries == 3  # q3 has nothing relevant
    ndcg_q2 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert scores.ndcg_at_10 == pytest.approx((1 + ndcg_q2 + 0) / 3)
    assert scores.recall_at_1 == pytest.approx((1 + 0 + 0) / 3)
    assert scores.recall_at_5 == pytest.approx((1 + 0.5 + 0) / 3)
    assert scores.recall_at_10 == scores.recall_at_5
    assert scores.mrr_at_10 == pytest.approx((1 + 0.5 + 0) / 3)
    with pytest.raises(ValueError):
        metrics.evaluate_run(run, {"q3": {"d9": 0}})


def test_answer_containment_is_case_and_whitespace_insensitive() -> None:
    chunks = ["Innledning om noe annet.", "Ordfører i  Orkdal\nkommune er valgt."]
    assert metrics.contains_answer(chunks, ["orkdal KOMMUNE"], 2)
    assert not metrics.contains_answer(chunks, ["orkdal kommune"], 1)  # only in the 2nd chunk
    assert not metrics.contains_answer(chunks, ["Værnes"], 2)
    assert not metrics.contains_answer(chunks, ["   "], 2)  # a blank answer never counts
    runs = {"q1": chunks, "q2": ["Værnes"], "q3": []}
    answers = {"q1": ["orkdal kommune"], "q2": ["værnes"], "q3": ["x"]}
    assert metrics.answer_containment(runs, answers, 1) == pytest.approx(1 / 3)
    assert metrics.answer_containment(runs, answers, 2) == pytest.approx(2 / 3)


def test_percentile_linear_interpolation() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert metrics.percentile(values, 50) == 2.5
    assert metrics.percentile(values, 95) == pytest.approx(3.85)  # 3 + 0.85 * (4 - 3)
    assert metrics.percentile(values, 0) == 1.0
    assert metrics.percentile(values, 100) == 4.0
    assert metrics.percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        metrics.percentile([], 50)
    summary = metrics.latency_summary([0.001, 0.002, 0.003, 0.010])
    assert summary.p50_ms == pytest.approx(2.5)
    assert summary.p95_ms == pytest.approx(3 + 0.85 * 7)
    assert summary.mean_ms == pytest.approx(4.0)
    assert summary.count == 4


# -- loading ------------------------------------------------------------------------------------


def _write_beir(tmp_path: Path, qrels: str) -> tuple[Path, Path, Path, Path]:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps({"id": "d1", "title": "Legevakt", "text": "Legevakt\nÅpent hele døgnet."})
        + "\n\n"
        + json.dumps({"_id": "d2", "text": "Jordmor"})
        + "\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": "Når er legevakten åpen?"}) + "\n")
    qrels_path = tmp_path / "qrels.tsv"
    qrels_path.write_text(qrels, encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "q1", "answer": "hele døgnet", "answer_start": 7}) + "\n")
    return corpus, queries, qrels_path, answers


def test_load_beir(tmp_path: Path) -> None:
    paths = _write_beir(tmp_path, "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n")
    data = metrics.load_beir(*paths)
    assert data.corpus["d1"].title == "Legevakt"
    assert data.corpus["d1"].text.endswith("døgnet.")
    assert data.corpus["d2"].title == ""
    assert data.queries == {"q1": "Når er legevakten åpen?"}
    assert data.qrels == {"q1": {"d1": 1, "d2": 0}}
    assert data.answers == {"q1": ("hele døgnet",)}
    assert metrics.load_beir(*paths[:3]).answers == {}


def test_load_beir_reports_bad_lines(tmp_path: Path) -> None:
    paths = _write_beir(tmp_path, "query-id\tcorpus-id\tscore\nq1\td1\n")
    with pytest.raises(metrics.EvalDataError, match=r"qrels.tsv:2: expected 3 columns"):
        metrics.load_beir(*paths)
    paths[0].write_text('{"id": "d1", "text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(metrics.EvalDataError, match=r"corpus.jsonl:2"):
        metrics.load_beir(*paths)


def test_load_norquad() -> None:
    norquad = shared_data("eval", "norquad")
    data = metrics.load_beir(
        norquad / "corpus.jsonl",
        norquad / "queries_validation.jsonl",
        norquad / "qrels_validation.tsv",
        norquad / "answers_validation.jsonl",
    )
    assert len(data.corpus) == 755
    assert len(data.queries) == len(data.qrels) == len(data.answers) == 472
    # Every answer is found in a relevant passage: the chunk-level metric can reach 1.
    for query_id, relevant in data.qrels.items():
        texts = [data.corpus[doc].text for doc in relevant]
        assert metrics.contains_answer(texts, data.answers[query_id], len(texts)), query_id

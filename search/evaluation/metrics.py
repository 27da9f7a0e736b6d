"""Retrieval evaluation: BEIR-layout loading and the metrics we report.

Document-level metrics take, per query, a ranked list of document ids. A chunk-level run is
turned into one with `documents_from_chunks` (a document ranks where its best chunk ranks).
Conventions follow BEIR / pytrec_eval: linear gains in nDCG, relevance <= 0 is not relevant,
averages over the queries that have at least one relevant document, a query missing from the
run scores 0.

Answer containment is chunk-level: a query counts as answered at k when one of its top-k chunk
texts contains one of its answer strings, both case-folded and with whitespace collapsed.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

__all__ = [
    "BeirDataset",
    "BeirDocument",
    "EvalDataError",
    "LatencySummary",
    "RetrievalScores",
    "answer_containment",
    "contains_answer",
    "documents_from_chunks",
    "evaluate_run",
    "latency_summary",
    "load_beir",
    "mrr_at_k",
    "ndcg_at_k",
    "percentile",
    "recall_at_k",
]

C = TypeVar("C", bound=Hashable)
D = TypeVar("D", bound=Hashable)


class EvalDataError(ValueError):
    """An evaluation file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class BeirDocument:
    title: str
    text: str


@dataclass(frozen=True)
class BeirDataset:
    corpus: dict[str, BeirDocument]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id → {document id: relevance}
    answers: dict[str, tuple[str, ...]]  # query id → answer strings (empty without a file)


# -- loading --------------------------------------------------------------------------------


def _jsonl(path: Path) -> Iterable[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalDataError(f"{path}:{number}: not JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise EvalDataError(f"{path}:{number}: expected a JSON object")
            yield number, record


def _field(record: Mapping[str, object], names: tuple[str, ...], where: str) -> str:
    for name in names:  # BEIR files use "_id"; ours use "id"
        if name in record:
            return str(record[name])
    raise EvalDataError(f"{where}: missing field {names[0]!r}")


def load_beir(
    corpus_path: Path,
    queries_path: Path,
    qrels_path: Path,
    answers_path: Path | None = None,
) -> BeirDataset:
    """Load corpus.jsonl, queries.jsonl, a qrels TSV (``query-id corpus-id score``) and answers."""
    corpus: dict[str, BeirDocument] = {}
    for number, rec in _jsonl(corpus_path):
        where = f"{corpus_path}:{number}"
        doc_id = _field(rec, ("_id", "id"), where)
        corpus[doc_id] = BeirDocument(str(rec.get("title") or ""), _field(rec, ("text",), where))
    queries: dict[str, str] = {}
    for number, rec in _jsonl(queries_path):
        where = f"{queries_path}:{number}"
        queries[_field(rec, ("_id", "id"), where)] = _field(rec, ("text",), where)
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or (number == 1 and row[0] == "query-id"):
                continue
            if len(row) != 3:
                raise EvalDataError(f"{qrels_path}:{number}: expected 3 columns, got {len(row)}")
            try:
                score = int(row[2])
            except ValueError as exc:
                raise EvalDataError(f"{qrels_path}:{number}: score {row[2]!r}") from exc
            qrels.setdefault(row[0], {})[row[1]] = score
    answers: dict[str, tuple[str, ...]] = {}
    if answers_path is not None:
        for number, rec in _jsonl(answers_path):
            where = f"{answers_path}:{number}"
            query_id = _field(rec, ("_id", "id"), where)
            answers[query_id] = (*answers.get(query_id, ()), _field(rec, ("answer",), where))
    return BeirDataset(corpus, queries, qrels, answers)


# -- per-query metrics ------------------------------------------------------------------------


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains: sum rel_i / log2(i + 1) over ranks i = 1..k, over the ideal."""
    ideal = sorted((r for r in relevance.values() if r > 0), reverse=True)[:k]
    idcg = sum(rel / math.log2(i + 2) for i, rel in enumerate(ideal))
    if idcg == 0:
        return 0.0
    dcg = sum(max(relevance.get(doc, 0), 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    return dcg / idcg


def recall_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, rel in relevance.items() if rel > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevance.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def documents_from_chunks(chunks: Iterable[C], doc_of: Mapping[C, D] | Callable[[C], D]) -> list[D]:
    """Ranked chunks → ranked documents; a document keeps the rank of its best chunk."""
    lookup = doc_of.__getitem__ if isinstance(doc_of, Mapping) else doc_of
    return list(dict.fromkeys(lookup(chunk) for chunk in chunks))


def _normalise_answer(text: str) -> str:
    return " ".join(text.casefold().split())


def contains_answer(chunk_texts: Sequence[str], answers: Iterable[str], k: int) -> bool:
    """Does one of the first k chunk texts contain one of the (non-blank) answers?"""
    wanted = [a for a in (_normalise_answer(x) for x in answers) if a]
    texts = [_normalise_answer(t) for t in chunk_texts[:k]]
    return any(answer in text for answer in wanted for text in texts)


# -- whole runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievalScores:
    """Document-level means over `queries` judged queries."""

    ndcg_at_10: float
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    queries: int


def evaluate_run(
    run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> RetrievalScores:
    """Mean nDCG@10, Recall@1/5/10 and MRR@10 of a run (query id → ranked document ids)."""
    judged = [q for q, rel in qrels.items() if any(r > 0 for r in rel.values())]
    if not judged:
        raise ValueError("no query has a relevant document")
    totals = [0.0] * 5
    for query_id in judged:
        ranked, relevance = run.get(query_id, ()), qrels[query_id]
        values = (
            ndcg_at_k(ranked, relevance, 10),
            recall_at_k(ranked, relevance, 1),
            recall_at_k(ranked, relevance, 5),
            recall_at_k(ranked, relevance, 10),
            mrr_at_k(ranked, relevance, 10),
        )
        totals = [t + v for t, v in zip(totals, values, strict=True)]
    n = len(judged)
    ndcg10, r1, r5, r10, mrr10 = (t / n for t in totals)
    return RetrievalScores(ndcg10, r1, r5, r10, mrr10, queries=n)


def answer_containment(
    chunk_runs: Mapping[str, Sequence[str]], answers: Mapping[str, Sequence[str]], k: int
) -> float:
    """Share of queries with answers whose top-k chunk texts contain an answer."""
    scored = [q for q, found in answers.items() if any(a.strip() for a in found)]
    if not scored:
        raise ValueError("no query has an answer")
    hits = sum(contains_answer(chunk_runs.get(q, ()), answers[q], k) for q in scored)
    return hits / len(scored)


# -- latency ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LatencySummary:
    p50_ms: float
    p95_ms: float
    mean_ms: float
    count: int


def latency_summary(seconds: Sequence[float]) -> LatencySummary:
    """p50/p95/mean in milliseconds of per-query wall times given in seconds."""
    ms = [s * 1000.0 for s in seconds]
    return LatencySummary(percentile(ms, 50), percentile(ms, 95), sum(ms) / len(ms), len(ms))

"""Retrieval evaluation: metrics, BEIR-layout sets, the paraphrase development set.

Callers import from here; the modules behind it are `metrics` (nDCG, recall, MRR, BEIR
files), `runner` (ingest a set and score the search modes), `devset` (the paraphrase and
off-topic sets), `report` (every system side by side) and `baselines` (bm25s). The names load
on first use (PEP 562), so the CLI loads the evaluation only for `samsok eval`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samsok.ingest.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from samsok.search.evaluation.baselines import TOP_CHUNKS, Bm25sTokens, bm25s_scores
    from samsok.search.evaluation.devset import (
        OFF_TOPIC_MAX,
        DevQuery,
        DevSet,
        OffTopicQuery,
        Query,
        devset_judgements,
        keyword_overlap,
        load_devset,
        off_topic_rate,
        run_devset,
    )
    from samsok.search.evaluation.metrics import (
        BeirDataset,
        BeirDocument,
        EvalDataError,
        LatencySummary,
        RetrievalScores,
        answer_containment,
        contains_answer,
        documents_from_chunks,
        evaluate_run,
        latency_summary,
        load_beir,
        mrr_at_k,
        ndcg_at_k,
        percentile,
        recall_at_k,
    )
    from samsok.search.evaluation.report import (
        SYSTEMS,
        EvalSets,
        ReportRow,
        System,
        eval_report,
        format_rows,
        side_by_side,
    )
    from samsok.search.evaluation.runner import (
        EVAL_SOURCE,
        IngestReport,
        ModeScores,
        corpus_documents,
        eval_url,
        ingest_corpus,
        judgements,
        parse_modes,
        run_evaluation,
        run_mode,
        score_runs,
    )

__all__ = [
    "EVAL_SOURCE",
    "OFF_TOPIC_MAX",
    "SYSTEMS",
    "TOP_CHUNKS",
    "BeirDataset",
    "BeirDocument",
    "Bm25sTokens",
    "DevQuery",
    "DevSet",
    "EvalDataError",
    "EvalSets",
    "IngestReport",
    "LatencySummary",
    "ModeScores",
    "OffTopicQuery",
    "Query",
    "ReportRow",
    "RetrievalScores",
    "System",
    "answer_containment",
    "bm25s_scores",
    "contains_answer",
    "corpus_documents",
    "devset_judgements",
    "documents_from_chunks",
    "eval_report",
    "eval_url",
    "evaluate_run",
    "format_rows",
    "ingest_corpus",
    "judgements",
    "keyword_overlap",
    "latency_summary",
    "load_beir",
    "load_devset",
    "mrr_at_k",
    "ndcg_at_k",
    "off_topic_rate",
    "parse_modes",
    "percentile",
    "recall_at_k",
    "run_devset",
    "run_evaluation",
    "run_mode",
    "score_runs",
    "side_by_side",
]

# Each public name and the module it lives in.
_HOMES = {
    "BeirDataset": "metrics",
    "BeirDocument": "metrics",
    "Bm25sTokens": "baselines",
    "DevQuery": "devset",
    "DevSet": "devset",
    "EVAL_SOURCE": "runner",
    "EvalDataError": "metrics",
    "EvalSets": "report",
    "IngestReport": "runner",
    "LatencySummary": "metrics",
    "ModeScores": "runner",
    "OFF_TOPIC_MAX": "devset",
    "OffTopicQuery": "devset",
    "Query": "devset",
    "ReportRow": "report",
    "RetrievalScores": "metrics",
    "SYSTEMS": "report",
    "System": "report",
    "TOP_CHUNKS": "baselines",
    "answer_containment": "metrics",
    "bm25s_scores": "baselines",
    "contains_answer": "metrics",
    "corpus_documents": "runner",
    "devset_judgements": "devset",
    "documents_from_chunks": "metrics",
    "eval_report": "report",
    "eval_url": "runner",
    "evaluate_run": "metrics",
    "format_rows": "report",
    "ingest_corpus": "runner",
    "judgements": "runner",
    "keyword_overlap": "devset",
    "latency_summary": "metrics",
    "load_beir": "metrics",
    "load_devset": "devset",
    "mrr_at_k": "metrics",
    "ndcg_at_k": "metrics",
    "off_topic_rate": "devset",
    "parse_modes": "runner",
    "percentile": "metrics",
    "recall_at_k": "metrics",
    "run_devset": "devset",
    "run_evaluation": "runner",
    "run_mode": "runner",
    "score_runs": "runner",
    "side_by_side": "report",
}

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

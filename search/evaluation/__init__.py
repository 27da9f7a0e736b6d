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
    from samsok.search.evaluation.baselines import Bm25sTokens, bm25s_scores
    from samsok.search.evaluation.devset import (
        FRESH2_LABEL,
        FRESH3_LABEL,
        FRESH_LABEL,
        LOCKED_LABEL,
        load_devset,
    )
    from samsok.search.evaluation.metrics import (
        BeirDataset,
        answer_containment,
        documents_from_chunks,
        evaluate_run,
        latency_summary,
        load_beir,
        ndcg_at_k,
        recall_at_k,
    )
    from samsok.search.evaluation.report import EvalSets, eval_report, format_rows, side_by_side
    from samsok.search.evaluation.runner import (
        ModeScores,
        ingest_corpus,
        judgements,
        parse_modes,
        run_evaluation,
    )

# What callers outside the package use; the modules' other names serve the package itself
# (and its tests).
__all__ = [
    "FRESH2_LABEL",
    "FRESH3_LABEL",
    "FRESH_LABEL",
    "LOCKED_LABEL",
    "BeirDataset",
    "Bm25sTokens",
    "EvalSets",
    "ModeScores",
    "answer_containment",
    "bm25s_scores",
    "documents_from_chunks",
    "eval_report",
    "evaluate_run",
    "format_rows",
    "ingest_corpus",
    "judgements",
    "latency_summary",
    "load_beir",
    "load_devset",
    "ndcg_at_k",
    "parse_modes",
    "recall_at_k",
    "run_evaluation",
    "side_by_side",
]

# Each public name and the module it lives in.
_HOMES = {
    "FRESH2_LABEL": "devset",
    "FRESH3_LABEL": "devset",
    "FRESH_LABEL": "devset",
    "LOCKED_LABEL": "devset",
    "BeirDataset": "metrics",
    "Bm25sTokens": "baselines",
    "EvalSets": "report",
    "ModeScores": "runner",
    "answer_containment": "metrics",
    "bm25s_scores": "baselines",
    "documents_from_chunks": "metrics",
    "eval_report": "report",
    "evaluate_run": "metrics",
    "format_rows": "report",
    "ingest_corpus": "runner",
    "judgements": "runner",
    "latency_summary": "metrics",
    "load_beir": "metrics",
    "load_devset": "devset",
    "ndcg_at_k": "metrics",
    "parse_modes": "runner",
    "recall_at_k": "metrics",
    "run_evaluation": "runner",
    "side_by_side": "report",
}

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

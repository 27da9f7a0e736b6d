"""Run a BEIR-layout evaluation set through a `SearchIndex`, mode by mode.

1. `corpus_documents` turns each corpus record into a `Document` (one page, a neutral region
   and type: evaluation corpora are not regional). When the text starts with the record's
   title on a line of its own (NorQuAD), that line becomes the title and not body text, so the
   chunker's title context line does not repeat it.
2. `ingest_corpus` upserts them all (unchanged ones cost nothing, vectors come from the
   embedding cache), drops evaluation documents that are no longer in the corpus, and makes
   sure the lexical decompounder is fitted on the whole corpus, as after a full crawl.
3. `run_evaluation` runs every query in every mode through `SearchIndex.search` (the API's
   call, timed) and `SearchIndex.ranked_chunks` (untimed, for answer containment), and
   scores with `samsok.search.evaluation.metrics`:

   - document level: nDCG@10, Recall@1/5/10, MRR@10, a document ranking where its best chunk
     does (exactly what `search` returns);
   - chunk level: answer containment @5, whether one of the five best chunks contains an
     answer string (only when the dataset has answers);
   - latency: median and p95 wall time of `search` per query, query embedding included.

Near-duplicate passages are stored once by the index (the product shows one hit with both
URLs). Evaluation follows the product: a duplicate's judgements count for the stored copy.
A query the analyzer cannot search (only stop words, in lexical mode) scores 0.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Final

from samsok.ingest.documents import DocType, Document, Page, Region
from samsok.search.errors import QueryError
from samsok.search.evaluation.metrics import (
    BeirDataset,
    BeirDocument,
    answer_containment,
    evaluate_run,
    latency_summary,
    ndcg_at_k,
)
from samsok.search.index import SearchIndex, UpsertOutcome
from samsok.search.schemas import MAX_QUERY_CHARS, SearchMode, SearchRequest
from tqdm import tqdm

__all__ = [
    "EVAL_SOURCE",
    "IngestReport",
    "ModeScores",
    "corpus_documents",
    "eval_url",
    "ingest_corpus",
    "judgements",
    "parse_modes",
    "run_evaluation",
    "run_mode",
    "score_runs",
]

log = logging.getLogger(__name__)

EVAL_SOURCE: Final = "eval"
EVAL_REGION: Final = Region.ORKDAL
EVAL_TYPE: Final = DocType.PAGE
_URL_PREFIX: Final = "eval:"
ANSWER_K: Final = 5
DOC_K: Final = 10  # document metrics look at the first 10 documents
_BATCH_DOCS: Final = 64  # documents per upsert while ingesting (one progress step each)


def eval_url(corpus_id: str) -> str:
    """The URL an evaluation passage is stored under (its document id is derived from it)."""
    return _URL_PREFIX + corpus_id


def corpus_documents(corpus: Mapping[str, BeirDocument]) -> dict[str, Document]:
    """Corpus id → `Document`, in corpus order."""
    out: dict[str, Document] = {}
    for corpus_id, record in corpus.items():
        title, body = record.title.strip(), record.text
        first, newline, rest = body.partition("\n")
        if title and newline and first.strip() == title:
            body = rest
        out[corpus_id] = Document(
            url=eval_url(corpus_id),
            source=EVAL_SOURCE,
            region=EVAL_REGION,
            doc_type=EVAL_TYPE,
            title=title,
            pages=[Page(None, body.strip())],
        )
    return out


# -- ingest -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestReport:
    documents: int
    chunks: int
    outcomes: dict[str, int]  # UpsertOutcome value → documents
    removed: int  # evaluation documents in the folder that the corpus no longer has
    seconds: float


def ingest_corpus(
    index: SearchIndex, dataset: BeirDataset, *, progress: bool = False
) -> IngestReport:
    """Put the dataset's corpus into `index` (idempotent; see the module docstring)."""
    started = time.perf_counter()
    documents = corpus_documents(dataset.corpus)
    wanted = {doc.doc_id for doc in documents.values()}
    rows = index.document_rows()
    foreign = sum(row.source != EVAL_SOURCE for row in rows)
    if foreign:
        raise ValueError(
            f"the index in {index.data_dir} holds {foreign} documents that are not from an "
            "evaluation corpus; evaluate in an empty or evaluation-only folder"
        )
    stale = [row.doc_id for row in rows if row.doc_id not in wanted]
    for doc_id in stale:
        index.remove(doc_id)
    outcomes: dict[str, int] = {}
    docs = list(documents.values())
    with tqdm(
        total=len(docs), desc="ingest", unit="doc", disable=not progress, dynamic_ncols=True
    ) as bar:
        for start in range(0, len(docs), _BATCH_DOCS):
            batch = docs[start : start + _BATCH_DOCS]
            for outcome in index.upsert_many(batch):
                outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1
            bar.update(len(batch))
    index.commit()
    chunks = int(index.stats().chunks)
    fitted = index.lexical_description().get("decompounder_fitted_on_chunks")
    if chunks and fitted != chunks:
        # Fitted along the way on part of the corpus: fit it on all of it, as a full crawl
        # would end up (no embedding: every vector is in the cache).
        index.reindex()
    if outcomes.get(UpsertOutcome.DUPLICATE.value):
        log.info("%d passages are near-duplicates of others", outcomes[UpsertOutcome.DUPLICATE])
    return IngestReport(
        documents=len(docs),
        chunks=chunks,
        outcomes=outcomes,
        removed=len(stale),
        seconds=time.perf_counter() - started,
    )


# -- scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeScores:
    """One mode's scores over a dataset (document metrics are means over judged queries)."""

    ndcg_at_10: float
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    answer_at_5: float | None  # None without answers
    latency_ms_p50: float
    latency_ms_p95: float
    queries: int  # judged queries run
    unsearchable: int  # queries the mode could not run (e.g. only stop words, lexically)
    ndcg_per_query: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def as_dict(self) -> dict[str, float | None]:
        """The `samsok eval --json` shape."""
        return {
            "ndcg@10": self.ndcg_at_10,
            "recall@1": self.recall_at_1,
            "recall@5": self.recall_at_5,
            "recall@10": self.recall_at_10,
            "mrr@10": self.mrr_at_10,
            "answer@5": self.answer_at_5,
            "latency_ms_p50": self.latency_ms_p50,
            "latency_ms_p95": self.latency_ms_p95,
        }


def parse_modes(names: Iterable[str]) -> list[SearchMode]:
    """Mode names (or "all") → distinct modes in the order given; none given → all."""
    modes: list[SearchMode] = []
    for name in names:
        for mode in list(SearchMode) if name == "all" else [SearchMode(name)]:
            if mode not in modes:
                modes.append(mode)
    return modes or list(SearchMode)


def run_evaluation(
    dataset: BeirDataset,
    modes: Sequence[SearchMode | str],
    *,
    index: SearchIndex,
    ingest: bool = True,
    progress: bool = False,
) -> dict[str, ModeScores]:
    """Mode value → scores. Ingests the corpus first unless `ingest` is False."""
    if ingest:
        ingest_corpus(index, dataset, progress=progress)
    judged = [q for q, rel in dataset.qrels.items() if any(r > 0 for r in rel.values())]
    missing = [q for q in judged if q not in dataset.queries]
    if missing:
        raise ValueError(f"{len(missing)} judged queries have no text, e.g. {missing[0]!r}")
    corpus_of, qrels = judgements(index, dataset)
    results: dict[str, ModeScores] = {}
    for mode in parse_modes(str(m) for m in modes):
        results[mode.value] = run_mode(index, dataset, judged, mode, corpus_of, qrels, progress)
    return results


def judgements(
    index: SearchIndex, dataset: BeirDataset
) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """(stored document id → corpus id, qrels with each duplicate replaced by its stored copy).

    Call after `ingest_corpus`; other systems scored against the same index's chunks (the
    benchmark's baselines) use it too."""
    documents = corpus_documents(dataset.corpus)
    corpus_of = {doc.doc_id: corpus_id for corpus_id, doc in documents.items()}
    primary_of = index.primary_of([doc.doc_id for doc in documents.values()])
    canonical: dict[str, str] = {}
    for corpus_id, doc in documents.items():
        primary = primary_of.get(doc.doc_id, doc.doc_id)
        canonical[corpus_id] = (
            corpus_of.get(primary, corpus_id) if primary != doc.doc_id else corpus_id
        )
    qrels: dict[str, dict[str, int]] = {}
    for query_id, judgements in dataset.qrels.items():
        merged: dict[str, int] = {}
        for corpus_id, rel in judgements.items():
            key = canonical.get(corpus_id, corpus_id)
            merged[key] = max(rel, merged.get(key, rel))
        qrels[query_id] = merged
    return corpus_of, qrels


def run_mode(
    index: SearchIndex,
    dataset: BeirDataset,
    judged: Sequence[str],
    mode: SearchMode,
    corpus_of: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    progress: bool,
) -> ModeScores:
    doc_run: dict[str, list[str]] = {}
    chunk_run: dict[str, list[str]] = {}
    seconds: list[float] = []
    unsearchable = 0
    with_answers = bool(dataset.answers)
    for query_id in tqdm(
        judged, desc=mode.value, unit="query", disable=not progress, dynamic_ncols=True
    ):
        text = " ".join(dataset.queries[query_id].split())[:MAX_QUERY_CHARS] or "?"
        request = SearchRequest(q=text, mode=mode, limit=DOC_K)
        started = time.perf_counter()
        try:
            response = index.search(request)
        except QueryError:
            seconds.append(time.perf_counter() - started)
            unsearchable += 1
            continue
        seconds.append(time.perf_counter() - started)
        doc_run[query_id] = [corpus_of.get(h.doc_id, h.doc_id) for h in response.results]
        if with_answers:
            chunks = index.ranked_chunks(request.model_copy(update={"limit": ANSWER_K}))
            chunk_run[query_id] = [c.text for c in chunks]
    scores = score_runs(dataset, judged, qrels, doc_run, chunk_run, seconds)
    return replace(scores, unsearchable=unsearchable)


def score_runs(
    dataset: BeirDataset,
    judged: Sequence[str],
    qrels: Mapping[str, Mapping[str, int]],
    doc_run: Mapping[str, Sequence[str]],
    chunk_run: Mapping[str, Sequence[str]],
    seconds: Sequence[float],
) -> ModeScores:
    """Score one system: ranked corpus ids and top chunk texts per query, wall time per query."""
    relevant = {q: qrels[q] for q in judged}
    scores = evaluate_run(doc_run, relevant)
    answers = {q: dataset.answers[q] for q in judged if q in dataset.answers}
    answer_at_5 = (
        answer_containment(chunk_run, answers, ANSWER_K)
        if any(a.strip() for found in answers.values() for a in found)
        else None
    )
    latency = latency_summary(seconds)
    # ModeScores carries every RetrievalScores metric under the same name, plus its own.
    return ModeScores(
        **asdict(scores),
        answer_at_5=answer_at_5,
        latency_ms_p50=latency.p50_ms,
        latency_ms_p95=latency.p95_ms,
        unsearchable=0,
        ndcg_per_query={q: ndcg_at_k(doc_run.get(q, ()), relevant[q], DOC_K) for q in judged},
    )

"""Ranking one query over one view: the dense and lexical runs, their fusion, the relevance
floor, and grouping chunks into documents (best chunk first).

`SearchIndex` builds a `Ranker` per read over the view the read is pinned to; the ranking
itself holds no state between queries.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from samsok.ingest.documents import Region
from samsok.search.errors import DocumentNotFound, QueryError
from samsok.search.index.config import IndexConfig
from samsok.search.index.dense_query import dense_text_for
from samsok.search.index.faiss_base import one_thread_per_query
from samsok.search.index.fusion import fuse
from samsok.search.index.lexical import LexicalQuery
from samsok.search.index.relevance import RelevanceFloor, plausible
from samsok.search.index.views import View, read_through
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.store import DocumentRow, Filters
from samsok.search.text import QueryTerm

if TYPE_CHECKING:  # the model libraries load with the model, not with the index
    from samsok.search.embedding import Embedder

__all__ = ["Ranked", "RankedChunk", "Ranker"]

log = logging.getLogger(__name__)

# Chunks asked of each run per document wanted (offset + limit), when that exceeds
# `IndexConfig.candidates`: a document often has several chunks near the top. A first guess
# (not tuned): the loop in `rank` grows the depth when grouping leaves too few, so a low value
# costs a round, never results.
CHUNKS_PER_RESULT = 4
# How the candidate depth grows when grouping left too few documents: geometric, so even a
# page deep into a large corpus takes a handful of rounds (log base 4 of the corpus size).
CANDIDATE_GROWTH = 4
# `similar`: chunks fetched per wanted document (+1 for the document itself). Higher than
# CHUNKS_PER_RESULT because a centroid search has no second round; a first guess, not tuned.
SIMILAR_CHUNKS_PER_RESULT = 8
# Filters a reader view keeps the chunk ids of (oldest dropped first): regions × types are a
# dozen, date ranges vary per query; 64 arrays of ids stay small next to the FAISS index.
FILTER_CACHE_SIZE = 64
# Chunk → document ids a reader view keeps (its snapshot never changes, so they never go
# stale; a new generation is a new view): ~150 B each, so at most ~15 MB; once full it only
# looks up, as before.
DOC_ID_CACHE_SIZE = 100_000
# Guards the centroid's normalisation against a zero vector (mean of opposite vectors).
NORM_EPSILON = 1e-12
# Threads running hybrid searches' dense runs (`IndexConfig.concurrent_runs`): more than the
# cores, as a dense run may wait on the query-embedding micro-batch; a busier server queues.
DENSE_RUN_THREADS = 8


def dense_run_pool() -> ThreadPoolExecutor:
    """The threads a `SearchIndex` runs its hybrid searches' dense halves on (none start
    before the first search); each searches FAISS on one OpenMP thread."""
    return ThreadPoolExecutor(
        DENSE_RUN_THREADS, thread_name_prefix="samsok-dense", initializer=one_thread_per_query
    )


@dataclass(frozen=True)
class RankedChunk:
    """One entry of `SearchIndex.ranked_chunks`."""

    chunk_id: int
    doc_id: str
    score: float
    text: str


@dataclass(frozen=True)
class Ranked:
    """One document in a ranking: its best chunk and that chunk's score."""

    doc_id: str
    chunk_id: int
    score: float


@dataclass
class _Runs:
    """One query's candidate runs, kept for the relevance floor."""

    fused: list[tuple[int, float]]
    qvec: np.ndarray | None = None  # the query's vector (None: a lexical search)
    dense: dict[int, float] = field(default_factory=dict)  # chunk id → cosine
    lexical: list[tuple[int, float]] = field(default_factory=list)
    terms: list[QueryTerm] = field(default_factory=list)
    expansions: tuple[str, ...] = ()


class Ranker:
    """The ranking of queries over one view (`store`, `lexical`, `_dense` are that view's)."""

    def __init__(
        self,
        view: View,
        config: IndexConfig,
        embedder: Embedder,
        query_vector: Callable[[str], np.ndarray],
        *,
        read_only: bool,
        dense_runs: Executor | None = None,
    ) -> None:
        """`dense_runs`: where a hybrid search runs its dense half while FTS5 ranks (None: one
        after the other)."""
        self._view = view
        self.store = view.store
        self.lexical = view.lexical
        self._dense = view.dense
        self.config = config
        self.embedder = embedder
        self._query_vector = query_vector
        self.read_only = read_only
        self._dense_runs = dense_runs

    def ranked_chunks(self, request: SearchRequest) -> list[RankedChunk]:
        filters = Filters(request.region, request.doc_type, request.date_from, request.date_to)
        need = request.offset + request.limit
        allowed = self._allowed(filters)
        k = max(self.config.candidates, need)
        run = self._fused_run(request.q, request.mode, filters, allowed, k).fused[
            request.offset : need
        ]
        rows = self.store.chunks([cid for cid, _ in run])
        return [
            RankedChunk(cid, rows[cid].doc_id, score, rows[cid].text)
            for cid, score in run
            if cid in rows
        ]

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        """The chunk ids a filter keeps (None: no filter), cached per reader view."""
        if not filters.active:
            return None
        view = self._view
        if not self.read_only:
            return self.store.filtered_chunk_ids(filters)
        allowed = view.allowed.get(filters)
        if allowed is None:
            allowed = self.store.filtered_chunk_ids(filters)
            if len(view.allowed) >= FILTER_CACHE_SIZE:  # keep the newest
                view.allowed.pop(next(iter(view.allowed)), None)
            view.allowed[filters] = allowed
        return allowed

    def rank(
        self, query: str, mode: SearchMode, filters: Filters, need: int
    ) -> tuple[list[Ranked], tuple[str, ...]]:
        allowed = self._allowed(filters)
        available = len(allowed) if allowed is not None else self._dense.size
        k = max(self.config.candidates, need * CHUNKS_PER_RESULT)
        qvec: np.ndarray | None = None  # embedded by the first round's dense run
        # Hybrid only: lexical matches have the query's words; dense-only mode has no lexical
        # evidence to rescue a paraphrase below the cosine floor (it cost NorQuAD 0.04 nDCG@10).
        # (Asked only here, so a lexical search never loads the model for its id.)
        floor = self.config.floor_for(self.embedder.model_id) if mode == SearchMode.HYBRID else None
        while True:
            runs = self._fused_run(query, mode, filters, allowed, k, qvec)
            qvec = runs.qvec
            # Fused runs hold every chunk of both runs: one lookup serves the floor too.
            doc_of = self._doc_ids([cid for cid, _ in runs.fused])
            grouped = self._group(runs.fused, doc_of)
            if floor is not None:
                assert qvec is not None
                kept = self._above_floor(grouped, runs, qvec, floor, doc_of)
                if len(kept) < len(grouped):
                    # Candidates further down score lower still: the floor ends the list.
                    return kept, runs.expansions
            if len(grouped) >= need or k >= available or mode == SearchMode.LEXICAL:
                return grouped, runs.expansions
            k *= CANDIDATE_GROWTH

    def _doc_ids(self, chunk_ids: list[int]) -> dict[int, str]:
        """Chunk id → document id of those of `chunk_ids` in the store; a reader's view
        remembers them (`DOC_ID_CACHE_SIZE`)."""
        return read_through(
            self._view.doc_of if self.read_only else None,
            chunk_ids,
            self.store.chunk_doc_ids,
            lambda known: len(known) < DOC_ID_CACHE_SIZE,
        )

    def _above_floor(
        self,
        grouped: list[Ranked],
        runs: _Runs,
        qvec: np.ndarray,
        floor: RelevanceFloor,
        doc_of: Mapping[int, str],
    ) -> list[Ranked]:
        """The documents that plausibly match (`search.index.relevance`), in rank order."""
        return plausible(
            grouped,
            runs.dense,
            runs.lexical,
            runs.terms,
            qvec,
            floor,
            self.store,
            self.lexical,
            self._view.model_id,
            doc_of,
            self._view.vectors if self.read_only else None,
        )

    def _lexical_share(self, chunk_ids: list[int], terms: list[QueryTerm]) -> float:
        """Largest share of the query's words that one of `chunk_ids` contains."""
        if not terms:
            return 0.0
        best = 0.0
        for row in self.store.chunks(chunk_ids).values():
            present = set(self.lexical.index_terms(row.text).split())
            best = max(best, sum(bool(t.keys & present) for t in terms) / len(terms))
        return best

    def _fused_run(
        self,
        query: str,
        mode: SearchMode,
        filters: Filters,
        allowed: np.ndarray | None,
        k: int,
        qvec: np.ndarray | None = None,
    ) -> _Runs:
        """Top-k chunks of each run `mode` asks for (filters applied inside both), fused."""
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        expanded = LexicalQuery("")
        if mode == SearchMode.HYBRID and self._dense_runs is not None:
            # The worker sees this read's pinned view (a context variable) through the copy.
            job = self._dense_runs.submit(
                contextvars.copy_context().run, self._dense_run, query, qvec, k, allowed
            )
            try:
                expanded, lexical = self._lexical_run(query, filters, allowed, k, strict=False)
            finally:
                qvec, dense = job.result()  # its error, if any, is the search's
        else:
            if mode in (SearchMode.HYBRID, SearchMode.DENSE):
                qvec, dense = self._dense_run(query, qvec, k, allowed)
            if mode in (SearchMode.HYBRID, SearchMode.LEXICAL):
                expanded, lexical = self._lexical_run(
                    query, filters, allowed, k, strict=mode == SearchMode.LEXICAL
                )
        terms = self.lexical.analyzer.query_terms(query) if lexical else []
        runs = _Runs([], qvec, dict(dense), lexical, terms, expanded.also)
        if mode == SearchMode.DENSE:
            runs.fused = dense
        elif mode == SearchMode.LEXICAL:
            runs.fused = lexical
        else:
            w = self.config.dense_weight
            if self.config.evidence_gamma and lexical:
                share = self._lexical_share([lexical[0][0]], terms)
                w = min(1.0, max(0.0, w + self.config.evidence_gamma * (0.5 - share)))
            runs.fused = self._fuse([dense, lexical], [w, 1.0 - w])
        return runs

    def _dense_run(
        self, query: str, qvec: np.ndarray | None, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, list[tuple[int, float]]]:
        """The query's vector (embedded unless given) and its top-k chunks in FAISS."""
        if qvec is None:
            qvec = self._query_vector(self._dense_text(query))
        return qvec, self._dense.search(qvec, k, allowed)

    def _dense_text(self, query: str) -> str:
        """What the dense run embeds for `query` (`IndexConfig.dense_glossary`)."""
        if not self.config.dense_glossary:
            return query
        return dense_text_for(query, self.lexical).text

    def _lexical_run(
        self,
        query: str,
        filters: Filters,
        allowed: np.ndarray | None,
        k: int,
        *,
        strict: bool,
    ) -> tuple[LexicalQuery, list[tuple[int, float]]]:
        try:
            expanded = self.lexical.expand(query)
        except QueryError:
            if strict:
                raise
            return LexicalQuery(""), []  # e.g. only stopwords: the dense run still answers
        return expanded, self.store.lexical_search(expanded.match, filters, k, allowed)

    def _fuse(
        self, runs: list[list[tuple[int, float]]], weights: list[float]
    ) -> list[tuple[int, float]]:
        return fuse(self.config.fusion, runs, weights, k=self.config.rrf_k)

    def group(self, run: list[tuple[int, float]]) -> list[Ranked]:
        """One entry per document: its best chunk, in run order."""
        return self._group(run, self.store.chunk_doc_ids(cid for cid, _ in run))

    @staticmethod
    def _group(run: list[tuple[int, float]], doc_of: Mapping[int, str]) -> list[Ranked]:
        seen: set[str] = set()
        grouped = []
        for chunk_id, score in run:
            doc_id = doc_of.get(chunk_id)
            if doc_id is None or doc_id in seen:
                continue
            seen.add(doc_id)
            grouped.append(Ranked(doc_id, chunk_id, score))
        return grouped

    def similar(self, row: DocumentRow, *, region: Region | None, limit: int) -> list[Ranked]:
        """Documents nearest to the mean of `row`'s chunk vectors (its primary's, for a
        near-duplicate), best first, without the document itself. The vectors come from the
        store snapshot (not FAISS), so a document the reader can see always has them."""
        doc_id = row.doc_id
        primary = row.duplicate_of or doc_id
        own = [c.id for c in self.store.chunks_of(primary)]
        if not own:
            raise DocumentNotFound(doc_id)
        model_id = self._view.model_id
        vectors = self.store.vectors_of_chunks(model_id, own) if model_id else None
        if vectors is None or not len(vectors) or vectors.shape[1] != self._dense.dim:
            log.warning("%s has no stored vectors for %s: run `samsok reindex`", doc_id, model_id)
            return []
        centroid = vectors.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), NORM_EPSILON)
        filters = Filters(region=region)
        allowed = self.store.filtered_chunk_ids(filters)
        allowed = np.setdiff1d(allowed, np.asarray(own, dtype=np.int64))
        k = max(self.config.candidates, (limit + 1) * SIMILAR_CHUNKS_PER_RESULT)
        return [
            r for r in self.group(self._dense.search(centroid, k, allowed)) if r.doc_id != primary
        ]

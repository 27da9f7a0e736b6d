"""`SearchIndex`: the one core object behind the API, the CLI and the web page.

It keeps three things in step — the SQLite store (truth), the FAISS file (dense vectors) and
the FTS5 table (lexical terms) — and answers queries over them.

Writes: `upsert()` / `remove()` change the store in one transaction each and update FAISS in
memory; `commit()` writes FAISS atomically together with `manifest.json`. A crash between the
two is harmless: on open, a FAISS file whose manifest generation differs from the store's is
rebuilt from the vectors kept in SQLite.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import faiss
import numpy as np
from samsok.ingest.dedup import signature, similarity
from samsok.ingest.models import Chunk, Document, Region
from samsok.search.analyze import QueryTerm
from samsok.search.dense import DenseIndex
from samsok.search.embed import DEFAULT_MODEL, Embedder
from samsok.search.errors import DocumentNotFound, IndexMismatchError, QueryError
from samsok.search.fusion import rrf, weighted_minmax, weighted_zscore
from samsok.search.lexical import LexicalIndex, LexicalQuery
from samsok.search.models import (
    DocumentView,
    Hit,
    IndexStats,
    PageView,
    SearchMode,
    SearchRequest,
    SearchResponse,
)
from samsok.search.store import DocumentRow, Filters, Store

__all__ = [
    "CALIBRATED_FLOORS",
    "FUSIONS",
    "IndexConfig",
    "RankedChunk",
    "RelevanceFloor",
    "SearchIndex",
    "UpsertOutcome",
]

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
Chunker = Callable[[Document], list[Chunk]]


class UpsertOutcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    EMPTY = "empty"


FUSIONS = ("zscore", "minmax", "rrf")


@dataclass(frozen=True)
class RelevanceFloor:
    """Which candidates plausibly match a query, so `total` and the page can say "Ingen treff".

    A document is kept if its best chunk's cosine is >= `dense`, or if it has lexical evidence
    — one chunk holding >= `min_share` of the query's words — and cosine >= `dense_lexical`.
    Cosines are model-specific: `CALIBRATED_FLOORS` holds the floor per model id, calibrated
    by benchmarks/fusion_sweep.py on the tuning sets (docs/retrieval.md).
    """

    dense: float
    dense_lexical: float
    min_share: float

    def __post_init__(self) -> None:
        if not (-1.0 <= self.dense_lexical <= self.dense <= 1.0):
            raise ValueError("floor cosines must satisfy -1 <= dense_lexical <= dense <= 1")
        if not 0.0 <= self.min_share <= 1.0:
            raise ValueError(f"min_share must be within 0..1, got {self.min_share}")


# Keyed by model id without its "@version" suffix.
CALIBRATED_FLOORS: dict[str, RelevanceFloor] = {
    DEFAULT_MODEL: RelevanceFloor(dense=0.83, dense_lexical=0.70, min_share=0.34),
}


@dataclass(frozen=True)
class IndexConfig:
    """Ranking knobs. Defaults chosen on NorQuAD validation: benchmarks/retrieval.py, with the
    sweep in docs/retrieval.md.

    Hybrid search takes the best `candidates` chunks of the dense run (FAISS) and of the
    lexical run (FTS5 BM25), both already filtered, and fuses them chunk by chunk:

    - "zscore": each run's scores standardised over its candidates, then
      ``dense_weight * z_dense + (1 - dense_weight) * z_lexical``; a chunk missing from a run
      gets that run's lowest z. The default: it ranked best at every chunk size we tried
      (+0.0026 nDCG@10 over "minmax" on average, best at dense_weight 0.5).
    - "minmax": the same with scores rescaled to [0, 1] per run (missing = 0).
    - "rrf": reciprocal rank fusion with `rrf_k`, weighted the same way; it ignores how far
      ahead a run's best chunk is and ranked 0.01–0.02 nDCG@10 below the score fusions.

    Documents then rank where their best chunk does (fusing per document first made no
    difference beyond noise).
    """

    fusion: str = "zscore"  # one of FUSIONS
    dense_weight: float = 0.4  # weight of the dense run; lexical gets 1 - dense_weight
    rrf_k: int = 60
    candidates: int = 200  # chunks taken from each run before fusion
    # Estimated Jaccard of 5-word shingles. On the mirror, republished copies of one story
    # (different lead, chrome and footer) score 0.69 and the closest distinct pages 0.11.
    near_duplicate_threshold: float = 0.5
    # Below this many words a text is merged only when identical: too little evidence.
    near_duplicate_min_words: int = 50
    # Query-dependent weighting: dense_weight + evidence_gamma * (0.5 - evidence), where
    # evidence is the share of the query's words in the best lexical chunk (0 … 1): a query
    # the corpus has the words for leans on the lexical run, one it lacks them for on dense.
    evidence_gamma: float = 0.3
    # Relevance floor (hybrid mode), see `RelevanceFloor`. None: the floor
    # calibrated for the embedding model (`CALIBRATED_FLOORS`), none for other models.
    relevance_floor: bool = True
    floor: RelevanceFloor | None = None
    snippet_chars: int = 300
    commit_every: int = 50  # documents between FAISS writes during long ingests

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within 0..1, got {self.dense_weight}")
        if self.rrf_k <= 0 or self.candidates < 1:
            raise ValueError("rrf_k and candidates must be positive")
        if not 0.0 <= self.evidence_gamma <= 2.0:
            raise ValueError(f"evidence_gamma must be within 0..2, got {self.evidence_gamma}")

    def floor_for(self, model_id: str) -> RelevanceFloor | None:
        if not self.relevance_floor:
            return None
        return self.floor or CALIBRATED_FLOORS.get(model_id.split("@", 1)[0])


@dataclass(frozen=True)
class RankedChunk:
    """One entry of `SearchIndex.ranked_chunks`."""

    chunk_id: int
    doc_id: str
    score: float
    text: str


@dataclass(frozen=True)
class _Ranked:
    doc_id: str
    chunk_id: int
    score: float


@dataclass
class _Runs:
    """One query's candidate runs, kept for the relevance floor."""

    fused: list[tuple[int, float]]
    dense: dict[int, float] = field(default_factory=dict)  # chunk id → cosine
    lexical: list[tuple[int, float]] = field(default_factory=list)
    terms: list[QueryTerm] = field(default_factory=list)
    expansions: tuple[str, ...] = ()


class SearchIndex:
    def __init__(
        self,
        data_dir: Path,
        embedder: Embedder,
        chunker: Chunker,
        config: IndexConfig | None = None,
        lexical: LexicalIndex | None = None,
        *,
        allow_model_change: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.embedder = embedder
        self.chunker = chunker
        self.config = config or IndexConfig()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(data_dir / "store.db")
        self.lexical = lexical or LexicalIndex()
        self.lexical.load(self.store)
        self._faiss_path = data_dir / "faiss.index"
        self._manifest_path = data_dir / "manifest.json"
        self._pending = 0
        self._allow_model_change = allow_model_change
        self._dense, self._generation = self._open_dense()

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        if self._pending:
            self.commit()
        self.store.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _manifest(self) -> dict[str, object] | None:
        try:
            return json.loads(self._manifest_path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("unreadable manifest %s (%s); rebuilding", self._manifest_path, exc)
            return None

    def _open_dense(self) -> tuple[DenseIndex, int]:
        manifest = self._manifest()
        generation = self.store.generation
        has_chunks = self.store.chunk_count() > 0
        model_changed = manifest is not None and manifest.get("model") != self.embedder.model_id
        if model_changed and has_chunks and not self._allow_model_change:
            raise IndexMismatchError(
                f"the index in {self.data_dir} was built with model {manifest.get('model')!r}, "
                f"but the configured model is {self.embedder.model_id!r}; "
                "run `samsok reindex` to embed it again with the configured model"
            )
        if (
            manifest
            and not model_changed
            and manifest.get("generation") == generation
            and manifest.get("dim") == self.embedder.dim
            and self._faiss_path.exists()
        ):
            try:
                return DenseIndex.load(self._faiss_path, self.embedder.dim), generation
            except (RuntimeError, ValueError) as exc:
                log.warning("unreadable FAISS file (%s); rebuilding from the store", exc)
        return self._rebuild_dense(), generation

    def _rebuild_dense(self) -> DenseIndex:
        dense = DenseIndex(self.embedder.dim)
        ids, vectors = self.store.chunk_vectors(self.embedder.model_id)
        dense.add(ids, vectors)
        missing = self.store.chunk_count_missing_vectors(self.embedder.model_id)
        if missing:
            log.warning(
                "%d chunks have no vector for %s: run `samsok reindex`",
                missing,
                self.embedder.model_id,
            )
        log.info("rebuilt dense index from the store: %d vectors", dense.size)
        self._pending = 1  # write the rebuilt file on the next commit
        return dense

    def _refit_lexical(self) -> None:
        """Refit the decompounder on the grown corpus and rewrite every chunk's terms."""
        self.lexical.fit(self.store)
        with self.store.transaction():
            for chunk_id, text, _ in self.store.all_chunks():
                self.store.replace_terms(chunk_id, self.lexical.index_terms(text))

    def commit(self) -> None:
        """Write FAISS and the manifest atomically (new file, then rename)."""
        if self.lexical.needs_refit(self.store.chunk_count()):
            self._refit_lexical()
        generation = self.store.generation
        self._dense.save(self._faiss_path)
        manifest = {
            "format": MANIFEST_FORMAT,
            "model": self.embedder.model_id,
            "dim": self.embedder.dim,
            "generation": generation,
            "vectors": self._dense.size,
            "faiss_version": faiss.__version__,
            "index_config": asdict(self.config),
            "lexical": self.lexical.describe(),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fd, tmp = tempfile.mkstemp(prefix="manifest.", suffix=".tmp", dir=self.data_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True)
        os.replace(tmp, self._manifest_path)
        self._generation = generation
        self._pending = 0

    def refresh(self) -> None:
        """Pick up writes made by another process (e.g. the crawler service)."""
        generation = self.store.generation
        if generation != self._generation and not self._pending:
            self.lexical.load(self.store)
            self._dense, self._generation = self._open_dense()

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, doc: Document) -> UpsertOutcome:
        return self.upsert_many([doc])[0]

    def upsert_many(
        self, docs: Sequence[Document], *, show_progress: bool = False
    ) -> list[UpsertOutcome]:
        """Index documents: chunk, embed what the cache lacks (batched), store, update FAISS."""
        plans: list[tuple[Document, list[Chunk] | None, bytes | None]] = []
        to_embed: list[Chunk] = []
        for doc in docs:
            existing = self.store.document(doc.doc_id)
            if existing is not None and existing.content_hash == doc.content_hash:
                plans.append((doc, None, None))
                continue
            chunks = self.chunker(doc)
            sig = signature(doc.text)
            plans.append((doc, chunks, sig))
            to_embed.extend(chunks)
        vectors = self._vectors_for(to_embed, show_progress=show_progress)
        outcomes = []
        for doc, chunks, sig in plans:
            if chunks is None:
                outcomes.append(UpsertOutcome.UNCHANGED)
                continue
            outcomes.append(self._write(doc, chunks, sig, vectors))
        self._pending += len(docs)
        if self._pending >= self.config.commit_every:
            self.commit()
        return outcomes

    def _vectors_for(
        self, chunks: Sequence[Chunk], *, show_progress: bool
    ) -> dict[str, np.ndarray]:
        model_id = self.embedder.model_id
        hashes = [c.text_hash for c in chunks]
        vectors = self.store.cached_vectors(model_id, hashes)
        missing: dict[str, str] = {}
        for chunk in chunks:
            if chunk.text_hash not in vectors:
                missing.setdefault(chunk.text_hash, chunk.embed_text)
        if missing:
            embedded = self.embedder.embed_documents(
                list(missing.values()), show_progress=show_progress
            )
            new = dict(zip(missing.keys(), embedded, strict=True))
            self.store.put_vectors(model_id, new)
            vectors.update(new)
        return vectors

    def _find_primary(self, doc: Document, sig: bytes | None) -> str | None:
        if sig is None:
            return None
        threshold = self.config.near_duplicate_threshold
        if len(doc.text.split()) < self.config.near_duplicate_min_words:
            threshold = 1.0  # a short text is merged only when it is the same text
        for other_id, other_sig in self.store.signatures(exclude_doc_id=doc.doc_id):
            if similarity(sig, other_sig) >= threshold:
                return other_id
        return None

    def _write(
        self, doc: Document, chunks: list[Chunk], sig: bytes | None, vectors: dict[str, np.ndarray]
    ) -> UpsertOutcome:
        existed = self.store.document(doc.doc_id) is not None
        primary = self._find_primary(doc, sig) if chunks else None
        with self.store.transaction():
            removed = self.store.delete_chunks(doc.doc_id)
            self.store.put_document(doc, signature=sig, duplicate_of=primary)
            new_ids: list[int] = []
            if primary is None and chunks:
                terms = [self.lexical.index_terms(c.embed_text) for c in chunks]
                new_ids = self.store.add_chunks(chunks, terms)
        self._dense.remove(removed)
        if new_ids:
            self._dense.add(
                np.asarray(new_ids, dtype=np.int64),
                np.vstack([vectors[c.text_hash] for c in chunks]),
            )
        if primary is not None:
            log.info("%s is a near-duplicate of %s; stored as also-published-at", doc.url, primary)
            return UpsertOutcome.DUPLICATE
        if not chunks:
            return UpsertOutcome.EMPTY
        return UpsertOutcome.CHANGED if existed else UpsertOutcome.NEW

    def remove(self, doc_id: str) -> bool:
        """Remove a document from every index; a duplicate of it takes its place."""
        row = self.store.document(doc_id)
        if row is None:
            return False
        successors = self.store.duplicate_ids(doc_id)
        with self.store.transaction():
            removed = self.store.delete_document(doc_id)
        self._dense.remove(removed)
        self._pending += 1
        if successors:
            # The story is still published elsewhere: the first other URL takes its place.
            promoted_id, *others = successors
            with self.store.transaction():
                for other in others:
                    self.store.set_duplicate_of(other, promoted_id)
            promoted = self.store.document(promoted_id)
            if promoted is not None:
                doc = promoted.to_document()
                chunks = self.chunker(doc)
                vectors = self._vectors_for(chunks, show_progress=False)
                self._write(doc, chunks, signature(doc.text), vectors)
        return True

    def reindex(self, *, show_progress: bool = False) -> int:
        """Embed every chunk with the configured model and rebuild FAISS and FTS terms."""
        self._refit_lexical()
        rows = self.store.all_chunks()
        by_hash = {text_hash: text for _, text, text_hash in rows}
        cached = self.store.cached_vectors(self.embedder.model_id, list(by_hash))
        missing = {h: t for h, t in by_hash.items() if h not in cached}
        if missing:
            embedded = self.embedder.embed_documents(
                list(missing.values()), show_progress=show_progress
            )
            self.store.put_vectors(
                self.embedder.model_id, dict(zip(missing, embedded, strict=True))
            )
        self._dense = self._rebuild_dense()
        self.commit()
        return len(missing)

    # -- reads ----------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        self.refresh()
        filters = Filters(request.region, request.doc_type, request.date_from, request.date_to)
        need = request.offset + request.limit
        ranked, expansions = self._rank(request.q, request.mode, filters, need)
        page = ranked[request.offset : need]
        hits = self._hits(page, request.q)
        return SearchResponse(
            query=request.q,
            mode=request.mode,
            total=len(ranked),
            limit=request.limit,
            offset=request.offset,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            results=hits,
            expansions=list(expansions),
        )

    def ranked_chunks(self, request: SearchRequest) -> list[RankedChunk]:
        """The chunk ranking `search` groups into documents: chunks best first, filtered and
        fused exactly as there, `request.offset` … `offset + limit` of them (several may come
        from one document). For evaluation at chunk level and for debugging a ranking."""
        self.refresh()
        filters = Filters(request.region, request.doc_type, request.date_from, request.date_to)
        need = request.offset + request.limit
        allowed = self.store.filtered_chunk_ids(filters) if filters.active else None
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

    def _rank(
        self, query: str, mode: SearchMode, filters: Filters, need: int
    ) -> tuple[list[_Ranked], tuple[str, ...]]:
        allowed = self.store.filtered_chunk_ids(filters) if filters.active else None
        available = len(allowed) if allowed is not None else self._dense.size
        k = max(self.config.candidates, need * 4)
        qvec = self.embedder.embed_queries([query])[0] if mode != SearchMode.LEXICAL else None
        floor = self.config.floor_for(self.embedder.model_id)
        if mode != SearchMode.HYBRID:
            # Lexical matches have the query's words; dense-only mode has no lexical evidence
            # to rescue a paraphrase below the cosine floor (it cost NorQuAD 0.04 nDCG@10).
            floor = None
        while True:
            runs = self._fused_run(query, mode, filters, allowed, k, qvec)
            grouped = self._group(runs.fused)
            if floor is not None:
                assert qvec is not None
                kept = self._above_floor(grouped, runs, qvec, floor)
                if len(kept) < len(grouped):
                    # Candidates further down score lower still: the floor ends the list.
                    return kept, runs.expansions
            if len(grouped) >= need or k >= available or mode == SearchMode.LEXICAL:
                return grouped, runs.expansions
            k *= 4

    def _above_floor(
        self, grouped: list[_Ranked], runs: _Runs, qvec: np.ndarray, floor: RelevanceFloor
    ) -> list[_Ranked]:
        """The documents that plausibly match (see `RelevanceFloor`), in rank order."""
        cosine: dict[str, float] = {}
        doc_of = self.store.chunk_doc_ids(runs.dense)
        for cid, cos in runs.dense.items():
            doc = doc_of.get(cid)
            if doc is not None and cos > cosine.get(doc, -2.0):
                cosine[doc] = cos
        lexical_docs = self.store.chunk_doc_ids(cid for cid, _ in runs.lexical)
        by_doc: dict[str, list[int]] = {}
        for cid, _ in runs.lexical:
            if cid in lexical_docs:
                by_doc.setdefault(lexical_docs[cid], []).append(cid)
        kept = []
        for r in grouped:
            cos = cosine.get(r.doc_id)
            if cos is None:  # only the lexical run found it: its own chunks' cosines
                own = by_doc.get(r.doc_id, [r.chunk_id])
                cos = max(float(self._dense.vector(c) @ qvec) for c in own)
            if cos >= floor.dense or (
                cos >= floor.dense_lexical
                and r.doc_id in by_doc
                and self._lexical_share(by_doc[r.doc_id], runs.terms) >= floor.min_share
            ):
                kept.append(r)
        return kept

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
        if mode in (SearchMode.HYBRID, SearchMode.DENSE):
            if qvec is None:
                qvec = self.embedder.embed_queries([query])[0]
            dense = self._dense.search(qvec, k, allowed)
        if mode in (SearchMode.HYBRID, SearchMode.LEXICAL):
            expanded, lexical = self._lexical_run(
                query, filters, k, strict=mode == SearchMode.LEXICAL
            )
        terms = self.lexical.analyzer.query_terms(query) if lexical else []
        runs = _Runs([], dict(dense), lexical, terms, expanded.also)
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

    def _lexical_run(
        self, query: str, filters: Filters, k: int, *, strict: bool
    ) -> tuple[LexicalQuery, list[tuple[int, float]]]:
        try:
            expanded = self.lexical.expand(query)
        except QueryError:
            if strict:
                raise
            return LexicalQuery(""), []  # e.g. only stopwords: the dense run still answers
        return expanded, self.store.lexical_search(expanded.match, filters, k)

    def _fuse(
        self, runs: list[list[tuple[int, float]]], weights: list[float]
    ) -> list[tuple[int, float]]:
        if self.config.fusion == "rrf":
            return rrf(runs, k=self.config.rrf_k, weights=weights)
        if self.config.fusion == "zscore":
            return weighted_zscore(runs, weights=weights)
        return weighted_minmax(runs, weights=weights)

    def _group(self, run: list[tuple[int, float]]) -> list[_Ranked]:
        """One entry per document: its best chunk, in run order."""
        doc_of = self.store.chunk_doc_ids(cid for cid, _ in run)
        seen: set[str] = set()
        grouped = []
        for chunk_id, score in run:
            doc_id = doc_of.get(chunk_id)
            if doc_id is None or doc_id in seen:
                continue
            seen.add(doc_id)
            grouped.append(_Ranked(doc_id, chunk_id, score))
        return grouped

    def _hits(self, ranked: Sequence[_Ranked], query: str) -> list[Hit]:
        docs = self.store.documents([r.doc_id for r in ranked])
        chunks = self.store.chunks([r.chunk_id for r in ranked])
        dups = self.store.duplicates_of([r.doc_id for r in ranked])
        hits = []
        for r in ranked:
            doc, chunk = docs.get(r.doc_id), chunks.get(r.chunk_id)
            if doc is None or chunk is None:
                continue
            hits.append(
                Hit(
                    doc_id=doc.doc_id,
                    url=doc.url,
                    title=doc.title,
                    region=doc.region,
                    type=doc.doc_type,
                    source=doc.source,
                    published=doc.published,
                    page=chunk.page,
                    page_url=page_url(doc.url, chunk.page, doc.content_type),
                    snippet=self.lexical.snippet(chunk.text, query, self.config.snippet_chars),
                    score=round(r.score, 6),
                    chunk_id=chunk.id,
                    also_published_at=dups.get(doc.doc_id, []),
                )
            )
        return hits

    def document(self, doc_id: str) -> DocumentView:
        row = self.store.document(doc_id)
        if row is None:
            raise DocumentNotFound(doc_id)
        primary = row.duplicate_of or row.doc_id
        urls = [
            u
            for u in [self._url_of(primary), *self.store.duplicates_of([primary]).get(primary, [])]
            if u and u != row.url
        ]
        return _document_view(row, len(self.store.chunks_of(primary)), urls)

    def _url_of(self, doc_id: str) -> str | None:
        row = self.store.document(doc_id)
        return row.url if row else None

    def similar(
        self, doc_id: str, *, region: Region | None = None, limit: int = 10
    ) -> SearchResponse:
        """More like this: documents nearest to the mean of this document's chunk vectors."""
        started = time.perf_counter()
        self.refresh()
        row = self.store.document(doc_id)
        if row is None:
            raise DocumentNotFound(doc_id)
        primary = row.duplicate_of or row.doc_id
        own = [c.id for c in self.store.chunks_of(primary)]
        if not own:
            raise DocumentNotFound(doc_id)
        centroid = np.mean([self._dense.vector(cid) for cid in own], axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        filters = Filters(region=region)
        allowed = self.store.filtered_chunk_ids(filters)
        allowed = np.setdiff1d(allowed, np.asarray(own, dtype=np.int64))
        k = max(self.config.candidates, (limit + 1) * 8)
        grouped = [
            r for r in self._group(self._dense.search(centroid, k, allowed)) if r.doc_id != primary
        ]
        page = grouped[:limit]
        title_query = row.title
        return SearchResponse(
            query=title_query,
            mode=SearchMode.DENSE,
            total=len(grouped),
            limit=limit,
            offset=0,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            results=self._hits(page, title_query),
        )

    def stats(self) -> IndexStats:
        counts = self.store.counts()
        return IndexStats(model=self.embedder.model_id, dim=self.embedder.dim, **counts)  # type: ignore[arg-type]


def page_url(url: str, page: int | None, content_type: str) -> str:
    """Link straight to the page of a PDF (`#page=N` is understood by browsers' PDF viewers)."""
    if page and content_type == "application/pdf":
        return f"{url.split('#', 1)[0]}#page={page}"
    return url


def _document_view(row: DocumentRow, chunk_count: int, also: list[str]) -> DocumentView:
    return DocumentView(
        doc_id=row.doc_id,
        url=row.url,
        title=row.title,
        region=row.region,
        type=row.doc_type,
        source=row.source,
        published=row.published,
        language=row.language,
        content_type=row.content_type,
        fetched_at=row.fetched_at,
        indexed_at=row.indexed_at,
        chunk_count=chunk_count,
        also_published_at=also,
        metadata=row.metadata,
        pages=[PageView(number=p.number, text=p.text) for p in row.pages],
    )

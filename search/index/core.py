"""`SearchIndex`: the one core object behind the API, the CLI and the web page.

It keeps three things in step — the SQLite store (truth), the FAISS file (dense vectors) and
the FTS5 table (lexical terms) — and answers queries over them. Everything outside
`search.index` uses its public methods; the parts live in their own modules:

- Writer (`read_only=False`, `writer.IndexWriter`): holds the data folder's writer lock from
  open to close, writes documents and publishes generations (`commit()`).
- Reader (`read_only=True`, `views.ReaderViews`): writes nothing, ever; serves one pinned
  store snapshot plus the FAISS index of that same generation, swapped when a writer
  publishes (docs/architecture.md, "Concurrency").
- `ranking.Ranker` ranks a query over one view; `results` builds the hits and document views;
  `bookkeeping.Bookkeeping` answers for the change log, kept originals and stored rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from samsok.ingest.chunk import Chunker
from samsok.ingest.documents import Document, Region
from samsok.search.errors import DocumentNotFound, IndexMismatchError, ReadOnlyIndex
from samsok.search.forwarding import Forwarded
from samsok.search.index.bookkeeping import Bookkeeping
from samsok.search.index.config import IndexConfig
from samsok.search.index.dense import DenseIndex
from samsok.search.index.faiss_base import one_thread_per_query
from samsok.search.index.lexical import LexicalIndex
from samsok.search.index.ranking import Ranked, RankedChunk, Ranker, dense_run_pool
from samsok.search.index.results import ChunkRef, build_hits, document_view
from samsok.search.index.views import PINNED, ReaderViews, ReloadStats, View
from samsok.search.index.writer import IndexWriter, UpsertOutcome
from samsok.search.schemas import (
    DocumentView,
    Hit,
    IndexStats,
    SearchMode,
    SearchRequest,
    SearchResponse,
)
from samsok.search.store import Filters, Store

if TYPE_CHECKING:  # the model libraries load with the model, not with the index
    from samsok.search.embedding import Embedder

# The names callers imported from `core` before it was split keep working from here; new code
# imports them from `samsok.search.index`.
__all__ = ["SearchIndex"]


class SearchIndex(Bookkeeping):
    """The index of one data folder: a writer (`read_only=False`, takes the writer lock) or a
    reader. Reads go through `reading()`-pinned views; see the module docstring."""

    def __init__(
        self,
        data_dir: Path,
        embedder: Embedder,
        chunker: Chunker,
        config: IndexConfig | None = None,
        lexical: LexicalIndex | None = None,
        *,
        allow_model_change: bool = False,
        read_only: bool = False,
        wait: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.embedder = embedder
        self.chunker = chunker
        self.config = config or IndexConfig()
        self.read_only = read_only
        self._readers: ReaderViews | None = None
        self._writer: IndexWriter | None = None
        self._dense_runs = dense_run_pool() if self.config.concurrent_runs else None
        if read_only:
            one_thread_per_query()
            lexical_config = (lexical or LexicalIndex()).config
            self._readers = ReaderViews(self, data_dir, self.config, lexical_config)
            self.reload_stats = self._readers.stats
        else:
            self._writer = IndexWriter(
                self,
                data_dir,
                embedder,
                chunker,
                self.config,
                lexical or LexicalIndex(),
                allow_model_change=allow_model_change,
                wait=wait,
            )
            self.reload_stats = ReloadStats()

    # -- the current view -------------------------------------------------------------------

    @property
    def _view(self) -> View:
        """The view served now: the writer's one view, or a reader's latest."""
        if self._writer is not None:
            return self._writer.view
        assert self._readers is not None
        return self._readers.current

    def _current(self) -> View:
        pinned = PINNED.get()
        return pinned if pinned is not None and pinned.owner is self else self._view

    # White-box access for tests and benchmarks about the internals; callers use the methods.
    store = Forwarded[Store](_current)
    lexical = Forwarded[LexicalIndex](_current)
    _dense = Forwarded[DenseIndex](_current, "dense")
    #: The store generation this index serves (a reader: of its current view).
    generation = Forwarded[int](_current)

    def _read_store(self) -> Store:
        return self._current().store

    def _write_store(self) -> Store:
        return self._require_writer().store

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Pin every read inside to one view: one snapshot and its matching vectors.

        A reader first checks (at most every `refresh_seconds`) for a newer generation.
        Nested uses keep the outer view, so a comparison or a briefing reads one snapshot."""
        pinned = PINNED.get()
        if pinned is not None and pinned.owner is self:
            yield
            return
        if self._readers is not None:
            one_thread_per_query()  # per thread: request threads are not the opening one
            self._readers.maybe_refresh()
        token = PINNED.set(self._view)
        try:
            yield
        finally:
            PINNED.reset(token)

    def refresh(self) -> None:
        """A reader: pick up what a writer published now, without waiting for the interval."""
        if self._readers is not None:
            self._readers.refresh()

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """A writer commits what is pending and releases the lock; a reader writes nothing."""
        if self._readers is not None:
            self._readers.close()
        if self._writer is not None:
            self._writer.close()
        if self._dense_runs is not None:
            self._dense_runs.shutdown()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def faiss_file(self, generation: int) -> Path:
        """The FAISS file of one store generation (written before that generation commits)."""
        return self.data_dir / f"faiss-{generation}.index"

    # -- writes ---------------------------------------------------------------------------

    def _require_writer(self) -> IndexWriter:
        if self._writer is None:
            raise ReadOnlyIndex(
                f"the index in {self.data_dir} is open read-only; writes need the writer lock"
            )
        return self._writer

    def commit(self) -> None:
        """Publish what is written: `faiss-<G>.index` first, then the store transaction that
        makes generation G visible, then `manifest.json`; files of older generations go."""
        self._require_writer().commit()

    def upsert(self, doc: Document) -> UpsertOutcome:
        return self.upsert_many([doc])[0]

    def upsert_many(
        self, docs: Sequence[Document], *, show_progress: bool = False
    ) -> list[UpsertOutcome]:
        """Index documents: chunk, embed what the cache lacks (batched), store, update FAISS."""
        return self._require_writer().upsert_many(docs, show_progress=show_progress)

    def cache_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        """Put vectors computed elsewhere (chunk text hash → vector, by this index's model)
        into the embedding cache, so the next `upsert` of their chunks embeds nothing."""
        self._require_writer().cache_vectors(vectors)

    def remove(self, doc_id: str, *, reason: str = "") -> bool:
        """Remove a document from every index; a duplicate of it takes its place."""
        return self._require_writer().remove(doc_id, reason=reason)

    def reindex(self, *, show_progress: bool = False) -> int:
        """Embed every chunk with the configured model and rebuild FAISS and FTS terms."""
        return self._require_writer().reindex(show_progress=show_progress)

    def refit_lexical(self) -> None:
        """Refit the decompounder on the whole corpus now and rewrite every chunk's terms
        (a commit does it when the corpus has grown enough)."""
        self._require_writer().refit_lexical()

    def lexical_description(self) -> dict[str, object]:
        """The lexical analyzer's settings and the corpus size its decompounder was fit on."""
        return self._current().lexical.describe()

    # -- reads ----------------------------------------------------------------------------

    def _ranker(self) -> Ranker:
        """The ranking over the view this read is pinned to."""
        return Ranker(
            self._current(),
            self.config,
            self.embedder,
            self._query_vector,
            read_only=self.read_only,
            dense_runs=self._dense_runs,
        )

    def _query_vector(self, query: str) -> np.ndarray:
        """Embed a query, after checking the model is the one the served vectors came from."""
        view = self._current()
        if view.model_id is not None and view.model_id != self.embedder.model_id:
            raise IndexMismatchError(
                f"the index in {self.data_dir} was built with model {view.model_id!r}, "
                f"but the configured model is {self.embedder.model_id!r}; "
                "run `samsok reindex` to embed it again with the configured model"
            )
        return self.embedder.embed_queries([query])[0]

    def search(self, request: SearchRequest) -> SearchResponse:
        with self.reading():
            return self._search(request)

    def _search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        filters = Filters(request.region, request.doc_type, request.date_from, request.date_to)
        need = request.offset + request.limit
        ranked, expansions = self._ranker().rank(request.q, request.mode, filters, need)
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
        with self.reading():
            return self._ranker().ranked_chunks(request)

    def _hits(self, ranked: Sequence[Ranked], query: str) -> list[Hit]:
        view = self._current()
        built = build_hits(
            view.store,
            view.lexical,
            ranked,
            query,
            snippet_chars=self.config.snippet_chars,
            scores=[r.score for r in ranked],
        )
        return [hit for hit in built if hit is not None]

    def hits_for(self, picks: Sequence[ChunkRef], query: str) -> list[Hit | None]:
        """Hits for passages chosen earlier (a briefing's picks), built as `search` builds
        them, with a fresh snippet for `query` (none: the passage's opening) and score 0.
        None where the document or passage is gone, or the passage is not that document's."""
        with self.reading():
            view = self._current()
            return build_hits(
                view.store, view.lexical, picks, query, snippet_chars=self.config.snippet_chars
            )

    def document(self, doc_id: str) -> DocumentView:
        with self.reading():
            return document_view(self._current().store, doc_id)

    def similar(
        self, doc_id: str, *, region: Region | None = None, limit: int = 10
    ) -> SearchResponse:
        """More like this: documents nearest to the mean of this document's chunk vectors."""
        with self.reading():
            started = time.perf_counter()
            row = self._read_store().document(doc_id)
            if row is None:
                raise DocumentNotFound(doc_id)
            grouped = self._ranker().similar(row, region=region, limit=limit)
            return SearchResponse(
                query=row.title,
                mode=SearchMode.DENSE,
                total=len(grouped),
                limit=limit,
                offset=0,
                took_ms=round((time.perf_counter() - started) * 1000, 2),
                results=self._hits(grouped[:limit], row.title),
            )

    def stats(self) -> IndexStats:
        with self.reading():
            view = self._current()
            counts = view.store.counts()
            if view.model_id is None and not self.read_only:
                model, dim = self.embedder.model_id, self.embedder.dim
            else:  # a reader reports what it serves, without loading the model
                model, dim = view.model_id or "", view.dense.dim if view.model_id else 0
        return IndexStats(model=model, dim=dim, **counts)  # type: ignore[arg-type]

    def serving(self) -> dict[str, object]:
        """What a reader serves and how its reloads went (for /health and the soak test)."""
        stats = self.reload_stats
        view = self._view
        return {
            "generation": view.generation,
            "vectors": view.dense.size,
            "reloads": stats.reloads,
            "reload_ms_max": round(stats.seconds_max * 1000, 1),
            "reload_ms_mean": round(stats.seconds_total * 1000 / max(stats.reloads, 1), 1),
            "reloads_built_in_memory": stats.built_in_memory,
        }

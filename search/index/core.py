"""`SearchIndex`: the one core object behind the API, the CLI and the web page.

It keeps three things in step — the SQLite store (truth), the FAISS file (dense vectors) and
the FTS5 table (lexical terms) — and answers queries over them.

Two modes (docs/architecture.md, "Concurrency"):

- Writer (`read_only=False`): holds the data folder's writer lock (`search.lock`) from open to
  close. `upsert()` / `remove()` change the store in one transaction each and update FAISS in
  memory; `commit()` writes `faiss-<G>.index` and then commits the store transaction that
  publishes generation G, so the file for a generation exists before anyone can see it. A
  missing or stale file is rebuilt from the vectors kept in SQLite on open.
- Reader (`read_only=True`): writes nothing, ever. It serves from a *view*: one pinned SQLite
  snapshot plus the FAISS index of that same generation (the file, or built in memory from the
  snapshot when the writer is mid-batch or was killed). At most every `refresh_seconds` one
  request thread checks the store's generation and, when it moved, builds the next view while
  the others go on with the current one; the swap is one assignment.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import faiss
import numpy as np
from samsok.ingest.documents import LOCAL_SCHEME, Chunk, Document, Region, doc_id_for_url
from samsok.search.embedding.embedder import DEFAULT_MODEL, Embedder
from samsok.search.errors import (
    DocumentNotFound,
    IndexMismatchError,
    QueryError,
    ReadOnlyIndex,
    StoreMissing,
)
from samsok.search.index.dense import (
    DenseConfig,
    DenseIndex,
    generation_files,
    readable_by_all,
    remove_files,
)
from samsok.search.index.fusion import rrf, weighted_minmax, weighted_zscore
from samsok.search.index.lexical import LexicalIndex, LexicalQuery
from samsok.search.index.near_duplicates import lsh_rows, signature, similarity
from samsok.search.schemas import (
    DocumentView,
    Hit,
    IndexStats,
    PageView,
    SearchMode,
    SearchRequest,
    SearchResponse,
)
from samsok.search.store.changes import record_removal, record_upsert
from samsok.search.store.database import DocumentRow, Filters, Store
from samsok.search.store.lock import WriterLock
from samsok.search.store.originals import delete_blob_if_unused, release_original
from samsok.search.text.analyze import QueryTerm

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

MANIFEST_FORMAT = 2
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
    # How often a reader (the server) asks the store whether a writer published something.
    refresh_seconds: float = 0.5
    dense: DenseConfig = field(default_factory=DenseConfig)  # vector index kind and segments

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
class _View:
    """A consistent pair: one store snapshot and the dense vectors of that same generation."""

    owner: SearchIndex
    generation: int
    store: Store
    dense: DenseIndex
    lexical: LexicalIndex
    model_id: str | None  # the model whose vectors `dense` holds (None: nothing indexed yet)
    # Chunk ids per filter, for a reader's view only (its snapshot never changes): a region
    # or type filter is one SQL scan per generation, not one per query.
    allowed: dict[Filters, np.ndarray] = field(default_factory=dict)


# The view a read call (and the calls it makes) is pinned to; see `SearchIndex.reading()`.
_PINNED: contextvars.ContextVar[_View | None] = contextvars.ContextVar("samsok_view", default=None)


@dataclass
class ReloadStats:
    """How often a reader picked up a new generation, and what that cost."""

    reloads: int = 0
    seconds_total: float = 0.0
    seconds_max: float = 0.0
    built_in_memory: int = 0  # reloads that found no matching FAISS file
    history: list[float] = field(default_factory=list)


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
        read_only: bool = False,
        wait: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.embedder = embedder
        self.chunker = chunker
        self.config = config or IndexConfig()
        self.read_only = read_only
        self._store_path = data_dir / "store.db"
        self._manifest_path = data_dir / "manifest.json"
        self._pending = 0
        self._allow_model_change = allow_model_change
        self.reload_stats = ReloadStats()
        self._reload_lock = threading.Lock()
        self._next_check = 0.0
        self._probe: Store | None = None
        self._writer_lock: WriterLock | None = None
        self._lexical_config = (lexical or LexicalIndex()).config
        if read_only:
            # A reader answers queries, one thread each. FAISS's default OpenMP team spreads
            # one query's scan over every core, and its spinning barrier waits cost more CPU
            # than they save (mirror index, 2 shared cores: 16.9 -> 8.6 ms CPU per search);
            # concurrent requests use the cores instead. Process-wide, so readers only.
            faiss.omp_set_num_threads(1)
            self._view = self._open_view()
            self._next_check = time.monotonic() + self.config.refresh_seconds
            return
        data_dir.mkdir(parents=True, exist_ok=True)
        self._writer_lock = WriterLock(data_dir)
        self._writer_lock.acquire(wait=wait)
        try:
            store = Store(self._store_path)
            lexical = lexical or LexicalIndex()
            lexical.load(store)
            store.ensure_lsh(lsh_rows(self.config.near_duplicate_threshold))
            self._view = _View(self, store.generation, store, DenseIndex(1), lexical, None)
            self._remove_unpublished_files(store.generation)
            self._view.dense = self._open_dense()
            self._view.model_id = embedder.model_id
        except BaseException:
            self._writer_lock.release()
            raise

    # -- the current view -------------------------------------------------------------------

    def _current(self) -> _View:
        pinned = _PINNED.get()
        return pinned if pinned is not None and pinned.owner is self else self._view

    @property
    def store(self) -> Store:
        return self._current().store

    @property
    def lexical(self) -> LexicalIndex:
        return self._current().lexical

    @property
    def _dense(self) -> DenseIndex:
        return self._current().dense

    @property
    def generation(self) -> int:
        """The store generation this index serves (a reader: of its current view)."""
        return self._current().generation

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Pin every read inside to one view: one snapshot and its matching vectors.

        A reader first checks (at most every `refresh_seconds`) for a newer generation.
        Nested uses keep the outer view, so a comparison or a briefing reads one snapshot."""
        pinned = _PINNED.get()
        if pinned is not None and pinned.owner is self:
            yield
            return
        self._maybe_refresh()
        token = _PINNED.set(self._view)
        try:
            yield
        finally:
            _PINNED.reset(token)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """A writer commits what is pending and releases the lock; a reader writes nothing."""
        if self.read_only:
            self._view.store.close()
            if self._probe is not None:
                self._probe.close()
            return
        try:
            if self._pending:
                self.commit()
        finally:
            self._view.store.close()
            if self._writer_lock is not None:
                self._writer_lock.release()

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
            log.warning("unreadable manifest %s (%s); ignoring it", self._manifest_path, exc)
            return None

    def faiss_file(self, generation: int) -> Path:
        """The FAISS file of one store generation (written before that generation commits)."""
        return self.data_dir / f"faiss-{generation}.index"

    def _open_dense(self) -> DenseIndex:
        """Writer open: the FAISS file of the store's generation, checked id for id against
        the store, or else rebuilt from the vectors SQLite keeps."""
        manifest = self._manifest()
        store = self._view.store
        generation = store.generation
        has_chunks = store.chunk_count() > 0
        model_changed = manifest is not None and manifest.get("model") != self.embedder.model_id
        if model_changed and has_chunks and not self._allow_model_change:
            raise IndexMismatchError(
                f"the index in {self.data_dir} was built with model {manifest.get('model')!r}, "
                f"but the configured model is {self.embedder.model_id!r}; "
                "run `samsok reindex` to embed it again with the configured model"
            )
        if not model_changed:
            dense = self._load_checked(generation, store, self.embedder.dim)
            if dense is not None and not dense.needs_rebuild:
                return dense
        return self._rebuild_dense()

    def _load_checked(
        self, generation: int, store: Store, dim: int | None, reuse: DenseIndex | None = None
    ) -> DenseIndex | None:
        """The FAISS files of `generation` if they hold exactly the store's chunk ids, else
        None (logged)."""
        try:
            dense = DenseIndex.load_generation(
                self.data_dir, generation, dim, self.config.dense, reuse
            )
        except (RuntimeError, ValueError, OSError) as exc:
            log.warning("unreadable FAISS files of generation %d (%s)", generation, exc)
            return None
        if dense is None:
            return None
        if not np.array_equal(dense.ids(), store.chunk_ids()):
            log.warning(
                "generation %d: FAISS holds %d vectors but the store %d chunks",
                generation,
                dense.size,
                store.chunk_count(),
            )
            return None
        return dense

    def _rebuild_dense(self) -> DenseIndex:
        store = self._view.store
        ids, vectors = store.chunk_vectors(self.embedder.model_id)
        dense = DenseIndex.build(self.embedder.dim, ids, vectors, self.config.dense)
        missing = store.chunk_count_missing_vectors(self.embedder.model_id)
        if missing:
            log.warning(
                "%d chunks have no vector for %s: run `samsok reindex`",
                missing,
                self.embedder.model_id,
            )
        log.info("rebuilt dense index from the store: %d vectors", dense.size)
        self._pending = max(self._pending, 1)  # write the rebuilt file on the next commit
        return dense

    def _refit_lexical(self) -> None:
        """Refit the decompounder on the grown corpus and rewrite every chunk's terms, in one
        transaction (a reader sees the old vocabulary and terms, or the new ones)."""
        store = self._view.store
        with store.transaction():
            self._view.lexical.fit(store)
            for chunk_id, text, _ in store.all_chunks():
                store.replace_terms(chunk_id, self._view.lexical.index_terms(text))

    def _require_writer(self) -> None:
        if self.read_only:
            raise ReadOnlyIndex(
                f"the index in {self.data_dir} is open read-only; writes need the writer lock"
            )

    def commit(self) -> None:
        """Publish what is written: `faiss-<G>.index` first, then the store transaction that
        makes generation G visible, then `manifest.json`; files of older generations go."""
        self._require_writer()
        view = self._view
        store = view.store
        if view.lexical.needs_refit(store.chunk_count()):
            self._refit_lexical()
        # Count, sum and max of the ids, not the id lists: O(1) memory per commit at 1M
        # chunks. Ids only grow (AUTOINCREMENT), so a chunk replaced behind FAISS's back
        # changes the sum.
        if view.dense.fingerprint() != store.chunk_fingerprint():
            # Only after an item was cut short between its store write and its FAISS update
            # (e.g. a second Ctrl-C): the store is the truth.
            log.warning("dense index out of step with the store; rebuilding it from the store")
            view.dense = self._rebuild_dense()
        elif view.dense.needs_rebuild:
            # Crossed the exact/ANN threshold (or outgrew the IVF lists): a new base from the
            # exact vectors SQLite keeps.
            view.dense = self._rebuild_dense()
        previous = generation_files(self.data_dir, view.generation)
        path: Path | None = None
        generation = -1
        try:
            with store.transaction() as generation:
                # A delta against the current base, or a new base when the delta grew big.
                path = view.dense.save_generation(self.data_dir, generation)
        except BaseException:
            if path is not None:  # never published: no reader can have seen it
                path.unlink(missing_ok=True)
                if path.name.endswith(".index"):
                    view.dense.base_generation = None  # that base is gone: write one again
            raise
        manifest = {
            "format": MANIFEST_FORMAT,
            "model": self.embedder.model_id,
            "dim": self.embedder.dim,
            "generation": generation,
            "faiss_file": f"faiss-{view.dense.base_generation}.index",
            "faiss_delta": path.name if path.name.endswith(".delta") else None,
            "faiss_kind": view.dense.kind,
            "vectors": view.dense.size,
            "faiss_version": faiss.__version__,
            "index_config": asdict(self.config),
            "lexical": view.lexical.describe(),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fd, tmp = tempfile.mkstemp(prefix="manifest.", suffix=".tmp", dir=self.data_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True)
        readable_by_all(tmp)
        os.replace(tmp, self._manifest_path)
        view.generation = generation
        self._pending = 0
        self._remove_unpublished_files(generation, previous)

    def _remove_unpublished_files(self, keep: int, grace: set[str] | None = None) -> None:
        """Writer only (it holds the lock): drop FAISS files no generation in use needs, and
        temp files of killed writers. Kept: the files of generation `keep` (a base and maybe
        a delta) and `grace`, those of the generation published before it, for a reader that
        read its delta a moment ago. A reader that still serves an older generation has its
        vectors in memory; one that had not loaded it yet builds them from its snapshot."""
        remove_files(self.data_dir, generation_files(self.data_dir, keep) | (grace or set()))

    def refresh(self) -> None:
        """A reader: pick up what a writer published now, without waiting for the interval."""
        if self.read_only:
            self._next_check = 0.0
            self._maybe_refresh()

    # -- reader views -----------------------------------------------------------------------

    def _maybe_refresh(self) -> None:
        if not self.read_only:
            return  # the writer is the one changing the store
        now = time.monotonic()
        if now < self._next_check:
            return
        # One thread checks and reloads; the others go on with the view they have.
        if not self._reload_lock.acquire(blocking=False):
            return
        try:
            self._next_check = now + self.config.refresh_seconds
            generation = self._probe_generation()
            if generation is None or generation == self._view.generation:
                return
            started = time.perf_counter()
            view = self._open_view()
            self._view = view  # the swap: every request from now on reads the new pair
            took = time.perf_counter() - started
            stats = self.reload_stats
            stats.reloads += 1
            stats.seconds_total += took
            stats.seconds_max = max(stats.seconds_max, took)
            stats.history = [*stats.history[-999:], took]
            log.info(
                "serving generation %d (%d vectors) after a %.0f ms reload",
                view.generation,
                view.dense.size,
                took * 1000,
            )
        except Exception:
            # A reload that fails leaves the current, consistent view in place.
            log.exception("could not load the new index generation; serving the previous one")
        finally:
            self._reload_lock.release()

    def _probe_generation(self) -> int | None:
        try:
            if self._probe is None:
                self._probe = Store(self._store_path, read_only=True)
            return self._probe.generation
        except StoreMissing:
            return None

    def _open_view(self) -> _View:
        try:
            store = Store(self._store_path, read_only=True)
        except StoreMissing as exc:
            log.warning("%s; serving an empty index until a writer creates one", exc)
            empty = Store(Path(":memory:"))
            return _View(self, 0, empty, DenseIndex(1), LexicalIndex(self._lexical_config), None)
        try:
            generation = store.begin_snapshot()
            lexical = LexicalIndex(self._lexical_config)
            lexical.load(store)
            manifest = self._manifest() or {}
            model = manifest.get("model")
            model_id = str(model) if model else next(iter(store.model_ids()), None)
            dense = self._reader_dense(store, generation, model_id, manifest)
        except BaseException:
            store.close()
            raise
        return _View(self, generation, store, dense, lexical, model_id)

    def _reader_dense(
        self, store: Store, generation: int, model_id: str | None, manifest: dict[str, object]
    ) -> DenseIndex:
        dim = manifest.get("dim")
        if generation_files(self.data_dir, generation):
            reuse = self._view.dense if hasattr(self, "_view") else None
            dense = self._load_checked(
                generation, store, dim if isinstance(dim, int) else None, reuse
            )
            if dense is not None:
                return dense
        else:
            log.info(
                "no FAISS file for generation %d (a writer is between commits, or was "
                "stopped); using the vectors of the same store snapshot",
                generation,
            )
        self.reload_stats.built_in_memory += 1
        near = self._catch_up(store, manifest, model_id, dim if isinstance(dim, int) else None)
        if near is not None:
            return near
        ids, vectors = store.chunk_vectors(model_id) if model_id else (np.zeros(0), None)
        if vectors is None or len(ids) == 0:
            return DenseIndex(dim if isinstance(dim, int) else 1)
        return DenseIndex.build(int(vectors.shape[1]), ids, vectors, self.config.dense)

    def _catch_up(
        self, store: Store, manifest: dict[str, object], model_id: str | None, dim: int | None
    ) -> DenseIndex | None:
        """The last published generation's index brought to this snapshot's ids, or None."""
        published = manifest.get("generation")
        if not isinstance(published, int) or model_id is None:
            return None
        reuse = self._view.dense if hasattr(self, "_view") else None
        try:
            dense = DenseIndex.load_generation(
                self.data_dir, published, dim, self.config.dense, reuse
            )
        except (RuntimeError, ValueError, OSError):
            return None
        want = store.chunk_ids()
        if dense is None or not dense.catch_up(
            want, lambda ids: store.vectors_by_chunk_id(model_id, ids.tolist())
        ):
            return None
        return dense

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

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, doc: Document) -> UpsertOutcome:
        return self.upsert_many([doc])[0]

    def upsert_many(
        self, docs: Sequence[Document], *, show_progress: bool = False
    ) -> list[UpsertOutcome]:
        """Index documents: chunk, embed what the cache lacks (batched), store, update FAISS."""
        self._require_writer()
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

    def cache_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        """Put vectors computed elsewhere (chunk text hash → vector, by this index's model)
        into the embedding cache, so the next `upsert` of their chunks embeds nothing."""
        self._require_writer()
        if vectors:
            self.store.put_vectors(self.embedder.model_id, vectors)

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
        # Only documents sharing an LSH band (search.store, ingest.dedup.lsh_rows): the
        # same answer as comparing with every stored signature, without the O(n) scan.
        for other_id, other_sig in self.store.near_duplicate_candidates(sig, doc.doc_id):
            if similarity(sig, other_sig) >= threshold:
                return other_id
        return None

    def _write(
        self, doc: Document, chunks: list[Chunk], sig: bytes | None, vectors: dict[str, np.ndarray]
    ) -> UpsertOutcome:
        old = self.store.document(doc.doc_id)
        existed = old is not None
        primary = self._find_primary(doc, sig) if chunks else None
        with self.store.transaction():
            removed = self.store.delete_chunks(doc.doc_id)
            self.store.put_document(doc, signature=sig, duplicate_of=primary)
            record_upsert(self.store, old, doc, duplicate_of=primary)
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
            log.debug("%s is a near-duplicate of %s; stored as also-published-at", doc.url, primary)
            return UpsertOutcome.DUPLICATE
        if not chunks:
            return UpsertOutcome.EMPTY
        return UpsertOutcome.CHANGED if existed else UpsertOutcome.NEW

    def remove(self, doc_id: str, *, reason: str = "") -> bool:
        """Remove a document from every index; a duplicate of it takes its place."""
        self._require_writer()
        row = self.store.document(doc_id)
        if row is None:
            return False
        successors = self.store.duplicate_ids(doc_id)
        with self.store.transaction():
            removed = self.store.delete_document(doc_id)
            record_removal(self.store, row, reason=reason)
            unused_original = release_original(self.store, doc_id)
        if unused_original:
            delete_blob_if_unused(self.store, self.data_dir, unused_original)
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
        self._require_writer()
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
        self._view.dense = self._rebuild_dense()
        self._view.model_id = self.embedder.model_id
        self.commit()
        return len(missing)

    # -- reads ----------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        with self.reading():
            return self._search(request)

    def _search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
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
        with self.reading():
            return self._ranked_chunks(request)

    def _ranked_chunks(self, request: SearchRequest) -> list[RankedChunk]:
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
        view = self._current()
        if not self.read_only:
            return view.store.filtered_chunk_ids(filters)
        allowed = view.allowed.get(filters)
        if allowed is None:
            allowed = view.store.filtered_chunk_ids(filters)
            if len(view.allowed) >= 64:  # date ranges vary: keep the newest 64
                view.allowed.pop(next(iter(view.allowed)), None)
            view.allowed[filters] = allowed
        return allowed

    def _rank(
        self, query: str, mode: SearchMode, filters: Filters, need: int
    ) -> tuple[list[_Ranked], tuple[str, ...]]:
        allowed = self._allowed(filters)
        available = len(allowed) if allowed is not None else self._dense.size
        k = max(self.config.candidates, need * 4)
        qvec = self._query_vector(query) if mode != SearchMode.LEXICAL else None
        # Hybrid only: lexical matches have the query's words; dense-only mode has no lexical
        # evidence to rescue a paraphrase below the cosine floor (it cost NorQuAD 0.04 nDCG@10).
        # (Asked only here, so a lexical search never loads the model for its id.)
        floor = self.config.floor_for(self.embedder.model_id) if mode == SearchMode.HYBRID else None
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
        model_id = self._current().model_id
        for r in grouped:
            cos = cosine.get(r.doc_id)
            if cos is None:  # only the lexical run found it: its own chunks' cosines
                # From the store (the truth, in this view's snapshot), not FAISS: an IVF base
                # keeps only fp16 codes and cannot hand back a vector by id.
                own = by_doc.get(r.doc_id, [r.chunk_id])
                vectors = self.store.vectors_of_chunks(model_id, own) if model_id else None
                has = vectors is not None and len(vectors) > 0
                cos = float((vectors @ qvec).max()) if has else -1.0  # type: ignore[union-attr]
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
                qvec = self._query_vector(query)
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
        with self.reading():
            return self._document(doc_id)

    def _document(self, doc_id: str) -> DocumentView:
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
        """More like this: documents nearest to the mean of this document's chunk vectors.

        The vectors come from the store snapshot (not FAISS), so a document the reader can see
        always has them."""
        with self.reading():
            return self._similar(doc_id, region=region, limit=limit)

    def _similar(self, doc_id: str, *, region: Region | None, limit: int) -> SearchResponse:
        started = time.perf_counter()
        row = self.store.document(doc_id)
        if row is None:
            raise DocumentNotFound(doc_id)
        primary = row.duplicate_of or row.doc_id
        own = [c.id for c in self.store.chunks_of(primary)]
        if not own:
            raise DocumentNotFound(doc_id)
        model_id = self._current().model_id
        vectors = self.store.vectors_of_chunks(model_id, own) if model_id else None
        grouped: list[_Ranked] = []
        if vectors is not None and len(vectors) and vectors.shape[1] == self._dense.dim:
            centroid = vectors.mean(axis=0)
            centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
            filters = Filters(region=region)
            allowed = self.store.filtered_chunk_ids(filters)
            allowed = np.setdiff1d(allowed, np.asarray(own, dtype=np.int64))
            k = max(self.config.candidates, (limit + 1) * 8)
            grouped = [
                r
                for r in self._group(self._dense.search(centroid, k, allowed))
                if r.doc_id != primary
            ]
        else:
            log.warning("%s has no stored vectors for %s: run `samsok reindex`", doc_id, model_id)
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
        return {
            "generation": self._view.generation,
            "vectors": self._view.dense.size,
            "reloads": stats.reloads,
            "reload_ms_max": round(stats.seconds_max * 1000, 1),
            "reload_ms_mean": round(stats.seconds_total * 1000 / max(stats.reloads, 1), 1),
            "reloads_built_in_memory": stats.built_in_memory,
        }


def page_url(url: str, page: int | None, content_type: str) -> str:
    """Link straight to the page of a PDF (`#page=N` is understood by browsers' PDF viewers).

    A locally ingested file (`local:` name) has no address of its own: its kept original is
    served by Samsøk at `/documents/{id}/original`.
    """
    if url.startswith(LOCAL_SCHEME):
        url = f"/documents/{doc_id_for_url(url)}/original"
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

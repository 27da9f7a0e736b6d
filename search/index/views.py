"""What a read is served from: a *view* (one store snapshot plus the dense vectors of that same
generation), the view a read call is pinned to, and a reader's views (opened, checked for a
newer generation, swapped).

A reader writes nothing, ever. At most every `refresh_seconds` one request thread asks the
store for its generation and, when it moved, builds the next view while the others go on with
the current one; the swap is one assignment (docs/architecture.md, "Concurrency").
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from samsok.search.errors import StoreMissing
from samsok.search.index.config import DenseConfig, IndexConfig, LexicalConfig
from samsok.search.index.dense import DenseIndex
from samsok.search.index.dense_files import generation_files
from samsok.search.index.lexical import LexicalIndex
from samsok.search.index.manifest import Manifest
from samsok.search.store import Filters, Store

__all__ = ["PINNED", "ReaderViews", "ReloadStats", "View", "load_checked", "read_through"]

log = logging.getLogger(__name__)

# Reload durations kept for the soak test's percentiles: enough for hours of serving at one
# reload every few seconds, a few kilobytes of floats.
RELOAD_HISTORY = 1000


@dataclass
class View:
    """A consistent pair: one store snapshot and the dense vectors of that same generation."""

    owner: object  # the SearchIndex serving it (a pinned view is only used by its owner)
    generation: int
    store: Store
    dense: DenseIndex
    lexical: LexicalIndex
    model_id: str | None  # the model whose vectors `dense` holds (None: nothing indexed yet)
    # Chunk ids per filter, for a reader's view only (its snapshot never changes): a region
    # or type filter is one SQL scan per generation, not one per query.
    allowed: dict[Filters, np.ndarray] = field(default_factory=dict)
    # Chunk id → document id, filled as searches look them up (a reader's view only; see
    # `ranking.DOC_ID_CACHE_SIZE`): grouping a ranking was one SQL query per search.
    doc_of: dict[int, str] = field(default_factory=dict)
    # Stored vectors by chunk id, for the relevance floor (reader only; bounded there).
    vectors: dict[int, np.ndarray] = field(default_factory=dict)


K = TypeVar("K")
V = TypeVar("V")


def read_through(
    kept: dict[K, V] | None,
    keys: Sequence[K],
    fetch: Callable[[list[K]], dict[K, V]],
    room: Callable[[dict[K, V]], bool],
) -> dict[K, V]:
    """The values of `keys`: those a reader's view `kept` (None: a writer, which keeps none),
    the rest from one `fetch`, which are then kept too while `room(kept)` says so (a race may
    add a batch more: still bounded). Keys `fetch` does not find are left out."""
    found = {} if kept is None else {k: kept[k] for k in keys if k in kept}
    missing = [k for k in keys if k not in found]
    if missing:
        read = fetch(missing)
        found.update(read)
        if kept is not None and read and room(kept):
            kept.update(read)
    return found


# The view a read call (and the calls it makes) is pinned to; see `SearchIndex.reading()`.
PINNED: contextvars.ContextVar[View | None] = contextvars.ContextVar("samsok_view", default=None)


@dataclass
class ReloadStats:
    """How often a reader picked up a new generation, and what that cost."""

    reloads: int = 0
    seconds_total: float = 0.0
    seconds_max: float = 0.0
    built_in_memory: int = 0  # reloads that found no matching FAISS file
    history: list[float] = field(default_factory=list)


def load_checked(
    data_dir: Path,
    generation: int,
    store: Store,
    dim: int | None,
    config: DenseConfig,
    reuse: DenseIndex | None = None,
) -> DenseIndex | None:
    """The FAISS files of `generation` if they hold exactly the store's chunk ids, else None
    (logged)."""
    try:
        dense = DenseIndex.load_generation(data_dir, generation, dim, config, reuse)
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


class ReaderViews:
    """A read-only index's current view, refreshed when a writer publishes a generation."""

    def __init__(
        self, owner: object, data_dir: Path, config: IndexConfig, lexical_config: LexicalConfig
    ) -> None:
        self.owner = owner
        self.data_dir = data_dir
        self.config = config
        self.lexical_config = lexical_config
        self.stats = ReloadStats()
        self._store_path = data_dir / "store.db"
        self._reload_lock = threading.Lock()
        self._probe: Store | None = None
        self.current = self._open_view()
        self._next_check = time.monotonic() + config.refresh_seconds

    def close(self) -> None:
        self.current.store.close()
        if self._probe is not None:
            self._probe.close()

    def refresh(self) -> None:
        """Pick up what a writer published now, without waiting for the interval."""
        self._next_check = 0.0
        self.maybe_refresh()

    def maybe_refresh(self) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        # One thread checks and reloads; the others go on with the view they have.
        if not self._reload_lock.acquire(blocking=False):
            return
        try:
            self._next_check = now + self.config.refresh_seconds
            generation = self._probe_generation()
            if generation is None or generation == self.current.generation:
                return
            started = time.perf_counter()
            view = self._open_view()
            self.current = view  # the swap: every request from now on reads the new pair
            took = time.perf_counter() - started
            stats = self.stats
            stats.reloads += 1
            stats.seconds_total += took
            stats.seconds_max = max(stats.seconds_max, took)
            stats.history = [*stats.history[-(RELOAD_HISTORY - 1) :], took]
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

    def _open_view(self) -> View:
        try:
            store = Store(self._store_path, read_only=True)
        except StoreMissing as exc:
            log.warning("%s; serving an empty index until a writer creates one", exc)
            empty = Store(Path(":memory:"))
            lexical = LexicalIndex(self.lexical_config)
            return View(self.owner, 0, empty, DenseIndex(1), lexical, None)
        try:
            generation = store.begin_snapshot()
            lexical = LexicalIndex(self.lexical_config)
            lexical.load(store)
            manifest = Manifest.read(self.data_dir)
            model = manifest.model if manifest is not None else None
            model_id = model or next(iter(store.model_ids()), None)
            dense = self._reader_dense(store, generation, model_id, manifest)
        except BaseException:
            store.close()
            raise
        return View(self.owner, generation, store, dense, lexical, model_id)

    def _reusable(self) -> DenseIndex | None:
        """The dense index served now: a new generation over the same base shares it."""
        return self.current.dense if hasattr(self, "current") else None

    def _reader_dense(
        self, store: Store, generation: int, model_id: str | None, manifest: Manifest | None
    ) -> DenseIndex:
        dim = manifest.dim if manifest is not None else None
        if generation_files(self.data_dir, generation):
            dense = load_checked(
                self.data_dir, generation, store, dim, self.config.dense, self._reusable()
            )
            if dense is not None:
                return dense
        else:
            log.info(
                "no FAISS file for generation %d (a writer is between commits, or was "
                "stopped); using the vectors of the same store snapshot",
                generation,
            )
        self.stats.built_in_memory += 1
        near = self._catch_up(store, manifest, model_id, dim)
        if near is not None:
            return near
        ids, vectors = store.chunk_vectors(model_id) if model_id else (np.zeros(0), None)
        if vectors is None or len(ids) == 0:
            return DenseIndex(dim if dim is not None else 1)
        return DenseIndex.build(int(vectors.shape[1]), ids, vectors, self.config.dense)

    def _catch_up(
        self, store: Store, manifest: Manifest | None, model_id: str | None, dim: int | None
    ) -> DenseIndex | None:
        """The last published generation's index brought to this snapshot's ids, or None."""
        published = manifest.generation if manifest is not None else None
        if published is None or model_id is None:
            return None
        try:
            dense = DenseIndex.load_generation(
                self.data_dir, published, dim, self.config.dense, self._reusable()
            )
        except (RuntimeError, ValueError, OSError):
            return None
        want = store.chunk_ids()
        if dense is None or not dense.catch_up(
            want, lambda ids: store.vectors_by_chunk_id(model_id, ids.tolist())
        ):
            return None
        return dense

"""Ingest fan-out on Ray: documents are chunked and embedded by Ray actors; one writer applies.

With `samsok crawl --ray [ADDRESS]` (or `SAMSOK_RAY_ADDRESS`), and `samsok ingest --ray`:

1. The crawler fetches and extracts in the writer's process, as without Ray: the frontier,
   robots.txt and the one-request-per-host politeness live there, and a page must be extracted
   before its links can be followed. Those steps wait on the network, not on the CPU.
2. Each fetched document is written to the journal (`ray-journal.db` in the data folder, a
   durable FIFO) and sent to a pool of `EmbedWorker` actors (chunk → embed, each with its own
   copy of the model, anywhere in the cluster). The crawler goes on to the next URL at once:
   embedding — nearly all of the work — runs on every core of the cluster.
3. The writer applies the results in event order: the vectors go into the embedding cache,
   then `SearchIndex.upsert` stores the document and finds every vector cached, so it embeds
   nothing. A removal waits for the documents before it. An applied document leaves the
   journal in the same step. The single-writer rule is unchanged.
4. A crawl marks a URL done when the next event is pulled, which now happens before that
   document is indexed. The journal is what makes that safe: a writer that opens with a
   non-empty journal (the last run was stopped or killed) indexes it first, so no document
   the crawler has marked done is ever lost.

The result is the same index as a local crawl: same documents, chunks, vectors and order.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
from samsok.ingest.chunk import chunk_document
from samsok.ingest.config import ChunkConfig
from samsok.ingest.crawl import CrawlEvent, DocumentFetched
from samsok.ingest.documents import Chunk, DocType, Document, Page, Region
from samsok.search.embedding import TextEmbedder
from samsok.search.errors import SearchError
from samsok.search.index import SearchIndex
from samsok.search.pipeline import EventApplier, IndexingSummary
from samsok.search.store import DEFAULT_ORIGINALS_MAX_BYTES

if TYPE_CHECKING:
    from ray import ObjectRef

__all__ = [
    "JOURNAL_FILE",
    "DistributedError",
    "EmbedPool",
    "Journal",
    "RayEmbedPool",
    "apply_events_distributed",
    "document_chunker",
    "document_from_json",
    "document_to_json",
    "replay_journal",
]

log = logging.getLogger(__name__)

JOURNAL_FILE = "ray-journal.db"
# Documents in flight per worker: enough to keep every worker busy while the writer applies
# the oldest result, few enough that a stop leaves little to replay.
IN_FLIGHT_PER_WORKER = 4


class DistributedError(SearchError):
    """Ray is missing, cannot be reached, or a worker disagrees with the writer's model."""


# -- documents as JSON (the journal must not hold pickles) -----------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the journal")


def document_to_json(doc: Document) -> str:
    return json.dumps(asdict(doc), default=_json_default, ensure_ascii=False)


def document_from_json(text: str) -> Document:
    data: dict[str, Any] = json.loads(text)
    data["pages"] = [Page(**page) for page in data["pages"]]
    data["region"] = Region(data["region"])
    data["doc_type"] = DocType(data["doc_type"])
    if data.get("published"):
        data["published"] = date.fromisoformat(data["published"])
    if data.get("fetched_at"):
        data["fetched_at"] = datetime.fromisoformat(data["fetched_at"])
    return Document(**data)


# -- the journal ----------------------------------------------------------------------------


class Journal:
    """Fetched documents not yet indexed, in arrival order (SQLite, one row per document)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # it exists to survive a crash
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "doc_id TEXT NOT NULL, document TEXT NOT NULL)"
        )

    def add(self, doc: Document) -> int:
        cursor = self._conn.execute(
            "INSERT INTO pending(doc_id, document) VALUES (?, ?)",
            (doc.doc_id, document_to_json(doc)),
        )
        return int(cursor.lastrowid or 0)

    def done(self, seq: int) -> None:
        self._conn.execute("DELETE FROM pending WHERE seq = ?", (seq,))

    def pending(self) -> list[tuple[int, Document]]:
        rows = self._conn.execute("SELECT seq, document FROM pending ORDER BY seq").fetchall()
        return [(int(seq), document_from_json(text)) for seq, text in rows]

    def close(self) -> None:
        self._conn.close()


def replay_journal(index: SearchIndex) -> int:
    """Index what a stopped or killed `--ray` run left in the journal (writer only).

    Runs on every writer open, with or without Ray: the documents are embedded locally."""
    path = index.data_dir / JOURNAL_FILE
    if not path.exists():
        return 0
    with closing(Journal(path)) as journal:
        pending = journal.pending()
        for seq, doc in pending:
            index.upsert(doc)
            journal.done(seq)
    if pending:
        index.commit()
        log.info("indexed %d document(s) left in the journal by an interrupted run", len(pending))
    return len(pending)


# -- the worker pool ------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A worker's answer for one document: its model, and a vector per chunk text hash."""

    model_id: str
    vectors: dict[str, np.ndarray]


ChunkerFactory = Callable[[TextEmbedder], Callable[[Document], list[Chunk]]]


def document_chunker(
    config: ChunkConfig, embedder: TextEmbedder
) -> Callable[[Document], list[Chunk]]:
    """The chunker the index uses: chunks bounded by the model's own token count."""
    return partial(chunk_document, config=config, count_tokens=embedder.count_tokens)


class EmbedPool(Protocol):
    """What the writer needs from a pool: submit a document, get its vectors back in order."""

    workers: int

    def submit(self, doc: Document) -> object: ...

    def result(self, handle: object) -> Prepared: ...


class _EmbedWorker:
    """Chunk → embed, with the model loaded once per worker (a Ray actor)."""

    def __init__(
        self, make_embedder: Callable[[], TextEmbedder], make_chunker: ChunkerFactory
    ) -> None:
        self._embedder = make_embedder()
        self._chunker = make_chunker(self._embedder)

    def prepare(self, doc: Document) -> Prepared:
        chunks = self._chunker(doc)
        unique = {c.text_hash: c.embed_text for c in chunks}
        if not unique:
            return Prepared(self._embedder.model_id, {})
        vectors = self._embedder.embed_documents(list(unique.values()))
        return Prepared(self._embedder.model_id, dict(zip(unique.keys(), vectors, strict=True)))


class RayEmbedPool:
    """`workers` Ray actors, each holding the model; documents go round-robin."""

    def __init__(
        self,
        address: str | None,
        make_embedder: Callable[[], TextEmbedder],
        make_chunker: ChunkerFactory,
        *,
        workers: int | None = None,
        cpus_per_worker: float = 1.0,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise DistributedError("--ray needs Ray: pip install 'samsok[ray]'") from exc
        self._ray = ray
        if not ray.is_initialized():
            # "local" (or no address) starts a Ray instance on this machine.
            target = None if address in (None, "", "local") else address
            try:
                ray.init(
                    address=target,
                    include_dashboard=False,
                    log_to_driver=False,
                    **dict(init_options or {}),
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise DistributedError(f"cannot reach the Ray cluster at {address}: {exc}") from exc
        available = int(ray.available_resources().get("CPU", 1) // cpus_per_worker)
        self.workers = max(1, workers if workers is not None else available)
        actor = ray.remote(num_cpus=cpus_per_worker)(_EmbedWorker)
        # Any: Ray's annotations do not give an actor handle's methods their `.remote`.
        self._actors: list[Any] = [
            actor.remote(make_embedder, make_chunker) for _ in range(self.workers)
        ]
        self._next = 0
        log.info("Ray: %d embedding worker(s)", self.workers)

    def submit(self, doc: Document) -> object:
        actor = self._actors[self._next % len(self._actors)]
        self._next += 1
        return actor.prepare.remote(doc)

    def result(self, handle: object) -> Prepared:
        try:
            return self._ray.get(cast("ObjectRef[Prepared]", handle))
        except self._ray.exceptions.RayError as exc:
            raise DistributedError(f"a Ray worker failed: {exc}") from exc

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []


# -- the writer's loop ----------------------------------------------------------------------


@dataclass
class _Item:
    event: CrawlEvent
    seq: int | None = None
    handle: object = None


def apply_events_distributed(
    index: SearchIndex,
    events: Iterable[CrawlEvent],
    pool: EmbedPool,
    *,
    on_event: Callable[[CrawlEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    originals_max_bytes: int = DEFAULT_ORIGINALS_MAX_BYTES,
) -> IndexingSummary:
    """`pipeline.apply_events` with the embedding fanned out to `pool` (module docstring)."""
    applier = EventApplier(index, originals_max_bytes=originals_max_bytes)
    summary = applier.summary
    window = IN_FLIGHT_PER_WORKER * pool.workers
    queue: deque[_Item] = deque()
    journal = Journal(index.data_dir / JOURNAL_FILE)

    def apply_oldest() -> None:
        item = queue.popleft()
        if item.handle is not None:
            prepared = pool.result(item.handle)
            if prepared.model_id != index.embedder.model_id:
                raise DistributedError(
                    f"a Ray worker embeds with {prepared.model_id}, the index with "
                    f"{index.embedder.model_id}: start the workers with the same model settings"
                )
            index.cache_vectors(prepared.vectors)
        applier.apply(item.event)
        if item.seq is not None:
            journal.done(item.seq)
        if on_event is not None:
            on_event(item.event)

    try:
        with applier:
            for event in _until_stopped(events, should_stop, summary):
                item = _Item(event)
                if isinstance(event, DocumentFetched):
                    item.seq = journal.add(event.document)  # durable before the crawler goes on
                    item.handle = pool.submit(event.document)
                queue.append(item)
                while len(queue) > window:
                    apply_oldest()
            if not summary.interrupted:
                while queue:
                    apply_oldest()
            # Stopped: what is still in flight stays in the journal for the next writer.
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
        journal.close()
        index.commit()
    return summary


def _until_stopped(
    events: Iterable[CrawlEvent],
    should_stop: Callable[[], bool] | None,
    summary: IndexingSummary,
) -> Iterator[CrawlEvent]:
    for event in events:
        if should_stop is not None and should_stop():
            summary.interrupted = True
            return
        yield event

"""What `SearchIndex` answers besides search: the change log, kept originals, and the stored
documents and passages as rows — so no caller reaches into the store behind the index.

A mixin of `SearchIndex` (core.py): reads run on the view a read is pinned to (`reading()`),
writes need the writer and run inside the store's transactions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from samsok.ingest.documents import Region
from samsok.search.store import (
    ChangeEvent,
    ChangesResponse,
    ChunkRow,
    DocumentRow,
    OriginalRecord,
    OriginalsStats,
    Store,
    begin_baseline,
    change_events,
    finish_baselines,
    keep_original,
    last_event,
    list_changes,
    original_for,
    originals_stats,
)

__all__ = ["Bookkeeping", "ChunkText"]


@dataclass(frozen=True)
class ChunkText:
    """One stored passage as it was embedded (its context line, then its text)."""

    chunk_id: int
    doc_id: str
    text: str


class Bookkeeping:
    """The change log, kept originals and stored rows, through the index."""

    data_dir: Path

    # Provided by SearchIndex.
    def reading(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _read_store(self) -> Store:
        raise NotImplementedError

    def _write_store(self) -> Store:
        raise NotImplementedError

    # -- the change log -----------------------------------------------------------------------

    def changes(self, *, since: date | datetime, region: Region | None = None) -> ChangesResponse:
        """New, changed and removed documents since `since` (see `search.store.changes`)."""
        with self.reading():
            return list_changes(self._read_store(), since=since, region=region)

    def change_events(
        self,
        *,
        since: date | datetime | None = None,
        region: Region | None = None,
        limit: int | None = None,
        baseline: bool = True,
    ) -> list[ChangeEvent]:
        """Logged events newest first (see `search.store.changes.change_events`)."""
        with self.reading():
            return change_events(
                self._read_store(), since=since, region=region, limit=limit, baseline=baseline
            )

    def last_change(self, doc_id: str) -> ChangeEvent | None:
        """The latest logged change of one document (e.g. its removal), if any."""
        with self.reading():
            return last_event(self._read_store(), doc_id)

    def begin_baseline(self, source: str) -> bool:
        """Writer: open the first-crawl baseline of `source` if the index has nothing from it."""
        return begin_baseline(self._write_store(), source)

    def finish_baselines(self) -> None:
        """Writer: close every open baseline (end of a crawl, or one a crash left open)."""
        finish_baselines(self._write_store())

    # -- kept originals -----------------------------------------------------------------------

    def keep_original(
        self, doc_id: str, *, data: bytes, name: str, content_type: str, max_bytes: int
    ) -> OriginalRecord:
        """Writer: keep `data` as the original of `doc_id` within `max_bytes` for all kept
        originals together (or record why not)."""
        return keep_original(
            self._write_store(),
            self.data_dir,
            doc_id,
            data=data,
            name=name,
            content_type=content_type,
            max_bytes=max_bytes,
        )

    def original(self, doc_id: str) -> OriginalRecord | None:
        """The kept-original record of a document (None: it was not ingested from a file)."""
        with self.reading():
            return original_for(self._read_store(), doc_id)

    def originals_stats(self) -> OriginalsStats:
        with self.reading():
            return originals_stats(self._read_store())

    # -- stored rows ---------------------------------------------------------------------------

    def has_document(self, doc_id: str) -> bool:
        with self.reading():
            return self._read_store().document(doc_id) is not None

    def document_rows(self) -> list[DocumentRow]:
        """Every stored document row (primaries and near-duplicates), by URL."""
        with self.reading():
            return self._read_store().documents_all()

    def primary_of(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """Stored document id → the id of the document that carries its passages (itself, or
        the one it is a near-duplicate of). Ids not stored are left out."""
        with self.reading():
            rows = self._read_store().documents(list(doc_ids))
        return {doc_id: row.duplicate_of or row.doc_id for doc_id, row in rows.items()}

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        """A document's passages in order (none for a near-duplicate: see `primary_of`)."""
        with self.reading():
            return self._read_store().chunks_of(doc_id)

    def chunk_texts(self) -> Iterator[ChunkText]:
        """Every passage as embedded, by chunk id (for baselines scored on the same chunks)."""
        with self.reading():
            store = self._read_store()
            rows = store.all_chunks()
            doc_of = store.chunk_doc_ids(chunk_id for chunk_id, _, _ in rows)
        for chunk_id, text, _ in rows:
            yield ChunkText(chunk_id, doc_of[chunk_id], text)

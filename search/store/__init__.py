"""The SQLite store: documents, chunks, FTS5, vector cache, change log, originals, writer lock.

Callers import from here; the modules behind it are `database` (`Store`), `schema`,
`documents`, `chunks`, `vectors`, `records`, `changelog` and `changes`, `originals`, `lock`.

The names load on first use (PEP 562), like `samsok.search.index`'s: a caller that needs a
constant or a row type does not pay for numpy and the change-report models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samsok.ingest.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from samsok.search.store.changelog import (
        LOCAL_TZ,
        ChangeEvent,
        begin_baseline,
        change_events,
        entry_id,
        finish_baselines,
        last_event,
        record_removal,
        record_upsert,
    )
    from samsok.search.store.changes import (
        BaselineNote,
        ChangeGroup,
        ChangeItem,
        ChangesResponse,
        default_since,
        list_changes,
        parse_since,
    )
    from samsok.search.store.database import Store
    from samsok.search.store.lock import WriterLock
    from samsok.search.store.near_duplicates import lsh_rows, signature, similarity
    from samsok.search.store.originals import (
        DEFAULT_ORIGINALS_MAX_BYTES,
        SKIPPED_OVER_CAP,
        OriginalRecord,
        OriginalsStats,
        blob_path,
        delete_blob_if_unused,
        keep_original,
        original_for,
        originals_stats,
        release_original,
    )
    from samsok.search.store.records import ChunkRow, DocumentHeadRow, DocumentRow, Filters
    from samsok.search.store.schema import IN_BATCH

__all__ = [
    "DEFAULT_ORIGINALS_MAX_BYTES",
    "IN_BATCH",
    "LOCAL_TZ",
    "SKIPPED_OVER_CAP",
    "BaselineNote",
    "ChangeEvent",
    "ChangeGroup",
    "ChangeItem",
    "ChangesResponse",
    "ChunkRow",
    "DocumentHeadRow",
    "DocumentRow",
    "Filters",
    "OriginalRecord",
    "OriginalsStats",
    "Store",
    "WriterLock",
    "begin_baseline",
    "blob_path",
    "change_events",
    "default_since",
    "delete_blob_if_unused",
    "entry_id",
    "finish_baselines",
    "keep_original",
    "last_event",
    "list_changes",
    "lsh_rows",
    "original_for",
    "originals_stats",
    "parse_since",
    "record_removal",
    "record_upsert",
    "release_original",
    "signature",
    "similarity",
]

# Each public name and the module it lives in.
_HOMES = {
    "DEFAULT_ORIGINALS_MAX_BYTES": "originals",
    "IN_BATCH": "schema",
    "LOCAL_TZ": "changelog",
    "SKIPPED_OVER_CAP": "originals",
    "BaselineNote": "changes",
    "ChangeEvent": "changelog",
    "ChangeGroup": "changes",
    "ChangeItem": "changes",
    "ChangesResponse": "changes",
    "ChunkRow": "records",
    "DocumentHeadRow": "records",
    "DocumentRow": "records",
    "Filters": "records",
    "OriginalRecord": "originals",
    "OriginalsStats": "originals",
    "Store": "database",
    "WriterLock": "lock",
    "begin_baseline": "changelog",
    "blob_path": "originals",
    "change_events": "changelog",
    "default_since": "changes",
    "delete_blob_if_unused": "originals",
    "entry_id": "changelog",
    "finish_baselines": "changelog",
    "keep_original": "originals",
    "last_event": "changelog",
    "list_changes": "changes",
    "lsh_rows": "near_duplicates",
    "original_for": "originals",
    "originals_stats": "originals",
    "parse_since": "changes",
    "record_removal": "changelog",
    "record_upsert": "changelog",
    "release_original": "originals",
    "signature": "near_duplicates",
    "similarity": "near_duplicates",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

"""The SQLite store: documents, chunks, FTS5, vector cache, change log, originals, writer lock.

Callers import from here; the modules behind it are `database` (`Store`), `schema`,
`documents`, `chunks`, `vectors`, `records`, `changelog` and `changes`, `originals`, `lock`.
"""

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
from samsok.search.store.records import ChunkRow, DocumentRow, Filters
from samsok.search.store.schema import IN_BATCH

__all__ = [
    "IN_BATCH",
    "LOCAL_TZ",
    "SKIPPED_OVER_CAP",
    "BaselineNote",
    "ChangeEvent",
    "ChangeGroup",
    "ChangeItem",
    "ChangesResponse",
    "ChunkRow",
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

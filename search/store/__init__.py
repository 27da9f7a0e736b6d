"""The SQLite store: documents, chunks, FTS5, vector cache, change log, originals, writer lock.

Callers import from here; the modules behind it are `database` (`Store`), `schema`,
`documents`, `chunks`, `vectors`, `records`, `changelog` and `changes`, `originals`, `lock`.
"""

from samsok.search.store.changes import (
    LOCAL_TZ,
    BaselineNote,
    ChangeEvent,
    ChangeGroup,
    ChangeItem,
    ChangesResponse,
    default_since,
    entry_id,
    parse_since,
)
from samsok.search.store.database import IN_BATCH, ChunkRow, DocumentRow, Filters, Store
from samsok.search.store.lock import WriterLock
from samsok.search.store.originals import OriginalRecord, OriginalsStats

__all__ = [
    "IN_BATCH",
    "LOCAL_TZ",
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
    "default_since",
    "entry_id",
    "parse_since",
]

"""The append-only change log in `store.db`: its tables, the writes and the raw events.

Every document write that changes what the index holds appends one row to `changes`, in the
same transaction as the write itself (`search.index.writer` calls `record_upsert` /
`record_removal`), so the log can never disagree with the index: a crash rolls back both.
Crawls and local ingests go through the same two calls, so the log covers both. Reading
(`change_events`, `last_event`) is SELECT only: the serving side never writes. What the
events add up to for people ("nytt og endret") is `search.store.changes`.

A row keeps the document's metadata as it was at that moment, so a removed document still
shows with its title, region and source: it never silently vanishes.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from samsok.ingest.documents import Document, DocumentIdentity, Region
from samsok.search.store.records import identity_from_row, identity_params

if TYPE_CHECKING:
    from samsok.search.store.records import DocumentRow
    from samsok.search.store.schema import StoreBase as Store

__all__ = [
    "CHANGES_SCHEMA",
    "KIND_ORDER",
    "LOCAL_TZ",
    "ChangeEvent",
    "Kind",
    "begin_baseline",
    "change_events",
    "entry_id",
    "finish_baselines",
    "last_event",
    "record_removal",
    "record_upsert",
    "since_instant",
]

#: Dates typed by staff are Norwegian calendar days: "since 18.06" starts at midnight in Oslo.
LOCAL_TZ = ZoneInfo("Europe/Oslo")

CHANGES_SCHEMA = """
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    url TEXT NOT NULL,
    source TEXT NOT NULL,
    region TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    title TEXT NOT NULL,
    published TEXT,
    content_type TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS changes_at ON changes(at, id);
CREATE INDEX IF NOT EXISTS changes_region ON changes(region, at);
CREATE TABLE IF NOT EXISTS change_baselines (
    source TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT
);
"""

Kind = Literal["new", "changed", "removed"]
KIND_ORDER = {"new": 0, "changed": 1, "removed": 2}


def _now() -> str:
    # Microseconds: two crawls a moment apart must still be told apart by `since`.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _instant_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# -- the baseline: a source's first crawl ------------------------------------------------------
#
# The first crawl of a source finds everything it has ever published: those documents are new
# to the index, not news to staff. While a source's first crawl runs, its documents are logged
# as "new" with `baseline` set; `list_changes` reports them as one line per source instead of
# one item per document. Local files are never a baseline: a report dropped in is news.


def begin_baseline(store: Store, source: str) -> bool:
    """Open the baseline of `source` if the index holds nothing from it yet (writer side)."""
    if store.query("SELECT 1 FROM change_baselines WHERE source = ?", (source,)):
        return False
    if store.query("SELECT 1 FROM documents WHERE source = ? LIMIT 1", (source,)):
        return False  # indexed before the change log existed: not a first crawl
    with store.transaction():
        store.execute(
            "INSERT INTO change_baselines(source, started) VALUES (?, ?)", (source, _now())
        )
    return True


def finish_baselines(store: Store) -> None:
    """Close every open baseline (end of a crawl, or after a crash left one open)."""
    if store.query("SELECT 1 FROM change_baselines WHERE finished IS NULL LIMIT 1"):
        with store.transaction():
            store.execute(
                "UPDATE change_baselines SET finished = ? WHERE finished IS NULL", (_now(),)
            )


def _in_baseline(store: Store, source: str) -> bool:
    return bool(
        store.query(
            "SELECT 1 FROM change_baselines WHERE source = ? AND finished IS NULL", (source,)
        )
    )


# -- writing (inside the index's write transaction) --------------------------------------------


def _page_texts(pages: list[tuple[int | None, str]]) -> dict[int, str]:
    return {number: text for number, text in pages if number is not None}


def record_upsert(
    store: Store, old: DocumentRow | None, doc: Document, *, duplicate_of: str | None
) -> None:
    """Log a new document, or what changed in an existing one (nothing if nothing did)."""
    if old is not None and old.content_hash == doc.content_hash:
        return  # re-written without a change (e.g. promoted from near-duplicate)
    detail: dict[str, object] = {}
    if duplicate_of:
        detail["duplicate_of"] = duplicate_of
    kind: Kind = "new"
    if old is None and _in_baseline(store, doc.source):
        detail["baseline"] = True
    if old is not None:
        kind = "changed"
        before = _page_texts([(p.number, p.text) for p in old.pages])
        after = _page_texts([(p.number, p.text) for p in doc.pages])
        detail["title_changed"] = old.title != doc.title
        if old.title != doc.title:
            detail["old_title"] = old.title
        detail["text_changed"] = [(p.number, p.text) for p in old.pages] != [
            (p.number, p.text) for p in doc.pages
        ]
        detail["pages_added"] = sorted(after.keys() - before.keys())
        detail["pages_removed"] = sorted(before.keys() - after.keys())
        detail["pages_changed"] = sorted(
            n for n in before.keys() & after.keys() if before[n] != after[n]
        )
    _insert(store, kind, doc, detail)


def record_removal(store: Store, row: DocumentRow, *, reason: str = "") -> None:
    """Log a removal with the document's last known metadata."""
    detail = {"reason": reason} if reason else {}
    _insert(store, "removed", row, detail)


def _insert(
    store: Store, kind: Kind, doc: Document | DocumentRow, detail: Mapping[str, object]
) -> None:
    """One log row: the event and the document's metadata as it is (or was last) stored."""
    store.execute(
        "INSERT INTO changes(at, kind, doc_id, url, source, region, doc_type, title, published,"
        " content_type, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            _now(),
            kind,
            *identity_params(doc),
            doc.content_type,
            json.dumps(detail, ensure_ascii=False, sort_keys=True),
        ),
    )


def since_instant(since: date | datetime) -> datetime:
    """The UTC instant a `since` value starts at (a date: midnight in Norway)."""
    if isinstance(since, datetime):
        return (since if since.tzinfo else since.replace(tzinfo=LOCAL_TZ)).astimezone(UTC)
    return datetime.combine(since, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class ChangeEvent(DocumentIdentity):
    """One row of the log, as stored (the Atom feed has one entry per event)."""

    id: int
    at: datetime
    kind: Kind
    content_type: str
    detail: dict[str, object]


def change_events(
    store: Store,
    *,
    since: date | datetime | None = None,
    region: Region | None = None,
    limit: int | None = None,
    baseline: bool = True,
) -> list[ChangeEvent]:
    """Events newest first, from `since` (inclusive), optionally for one region; without
    the first crawls' documents when `baseline` is False."""
    clauses: list[str] = ["1 = 1"]
    params: list[object] = []
    if not baseline:
        clauses.append("json_extract(detail, '$.baseline') IS NULL")
    if since is not None:
        clauses.append("at >= ?")
        params.append(_instant_text(since_instant(since)))
    if region is not None:
        clauses.append("region = ?")
        params.append(region.value)
    sql = f"SELECT * FROM changes WHERE {' AND '.join(clauses)} ORDER BY at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_event(row) for row in store.query(sql, params)]


def last_event(store: Store, doc_id: str) -> ChangeEvent | None:
    """The latest logged change of one document (e.g. its removal), if any."""
    rows = store.query("SELECT * FROM changes WHERE doc_id = ? ORDER BY id DESC LIMIT 1", (doc_id,))
    return _event(rows[0]) if rows else None


def _event(row: sqlite3.Row) -> ChangeEvent:
    return ChangeEvent(
        **identity_from_row(row),
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        kind=row["kind"],
        content_type=row["content_type"],
        detail=json.loads(row["detail"]),
    )


def entry_id(event: ChangeEvent) -> str:
    """A stable, globally unique id for one event (Atom `<id>`): a name-based UUID URN."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"samsok:change:{event.doc_id}:{event.id}").urn

""" "Nytt og endret": the append-only change log in `store.db` and the queries over it.

Every document write that changes what the index holds appends one row to `changes`, in the
same transaction as the write itself (`SearchIndex._write` / `SearchIndex.remove` call
`record_upsert` / `record_removal`), so the log can never disagree with the index: a crash
rolls back both. Crawls and local ingests go through the same two calls, so the log covers
both. Reading (`list_changes`, `change_events`) is SELECT only: the serving side never writes.

A row keeps the document's metadata as it was at that moment, so a removed document still
shows with its title, region and source: it never silently vanishes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from samsok.ingest.documents import DocType, Document, Region
from samsok.search.errors import QueryError

if TYPE_CHECKING:
    from samsok.search.store.database import Store
    from samsok.search.store.records import DocumentRow

__all__ = [
    "CHANGES_SCHEMA",
    "LOCAL_TZ",
    "BaselineNote",
    "ChangeEvent",
    "ChangeGroup",
    "ChangeItem",
    "ChangesResponse",
    "begin_baseline",
    "change_events",
    "default_since",
    "entry_id",
    "finish_baselines",
    "last_event",
    "list_changes",
    "parse_since",
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
_KIND_ORDER = {"new": 0, "changed": 1, "removed": 2}


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
    store.execute(
        "INSERT INTO changes(at, kind, doc_id, url, source, region, doc_type, title, published,"
        " content_type, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            _now(),
            kind,
            doc.doc_id,
            doc.url,
            doc.source,
            doc.region.value,
            doc.doc_type.value,
            doc.title,
            doc.published.isoformat() if doc.published else None,
            doc.content_type,
            json.dumps(detail, ensure_ascii=False, sort_keys=True),
        ),
    )


def record_removal(store: Store, row: DocumentRow, *, reason: str = "") -> None:
    """Log a removal with the document's last known metadata."""
    detail = {"reason": reason} if reason else {}
    store.execute(
        "INSERT INTO changes(at, kind, doc_id, url, source, region, doc_type, title, published,"
        " content_type, detail) VALUES (?, 'removed', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            _now(),
            row.doc_id,
            row.url,
            row.source,
            row.region.value,
            row.doc_type.value,
            row.title,
            row.published.isoformat() if row.published else None,
            row.content_type,
            json.dumps(detail, ensure_ascii=False, sort_keys=True),
        ),
    )


# -- reading ----------------------------------------------------------------------------------


def parse_since(raw: str) -> date | datetime:
    """`since` as people and scripts write it: 2019-06-18, 18.06.2019 or an ISO timestamp.

    Raises ValueError with a message naming the accepted forms.
    """
    value = raw.strip()
    parts = value.split(".")
    try:
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(f"{raw!r} is not a date: use YYYY-MM-DD, DD.MM.YYYY or an ISO timestamp")
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def since_instant(since: date | datetime) -> datetime:
    """The UTC instant a `since` value starts at (a date: midnight in Norway)."""
    if isinstance(since, datetime):
        return (since if since.tzinfo else since.replace(tzinfo=LOCAL_TZ)).astimezone(UTC)
    return datetime.combine(since, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class ChangeEvent:
    """One row of the log, as stored (the Atom feed has one entry per event)."""

    id: int
    at: datetime
    kind: Kind
    doc_id: str
    url: str
    source: str
    region: Region
    doc_type: DocType
    title: str
    published: date | None
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


def _event(row: object) -> ChangeEvent:
    r = row  # sqlite3.Row
    return ChangeEvent(
        id=r["id"],  # type: ignore[index]
        at=datetime.fromisoformat(r["at"]),  # type: ignore[index]
        kind=r["kind"],  # type: ignore[index]
        doc_id=r["doc_id"],  # type: ignore[index]
        url=r["url"],  # type: ignore[index]
        source=r["source"],  # type: ignore[index]
        region=Region(r["region"]),  # type: ignore[index]
        doc_type=DocType(r["doc_type"]),  # type: ignore[index]
        title=r["title"],  # type: ignore[index]
        published=date.fromisoformat(r["published"]) if r["published"] else None,  # type: ignore[index]
        content_type=r["content_type"],  # type: ignore[index]
        detail=json.loads(r["detail"]),  # type: ignore[index]
    )


def entry_id(event: ChangeEvent) -> str:
    """A stable, globally unique id for one event (Atom `<id>`): a name-based UUID URN."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"samsok:change:{event.doc_id}:{event.id}").urn


class ChangeItem(BaseModel):
    """What happened to one document since the date: the net effect of its events."""

    doc_id: str
    kind: Kind = Field(description="new, changed or removed (net, over the period)")
    at: datetime = Field(description="When the latest change was indexed (UTC)")
    url: str
    title: str
    region: Region
    type: DocType
    source: str
    published: date | None
    content_type: str
    document_url: str = Field(description="The document's page in Samsøk")
    title_changed: bool = False
    old_title: str | None = Field(
        default=None, description="Title before the period, if it changed"
    )
    text_changed: bool = False
    pages_added: list[int] = Field(default_factory=list, description="PDF pages added")
    pages_removed: list[int] = Field(default_factory=list, description="PDF pages removed")
    pages_changed: list[int] = Field(default_factory=list, description="PDF pages edited")
    removed_reason: str | None = Field(default=None, description="Why it was removed (http_404, …)")
    duplicate_of: str | None = Field(default=None, description="Also published as this document")
    events: int = Field(1, description="Index writes for this document in the period")


class ChangeGroup(BaseModel):
    region: Region
    source: str
    items: list[ChangeItem] = Field(description="Newest first")


class BaselineNote(BaseModel):
    """A source crawled for the first time in the period: its documents are not listed."""

    region: Region
    source: str
    documents: int = Field(
        description="Documents found by the first crawl and neither changed nor removed since "
        "(those are listed as changes)"
    )
    at: datetime = Field(description="When the first crawl indexed its last document (UTC)")


class ChangesResponse(BaseModel):
    """New, changed and removed documents since a date, grouped by region and source."""

    since: datetime = Field(description="Start of the period (UTC)")
    region: Region | None
    total: int
    new: int
    changed: int
    removed: int
    groups: list[ChangeGroup] = Field(
        description="Per region (Orkdal, then Værnes) and source; sources with the newest "
        "change first"
    )
    baseline: list[BaselineNote] = Field(
        default_factory=list,
        description="Sources first crawled in the period: what they already had is not news, "
        "so it is counted here instead of listed",
    )

    def items(self) -> list[ChangeItem]:
        return [item for group in self.groups for item in group.items]


def _numbers(detail: dict[str, object], key: str) -> list[int]:
    value = detail.get(key)
    return [int(n) for n in value] if isinstance(value, list) else []


def _merge(events: list[ChangeEvent]) -> ChangeItem:
    """Fold one document's events (newest first) into its net change over the period."""
    latest = events[0]
    created = any(e.kind == "new" and not e.detail.get("baseline") for e in events)
    kind: Kind = latest.kind
    if kind == "changed" and created:
        kind = "new"  # it did not exist at the start of the period
    item = ChangeItem(
        doc_id=latest.doc_id,
        kind=kind,
        at=latest.at,
        url=latest.url,
        title=latest.title,
        region=latest.region,
        type=latest.doc_type,
        source=latest.source,
        published=latest.published,
        content_type=latest.content_type,
        document_url=f"/documents/{latest.doc_id}",
        events=len(events),
        removed_reason=str(latest.detail.get("reason") or "") or None
        if latest.kind == "removed"
        else None,
        duplicate_of=str(latest.detail["duplicate_of"])
        if latest.detail.get("duplicate_of")
        else None,
    )
    if kind != "changed":
        return item
    added: set[int] = set()
    dropped: set[int] = set()
    edited: set[int] = set()
    for event in reversed(events):  # oldest first, so a page added then removed nets out
        d = event.detail
        for n in _numbers(d, "pages_added"):
            if n in dropped:
                dropped.discard(n)
                edited.add(n)
            else:
                added.add(n)
        for n in _numbers(d, "pages_removed"):
            if n in added:
                added.discard(n)
            else:
                dropped.add(n)
                edited.discard(n)
        edited.update(n for n in _numbers(d, "pages_changed") if n not in added)
    item.pages_added, item.pages_removed = sorted(added), sorted(dropped)
    item.pages_changed = sorted(edited)
    item.text_changed = any(bool(e.detail.get("text_changed")) for e in events)
    titled = [e for e in reversed(events) if e.detail.get("title_changed")]
    if titled and str(titled[0].detail.get("old_title", "")) != latest.title:
        item.title_changed = True
        item.old_title = str(titled[0].detail.get("old_title", ""))
    return item


def list_changes(
    store: Store, *, since: date | datetime, region: Region | None = None
) -> ChangesResponse:
    """The net change per document since `since`, grouped by region and source, newest first."""
    start = since_instant(since)
    if start > datetime.now(UTC):
        raise QueryError("since is in the future")
    by_doc: dict[str, list[ChangeEvent]] = {}
    for event in change_events(store, since=start, region=region):
        by_doc.setdefault(event.doc_id, []).append(event)
    items: list[ChangeItem] = []
    baseline: dict[tuple[Region, str], list[ChangeEvent]] = {}
    for events in by_doc.values():
        if all(e.detail.get("baseline") for e in events):
            first = events[0]
            baseline.setdefault((first.region, first.source), []).append(first)
            continue
        items.append(_merge(events))
    # A document that was new and removed again inside the period is still shown (as
    # removed): it was there for a while and someone may have seen it.
    groups: dict[tuple[Region, str], list[ChangeItem]] = {}
    for item in sorted(items, key=lambda i: (i.at, _KIND_ORDER[i.kind]), reverse=True):
        groups.setdefault((item.region, item.source), []).append(item)
    region_order = {r: i for i, r in enumerate(Region)}
    ordered = sorted(
        groups.items(), key=lambda kv: (region_order[kv[0][0]], -kv[1][0].at.timestamp())
    )
    counts = {k: sum(1 for i in items if i.kind == k) for k in _KIND_ORDER}
    return ChangesResponse(
        since=start,
        region=region,
        total=len(items),
        new=counts["new"],
        changed=counts["changed"],
        removed=counts["removed"],
        groups=[ChangeGroup(region=r, source=s, items=v) for (r, s), v in ordered],
        baseline=[
            BaselineNote(region=r, source=s, documents=len(v), at=max(e.at for e in v))
            for (r, s), v in sorted(
                baseline.items(), key=lambda kv: (region_order[kv[0][0]], kv[0][1])
            )
        ],
    )


def default_since(days: int, today: date | None = None) -> date:
    """The start of the default period: `days` before today (Norwegian calendar)."""
    today = today or datetime.now(LOCAL_TZ).date()
    return today - timedelta(days=days)

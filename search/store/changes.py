""" "Nytt og endret": what the change log (`search.store.changelog`) adds up to for people —
the net change per document since a date, grouped by region and source, with a source's first
crawl counted instead of listed — and how staff write "since".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from samsok.ingest.documents import Region
from samsok.search.errors import QueryError
from samsok.search.schemas import DocumentHead, DocumentRef, head_fields
from samsok.search.store.changelog import (
    KIND_ORDER,
    LOCAL_TZ,
    ChangeEvent,
    Kind,
    change_events,
    since_instant,
)

if TYPE_CHECKING:
    from samsok.search.store.schema import StoreBase as Store

__all__ = [
    "BaselineNote",
    "ChangeGroup",
    "ChangeItem",
    "ChangesResponse",
    "default_since",
    "list_changes",
    "parse_since",
]


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


class _Change(DocumentRef):
    kind: Kind = Field(description="new, changed or removed (net, over the period)")
    at: datetime = Field(description="When the latest change was indexed (UTC)")


class ChangeItem(DocumentHead, _Change):
    """What happened to one document since the date: the net effect of its events."""

    # Fields in JSON order: doc_id, what happened and when (_Change), then the document's head
    # and this class's own (pydantic orders inherited fields by the reversed MRO).
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
        **head_fields(latest),
        kind=kind,
        at=latest.at,
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
    for item in sorted(items, key=lambda i: (i.at, KIND_ORDER[i.kind]), reverse=True):
        groups.setdefault((item.region, item.source), []).append(item)
    region_order = {r: i for i, r in enumerate(Region)}
    ordered = sorted(
        groups.items(), key=lambda kv: (region_order[kv[0][0]], -kv[1][0].at.timestamp())
    )
    counts = {k: sum(1 for i in items if i.kind == k) for k in KIND_ORDER}
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

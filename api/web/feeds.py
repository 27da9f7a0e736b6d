""" "Nytt og endret" over HTTP: `/changes` (JSON, or the page for browsers) and Atom feeds.

- `GET /changes?since=&region=` — new, changed and removed documents since a date, grouped by
  region and source, newest first (`samsok.search.store.changes.list_changes`). `since` takes
  `YYYY-MM-DD`, `DD.MM.ÅÅÅÅ` or an ISO timestamp; without it, the last
  `SAMSOK_CHANGES_DAYS` days. A bad value is a 422 whose `error` names the parameter.
- `GET /changes/{region}.atom` (and `/changes.atom` for both regions) — one Atom entry per
  logged change, newest first, with stable `urn:uuid:` ids, `updated` times and a link to
  the document's page.

The page re-renders the form with a Norwegian explanation (HTTP 400) like the other pages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from samsok.api.routes import HTML_TOO, Index
from samsok.api.web import pages
from samsok.api.web.forms import link
from samsok.ingest.documents import Region
from samsok.search.compare import REGION_LABELS, REGION_NAMES
from samsok.search.errors import QueryError
from samsok.search.store.changes import (
    LOCAL_TZ,
    ChangeEvent,
    ChangeItem,
    ChangesResponse,
    default_since,
    entry_id,
    parse_since,
)

__all__ = [
    "ChangesQuery",
    "changes_link",
    "read_changes_query",
    "removed_document_page",
    "router",
]

router = APIRouter()

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 100  # newest logged changes per feed
KIND_LABELS = {"new": "Ny", "changed": "Endret", "removed": "Fjernet"}


@dataclass
class ChangesQuery:
    """`since` and `region` as given, what they mean, and what is wrong with them."""

    values: dict[str, str]
    since: date | datetime | None = None
    region: Region | None = None
    errors: dict[str, str] = field(default_factory=dict)  # Norwegian, for the page
    problems: list[dict[str, object]] = field(default_factory=list)  # English, for 422


def read_changes_query(raw_since: str | None, raw_region: str | None, days: int) -> ChangesQuery:
    since_text = " ".join((raw_since or "").split())
    region_text = (raw_region or "").strip()
    query = ChangesQuery(values={"since": since_text, "region": region_text})
    if region_text:
        try:
            query.region = Region(region_text)
        except ValueError:
            query.errors["region"] = (
                f"Ukjent region «{region_text}». Velg Orkdal, Værnes eller begge."
            )
            query.problems.append(
                _problem("region", f"must be one of {', '.join(r.value for r in Region)}")
            )
    if not since_text:
        query.since = default_since(days)
    else:
        try:
            query.since = parse_since(since_text)
        except ValueError as exc:
            query.errors["since"] = (
                f"«{since_text}» er ikke en gyldig dato. Skriv datoen som DD.MM.ÅÅÅÅ "
                "(for eksempel 18.06.2019) eller ÅÅÅÅ-MM-DD."
            )
            query.problems.append(_problem("since", str(exc)))
        else:
            today = datetime.now(LOCAL_TZ).date()
            start = query.since.date() if isinstance(query.since, datetime) else query.since
            if start > today:
                query.errors["since"] = (
                    f"Datoen {start:%d.%m.%Y} er fram i tid. Velg en dato til og med i dag."
                )
                query.problems.append(_problem("since", f"{start} is in the future"))
                query.since = None
            elif start.year < 1900:
                query.errors["since"] = "Velg en dato etter 1900."
                query.problems.append(_problem("since", "must be after 1900"))
                query.since = None
    if query.since is not None and not isinstance(query.since, datetime):
        query.values["since"] = f"{query.since:%d.%m.%Y}"  # shown as staff write dates
    return query


def _problem(name: str, message: str) -> dict[str, object]:
    return {"loc": ("query", name), "msg": message, "type": "value_error"}


def _days(request: Request) -> int:
    return int(request.app.state.settings.changes_days)


def _checked(request: Request, since: str | None, region: str | None) -> ChangesQuery:
    query = read_changes_query(since, region, _days(request))
    if query.problems:
        raise RequestValidationError(query.problems)
    return query


QSince = Annotated[
    str | None,
    Query(
        description="Start date: YYYY-MM-DD, DD.MM.YYYY or an ISO timestamp (default: "
        "SAMSOK_CHANGES_DAYS days ago)"
    ),
]
QRegion = Annotated[str | None, Query(description="orkdal or vaernes (default: both)")]


@router.get("/changes", response_model=ChangesResponse, tags=["changes"], responses=HTML_TOO)
def changes(
    request: Request, response: Response, index: Index, since: QSince = None, region: QRegion = None
) -> ChangesResponse | Response:
    """New, changed (with what changed) and removed documents since a date, grouped by region
    and source, newest first. Browsers (Accept preferring text/html) get the page."""
    if pages.wants_html(request):
        return changes_page(request, index, since, region)
    if _wants_atom(request):
        return _feed_response(request, index, _checked(request, None, region).region, since)
    response.headers["Vary"] = "Accept"
    query = _checked(request, since, region)
    assert query.since is not None
    try:
        return index.changes(since=query.since, region=query.region)
    except QueryError as exc:
        raise RequestValidationError([_problem("since", str(exc))]) from exc


def _wants_atom(request: Request) -> bool:
    """`?format=atom`, or an Accept header naming Atom (feed readers)."""
    if request.query_params.get("format") == "atom":
        return True
    return "application/atom+xml" in request.headers.get("accept", "")


def changes_page(request: Request, index: Index, since: str | None, region: str | None) -> Response:
    query = read_changes_query(since, region, _days(request))
    result = None
    if not query.errors and query.since is not None:
        try:
            result = index.changes(since=query.since, region=query.region)
        except QueryError:
            query.errors["since"] = "Datoen er fram i tid. Velg en dato til og med i dag."
    form = _PageForm(values=query.values, errors=query.errors)
    # A new or changed document can go straight into a briefing: its first passage is the pick.
    picks: dict[str, str] = {}
    for item in result.items() if result else []:
        if item.kind != "removed":
            chunks = index.chunks_of(item.duplicate_of or item.doc_id)
            if chunks:
                picks[item.doc_id] = f"{chunks[0].doc_id}:{chunks[0].id}"
    context = {
        "form": form,
        "query": query,
        "result": result,
        "feeds": [(r, f"/changes/{r.value}.atom") for r in Region],
        "kind_labels": KIND_LABELS,
        "section": "changes",
        "since_label": _since_label(query.since),
        "picks": picks,
    }
    return pages.render(request, "changes.html", context, 400 if query.errors else 200)


@dataclass
class _PageForm:
    """What the shared form macros expect (`values`, `errors`)."""

    values: dict[str, str]
    errors: dict[str, str]


def _since_label(since: date | datetime | None) -> str:
    if since is None:
        return ""
    if isinstance(since, datetime):
        return f"{since.astimezone(LOCAL_TZ):%d.%m.%Y %H:%M}"
    return f"{since:%d.%m.%Y}"


def changes_link(request: Request, region: Region, since: str = "") -> tuple[str, str]:
    """(URL, label) of "Nytt i <region> siden …": since the given date, else the default."""
    start: date | None = None
    if since:
        try:
            parsed = parse_since(since)
            start = parsed.date() if isinstance(parsed, datetime) else parsed
        except ValueError:
            start = None
    if start is None:
        start = default_since(_days(request))
    url = link("/changes", [("since", start.isoformat()), ("region", region.value)])
    return url, f"Nytt i {REGION_LABELS[region]} siden {start:%d.%m.%Y}"


# The compare page links to the changes per region; templates call this global.
pages.TEMPLATES.env.globals["changes_link"] = changes_link
pages.TEMPLATES.env.globals["KIND_LABELS"] = KIND_LABELS


def change_summary(item: ChangeItem | ChangeEvent) -> str:
    """What changed, in one Norwegian sentence (page and feed)."""
    if isinstance(item, ChangeEvent):
        d = item.detail
        kind = item.kind
        title_changed, old_title = bool(d.get("title_changed")), d.get("old_title")
        text_changed = bool(d.get("text_changed"))
        added, dropped = list(d.get("pages_added", [])), list(d.get("pages_removed", []))  # type: ignore[call-overload]
        edited = list(d.get("pages_changed", []))  # type: ignore[call-overload]
        reason = d.get("reason")
        duplicate = bool(d.get("duplicate_of"))
    else:
        kind = item.kind
        title_changed, old_title = item.title_changed, item.old_title
        text_changed = item.text_changed
        added, dropped, edited = item.pages_added, item.pages_removed, item.pages_changed
        reason = item.removed_reason
        duplicate = bool(item.duplicate_of)
    if kind == "new":
        also = " (samme sak er også publisert et annet sted)" if duplicate else ""
        return f"Nytt dokument{also}."
    if kind == "removed":
        why = {
            "http_404": "finnes ikke lenger på nettstedet (404)",
            "http_410": "er fjernet fra nettstedet (410)",
            "vanished": "er ikke lenger lenket fra nettstedet",
            "renamed": "er erstattet av en ny kopi",
        }.get(str(reason or ""), "er fjernet fra søket")
        return f"Dokumentet {why}."
    parts = []
    if title_changed:
        parts.append(f"ny tittel (var «{old_title}»)")
    if added:
        parts.append(_pages("lagt til", added))
    if dropped:
        parts.append(_pages("fjernet", dropped))
    if edited:
        parts.append(_pages("endret", edited))
    if text_changed and not (added or dropped or edited):
        parts.append("teksten er endret")
    if not parts:
        return "Endret."
    sentence = "; ".join(parts)
    return f"{sentence[0].upper()}{sentence[1:]}."


def _pages(verb: str, numbers: list[int]) -> str:
    label = "side" if len(numbers) == 1 else "sider"
    return f"{label} {', '.join(str(n) for n in numbers)} {verb}"


pages.TEMPLATES.env.globals["change_summary"] = change_summary
pages.TEMPLATES.env.filters["local_time"] = lambda moment: (
    f"{moment.astimezone(LOCAL_TZ):%d.%m.%Y kl. %H:%M}"
)


def removed_document_page(request: Request, doc_id: str) -> Response | None:
    """A removed document's page: what it was and why it went (410), so a link from the
    changes list or a feed never ends on a bare "not found"."""
    index = request.app.state.index
    event = index.last_change(doc_id)
    if event is None or event.kind != "removed":
        return None
    context = {"event": event, "summary": change_summary(event)}
    return pages.render(request, "removed.html", context, 410)


# -- Atom --------------------------------------------------------------------------------------


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(
    events: list[ChangeEvent], *, base_url: str, region: Region | None, self_url: str
) -> bytes:
    """An Atom 1.0 document (RFC 4287) with one entry per event."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "nb"})
    scope = region.value if region else "all"
    where = REGION_NAMES[region] if region else "Orkdal og Værnes"
    _sub(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, f"samsok:changes:{scope}").urn)
    _sub(feed, "title", f"Samsøk – nytt og endret i {where}")
    _sub(feed, "subtitle", "Nye, endrede og fjernede dokumenter i søket")
    newest = events[0].at if events else datetime(2000, 1, 1, tzinfo=UTC)
    _sub(feed, "updated", _rfc3339(newest))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    alternate = link("/changes", [("region", region.value if region else "")])
    _sub(feed, "link", rel="alternate", type="text/html", href=base_url + alternate)
    author = _sub(feed, "author")
    _sub(author, "name", "Samsøk")
    _sub(feed, "generator", "Samsøk")
    for event in events:
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(event))
        _sub(entry, "title", f"{KIND_LABELS[event.kind]}: {event.title}")
        _sub(entry, "updated", _rfc3339(event.at))
        _sub(entry, "published", _rfc3339(event.at))
        _sub(
            entry,
            "link",
            rel="alternate",
            type="text/html",
            href=f"{base_url}/documents/{event.doc_id}",
        )
        entry_author = _sub(entry, "author")
        _sub(entry_author, "name", event.source)
        _sub(entry, "category", term=event.kind, label=KIND_LABELS[event.kind])
        _sub(entry, "category", term=event.region.value, label=REGION_NAMES[event.region])
        _sub(
            entry,
            "summary",
            f"{change_summary(event)} {REGION_LABELS[event.region]}, {event.source}.",
            type="text",
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _feed_response(
    request: Request, index: Index, region: Region | None, since: str | None
) -> Response:
    query = _checked(request, since, None) if since else None
    events = index.change_events(
        since=query.since if query else None,
        region=region,
        limit=FEED_ENTRIES,
        baseline=False,  # a source's first crawl is not news (see samsok.search.store.changes)
    )
    base_url = str(request.base_url).rstrip("/")
    body = atom_feed(events, base_url=base_url, region=region, self_url=str(request.url))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


ATOM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/atom+xml": {}}, "description": "An Atom 1.0 feed"}
}


@router.get("/changes.atom", tags=["changes"], responses=ATOM, response_class=Response)
def changes_feed_all(
    request: Request, index: Index, since: QSince = None, region: QRegion = None
) -> Response:
    """Atom feed of the latest changes in both regions, or in `region`."""
    query = _checked(request, None, region)
    return _feed_response(request, index, query.region, since)


@router.get("/changes/{region}.atom", tags=["changes"], responses=ATOM, response_class=Response)
def changes_feed(request: Request, index: Index, region: Region, since: QSince = None) -> Response:
    """Atom feed of the latest changes in one region (orkdal or vaernes)."""
    return _feed_response(request, index, region, since)

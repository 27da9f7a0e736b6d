""" "Nytt og endret" over HTTP: `/changes` (JSON, or the page for browsers) and Atom feeds.

- `GET /changes?since=&region=` — new, changed and removed documents since a date, grouped by
  region and source, newest first (`SearchIndex.changes`). `since` takes
  `YYYY-MM-DD`, `DD.MM.ÅÅÅÅ` or an ISO timestamp; without it, the last
  `SAMSOK_CHANGES_DAYS` days. A bad value is a 422 whose `error` names the parameter.
- `GET /changes/{region}.atom` (and `/changes.atom` for both regions) — the Atom feeds
  (`atom.py`).

The page re-renders the form with a Norwegian explanation (HTTP 400) like the other pages.
The parameters are read in `changes_query.py`, the Norwegian wording is `changes_text.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from samsok.api.deps import Index, today
from samsok.api.web.atom import FEED_ENTRIES, atom_feed
from samsok.api.web.changes_query import ChangesQuery, problem, read_changes_query
from samsok.api.web.changes_text import KIND_LABELS, since_label
from samsok.api.web.render import HTML_TOO, render_view, wants_html
from samsok.ingest.documents import Region
from samsok.search.errors import QueryError
from samsok.search.index import SearchIndex
from samsok.search.store import ChangesResponse

__all__ = ["ChangesPage", "changes_view", "router"]

router = APIRouter()

PAGE_INVALID = 400  # the changes page's answer to a bad date (the form shows why)


def _read(request: Request, since: str | None, region: str | None) -> ChangesQuery:
    days = int(request.app.state.settings.changes_days)
    return read_changes_query(since, region, days, today(request))


def _checked(request: Request, since: str | None, region: str | None) -> ChangesQuery:
    query = _read(request, since, region)
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
    if wants_html(request):
        view = changes_view(index, _read(request, since, region))
        return render_view(request, "changes.html", view, PAGE_INVALID if view.form.errors else 200)
    if _wants_atom(request):
        return _feed_response(request, index, _checked(request, None, region).region, since)
    response.headers["Vary"] = "Accept"
    query = _checked(request, since, region)
    assert query.since is not None
    try:
        return index.changes(since=query.since, region=query.region)
    except QueryError as exc:
        raise RequestValidationError([problem("since", str(exc))]) from exc


def _wants_atom(request: Request) -> bool:
    """`?format=atom`, or an Accept header naming Atom (feed readers)."""
    if request.query_params.get("format") == "atom":
        return True
    return "application/atom+xml" in request.headers.get("accept", "")


@dataclass
class _PageForm:
    """What the shared form macros expect (`values`, `errors`)."""

    values: dict[str, str]
    errors: dict[str, str]


@dataclass
class ChangesPage:
    form: _PageForm
    query: ChangesQuery
    result: ChangesResponse | None
    feeds: list[tuple[Region, str]]
    kind_labels: dict[str, str]
    since_label: str
    picks: dict[str, str]  # doc_id → its first passage, so it can go straight into a briefing
    section: str = "changes"


def changes_view(index: SearchIndex, query: ChangesQuery) -> ChangesPage:
    result = None
    if not query.errors and query.since is not None:
        try:
            result = index.changes(since=query.since, region=query.region)
        except QueryError:
            query.errors["since"] = "Datoen er fram i tid. Velg en dato til og med i dag."
    picks: dict[str, str] = {}
    for item in result.items() if result else []:
        if item.kind != "removed":
            chunks = index.chunks_of(item.duplicate_of or item.doc_id)
            if chunks:
                picks[item.doc_id] = f"{chunks[0].doc_id}:{chunks[0].id}"
    return ChangesPage(
        form=_PageForm(values=query.values, errors=query.errors),
        query=query,
        result=result,
        feeds=[(r, f"/changes/{r.value}.atom") for r in Region],
        kind_labels=KIND_LABELS,
        since_label=since_label(query.since),
        picks=picks,
    )


# -- Atom --------------------------------------------------------------------------------------


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

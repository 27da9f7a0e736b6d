"""The search pages: `/` (search), `/similar/{doc_id}` and the HTML side of `/compare`.

Each view is one function that computes its data (a dataclass whose fields are the template's
names) and one call that renders it. Every form is a GET form, so the pages work without
JavaScript and every state — including the briefing picks — is a bookmarkable URL.

Parameters arrive as raw strings and are checked here (by the JSON API's rules, see `forms`),
not by FastAPI, so a bad date or value re-renders the page with the user's input and a
Norwegian explanation that names the parameter, with the JSON API's status: 422. A parameter
FastAPI rejects before a page runs (a malformed document id) gets the same kind of page from
`api.errors` (`render.invalid_page`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from samsok.api.deps import get_index
from samsok.api.web.forms import DocIdPath, ParamError, SearchForm, link, read_form, read_int, shown
from samsok.api.web.render import (
    INVALID,
    document_not_found_page,
    render_view,
    unavailable_page,
)
from samsok.ingest.documents import Region
from samsok.search.compare import REGION_NAMES, CompareResponse, compare, other_region
from samsok.search.errors import DocumentNotFound, QueryError, SearchError
from samsok.search.index import SearchIndex
from samsok.search.schemas import (
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    DocumentView,
    Hit,
    IndexStats,
    SearchResponse,
)

__all__ = [
    "COMPARE_MAX",
    "COMPARE_SIZE",
    "PAGE_SIZE",
    "ComparePage",
    "SearchPage",
    "SimilarPage",
    "compare_page",
    "compare_view",
    "router",
    "search_view",
    "similar_view",
]

PAGE_SIZE = 10  # results per search page: one screen of titles and snippets
COMPARE_SIZE = 5  # results per region before "more": two columns stay side by side on a laptop
COMPARE_MAX = 20  # the compare grid has 20 aligned rows (see samsok.css)
PAGER_REACH = 2  # page links shown either side of the current one
UNPARSABLE = "Søket kunne ikke tolkes. Prøv andre eller flere ord."

router = APIRouter(include_in_schema=False)


def _form(request: Request, *, limit: int, regions: bool = True) -> SearchForm:
    query = request.query_params
    return read_form(query, query.getlist("pick"), limit=limit, regions=regions)


def _blocking(form: SearchForm) -> bool:
    return bool(form.errors.keys() - {"pick"})


def _form_page(
    request: Request, form: SearchForm, template: str, view: Callable[[SearchIndex], object]
) -> HTMLResponse:
    """A form's page: its view, the "unavailable" page when the index fails, 422 when invalid."""
    try:
        shown_view = view(get_index(request))
    except SearchError:
        return unavailable_page(request, form)
    return render_view(request, template, shown_view, INVALID if _blocking(form) else 200)


def _query_text(request: Request) -> str:
    return " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS]


# -- search -----------------------------------------------------------------------------------


@dataclass
class SearchPage:
    form: SearchForm
    result: SearchResponse | None
    pager: dict[str, Any] | None
    stats: IndexStats | None
    compare_url: str
    clear_filters_url: str
    first_url: str
    shown_picks: list[str]  # picks on this page are checkboxes; others ride along hidden
    section: str = "search"


def search_view(index: SearchIndex, form: SearchForm) -> SearchPage:
    """The search page's data; a query the analyser cannot parse becomes a form error."""
    result = None
    if form.request is not None:
        try:
            result = index.search(form.request)
        except QueryError:
            form.errors["q"] = UNPARSABLE
    pager = None
    if result is not None and result.total > PAGE_SIZE:
        last = min((result.total - 1) // PAGE_SIZE + 1, MAX_OFFSET // PAGE_SIZE + 1)
        near = range(max(1, form.page - PAGER_REACH), min(last, form.page + PAGER_REACH) + 1)
        pager = {
            "current": form.page,
            "prev": form.page > 1,
            "next": form.page < last,
            "pages": sorted({1, last, *near}),
        }
    return SearchPage(
        form=form,
        result=result,
        pager=pager,
        stats=index.stats() if not form.values["q"] else None,
        compare_url=link("/compare", form.params()),
        clear_filters_url=link("/", [("q", form.values["q"])] + [("pick", p) for p in form.picks]),
        first_url=link("/", form.params()),
        shown_picks=[f"{h.doc_id}:{h.chunk_id}" for h in result.results] if result else [],
    )


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    form = _form(request, limit=PAGE_SIZE)
    return _form_page(request, form, "search.html", lambda index: search_view(index, form))


# -- compare ----------------------------------------------------------------------------------


@dataclass
class ComparePage:
    form: SearchForm
    result: CompareResponse | None
    limit: int
    more_limit: int | None
    search_url: str
    shown_picks: list[str]
    default_limit: int = COMPARE_SIZE
    section: str = "compare"


def compare_form(request: Request) -> tuple[SearchForm, int]:
    """The compare form and its per-region limit (the JSON API's rule, capped to the grid)."""
    # The "more" button adds a second limit after the hidden one: the last value wins (as it
    # does for every repeated parameter of the JSON API).
    raw_limit = (request.query_params.getlist("limit") or [""])[-1].strip()
    limit_error = None
    try:
        limit = min(read_int("limit", raw_limit, 1, MAX_LIMIT), COMPARE_MAX) if raw_limit else None
    except ParamError as exc:
        limit, limit_error = None, exc.message
    limit = limit or COMPARE_SIZE
    form = _form(request, limit=limit, regions=False)
    if limit_error:
        form.errors["limit"] = limit_error
        form.request = None
    return form, limit


def compare_view(index: SearchIndex, form: SearchForm, limit: int) -> ComparePage:
    result = None
    if form.request is not None:
        try:
            result = compare(index, form.request)
        except QueryError:
            form.errors["q"] = UNPARSABLE
    more_limit = None
    if result is not None and limit < COMPARE_MAX and any(c.total > limit for c in result.columns):
        more_limit = min(COMPARE_MAX, limit + COMPARE_SIZE)
    shown_picks = (
        [f"{h.doc_id}:{h.chunk_id}" for c in result.columns for h in c.results] if result else []
    )
    return ComparePage(
        form=form,
        result=result,
        limit=limit,
        more_limit=more_limit,
        search_url=link("/", form.params()),
        shown_picks=shown_picks,
    )


def compare_page(request: Request) -> HTMLResponse:
    """`/compare` for a browser (routes.py declares the route and answers JSON clients)."""
    form, limit = compare_form(request)
    return _form_page(request, form, "compare.html", lambda index: compare_view(index, form, limit))


# -- similar ----------------------------------------------------------------------------------


@dataclass
class SimilarPage:
    doc: DocumentView
    region: Region
    hits: list[Hit]
    error: str | None
    q: str
    compare_url: str | None
    switch_url: str


def similar_view(index: SearchIndex, doc_id: str, raw_region: str, q: str) -> SimilarPage:
    """More like this, restricted to one region (by default the document's other region)."""
    doc = index.document(doc_id)
    error = None
    region = other_region(doc.region)
    if raw_region in {r.value for r in Region}:
        region = Region(raw_region)
    elif raw_region:
        error = (
            f"Ukjent region «{shown(raw_region)}» (parameteren «region»). "
            f"Viser {REGION_NAMES[region]}."
        )
    try:
        hits = index.similar(doc.doc_id, region=region, limit=PAGE_SIZE).results
    except DocumentNotFound:
        hits = []
    return SimilarPage(
        doc=doc,
        region=region,
        hits=hits,
        error=error,
        q=q,
        compare_url=link("/compare", [("q", q)]) if q else None,
        switch_url=link(
            f"/similar/{doc.doc_id}", [("region", other_region(region).value), ("q", q)]
        ),
    )


@router.get("/similar/{doc_id}", response_class=HTMLResponse)
def similar_page(request: Request, doc_id: DocIdPath) -> HTMLResponse:
    raw_region = request.query_params.get("region", "").strip()
    try:
        view = similar_view(get_index(request), doc_id, raw_region, _query_text(request))
    except DocumentNotFound:
        return document_not_found_page(request)
    return render_view(request, "similar.html", view, INVALID if view.error else 200)

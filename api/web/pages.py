"""The web page: server-rendered HTML over the same core calls as the JSON routes.

`router` serves `/` (search) and `/similar/{doc_id}`; `/compare`, `/briefing` and
`/documents/{doc_id}` live in `routes.py` and call the `*_page` functions here when the
client asks for HTML (`wants_html`). Every form is a GET form, so the pages work without
JavaScript and every state — including the briefing picks — is a bookmarkable URL.

Parameters arrive as raw strings and are checked here (by the JSON API's rules, see
`forms`), not by FastAPI, so a bad date or value re-renders the page with the user's input and
a Norwegian explanation that names the parameter, with the JSON API's status: 422. A parameter
FastAPI rejects before a page runs (a malformed document id) gets the same kind of page from
`api.errors` (`invalid_page`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from samsok.api.deps import get_index
from samsok.api.originals import source_href
from samsok.api.web.briefing import (
    TYPE_LABELS,
    BriefingRequest,
    Pick,
    build_briefing,
    format_date,
    http_url,
    resolve_picks,
    snippet_markup,
)
from samsok.api.web.forms import (
    DocIdPath,
    ParamError,
    SearchForm,
    link,
    read_form,
    read_int,
    shown,
)
from samsok.ingest.documents import DocType, Region
from samsok.search.compare import REGION_LABELS, REGION_NAMES, compare, other_region
from samsok.search.errors import DocumentNotFound, QueryError, SearchError
from samsok.search.index import page_url
from samsok.search.schemas import MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, PageView

__all__ = [
    "STATIC_DIR",
    "briefing_page",
    "compare_page",
    "document_page",
    "invalid_page",
    "not_found_page",
    "router",
    "static_files",
    "wants_html",
]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
PAGE_SIZE = 10
COMPARE_SIZE = 5
COMPARE_MAX = 20  # the compare grid has 20 aligned rows (see samsok.css)
SIMILAR_SIZE = 4
TEXT_BUDGET = 60_000  # characters of document text per page view: keeps pages < 100 KB
INVALID = 422  # what the JSON API answers for the same mistakes

# Scripts and styles only from our own origin: an injected tag would not run even if
# escaping ever failed somewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Vary": "Accept",
}


def _static_version() -> str:
    """Content hash of the static files, appended to their URLs so caches refresh on change."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless a filter returns Markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
TEMPLATES.env.filters.update(
    date_nb=format_date,
    href=http_url,
    source_href=source_href,
    snippet=snippet_markup,
    host=_host,
)
TEMPLATES.env.globals.update(
    REGION_LABELS=REGION_LABELS,
    REGION_NAMES=REGION_NAMES,
    TYPE_LABELS=TYPE_LABELS,
    Region=Region,
    DocType=DocType,
    other_region=other_region,
    static_version=_static_version(),
)

router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML to JSON (browsers); `*/*` alone means JSON."""
    best = {"html": 0.0, "json": 0.0}
    for item in request.headers.get("accept", "").split(","):
        media, *params = [p.strip() for p in item.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        kind = {
            "text/html": "html",
            "application/xhtml+xml": "html",
            "application/json": "json",
        }.get(media.lower())
        if kind:
            best[kind] = max(best[kind], q)
    return best["html"] > 0 and best["html"] > best["json"]


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, context, status_code=status, headers=SECURITY_HEADERS
    )


def _form(request: Request, *, limit: int, regions: bool = True) -> SearchForm:
    query = request.query_params
    return read_form(query, query.getlist("pick"), limit=limit, regions=regions)


# -- search -----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    form = _form(request, limit=PAGE_SIZE)
    result = None
    if form.request is not None:
        try:
            result = get_index(request).search(form.request)
        except QueryError:
            form.errors["q"] = "Søket kunne ikke tolkes. Prøv andre eller flere ord."
        except SearchError:
            return _unavailable(request, form)
    pager = None
    if result is not None and result.total > PAGE_SIZE:
        last = min((result.total - 1) // PAGE_SIZE + 1, MAX_OFFSET // PAGE_SIZE + 1)
        pager = {
            "current": form.page,
            "prev": form.page > 1,
            "next": form.page < last,
            "pages": sorted({1, last, *range(max(1, form.page - 2), min(last, form.page + 2) + 1)}),
        }
    context = {
        "form": form,
        "result": result,
        "pager": pager,
        "stats": get_index(request).stats() if not form.values["q"] else None,
        "compare_url": link("/compare", form.params()),
        "clear_filters_url": link(
            "/", [("q", form.values["q"])] + [("pick", p) for p in form.picks]
        ),
        "first_url": link("/", form.params()),
        # Picks on this page are checkboxes; the others ride along as hidden inputs.
        "shown_picks": [f"{h.doc_id}:{h.chunk_id}" for h in result.results] if result else [],
        "section": "search",
    }
    return render(request, "search.html", context, INVALID if _blocking(form) else 200)


def _blocking(form: SearchForm) -> bool:
    return bool(form.errors.keys() - {"pick"})


def _unavailable(request: Request, form: SearchForm | None = None) -> HTMLResponse:
    message = "Søket er ikke tilgjengelig akkurat nå. Prøv igjen om litt."
    return render(
        request,
        "error.html",
        {"title": "Søket er utilgjengelig", "message": message, "form": form},
        503,
    )


# -- compare ----------------------------------------------------------------------------------


def compare_page(request: Request) -> HTMLResponse:
    # The "more" button adds a second limit after the hidden one: the last value wins (as it
    # does for every repeated parameter of the JSON API).
    raw_limit = (request.query_params.getlist("limit") or [""])[-1].strip()
    limit_error = None
    try:
        # The JSON API's rule (1-100); the grid has COMPARE_MAX rows, so more are not shown.
        limit = min(read_int("limit", raw_limit, 1, MAX_LIMIT), COMPARE_MAX) if raw_limit else None
    except ParamError as exc:
        limit, limit_error = None, exc.message
    limit = limit or COMPARE_SIZE
    form = _form(request, limit=limit, regions=False)
    if limit_error:
        form.errors["limit"] = limit_error
        form.request = None
    result = None
    if form.request is not None:
        try:
            result = compare(get_index(request), form.request)
        except QueryError:
            form.errors["q"] = "Søket kunne ikke tolkes. Prøv andre eller flere ord."
        except SearchError:
            return _unavailable(request, form)
    more_limit = None
    if result is not None and limit < COMPARE_MAX and any(c.total > limit for c in result.columns):
        more_limit = min(COMPARE_MAX, limit + COMPARE_SIZE)
    context = {
        "form": form,
        "result": result,
        "limit": limit,
        "default_limit": COMPARE_SIZE,
        "more_limit": more_limit,
        "search_url": link("/", form.params()),
        "shown_picks": [f"{h.doc_id}:{h.chunk_id}" for c in result.columns for h in c.results]
        if result
        else [],
        "section": "compare",
    }
    return render(request, "compare.html", context, INVALID if _blocking(form) else 200)


# -- document ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownPage:
    number: int | None
    text: str
    source_url: str | None
    truncated: bool


def page_window(
    pages: list[PageView], start: int, budget: int
) -> tuple[list[PageView], int | None]:
    """Pages from `start` (0-based) while their text fits `budget`, and the next start."""
    shown: list[PageView] = []
    used = 0
    for i in range(start, len(pages)):
        if shown and used + len(pages[i].text) > budget:
            return shown, i
        shown.append(pages[i])
        used += len(pages[i].text)
    return shown, None


def document_page(request: Request, doc_id: str) -> HTMLResponse:
    """The document page; `doc_id` has passed the route's `DocIdPath` rule."""
    index = get_index(request)
    try:
        doc = index.document(doc_id)
    except DocumentNotFound:
        doc = None
    if doc is None:
        from samsok.api.web.feeds import removed_document_page  # feeds builds on this module

        removed = removed_document_page(request, doc_id)
        return removed or _not_found(request)  # type: ignore[return-value]
    raw_start = request.query_params.get("from_page", "").strip()
    try:
        start = read_int("from_page", raw_start, 1, max(1, len(doc.pages))) - 1 if raw_start else 0
    except ParamError as exc:
        return invalid_page(request, [(exc.name, exc.message)])
    window, next_start = page_window(doc.pages, start, TEXT_BUDGET)
    shown = [
        ShownPage(
            number=p.number,
            text=p.text[:TEXT_BUDGET],
            source_url=source_href(page_url(doc.url, p.number, doc.content_type))
            if p.number
            else None,
            truncated=len(p.text) > TEXT_BUDGET,
        )
        for p in window
    ]
    similar = {}
    for region in (Region.ORKDAL, Region.VAERNES):
        try:
            similar[region] = index.similar(doc.doc_id, region=region, limit=SIMILAR_SIZE).results
        except DocumentNotFound:  # a document without text has nothing to compare by
            similar[region] = []
    numbered = [p.number for p in doc.pages if p.number]
    context = {
        "doc": doc,
        "pages": shown,
        "page_numbers": numbered,
        "is_paged": bool(numbered),
        "window_start": start,
        "next_url": f"/documents/{doc.doc_id}?from_page={next_start + 1}" if next_start else None,
        "prev_url": f"/documents/{doc.doc_id}" if start else None,
        "similar": similar,
        "q": " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS],
    }
    return render(request, "document.html", context)


def invalid_page(request: Request, problems: list[tuple[str, str]]) -> HTMLResponse:
    """The 422 page: which parameter was wrong and why, for mistakes no form can show."""
    return render(
        request,
        "error.html",
        {
            "title": "Ugyldig adresse",
            "message": "Adressen inneholder en verdi som ikke kan brukes:",
            "problems": problems,
            "form": None,
        },
        INVALID,
    )


def not_found_page(request: Request) -> HTMLResponse:
    """No page at this address (no route matched)."""
    return render(
        request,
        "error.html",
        {
            "title": "Fant ikke siden",
            "message": "Det finnes ingen side på denne adressen.",
            "form": None,
        },
        404,
    )


def _not_found(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {
            "title": "Fant ikke dokumentet",
            "message": "Dokumentet finnes ikke i søket. Det kan være fjernet, "
            "eller lenken er feil.",
            "form": None,
        },
        404,
    )


@router.get("/similar/{doc_id}", response_class=HTMLResponse)
def similar_page(request: Request, doc_id: DocIdPath) -> HTMLResponse:
    """More like this, restricted to one region (by default the document's other region)."""
    index = get_index(request)
    try:
        doc = index.document(doc_id)
    except DocumentNotFound:
        return _not_found(request)
    raw_region = request.query_params.get("region", "").strip()
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
    q = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS]
    context = {
        "doc": doc,
        "region": region,
        "hits": hits,
        "error": error,
        "q": q,
        "compare_url": link("/compare", [("q", q)]) if q else None,
        "switch_url": link(
            f"/similar/{doc.doc_id}", [("region", other_region(region).value), ("q", q)]
        ),
    }
    return render(request, "similar.html", context, INVALID if error else 200)


# -- briefing ---------------------------------------------------------------------------------


def briefing_page(request: Request) -> HTMLResponse:
    params = request.query_params
    came_from_compare = params.get("from") == "compare"
    form = read_form(params, params.getlist("pick"), limit=PAGE_SIZE, regions=not came_from_compare)
    # read_form has dropped malformed picks (with a note); an over-long query is cut, not fatal.
    briefing_request = BriefingRequest(
        q=form.values["q"][:MAX_QUERY_CHARS], picks=[Pick.parse(p) for p in form.picks]
    )
    hits, missing = resolve_picks(get_index(request), briefing_request.picks, briefing_request.q)
    briefing = build_briefing(briefing_request.q, date.today(), hits, missing)
    base = [("q", form.values["q"]), *[("pick", p) for p in form.picks]]
    back_path = "/compare" if came_from_compare else "/"
    context = {
        "briefing": briefing,
        "form": form,
        "markdown_url": link("/briefing", [*base, ("format", "md")]),
        "back_url": link(back_path, form.params(page=form.page)),
        "back_label": "Tilbake til sammenligningen" if came_from_compare else "Tilbake til søket",
        "remove_urls": {
            f"{item.doc_id}:{item.chunk_id}": link(
                "/briefing",
                [
                    *[(k, v) for k, v in form.params(picks=False)],
                    *[("pick", p) for p in form.picks if p != f"{item.doc_id}:{item.chunk_id}"],
                    ("from", "compare" if came_from_compare else ""),
                ],
            )
            for item in briefing.items
        },
    }
    return render(request, "briefing.html", context)

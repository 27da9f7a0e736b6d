"""JSON routes. Thin: turn HTTP parameters into core calls and return the shared models.

`/documents/{doc_id}`, `/compare` and `/briefing` answer a browser with their page: each
computes its data with one view function and renders it by the client's format.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from samsok.api.deps import Index, today
from samsok.api.web import (
    COMPARE_SIZE,
    HTML_TOO,
    Briefing,
    BriefingRequest,
    DocIdPath,
    LimitQuery,
    assemble_briefing,
    briefing_page,
    compare_page,
    document_page,
    invalid_page,
    markdown_response,
    wants_html,
)
from samsok.ingest.documents import Region
from samsok.search.compare import CompareResponse, compare
from samsok.search.schemas import DocumentView, IndexStats, SearchRequest, SearchResponse

__all__ = ["BRIEFING_FORMATS", "router"]

router = APIRouter()

# Doc ids and limits follow the rules the pages apply (api.forms): accepted or rejected alike.


# The core builds its answers as validated models; returning a model would make FastAPI
# validate it again in a second thread-pool hop and serialise it on the event loop. These
# routes serialise it in their own worker thread instead: the same bytes FastAPI writes for
# `response_model` (the model's own JSON, by alias), checked by tests/api/test_api.py.
def search_json(result: SearchResponse) -> Response:
    """`result` as the JSON response FastAPI would render for `response_model=SearchResponse`."""
    return Response(result.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/search", response_model=SearchResponse, tags=["search"])
def search(params: Annotated[SearchRequest, Query()], index: Index) -> Response:
    """Hybrid (default), dense or lexical search; results grouped per document."""
    return search_json(index.search(params))


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No document with this id"}}


@router.get(
    "/documents/{doc_id}",
    response_model=DocumentView,
    tags=["documents"],
    responses={**HTML_TOO, **NOT_FOUND},
)
def document(
    doc_id: DocIdPath, index: Index, request: Request, response: Response
) -> DocumentView | Response:
    """A document's metadata and extracted text (per page for PDFs).

    Browsers (Accept preferring text/html) get the document page instead of JSON.
    """
    if wants_html(request):
        return document_page(request, doc_id)
    response.headers["Vary"] = "Accept"
    return index.document(doc_id)


@router.get(
    "/documents/{doc_id}/similar",
    response_model=SearchResponse,
    tags=["documents"],
    responses=NOT_FOUND,
)
def similar(
    doc_id: DocIdPath,
    index: Index,
    region: Region | None = None,
    limit: LimitQuery = SearchRequest.model_fields["limit"].default,
) -> Response:
    """More like this: the nearest other documents, optionally only from one region."""
    return search_json(index.similar(doc_id, region=region, limit=limit))


# /compare and /briefing take raw strings so that the HTML variant can explain a bad value in
# Norwegian on the page; the JSON variant validates through the same pydantic models as
# /search and answers 422 (api.errors) for the same mistakes.
QText = Annotated[str | None, Query(description="Query text")]
QType = Annotated[
    str | None, Query(alias="type", description="Document type: news, report or page")
]
QDate = Annotated[str | None, Query(description="ISO date (YYYY-MM-DD), inclusive")]


@router.get("/compare", response_model=CompareResponse, tags=["search"], responses=HTML_TOO)
def compare_regions(
    request: Request,
    response: Response,
    index: Index,
    q: QText = None,
    doc_type: QType = None,
    date_from: QDate = None,
    date_to: QDate = None,
    limit: Annotated[str | None, Query(description="Results per region, 1-100 (default 5)")] = None,
    mode: Annotated[str | None, Query(description="hybrid (default), dense or lexical")] = None,
) -> CompareResponse | Response:
    """The same query answered for Orkdal and Værnes side by side, with filters applying to both.

    Browsers (Accept preferring text/html) get the comparison page.
    """
    if wants_html(request):
        return compare_page(request)
    response.headers["Vary"] = "Accept"
    given = {
        "q": q or "",
        "type": doc_type,
        "date_from": date_from,
        "date_to": date_to,
        "limit": limit or COMPARE_SIZE,
        "mode": mode,
    }
    search_request = SearchRequest.model_validate({k: v for k, v in given.items() if v is not None})
    return compare(index, search_request)


BRIEFING_FORMATS = ("json", "md", "html")


@router.get(
    "/briefing",
    response_model=Briefing,
    tags=["briefing"],
    responses={
        200: {
            "content": {"text/markdown": {}, "text/html": {}},
            "description": "format=json (default for API clients), md (download) or html",
        }
    },
)
def briefing(
    request: Request,
    response: Response,
    index: Index,
    pick: Annotated[
        list[str] | None, Query(description="Repeated `<doc_id>:<chunk_id>` of a picked hit")
    ] = None,
    q: Annotated[str, Query(description="Query the picks were made for (highlighting)")] = "",
    format: Annotated[
        str | None, Query(description="json, md or html (default: by the Accept header)")
    ] = None,
) -> Briefing | Response:
    """A conference briefing of picked results, as JSON, a Markdown download or a printable page."""
    chosen = format or ("html" if wants_html(request) else "json")
    if chosen not in BRIEFING_FORMATS:
        reason = f"format must be one of {', '.join(BRIEFING_FORMATS)}"
        if wants_html(request):
            return invalid_page(request, [("format", reason)])
        return JSONResponse({"error": reason}, 422)
    if chosen == "html":
        return briefing_page(request)
    wanted = BriefingRequest.model_validate({"q": q, "picks": pick or []})
    result = assemble_briefing(index, wanted, today(request))
    return markdown_response(result) if chosen == "md" else result


@router.get("/stats", response_model=IndexStats, tags=["service"])
def stats(index: Index) -> IndexStats:
    return index.stats()


@router.get("/health", tags=["service"])
def health(index: Index) -> dict[str, object]:
    stats = index.stats()
    return {
        "status": "ok",
        "documents": stats.documents,
        "chunks": stats.chunks,
        "model": stats.model,
        # which store generation this process serves, and how its reloads went
        **index.serving(),
    }

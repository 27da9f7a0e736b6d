"""The HTML side of `/documents/{doc_id}`: the document's text in windows of pages, the
nearest documents from each region, and for a removed document what it was and why it went."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from samsok.api.deps import get_index
from samsok.api.web.changes_text import change_summary
from samsok.api.web.forms import ParamError, read_int
from samsok.api.web.links import source_href
from samsok.api.web.render import document_not_found_page, invalid_page, render, render_view
from samsok.ingest.documents import Region
from samsok.search.errors import DocumentNotFound
from samsok.search.index import SearchIndex, page_url
from samsok.search.schemas import MAX_QUERY_CHARS, DocumentView, Hit, PageView

__all__ = [
    "SIMILAR_SIZE",
    "TEXT_BUDGET",
    "DocumentPage",
    "ShownPage",
    "document_page",
    "document_view",
    "page_window",
    "removed_document_page",
]

SIMILAR_SIZE = 4  # nearest documents per region beside the text: one short column each
TEXT_BUDGET = 60_000  # characters of document text per page view: keeps pages < 100 KB


@dataclass(frozen=True)
class ShownPage:
    number: int | None
    text: str
    source_url: str | None
    truncated: bool


@dataclass
class DocumentPage:
    doc: DocumentView
    pages: list[ShownPage]
    page_numbers: list[int]
    is_paged: bool
    window_start: int
    next_url: str | None
    prev_url: str | None
    similar: dict[Region, list[Hit]]
    q: str


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


def document_view(index: SearchIndex, doc: DocumentView, raw_start: str, q: str) -> DocumentPage:
    """The page's data for a found document; a bad `from_page` raises `ParamError`."""
    start = read_int("from_page", raw_start, 1, max(1, len(doc.pages))) - 1 if raw_start else 0
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
    similar: dict[Region, list[Hit]] = {}
    for region in (Region.ORKDAL, Region.VAERNES):
        try:
            similar[region] = index.similar(doc.doc_id, region=region, limit=SIMILAR_SIZE).results
        except DocumentNotFound:  # a document without text has nothing to compare by
            similar[region] = []
    numbered = [p.number for p in doc.pages if p.number]
    return DocumentPage(
        doc=doc,
        pages=shown,
        page_numbers=numbered,
        is_paged=bool(numbered),
        window_start=start,
        next_url=f"/documents/{doc.doc_id}?from_page={next_start + 1}" if next_start else None,
        prev_url=f"/documents/{doc.doc_id}" if start else None,
        similar=similar,
        q=q,
    )


def document_page(request: Request, doc_id: str) -> Response:
    """The document page; `doc_id` has passed the route's `DocIdPath` rule."""
    index = get_index(request)
    try:
        doc = index.document(doc_id)
    except DocumentNotFound:
        return removed_document_page(request, doc_id) or document_not_found_page(request)
    q = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS]
    try:
        view = document_view(index, doc, request.query_params.get("from_page", "").strip(), q)
    except ParamError as exc:
        return invalid_page(request, [(exc.name, exc.message)])
    return render_view(request, "document.html", view)


def removed_document_page(request: Request, doc_id: str) -> HTMLResponse | None:
    """A removed document's page: what it was and why it went (410), so a link from the
    changes list or a feed never ends on a bare "not found"."""
    event = get_index(request).last_change(doc_id)
    if event is None or event.kind != "removed":
        return None
    return render(request, "removed.html", {"event": event, "summary": change_summary(event)}, 410)

"""`GET /documents/{id}/original`: the kept original of a locally ingested file.

Served from the content-addressed store (`samsok.search.store.originals`): the path is built from
the stored digest, never from the request, so there is nothing to traverse. The response is
`inline` (the browser's PDF viewer opens it, `#page=N` included), `nosniff`, and under a
Content-Security-Policy that lets nothing in the file run: an HTML original is sandboxed.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse
from samsok.api.deps import Index
from samsok.api.web import DocIdPath
from samsok.search.errors import DocumentNotFound, OriginalNotKept
from samsok.search.store import SKIPPED_OVER_CAP, blob_path

__all__ = ["ORIGINAL_HEADERS", "router"]

router = APIRouter()

# PDFs need the browser's own viewer (an extension page), which `sandbox` would block; other
# types (HTML, text) are sandboxed so no script in a kept file ever runs on our origin.
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'; base-uri 'none'"
OTHER_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
ORIGINAL_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=300",
}


@router.get(
    "/documents/{doc_id}/original",
    tags=["documents"],
    response_class=FileResponse,
    responses={
        200: {"content": {"application/pdf": {}, "text/html": {}, "text/plain": {}}},
        404: {"description": "No such document, or no original kept for it"},
    },
)
def original(doc_id: DocIdPath, index: Index) -> FileResponse:
    """The original file of a document ingested from a local file (PDF, HTML or text)."""
    record = index.original(doc_id)
    if record is None:
        if not index.has_document(doc_id):
            raise DocumentNotFound(doc_id)
        raise OriginalNotKept(doc_id, "only documents ingested from local files have one")
    if record.sha256 is None:
        why = (
            "it did not fit under SAMSOK_ORIGINALS_MAX_BYTES"
            if record.skipped == SKIPPED_OVER_CAP
            else str(record.skipped)
        )
        raise OriginalNotKept(doc_id, why)
    path = blob_path(index.data_dir, record.sha256)
    if not path.is_file():
        raise OriginalNotKept(doc_id, "the kept file is missing from the data folder")
    filename = record.name.rsplit("/", 1)[-1]
    media = record.content_type.split(";", 1)[0].strip()
    headers = {
        **ORIGINAL_HEADERS,
        "Content-Security-Policy": PDF_CSP if media == "application/pdf" else OTHER_CSP,
        # RFC 6266: an ASCII fallback plus the exact UTF-8 name.
        "Content-Disposition": (
            f"inline; filename=\"{_ascii(filename)}\"; filename*=UTF-8''{quote(filename)}"
        ),
    }
    return FileResponse(path, media_type=record.content_type, headers=headers)


def _ascii(name: str) -> str:
    """The filename's printable ASCII (space to `~`) without quotes or backslashes."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)

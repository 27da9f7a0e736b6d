"""Where the pages' links may go: `source_href`, a document's "open the source" link (its web
address, or the kept original of a local file). Only http(s) and our own paths become links."""

from __future__ import annotations

from samsok.api.web.briefing import http_url
from samsok.ingest.documents import LOCAL_SCHEME, doc_id_for_url

__all__ = ["source_href"]


def source_href(url: str | None) -> str | None:
    """Where a document's "open the source" link goes: its web address (http/https only), or
    Samsøk's own `/documents/{id}/original[#page=N]` for a locally ingested file."""
    if not url:
        return None
    if url.startswith(LOCAL_SCHEME):
        return f"/documents/{doc_id_for_url(url.split('#', 1)[0])}/original"
    if url.startswith("/documents/"):
        head, _, fragment = url.partition("#")
        parts = head.split("/")
        if (
            len(parts) == 4
            and parts[3] == "original"
            and parts[2].isalnum()
            and (not fragment or (fragment.startswith("page=") and fragment[5:].isdigit()))
        ):
            return url
        return None
    return http_url(url)

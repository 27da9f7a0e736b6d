"""What a read returns: the one `Hit` builder (search, similar, briefings) and the one
`DocumentView` builder, both over one store snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from markupsafe import escape
from samsok.ingest.documents import LOCAL_SCHEME, PDF_TYPE, doc_id_for_url
from samsok.search.errors import DocumentNotFound
from samsok.search.index.lexical import LexicalIndex
from samsok.search.schemas import DocumentView, Hit, PageView, head_fields
from samsok.search.store import DocumentRow, Store

__all__ = ["ChunkRef", "build_hits", "document_view", "page_url", "shorten", "snippet_for"]

# Scores are rounded for the response: six decimals tell every fused score apart and keep the
# JSON short.
SCORE_DECIMALS = 6


class ChunkRef(Protocol):
    """One passage of one document: a ranking entry, or a pick saved in a briefing link."""

    @property
    def doc_id(self) -> str: ...

    @property
    def chunk_id(self) -> int: ...


def page_url(url: str, page: int | None, content_type: str) -> str:
    """Link straight to the page of a PDF (`#page=N` is understood by browsers' PDF viewers).

    A locally ingested file (`local:` name) has no address of its own: its kept original is
    served by Samsøk at `/documents/{id}/original`.
    """
    if url.startswith(LOCAL_SCHEME):
        url = f"/documents/{doc_id_for_url(url)}/original"
    if page and content_type == PDF_TYPE:
        return f"{url.split('#', 1)[0]}#page={page}"
    return url


def shorten(text: str, max_chars: int) -> str:
    """`text` on one line, cut at a word boundary to at most `max_chars` (plus " …")."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0] + " …"


def snippet_for(lexical: LexicalIndex, text: str, query: str, max_chars: int) -> str:
    """HTML of a passage: the best part for `query` with matches marked, or (no query, e.g. a
    briefing opened without one) its opening, escaped."""
    if query:
        return lexical.snippet(text, query, max_chars)
    return str(escape(shorten(text, max_chars)))


def build_hits(
    store: Store,
    lexical: LexicalIndex,
    refs: Sequence[ChunkRef],
    query: str,
    *,
    snippet_chars: int,
    scores: Sequence[float] | None = None,
) -> list[Hit | None]:
    """One `Hit` per entry of `refs`, in order; None where the document or the chunk is gone
    or the chunk is not that document's. `scores` (default 0.0) are the ranking's."""
    docs = store.document_heads([r.doc_id for r in refs])
    chunks = store.chunks([r.chunk_id for r in refs])
    dups = store.duplicates_of([r.doc_id for r in refs])
    hits: list[Hit | None] = []
    for i, ref in enumerate(refs):
        doc, chunk = docs.get(ref.doc_id), chunks.get(ref.chunk_id)
        if doc is None or chunk is None or chunk.doc_id != doc.doc_id:
            hits.append(None)
            continue
        hits.append(
            Hit(
                **head_fields(doc),
                page=chunk.page,
                page_url=page_url(doc.url, chunk.page, doc.content_type),
                snippet=snippet_for(lexical, chunk.text, query, snippet_chars),
                score=round(scores[i], SCORE_DECIMALS) if scores is not None else 0.0,
                chunk_id=chunk.id,
                also_published_at=dups.get(doc.doc_id, []),
            )
        )
    return hits


def document_view(store: Store, doc_id: str) -> DocumentView:
    """A stored document as the API shows it; a near-duplicate lists its primary's URL and the
    other copies as "also published at". Raises DocumentNotFound."""
    row = store.document(doc_id)
    if row is None:
        raise DocumentNotFound(doc_id)
    primary = row.duplicate_of or row.doc_id
    primary_row = store.document(primary)
    urls = [
        u
        for u in [
            primary_row.url if primary_row else None,
            *store.duplicates_of([primary]).get(primary, []),
        ]
        if u and u != row.url
    ]
    return _document_view(row, len(store.chunks_of(primary)), urls)


def _document_view(row: DocumentRow, chunk_count: int, also: list[str]) -> DocumentView:
    return DocumentView(
        **head_fields(row),
        language=row.language,
        content_type=row.content_type,
        fetched_at=row.fetched_at,
        indexed_at=row.indexed_at,
        chunk_count=chunk_count,
        also_published_at=also,
        metadata=row.metadata,
        pages=[PageView(number=p.number, text=p.text) for p in row.pages],
    )

"""Request and response models shared by the HTTP API, the CLI and the web page.

One shape everywhere: `samsok search --json` prints exactly what `GET /search` returns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from samsok.ingest.documents import DocType, DocumentIdentity, Region, identity_fields

__all__ = [
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_QUERY_CHARS",
    "DocumentHead",
    "DocumentRef",
    "DocumentView",
    "Hit",
    "IndexStats",
    "PageView",
    "SearchMode",
    "SearchRequest",
    "SearchResponse",
    "head_fields",
    "public_url",
]

MAX_QUERY_CHARS = 500
MAX_LIMIT = 100
MAX_OFFSET = 1000


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


class SearchRequest(BaseModel):
    """A validated query. Invalid values raise pydantic's ValidationError (HTTP 422)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="Query text")
    region: Region | None = None
    doc_type: DocType | None = Field(default=None, alias="type")
    date_from: date | None = None
    date_to: date | None = None
    limit: int = Field(default=10, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    mode: SearchMode = SearchMode.HYBRID

    @field_validator("q")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("query must contain at least one non-space character")
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> SearchRequest:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from ({self.date_from}) is after date_to ({self.date_to})")
        return self


def public_url(url: str) -> str:
    """A document address safe to show: a `file://` URL (a server path, from documents
    ingested before local names existed) is reduced to `local:<file name>`."""
    if url.lower().startswith("file:"):
        return "local:" + url.rstrip("/").rsplit("/", 1)[-1]
    return url


class _PublicUrls(BaseModel):
    @field_validator("url", "page_url", check_fields=False)
    @classmethod
    def _no_server_paths(cls, value: str) -> str:
        return public_url(value)

    @field_validator("also_published_at", check_fields=False)
    @classmethod
    def _no_server_paths_in_list(cls, value: list[str]) -> list[str]:
        return [public_url(v) for v in value]


class DocumentRef(BaseModel):
    """A document named by its id: what a response about a document starts with."""

    doc_id: str


class DocumentHead(DocumentRef):
    """The fields every document in a response leads with (a hit, a document page, a change),
    in their JSON order; filled from a stored document by `head_fields`."""

    url: str
    title: str
    region: Region
    type: DocType
    source: str
    published: date | None


def head_fields(doc: DocumentIdentity) -> dict[str, Any]:
    """`DocumentHead`'s fields of a stored document (the API calls `doc_type` `type`)."""
    head = identity_fields(doc)
    head["type"] = head.pop("doc_type")
    return head


class _DocumentHead(_PublicUrls, DocumentHead):
    # A hit and a document page show only public addresses.
    pass


class Hit(_DocumentHead):
    """One result: a document, represented by its best-matching chunk."""

    page: int | None = Field(description="PDF page of the best chunk (1-based), else null")
    page_url: str = Field(description="Link to the source, straight to the page for PDFs")
    snippet: str = Field(description="HTML-escaped passage with <mark> around query terms")
    score: float
    chunk_id: int
    also_published_at: list[str] = Field(default_factory=list)


class SearchResponse(BaseModel):
    query: str
    mode: SearchMode
    total: int = Field(
        description="Documents that plausibly match (above the relevance floor), for paging"
    )
    limit: int
    offset: int
    took_ms: float
    results: list[Hit]
    expansions: list[str] = Field(
        default_factory=list,
        description="Other wordings the lexical run also searched for (glossary, suspended "
        "compounds); shown as «Søkte også etter»",
    )


class PageView(BaseModel):
    number: int | None
    text: str


class DocumentView(_DocumentHead):
    language: str | None
    content_type: str
    fetched_at: datetime | None
    indexed_at: datetime
    chunk_count: int
    also_published_at: list[str]
    metadata: dict[str, str]
    pages: list[PageView]


class IndexStats(BaseModel):
    documents: int
    chunks: int
    duplicates: int
    by_region: dict[str, int]
    by_type: dict[str, int]
    by_source: dict[str, int]
    model: str
    dim: int
    last_indexed: datetime | None

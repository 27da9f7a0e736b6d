"""Data types that leave the ingest package.

`Document` is what extraction produces (one per fetched HTML page or PDF);
`Chunk` is what chunking produces and what `search` embeds and indexes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "HTML_TYPE",
    "HTML_TYPES",
    "LOCAL_SCHEME",
    "PDF_TYPE",
    "TEXT_TYPE",
    "Chunk",
    "DocType",
    "Document",
    "DocumentIdentity",
    "ExtractedPage",
    "ExtractedText",
    "Page",
    "Region",
    "SkipReason",
    "doc_id_for_url",
    "identity_fields",
]


class Region(StrEnum):
    ORKDAL = "orkdal"
    VAERNES = "vaernes"


class DocType(StrEnum):
    NEWS = "news"
    REPORT = "report"
    PAGE = "page"


class SkipReason(StrEnum):
    """Why an item was recorded as skipped instead of indexed. Reaches the crawl log."""

    ROBOTS = "robots_disallowed"
    OUT_OF_SCOPE = "out_of_scope"
    EXCLUDED = "excluded_pattern"
    MAX_DEPTH = "max_depth"
    MAX_PAGES = "max_pages"
    QUERY_VARIANTS = "query_variant_cap"
    CONTENT_TYPE = "unsupported_content_type"
    TOO_LARGE = "too_large"
    NOT_MODIFIED = "not_modified"
    UNCHANGED = "unchanged_content"
    DUPLICATE = "duplicate"
    EMPTY = "no_text"
    PDF_ENCRYPTED = "pdf_encrypted"
    PDF_NO_TEXT = "pdf_image_only"
    PDF_BROKEN = "pdf_broken"
    HTML_BROKEN = "html_unparseable"
    LISTING = "listing_page"
    KNOWN_DEAD = "known_dead"  # answered 404/410 in several crawls in a row
    #: A host that is or resolves to a non-global address (CrawlConfig.allow_private is off).
    PRIVATE_ADDRESS = "private_address"
    #: A robots.txt or sitemap redirected to a host that is not one of the source's.
    CROSS_HOST_REDIRECT = "cross_host_redirect"
    #: Not an http(s) URL (file:, ftp:, data:, javascript:, mailto:).
    UNSUPPORTED_SCHEME = "unsupported_scheme"


#: The media types a document's `content_type` takes, and the declared types read as HTML.
HTML_TYPE = "text/html"
PDF_TYPE = "application/pdf"
TEXT_TYPE = "text/plain"
HTML_TYPES = frozenset({HTML_TYPE, "application/xhtml+xml"})

#: Address prefix of documents ingested from local files: `local:rapporter/x.pdf` names the file
#: relative to the folder given to `samsok ingest`, never by its server path.
LOCAL_SCHEME = "local:"


def doc_id_for_url(url: str) -> str:
    """Stable document id: a short hash of the canonical URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Page:
    """A unit of text with its page number (1-based for PDFs, None for HTML)."""

    number: int | None
    text: str


@dataclass(kw_only=True)
class ExtractedText:
    """What extraction reads from one body, whatever it becomes: its title, its text page by
    page, the date and language it states, and extra metadata. Keyword-only, so the views that
    extend it keep their own positional fields first."""

    title: str
    pages: list[Page]
    published: date | None = None
    language: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)


@dataclass
class Document(ExtractedText):
    """One extracted source document, ready to be chunked."""

    url: str
    source: str
    region: Region
    doc_type: DocType
    content_type: str = HTML_TYPE
    fetched_at: datetime | None = None

    @property
    def doc_id(self) -> str:
        return doc_id_for_url(self.url)

    @property
    def content_hash(self) -> str:
        """Hash of what gets indexed: a changed hash means the chunks must be replaced."""
        digest = hashlib.sha256()
        digest.update(self.title.encode("utf-8"))
        for page in self.pages:
            digest.update(b"\x00%d\x00" % (page.number or 0))
            digest.update(page.text.encode("utf-8"))
        return digest.hexdigest()


@dataclass(frozen=True)
class DocumentIdentity:
    """The metadata every stored view of a document carries so it can be shown on its own: a
    chunk, a stored row, a change-log event. Declared once; the views extend it."""

    doc_id: str
    url: str
    source: str
    region: Region
    doc_type: DocType
    title: str
    published: date | None


def identity_fields(doc: Document | DocumentIdentity) -> dict[str, Any]:
    """The `DocumentIdentity` fields of `doc` by name (a `Document` computes its `doc_id`)."""
    return {f.name: getattr(doc, f.name) for f in fields(DocumentIdentity)}


@dataclass(frozen=True)
class Chunk(DocumentIdentity):
    """A passage of a document, small enough for the embedding model.

    Carries the document's metadata so a chunk can be shown on its own. `text` is the passage
    as shown to users; `embed_text` adds the context line that helps retrieval.
    """

    ordinal: int
    text: str
    page: int | None
    heading: str | None = None
    context: str = ""  # "Title — Heading": embedded and indexed with the text, not shown

    @classmethod
    def of(
        cls,
        doc: Document,
        *,
        ordinal: int,
        text: str,
        page: int | None,
        heading: str | None = None,
        context: str = "",
    ) -> Chunk:
        """A passage of `doc`, carrying the document's metadata (the one place that copies it)."""
        return cls(
            **identity_fields(doc),
            ordinal=ordinal,
            text=text,
            page=page,
            heading=heading,
            context=context,
        )

    @property
    def embed_text(self) -> str:
        """What the model embeds and the lexical index sees: context line, then the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()


@dataclass
class ExtractedPage(ExtractedText):
    """What extraction gets out of one fetched body, before it is tied to a source.

    `links` are absolute, in document order, for the crawler to follow (HTML only).
    `is_listing` marks index/listing pages whose items are followed but whose own
    text is mostly teasers of other pages.
    """

    url: str
    content_type: str
    links: list[str] = field(default_factory=list)
    canonical_url: str | None = None
    is_listing: bool = False

    def to_document(
        self,
        *,
        source: str,
        region: Region,
        doc_type: DocType | None = None,
        fetched_at: datetime | None,
    ) -> Document:
        """This page as a document of `source`. `fetched_at` is asked for, never defaulted: it
        is the record of when the text was read (None only where that is unknown). Without
        a `doc_type`, a PDF is a report, a dated page news, any other a page."""
        if doc_type is None:
            if self.content_type == PDF_TYPE:
                doc_type = DocType.REPORT
            elif self.published is not None:
                doc_type = DocType.NEWS
            else:
                doc_type = DocType.PAGE
        return Document(
            url=self.url,
            source=source,
            region=region,
            doc_type=doc_type,
            title=self.title,
            pages=self.pages,
            published=self.published,
            language=self.language,
            content_type=self.content_type,
            fetched_at=fetched_at,
            metadata=dict(self.metadata),
        )

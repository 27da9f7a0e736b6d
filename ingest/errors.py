"""Errors raised by the ingest package.

    IngestError
    ├── SourceConfigError        corpus/sources.toml is missing or malformed
    │   └── UnsupportedScheme    a start URL or prefix that is not http(s) (file:, ftp:, data:)
    ├── FetchError               a URL could not be fetched (network, HTTP status, limits)
    │   └── AddressRefused       the host is (or resolves to) a private/loopback/... address
    └── ExtractionError          a fetched body could not be turned into a Document
        ├── UnsupportedContent   neither HTML nor PDF
        ├── EmptyContent         parsed, but no usable text
        └── PdfError             pypdf could not give text
            ├── PdfEncrypted
            ├── PdfNoText        image-only / scanned
            └── PdfBroken

Every ExtractionError and FetchError carries a `reason` (a SkipReason or a short
machine-readable string) that the crawler writes to the crawl log.
"""

from __future__ import annotations

from samsok.ingest.documents import ExtractedPage, SkipReason

__all__ = [
    "AddressRefused",
    "EmptyContent",
    "ExtractionError",
    "FetchError",
    "IngestError",
    "PdfBroken",
    "PdfEncrypted",
    "PdfError",
    "PdfNoText",
    "SourceConfigError",
    "UnsupportedContent",
    "UnsupportedScheme",
]


class IngestError(Exception):
    """Base class of everything ingest raises on purpose."""


class SourceConfigError(IngestError):
    pass


class UnsupportedScheme(SourceConfigError):
    """A crawl may only start from (and stay under) http:// and https:// URLs: a file:, ftp:,
    data: or javascript: URL would read local files or run nothing we can index."""

    reason = SkipReason.UNSUPPORTED_SCHEME


class FetchError(IngestError):
    def __init__(self, url: str, reason: str, detail: str = "") -> None:
        self.url = url
        self.reason = reason
        self.detail = detail
        super().__init__(f"{url}: {reason}" + (f" ({detail})" if detail else ""))


class AddressRefused(FetchError):
    """A connection to a non-global address (private, loopback, link-local, ...) that the
    crawl configuration does not allow; raised before any request byte is sent."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(host, SkipReason.PRIVATE_ADDRESS, detail)


class ExtractionError(IngestError):
    reason: str = "extraction_failed"

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(f"{url}: {message}" if url else message)


class UnsupportedContent(ExtractionError):
    reason = SkipReason.CONTENT_TYPE


class EmptyContent(ExtractionError):
    """Parsed, but no usable text. `page` holds what was extracted anyway (title, links),
    so the crawler can still follow the links of a page that has no text of its own."""

    reason = SkipReason.EMPTY

    def __init__(
        self, message: str, *, url: str | None = None, page: ExtractedPage | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.page = page


class PdfError(ExtractionError):
    reason = SkipReason.PDF_BROKEN


class PdfEncrypted(PdfError):
    reason = SkipReason.PDF_ENCRYPTED


class PdfNoText(PdfError):
    reason = SkipReason.PDF_NO_TEXT


class PdfBroken(PdfError):
    reason = SkipReason.PDF_BROKEN

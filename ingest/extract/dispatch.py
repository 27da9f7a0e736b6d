"""Dispatch a fetched body to the right extractor by what it *is*, not what it claims.

Servers mislabel: PDFs come as `text/html` or `application/octet-stream`, error pages as
`application/pdf`. So the body is sniffed first — `%PDF-` within the first KiB (some
generators put junk before the header) means PDF; an HTML tag or doctype near the start
means HTML — and the declared type only decides for bodies that look like neither
(`text/plain` is read as text with the HTML extractor's plain-text path). Anything else is
`UnsupportedContent`; no text is `EmptyContent` (or `PdfNoText` for a PDF).
"""

from __future__ import annotations

import logging
import re
from typing import Literal

from samsok.ingest.config import ExtractConfig
from samsok.ingest.documents import HTML_TYPES, PDF_TYPE, TEXT_TYPE, ExtractedPage
from samsok.ingest.errors import EmptyContent, UnsupportedContent
from samsok.ingest.extract.html import extract_html, looks_like_html
from samsok.ingest.extract.pdf import extract_pdf

__all__ = ["ContentKind", "extract", "sniff"]

logger = logging.getLogger(__name__)

ContentKind = Literal["pdf", "html", "text", "other"]

_PDF_MAGIC = b"%PDF-"
#: Where "%PDF-" may sit: readers accept it within the first 1024 bytes (PDF 1.7, annex H).
_PDF_HEADER_WINDOW = 1024
#: Bytes checked for text vs binary (by hand: a few lines of any text format).
_TEXT_SAMPLE = 512
#: Bytes searched for an HTML start (by hand: room for a BOM, comments and a long doctype).
_HTML_SAMPLE = 2048
#: A UTF-8 character is at most 4 bytes: a sample cut inside one ends in at most 3 of them.
_UTF8_CUT_TAIL = 3
#: Share of printable bytes that makes a non-UTF-8 sample text (by hand; legacy 8-bit pages).
_MIN_PRINTABLE_SHARE = 0.9
_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\xd0\xcf\x11\xe0",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"\x00\x00\x01\x00",
    b"%!PS",
    b"{\\rtf",
)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _looks_textual(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sample is fine.
        return exc.start >= len(head) - _UTF8_CUT_TAIL or _mostly_printable(head)
    return True


def _mostly_printable(head: bytes) -> bool:
    printable = sum(32 <= b < 127 or b in (9, 10, 13) or b >= 160 for b in head)
    return printable >= _MIN_PRINTABLE_SHARE * len(head)


def sniff(body: bytes, content_type: str | None) -> ContentKind:
    """What the body really is: "pdf", "html", "text" or "other"."""
    head = body[:_PDF_HEADER_WINDOW]
    magic_at = head.find(_PDF_MAGIC)
    if magic_at >= 0 and b"<" not in head[:magic_at]:  # not "%PDF-" quoted in an HTML page
        return "pdf"
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        return "other"
    if not _looks_textual(head[:_TEXT_SAMPLE]):
        return "other"
    sample = body[:_HTML_SAMPLE].decode("utf-8", errors="replace").lstrip("\ufeff")
    if looks_like_html(sample):
        return "html"
    media = _media_type(content_type)
    if media in HTML_TYPES or media == TEXT_TYPE or media == "":
        return "text"
    return "other"


def extract(
    body: bytes, url: str, content_type: str | None, config: ExtractConfig
) -> ExtractedPage:
    """Extract a fetched body; `content_type` is the HTTP header (charset is honoured)."""
    if not body or not body.strip():
        raise EmptyContent("empty body", url=url)
    kind = sniff(body, content_type)
    declared = _media_type(content_type)
    if kind == "pdf":
        if declared and declared != PDF_TYPE:
            logger.info("%s: served as %s but is a PDF", url, declared)
        page = extract_pdf(body, url, config)
    elif kind in ("html", "text"):
        if declared == PDF_TYPE:
            logger.info("%s: served as application/pdf but is %s", url, kind)
        match = _CHARSET.search(content_type or "")
        page = extract_html(body, url, config, declared_encoding=match.group(1) if match else None)
    else:
        raise UnsupportedContent(
            f"neither HTML nor PDF (declared {declared or 'no type'})", url=url
        )
    if not any(p.text.strip() for p in page.pages):
        raise EmptyContent("no text extracted", url=url, page=page)
    return page

"""PDF → `ExtractedPage` with pypdf: text per page, title, creation date, language.

Failure is always one of three typed errors, with the reason in the message:

* `PdfEncrypted` — encrypted and the empty user password does not open it;
* `PdfNoText` — opens, but no page has a text layer (scans, images);
* `PdfBroken` — anything else pypdf (or a malformed stream under it) throws, wrapped
  with the original exception's type and message.

Guards: at most `ExtractConfig.pdf_max_pages` pages are read, and extraction stops between
pages once `pdf_time_limit` seconds have passed (after the first page, so a slow PDF still
yields something); either way `metadata["pdf_truncated"]`
says so. pypdf's own limits (`pypdf.Configuration`: 75 MB per decompressed stream, array
and dictionary sizes) bound the work inside one page. A single page is not interruptible
in-process; run extraction in a worker process if a hard wall-clock limit is needed.
"""

from __future__ import annotations

import io
import logging
import re
import time
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from pypdf import PasswordType, PdfReader
from samsok.ingest.config import ExtractConfig
from samsok.ingest.documents import PDF_TYPE, ExtractedPage, Page
from samsok.ingest.errors import PdfBroken, PdfEncrypted, PdfError, PdfNoText
from samsok.ingest.extract.language import detect_language
from samsok.ingest.extract.pdf_text import clean_pages

__all__ = ["extract_pdf"]

logger = logging.getLogger(__name__)

_JUNK_TITLES = re.compile(
    r"^(untitled|unbenannt|uten tittel|dokument\d*|document\d*|slide \d+|"
    r"powerpoint[- ]presenta\w+|microsoft word)$",
    re.IGNORECASE,
)
_OFFICE_PREFIX = re.compile(r"^microsoft (word|powerpoint|excel) - ", re.IGNORECASE)
_FILE_SUFFIX = re.compile(r"\.(docx?|pptx?|xlsx?|odt|rtf|pdf|indd|txt)$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^(side|page|s\.)?\s*[-–]?\s*\d+\s*[-–]?\s*((av|of|/)\s*\d+)?$", re.I)


def _open(body: bytes, url: str) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # missing crypto backend, unknown handler, ...
                raise PdfEncrypted(
                    f"encrypted PDF could not be decrypted: {type(exc).__name__}: {exc}", url=url
                ) from exc
            if opened == PasswordType.NOT_DECRYPTED:
                raise PdfEncrypted("encrypted PDF needs a password", url=url)
        return reader
    except PdfError:
        raise
    except Exception as exc:  # pypdf's PdfReadError and whatever a malformed file triggers
        raise PdfBroken(f"cannot open PDF: {type(exc).__name__}: {exc}", url=url) from exc


def _page_count(reader: PdfReader, url: str) -> int:
    try:
        return len(reader.pages)
    except Exception as exc:
        raise PdfBroken(f"cannot read the page tree: {type(exc).__name__}: {exc}", url=url) from exc


def _raw_texts(
    reader: PdfReader, total: int, url: str, config: ExtractConfig, metadata: dict[str, str]
) -> list[str]:
    limit = min(total, config.pdf_max_pages)
    deadline = time.monotonic() + config.pdf_time_limit
    texts: list[str] = []
    errors: list[str] = []
    for index in range(limit):
        if index and time.monotonic() > deadline:  # the first page is always read
            metadata["pdf_truncated"] = f"time limit after {index} pages"
            logger.warning("%s: PDF time limit reached after %d of %d pages", url, index, total)
            break
        try:
            texts.append(reader.pages[index].extract_text() or "")
        except Exception as exc:  # one bad page must not lose the others
            errors.append(f"page {index + 1}: {type(exc).__name__}: {exc}")
            texts.append("")
    else:
        if limit < total:
            metadata["pdf_truncated"] = f"page cap {limit} of {total}"
    if errors:
        metadata["pdf_page_errors"] = str(len(errors))
        logger.info("%s: %d PDF page(s) failed, first: %s", url, len(errors), errors[0])
        if len(errors) == len(texts):
            raise PdfBroken(f"no page could be read ({errors[0]})", url=url)
    return texts


#: A title is at least this long ("Ny" is a fragment) ...
_MIN_TITLE_CHARS = 3
#: ... and, taken from the text, at most this long (by hand: two lines of a cover title) ...
_MAX_TEXT_TITLE_CHARS = 150
#: ... found among the first page's first paragraphs (by hand: below a cover's header lines).
_TITLE_PARAGRAPHS = 6


def _clean_title(value: object) -> str:
    title = re.sub(r"\s+", " ", str(value or "").replace("\x00", "")).strip()
    title = _FILE_SUFFIX.sub("", _OFFICE_PREFIX.sub("", title)).strip()
    if len(title) < _MIN_TITLE_CHARS or _JUNK_TITLES.match(title):
        return ""
    return title


def _title_from_text(pages: list[Page]) -> str:
    """The first short paragraph of the first page that does not end a sentence."""
    if not pages:
        return ""
    for paragraph in pages[0].text.split("\n\n")[:_TITLE_PARAGRAPHS]:
        line = paragraph.strip()
        if (
            _MIN_TITLE_CHARS <= len(line) <= _MAX_TEXT_TITLE_CHARS
            and "\n" not in line
            and not line.endswith((".", ",", ";"))
            and not _PAGE_NUMBER.match(line)
            and re.search(r"[^\W\d_]{2}", line)
        ):
            return line
    return ""


def _title_from_url(url: str) -> str:
    stem = PurePosixPath(unquote(urlsplit(url).path)).stem
    return re.sub(r"[-_]+", " ", stem).strip()


def _metadata_fields(reader: PdfReader, config: ExtractConfig) -> tuple[str, date | None]:
    """(title, creation date) from the document information; unreadable metadata is None."""
    try:
        info = reader.metadata
        title = _clean_title(info.title) if info is not None else ""
        created = info.creation_date if info is not None else None
    except Exception as exc:  # malformed /Info or date strings
        logger.debug("unreadable PDF metadata: %s", exc)
        return "", None
    published = created.date() if created is not None else None
    if published is not None and not config.earliest_date <= published <= date.today():
        published = None
    return title, published


def extract_pdf(body: bytes, url: str, config: ExtractConfig) -> ExtractedPage:
    """Extract the text of a PDF, one `Page` (1-based `number`) per page with text."""
    reader = _open(body, url)
    total = _page_count(reader, url)
    metadata: dict[str, str] = {"extractor": "pypdf", "pdf_pages": str(total)}
    raw = _raw_texts(reader, total, url, config, metadata)
    cleaned = clean_pages(raw)
    pages = [Page(number=i + 1, text=text) for i, text in enumerate(cleaned) if text.strip()]
    if not pages:
        raise PdfNoText(f"no text layer in {len(raw)} page(s) (scanned or image-only PDF)", url=url)
    title, published = _metadata_fields(reader, config)
    title_source = "metadata"
    if not title:
        title, title_source = _title_from_text(pages), "first-line"
    if not title:
        title, title_source = _title_from_url(url), "url"
    metadata["title_source"] = title_source
    metadata["pdf_pages_with_text"] = str(len(pages))
    text = "\n\n".join(page.text for page in pages)
    return ExtractedPage(
        url=url,
        content_type=PDF_TYPE,
        title=title,
        pages=pages,
        published=published,
        language=detect_language(text, config.language_min_chars),
        metadata=metadata,
    )

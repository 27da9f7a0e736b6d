"""Ingest local files and folders (`samsok ingest PATH… --region R`, `samsok extract FILE`).

Yields the crawler's event types, so local files go through the same indexing path and every
file is either indexed or recorded as skipped/failed with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from samsok.ingest.config import ExtractConfig
from samsok.ingest.crawl import CrawlEvent, DocumentFetched, ItemFailed, ItemSkipped
from samsok.ingest.errors import ExtractionError
from samsok.ingest.extract import extract
from samsok.ingest.models import DocType, ExtractedPage, Region, SkipReason

__all__ = ["SUPPORTED_SUFFIXES", "extract_local_file", "iter_files", "read_paths"]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "text/html",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
}


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths, in a stable order; hidden files and folders are left out."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in relative.parts):
                    yield child
        else:
            yield path


def extract_local_file(path: Path, *, url: str | None, config: ExtractConfig) -> ExtractedPage:
    """Extract one file; `url` (where it was fetched from) resolves its links and names it."""
    content_type = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    return extract(path.read_bytes(), url or path.resolve().as_uri(), content_type, config)


def read_paths(
    paths: Iterable[Path],
    *,
    region: Region,
    source: str,
    doc_type: DocType | None,
    config: ExtractConfig,
) -> Iterator[CrawlEvent]:
    for path in iter_files(paths):
        uri = path.resolve().as_uri()
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield ItemSkipped(
                uri, SkipReason.CONTENT_TYPE, f"unsupported file type {path.suffix or '(none)'}"
            )
            continue
        try:
            page = extract_local_file(path, url=uri, config=config)
        except ExtractionError as exc:
            log.info("skipped %s: %s", path, exc)
            yield ItemSkipped(uri, exc.reason, str(exc))
            continue
        except OSError as exc:
            yield ItemFailed(uri, "read_error", str(exc))
            continue
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        yield DocumentFetched(
            page.to_document(source=source, region=region, doc_type=doc_type, fetched_at=modified),
            new=True,
        )

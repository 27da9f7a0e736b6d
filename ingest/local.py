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
from samsok.ingest.crawl import (
    CrawlEvent,
    DocumentFetched,
    DocumentRemoved,
    ItemFailed,
    ItemSkipped,
    OriginalBytes,
)
from samsok.ingest.documents import (
    HTML_TYPE,
    LOCAL_SCHEME,
    PDF_TYPE,
    TEXT_TYPE,
    DocType,
    ExtractedPage,
    Region,
    SkipReason,
    doc_id_for_url,
)
from samsok.ingest.errors import ExtractionError
from samsok.ingest.extract import extract

__all__ = [
    "SUPPORTED_SUFFIXES",
    "extract_local_file",
    "iter_files",
    "iter_named_files",
    "local_url",
    "read_paths",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {
    ".html": HTML_TYPE,
    ".htm": HTML_TYPE,
    ".xhtml": HTML_TYPE,
    ".pdf": PDF_TYPE,
    ".txt": TEXT_TYPE,
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
    """Extract one file; `url` (where it was fetched from) resolves its links and names it.

    Without one the file is named `local:<file name>`, never by its path on this machine."""
    content_type = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    return extract(path.read_bytes(), url or local_url(path.name), content_type, config)


def iter_named_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Files under the given paths with their stable name: relative to the folder given, led by
    that folder's own name (`rapporter/x.pdf`), so no server path leaks into a document."""
    for path in paths:
        base = path.resolve()
        for file in iter_files([path]):
            if path.is_dir():
                name = f"{base.name}/{file.resolve().relative_to(base).as_posix()}"
            else:
                name = base.name
            yield file, name


def local_url(name: str) -> str:
    return f"{LOCAL_SCHEME}{name}"


def _served_type(content_type: str, data: bytes) -> str:
    """The type the kept original is served with; text gets its charset when it is UTF-8."""
    if content_type.startswith("text/"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return content_type
        return f"{content_type}; charset=utf-8"
    return content_type


def read_paths(
    paths: Iterable[Path],
    *,
    region: Region,
    source: str,
    doc_type: DocType | None,
    config: ExtractConfig,
) -> Iterator[CrawlEvent]:
    for path, name in iter_named_files(paths):
        url = local_url(name)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield ItemSkipped(
                url, SkipReason.CONTENT_TYPE, f"unsupported file type {path.suffix or '(none)'}"
            )
            continue
        try:
            data = path.read_bytes()
            page = extract(data, url, SUPPORTED_SUFFIXES.get(path.suffix.lower()), config)
        except ExtractionError as exc:
            log.info("skipped %s: %s", name, exc)
            yield ItemSkipped(url, exc.reason, str(exc))
            continue
        except OSError as exc:
            yield ItemFailed(url, "read_error", f"{name}: {exc.strerror or exc}")
            continue
        # Documents ingested before local names existed were addressed by their file:// URL,
        # a server path: replace such a copy by this one.
        legacy = path.resolve().as_uri()
        yield DocumentRemoved(legacy, doc_id_for_url(legacy), "renamed")
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        yield DocumentFetched(
            page.to_document(source=source, region=region, doc_type=doc_type, fetched_at=modified),
            new=True,
            original=OriginalBytes(name, data, _served_type(page.content_type, data)),
        )

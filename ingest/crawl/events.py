"""What a crawl yields (`CrawlEvent`s) and what it counts (`CrawlSummary`).

Re-exported by `samsok.ingest.crawl.crawler`, where the rest of the code base imports them from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from samsok.ingest.documents import Document

__all__ = [
    "CrawlEvent",
    "CrawlSummary",
    "DocumentFetched",
    "DocumentRemoved",
    "DocumentUnchanged",
    "ItemFailed",
    "ItemSkipped",
    "OriginalBytes",
    "count",
    "counted",
]


@dataclass(frozen=True)
class OriginalBytes:
    """A local file's bytes, kept beside the index so its result can open it (no web address)."""

    name: str  # relative name shown to people, e.g. "rapporter/x.pdf" (never a server path)
    data: bytes = field(repr=False)
    content_type: str


@dataclass(frozen=True)
class DocumentFetched:
    document: Document
    new: bool  # False: a changed version of a document indexed before
    original: OriginalBytes | None = None  # local files only


@dataclass(frozen=True)
class DocumentUnchanged:
    url: str
    doc_id: str | None = None


@dataclass(frozen=True)
class DocumentRemoved:
    url: str
    doc_id: str
    reason: str  # http_404 | http_410 | vanished


@dataclass(frozen=True)
class ItemSkipped:
    url: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class ItemFailed:
    url: str
    reason: str
    detail: str = ""


CrawlEvent = DocumentFetched | DocumentUnchanged | DocumentRemoved | ItemSkipped | ItemFailed


@dataclass
class CrawlSummary:
    """Counts of one `crawl()` call (all sources); per-run counts are kept in crawl.db.

    Page URLs only: robots.txt and sitemap requests count in `requests` and are in the crawl
    log, not here. `skipped` and `failed` are by reason (e.g. skipped known_dead).
    """

    fetched: int = 0  # 2xx bodies received
    not_modified: int = 0  # 304 answers
    new: int = 0
    changed: int = 0
    unchanged: int = 0  # 304, same body/content hash, or same (recently checked) sitemap lastmod
    removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in vars(self).items()}

    def add(self, key: str, reason: str | None = None) -> None:
        """One more `key` (a count), or one more `reason` under `key` (skipped/failed)."""
        count(vars(self), key, reason)


def count(counts: dict[str, Any], key: str, reason: str | None = None) -> None:
    """Bump `counts[key]`, or `counts[key][reason]` (the layout of CrawlSummary and run counts)."""
    if reason is None:
        counts[key] = counts.get(key, 0) + 1
    else:
        bucket = counts.setdefault(key, {})
        bucket[reason] = bucket.get(reason, 0) + 1


def counted(http: str | None, event: CrawlEvent | None) -> list[tuple[str, str | None]]:
    """What one page URL adds to the counts: (key, reason) pairs.

    `http` is the fetch outcome ("ok" → fetched, "not_modified"), None without a request.
    """
    bumps: list[tuple[str, str | None]] = []
    if http in ("ok", "not_modified"):
        bumps.append(("fetched" if http == "ok" else "not_modified", None))
    if isinstance(event, DocumentFetched):
        bumps.append(("new" if event.new else "changed", None))
    elif isinstance(event, DocumentUnchanged):
        bumps.append(("unchanged", None))
    elif isinstance(event, DocumentRemoved):
        bumps.append(("removed", None))
    elif isinstance(event, ItemSkipped | ItemFailed):
        # str(): a SkipReason would print as itself in the summary, not as its value.
        bumps.append(("skipped" if isinstance(event, ItemSkipped) else "failed", str(event.reason)))
    return bumps

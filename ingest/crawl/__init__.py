"""Crawling: sources, frontier, robots.txt, sitemaps, crawl state and the events a crawl yields.

A closed package: import from here (docs/architecture.md).

The names load on first use (PEP 562): `CrawlState` or the event types come without the
crawler's HTTP client and parsers, so `samsok status` and the index's readers stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samsok.ingest.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from samsok.ingest.crawl.crawler import Crawler
    from samsok.ingest.crawl.events import (
        CrawlEvent,
        CrawlSummary,
        DocumentFetched,
        DocumentRemoved,
        DocumentUnchanged,
        ItemFailed,
        ItemSkipped,
        OriginalBytes,
    )
    from samsok.ingest.crawl.schema import LogEntry, PageState
    from samsok.ingest.crawl.sources import Source, SourceKind, load_sources, parse_sources
    from samsok.ingest.crawl.state import CrawlState

__all__ = [
    "CrawlEvent",
    "CrawlState",
    "CrawlSummary",
    "Crawler",
    "DocumentFetched",
    "DocumentRemoved",
    "DocumentUnchanged",
    "ItemFailed",
    "ItemSkipped",
    "LogEntry",
    "OriginalBytes",
    "PageState",
    "Source",
    "SourceKind",
    "load_sources",
    "parse_sources",
]

# Each public name and the module it lives in.
_HOMES = {
    "CrawlEvent": "events",
    "CrawlState": "state",
    "CrawlSummary": "events",
    "Crawler": "crawler",
    "DocumentFetched": "events",
    "DocumentRemoved": "events",
    "DocumentUnchanged": "events",
    "ItemFailed": "events",
    "ItemSkipped": "events",
    "LogEntry": "schema",
    "OriginalBytes": "events",
    "PageState": "schema",
    "Source": "sources",
    "SourceKind": "sources",
    "load_sources": "sources",
    "parse_sources": "sources",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

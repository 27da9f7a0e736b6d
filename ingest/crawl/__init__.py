"""Crawling: sources, frontier, robots.txt, sitemaps, crawl state and the events a crawl yields.

A closed package: import from here (docs/architecture.md).
"""

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

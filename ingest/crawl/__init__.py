"""Crawling: sources, frontier, robots.txt, sitemaps, crawl state and the events a crawl yields.

A closed package: import from here (docs/architecture.md).

The names load on first use (PEP 562): `CrawlState` or the event types come without the
crawler's HTTP client and parsers, so `samsok status` and the index's readers stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

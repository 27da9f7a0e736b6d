"""The crawler's module layout: public names stay where callers import them; modules stay small."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

INGEST = Path(__file__).resolve().parents[2] / "ingest"
CRAWLER_MODULES = ("bodies", "crawl", "crawlschema", "crawlstate", "events", "exchange", "fetch",
                   "fetch_types", "frontier", "interpret", "politeness", "robots", "sitemap",
                   "transport")

#: name → (module callers import it from, module that defines it)
PUBLIC = {
    "Crawler": ("ingest.crawl", "ingest.crawl"),
    "CrawlEvent": ("ingest.crawl", "ingest.events"),
    "CrawlSummary": ("ingest.crawl", "ingest.events"),
    "DocumentFetched": ("ingest.crawl", "ingest.events"),
    "DocumentRemoved": ("ingest.crawl", "ingest.events"),
    "DocumentUnchanged": ("ingest.crawl", "ingest.events"),
    "ItemFailed": ("ingest.crawl", "ingest.events"),
    "ItemSkipped": ("ingest.crawl", "ingest.events"),
    "Fetcher": ("ingest.fetch", "ingest.fetch"),
    "FetchResult": ("ingest.fetch", "ingest.fetch_types"),
    "Outcome": ("ingest.fetch", "ingest.fetch_types"),
    "Validators": ("ingest.fetch", "ingest.fetch_types"),
    "RewritingTransport": ("ingest.fetch", "ingest.transport"),
    "BodyDecoder": ("ingest.fetch", "ingest.bodies"),
    "sniff_media_type": ("ingest.fetch", "ingest.bodies"),
    "parse_retry_after": ("ingest.fetch", "ingest.politeness"),
    "PageState": ("ingest.crawlstate", "ingest.crawlschema"),
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_re_exported(name: str) -> None:
    where, home = PUBLIC[name]
    module = importlib.import_module(where)
    assert name in module.__all__
    assert getattr(module, name) is getattr(importlib.import_module(home), name)


@pytest.mark.parametrize("name", CRAWLER_MODULES)
def test_crawler_modules_stay_small(name: str) -> None:
    lines = (INGEST / f"{name}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= 300, f"ingest/{name}.py has {lines} lines; split it along a real seam"

"""The crawler's module layout: public names stay where callers import them; modules stay small."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

INGEST = Path(__file__).resolve().parents[2] / "ingest"
CRAWLER_MODULES = ("bodies", "crawl", "crawlschema", "crawlstate", "events", "exchange", "fetch",
                   "fetch_types", "frontier", "interpret", "politeness", "robots", "sitemap",
                   "transport", "sitefiles", "netguard")

#: name → (module callers import it from, module that defines it)
PUBLIC = {
    "Crawler": ("samsok.ingest.crawl", "samsok.ingest.crawl"),
    "CrawlEvent": ("samsok.ingest.crawl", "samsok.ingest.events"),
    "CrawlSummary": ("samsok.ingest.crawl", "samsok.ingest.events"),
    "DocumentFetched": ("samsok.ingest.crawl", "samsok.ingest.events"),
    "DocumentRemoved": ("samsok.ingest.crawl", "samsok.ingest.events"),
    "DocumentUnchanged": ("samsok.ingest.crawl", "samsok.ingest.events"),
    "ItemFailed": ("samsok.ingest.crawl", "samsok.ingest.events"),
    "ItemSkipped": ("samsok.ingest.crawl", "samsok.ingest.events"),
    "Fetcher": ("samsok.ingest.fetch", "samsok.ingest.fetch"),
    "FetchResult": ("samsok.ingest.fetch", "samsok.ingest.fetch_types"),
    "Outcome": ("samsok.ingest.fetch", "samsok.ingest.fetch_types"),
    "Validators": ("samsok.ingest.fetch", "samsok.ingest.fetch_types"),
    "RewritingTransport": ("samsok.ingest.fetch", "samsok.ingest.transport"),
    "BodyDecoder": ("samsok.ingest.fetch", "samsok.ingest.bodies"),
    "sniff_media_type": ("samsok.ingest.fetch", "samsok.ingest.bodies"),
    "parse_retry_after": ("samsok.ingest.fetch", "samsok.ingest.politeness"),
    "PageState": ("samsok.ingest.crawlstate", "samsok.ingest.crawlschema"),
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

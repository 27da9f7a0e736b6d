"""The crawler's module layout: public names stay where callers import them; modules stay small."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

INGEST = Path(__file__).resolve().parents[2] / "ingest"
CRAWLER_MODULES = sorted(
    str(path.relative_to(INGEST))
    for folder in ("fetch", "crawl")
    for path in (INGEST / folder).glob("*.py")
)

#: name → (module callers import it from, module that defines it)
PUBLIC = {
    "Crawler": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.crawler"),
    "CrawlEvent": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.events"),
    "CrawlSummary": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.events"),
    "DocumentFetched": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.events"),
    "DocumentRemoved": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.events"),
    "DocumentUnchanged": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.events"),
    "ItemFailed": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.events"),
    "ItemSkipped": ("samsok.ingest.crawl.crawler", "samsok.ingest.crawl.events"),
    "Fetcher": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.client"),
    "FetchResult": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.results"),
    "Outcome": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.results"),
    "Validators": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.results"),
    "RewritingTransport": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.transport"),
    "BodyDecoder": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.bodies"),
    "sniff_media_type": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.bodies"),
    "parse_retry_after": ("samsok.ingest.fetch.client", "samsok.ingest.fetch.politeness"),
    "PageState": ("samsok.ingest.crawl.state", "samsok.ingest.crawl.schema"),
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_re_exported(name: str) -> None:
    where, home = PUBLIC[name]
    module = importlib.import_module(where)
    assert name in module.__all__
    assert getattr(module, name) is getattr(importlib.import_module(home), name)


@pytest.mark.parametrize("name", CRAWLER_MODULES)
def test_crawler_modules_stay_small(name: str) -> None:
    lines = (INGEST / name).read_text(encoding="utf-8").count("\n")
    assert lines <= 350, f"ingest/{name} has {lines} lines; split it along a real seam"

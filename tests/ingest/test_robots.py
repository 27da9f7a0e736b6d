"""robots.txt rules and the per-origin cache."""

from __future__ import annotations

import httpx
import pytest
from samsok.ingest.config import CrawlConfig
from samsok.ingest.crawl.robots import RobotsCache, RobotsRules, RobotsStatus, rules_from_response
from samsok.ingest.crawl.sitefiles import SiteFiles
from samsok.ingest.fetch import Fetcher

from tests.ingest.hostile_server import fast_config

UA = "SamsokBot/0.1 (+https://github.com/samsok; kontakt: samsok@example.no)"
ORIGIN = "https://www.x.no"
TXT = b"""User-agent: *
Disallow: /privat/
Disallow: /*?print=
Crawl-delay: 2

User-agent: OtherBot
Disallow: /
"""


def test_parsed_rules() -> None:
    rules = rules_from_response(ORIGIN, 200, TXT)
    assert rules.status is RobotsStatus.PARSED
    assert rules.allowed(f"{ORIGIN}/nyheter/a", UA)
    assert not rules.allowed(f"{ORIGIN}/privat/a", UA)
    assert not rules.allowed(f"{ORIGIN}/nyheter/a?print=1", UA)
    assert rules.crawl_delay(UA) == 2.0


def test_specific_group_for_our_bot_wins() -> None:
    rules = rules_from_response(
        ORIGIN, 200, b"User-agent: *\nDisallow:\n\nUser-agent: SamsokBot\nDisallow: /x\n"
    )
    assert not rules.allowed(f"{ORIGIN}/x/1", UA)
    assert rules.allowed(f"{ORIGIN}/y", UA)


def test_missing_robots_allows_all_and_unreachable_disallows_all() -> None:
    for status in (404, 410, 403):
        rules = rules_from_response(ORIGIN, status, None)
        assert rules.status is RobotsStatus.MISSING and rules.allowed(f"{ORIGIN}/a", UA)
    for answer in (500, 503, 429, None):
        rules = rules_from_response(ORIGIN, answer, None, "timeout" if answer is None else "")
        assert rules.status is RobotsStatus.UNREACHABLE
        assert not rules.allowed(f"{ORIGIN}/a", UA)
        assert rules.detail


def test_cache_loads_each_origin_once() -> None:
    calls: list[str] = []

    def loader(origin: str) -> RobotsRules:
        calls.append(origin)
        return rules_from_response(origin, 200, TXT)

    cache = RobotsCache(loader, UA)
    assert cache.crawl_delay(f"{ORIGIN}/a") is None  # not loaded yet: no guess
    assert cache.allowed(f"{ORIGIN}/a")
    assert not cache.allowed(f"{ORIGIN}/privat/b")
    assert cache.allowed("https://other.no/privat/b") is False
    assert calls == [ORIGIN, "https://other.no"]
    assert cache.crawl_delay(f"{ORIGIN}/c") == 2.0


def _site_files(robots: bytes, **config: object) -> SiteFiles:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/plain"}, stream=httpx.ByteStream(robots)
        )

    client = httpx.Client(transport=httpx.MockTransport(handler))
    settings = fast_config(**config)
    fetcher = Fetcher(client, settings, sleep=lambda _s: None)
    return SiteFiles(fetcher, settings, lambda *_args: None, lambda: None)


def test_a_robots_txt_over_the_configured_cap_is_not_read() -> None:
    robots = b"User-agent: *\nDisallow: /privat/\n" + b"# padding\n" * 200
    assert len(robots) > 1024
    rules = _site_files(robots, max_robots_bytes=1024).load_robots("https://x.no")
    assert rules.status is not RobotsStatus.PARSED
    rules = _site_files(robots).load_robots("https://x.no")  # the default cap (2 MiB) reads it
    assert rules.status is RobotsStatus.PARSED
    assert not rules.allowed("https://x.no/privat/side", "SamsokBot")


def test_the_robots_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="byte caps"):
        CrawlConfig(max_robots_bytes=0)

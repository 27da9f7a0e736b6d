"""What a recrawl asks again: sitemap lastmod trust has an age limit, dead links rest.

The crawler's wall clock (`now=`) is moved forward between crawls instead of waiting days.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from samsok.ingest.crawl import (
    Crawler,
    CrawlEvent,
    CrawlState,
    DocumentFetched,
    DocumentUnchanged,
    ItemFailed,
    ItemSkipped,
)
from samsok.ingest.documents import doc_id_for_url

from tests.ingest.hostile_server import HostileServer, make_source, run_crawl


class WallClock:
    def __init__(self) -> None:
        self.at = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def crawl(
    client: httpx.Client, state: CrawlState, source: Any, clock: WallClock, **config: Any
) -> tuple[list[CrawlEvent], Crawler]:
    return run_crawl(client, state, source, now=clock, **config)


def test_unchanged_lastmod_is_trusted_only_for_revalidate_after_days(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    clock = WallClock()
    server.state.sitemap = {"/site/a": "2024-05-01", "/site/b": "2024-05-01"}
    source = make_source(server, "/site/", sitemap=server.url("/site/sitemap.xml"))
    a = server.url("/site/a")
    crawl(client, state, source, clock)
    first_check = state.page(a).last_validated  # type: ignore[union-attr]
    assert first_check == clock.at.isoformat(timespec="seconds")

    # Default (7 days), one day later: the lastmod is trusted, no request at all.
    clock.advance(days=1)
    server.state.reset_counts()
    events, _ = crawl(client, state, source, clock)
    assert server.state.hits(exact="/site/a") == []
    assert DocumentUnchanged(a, doc_id_for_url(a)) in events
    assert state.page(a).last_validated == first_check  # type: ignore[union-attr]

    # With the limit at 0, the same unchanged lastmod gets a conditional request (a 304).
    server.state.reset_counts()
    events, crawler = crawl(client, state, source, clock, revalidate_after_days=0)
    hits = server.state.hits(exact="/site/a")
    assert len(hits) == 1 and hits[0].conditional
    assert DocumentUnchanged(a, doc_id_for_url(a)) in events
    log = state.crawl_log(url=a, limit=1)[0]
    assert (log.outcome, log.http_status) == ("not_modified", 304)
    assert crawler.summary.fetched == 0 and crawler.summary.not_modified == 6

    # Eight days after that 304, the default limit has passed: revalidated once, and the
    # 304 is recorded, so the next crawl trusts the lastmod again.
    clock.advance(days=8)
    server.state.reset_counts()
    crawl(client, state, source, clock)
    assert [h.conditional for h in server.state.hits(exact="/site/a")] == [True]
    assert state.page(a).last_validated == clock.at.isoformat(timespec="seconds")  # type: ignore[union-attr]
    server.state.reset_counts()
    crawl(client, state, source, clock)
    assert server.state.hits(exact="/site/a") == []


def test_revalidation_finds_a_change_the_sitemap_did_not_announce(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    clock = WallClock()
    server.state.sitemap = {"/site/a": "2024-05-01"}
    source = make_source(server, "/site/", sitemap=server.url("/site/sitemap.xml"))
    crawl(client, state, source, clock)
    server.state.overrides["/site/a"] = "<html><title>Artikkel A</title><p>Ny tekst.</p></html>"
    clock.advance(days=3)
    events, _ = crawl(client, state, source, clock)
    assert not any(isinstance(e, DocumentFetched) for e in events)  # lastmod still trusted
    clock.advance(days=5)  # 8 days since the page was fetched
    events, crawler = crawl(client, state, source, clock)
    changed = [e for e in events if isinstance(e, DocumentFetched)]
    assert [e.document.url for e in changed] == [server.url("/site/a")] and not changed[0].new
    assert crawler.summary.changed == 1


def test_known_dead_links_are_retried_once_per_revalidation_period(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    clock = WallClock()
    server.state.gone["/site/d"] = 404  # linked from /site/c, never alive
    source = make_source(server, "/site/")
    d = server.url("/site/d")
    for n in range(1, 4):
        events, crawler = crawl(client, state, source, clock)
        assert ItemFailed(d, "http_404", "Not Found") in events
        assert state.page(d).dead_streak == n  # type: ignore[union-attr]
        clock.advance(hours=6)
    assert len(server.state.hits(exact="/site/d")) == 3

    # 404 in the previous 3 crawls: not requested, and the log says why.
    events, crawler = crawl(client, state, source, clock)
    assert len(server.state.hits(exact="/site/d")) == 3
    skipped = [e for e in events if isinstance(e, ItemSkipped) and e.url == d]
    assert [e.reason for e in skipped] == ["known_dead"]
    assert "404/410 in the last 3 crawls" in skipped[0].detail
    log = state.crawl_log(url=d, limit=1)[0]
    assert (log.outcome, log.reason) == ("skipped", "known_dead")
    assert crawler.summary.skipped["known_dead"] == 1 and crawler.summary.failed == {}
    assert state.last_crawls()[0]["complete"]  # a known dead link does not block tombstones

    # Once per revalidate_after_days (7 by default) it is asked again.
    clock.advance(days=8)
    events, _ = crawl(client, state, source, clock)
    assert len(server.state.hits(exact="/site/d")) == 4
    assert ItemFailed(d, "http_404", "Not Found") in events
    clock.advance(days=1)
    events, _ = crawl(client, state, source, clock)
    assert len(server.state.hits(exact="/site/d")) == 4
    assert any(isinstance(e, ItemSkipped) and e.reason == "known_dead" for e in events)

    # A page that comes back is found at its next retry, and its streak ends.
    del server.state.gone["/site/d"]
    clock.advance(days=8)
    events, _ = crawl(client, state, source, clock)
    assert d in {e.document.url for e in events if isinstance(e, DocumentFetched)}
    assert state.page(d).dead_streak == 0 and state.page(d).status == "live"  # type: ignore[union-attr]


def test_known_dead_rule_can_be_turned_off(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    clock = WallClock()
    server.state.gone["/site/d"] = 410
    source = make_source(server, "/site/")
    for _ in range(5):
        crawl(client, state, source, clock, known_dead_after_crawls=0)
    assert len(server.state.hits(exact="/site/d")) == 5


def test_a_removed_document_is_removed_once_then_rests_as_dead(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    clock = WallClock()
    source = make_source(server, "/site/")
    crawl(client, state, source, clock)
    server.state.gone["/site/b"] = 410
    outcomes = []
    for _ in range(4):
        events, _ = crawl(client, state, source, clock)
        b = [e for e in events if getattr(e, "url", None) == server.url("/site/b")]
        outcomes.append(type(b[0]).__name__ + ":" + str(getattr(b[0], "reason", "")))
    assert outcomes == [
        "DocumentRemoved:http_410",
        "ItemFailed:http_410",
        "ItemFailed:http_410",
        "ItemSkipped:known_dead",
    ]
    assert len(server.state.hits(exact="/site/b")) == 1 + 3


def test_summary_matches_events_log_and_requests(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    """What `samsok crawl` prints (CrawlSummary) adds up, with every new kind of outcome."""
    clock = WallClock()
    server.state.sitemap = {"/site/a": "2024-05-01"}
    server.state.gone["/site/d"] = 404
    source = make_source(server, "/site/", sitemap=server.url("/site/sitemap.xml"))
    for _ in range(3):
        crawl(client, state, source, clock)
    server.state.overrides["/site/c"] = (
        '<html><title>Artikkel C</title><p>Ny.</p><a href="/site/d">d</a></html>'
    )
    server.state.gone["/site/b"] = 404
    server.state.reset_counts()
    events, crawler = crawl(client, state, source, clock)
    s = crawler.summary
    kinds = Counter(type(e).__name__ for e in events)
    assert s.changed == sum(isinstance(e, DocumentFetched) and not e.new for e in events) == 1
    assert s.new == 0 and s.removed == kinds["DocumentRemoved"] == 1
    assert s.unchanged == kinds["DocumentUnchanged"]
    assert s.failed == dict(Counter(e.reason for e in events if isinstance(e, ItemFailed)))
    skipped_events = Counter(e.reason for e in events if isinstance(e, ItemSkipped))
    assert skipped_events["known_dead"] == s.skipped["known_dead"] == 1
    for reason, n in skipped_events.items():
        assert s.skipped[reason] == n  # plus out-of-scope links, counted without events
    run = state.crawl_log(run_id=state.last_crawls()[0]["run_id"], limit=10_000)
    pages = [e for e in run if e.outcome not in ("robots",) and e.reason != "sitemap"]
    assert s.fetched == sum(e.http_status == 200 for e in pages)
    assert s.not_modified == sum(e.http_status == 304 for e in pages)
    assert s.requests == len(server.state.requests)
    # Reasons are plain strings (the CLI and the JSON counts print them as they are).
    assert all(type(k) is str for k in (*s.skipped, *s.failed)), (s.skipped, s.failed)
    counts = state.last_crawls()[0]["counts"]
    for key in ("fetched", "not_modified", "new", "changed", "removed", "skipped", "failed"):
        assert counts.get(key, {} if key in ("skipped", "failed") else 0) == getattr(s, key), key

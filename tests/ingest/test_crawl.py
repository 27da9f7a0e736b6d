"""The crawler against a local site and a local hostile server (no network)."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from samsok.ingest.crawl import (
    Crawler,
    CrawlEvent,
    CrawlState,
    DocumentFetched,
    DocumentRemoved,
    DocumentUnchanged,
    ItemFailed,
    ItemSkipped,
    Source,
    SourceKind,
)
from samsok.ingest.documents import doc_id_for_url

from tests.ingest.hostile_server import (
    HOSTILE_CASES,
    HostileServer,
    fast_config,
    make_source,
    stub_extract,
)
from tests.ingest.hostile_server import run_crawl as crawl


@pytest.fixture
def source(server: HostileServer, client: httpx.Client, state: CrawlState) -> Source:
    """`/site/` crawled once, the server's counts reset: where a recrawl test starts."""
    site = make_source(server, "/site/")
    crawl(client, state, site)
    server.state.reset_counts()
    return site


def docs(events: list[CrawlEvent]) -> dict[str, DocumentFetched]:
    return {e.document.url: e for e in events if isinstance(e, DocumentFetched)}


def test_first_crawl_of_a_site(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    events, crawler = crawl(client, state, make_source(server, "/site/"))
    fetched = docs(events)
    u = server.url
    assert set(fetched) == {
        u("/site/a"),
        u("/site/b"),
        u("/site/c"),
        u("/site/d"),
        u("/files/rapport.pdf"),
    }
    assert all(e.new for e in fetched.values())
    assert fetched[u("/site/a")].document.doc_id == doc_id_for_url(u("/site/a"))
    assert fetched[u("/site/a")].document.title == "Artikkel A"
    pdf = fetched[u("/files/rapport.pdf")].document  # one hop outside the prefix, same host
    assert pdf.content_type == "application/pdf" and "samhandling" in pdf.text
    # The listing start page is followed, not emitted.
    assert ItemSkipped(u("/site/"), "listing_page", "") in events
    # Tracking parameters, fragments and case: /site/a, /site/b and /site/c fetched once.
    for path in ("/site/a", "/site/b", "/site/c"):
        assert len(server.state.hits(exact=path)) == 1, path
    assert server.state.hits("/site/a?") == [] and server.state.hits("/site/b?") == []
    # robots.txt disallows /site/privat/ and /other/ is out of the prefix: never requested.
    assert server.state.hits("/site/privat") == []
    assert server.state.hits("/other") == []
    assert (
        ItemSkipped(u("/site/privat/hemmelig"), "robots_disallowed", "disallowed by robots.txt")
        in events
    )
    # A redirect to a page already crawled this run is not fetched twice.
    assert any(
        isinstance(e, ItemSkipped) and e.reason == "duplicate" and e.url == u("/site/redirect-to-b")
        for e in events
    )
    summary = crawler.summary
    assert summary.new == 5 and summary.fetched == 6 and summary.failed == {}
    assert summary.skipped["out_of_scope"] >= 2  # /other/page and example.invalid
    assert summary.requests == len(server.state.requests)
    run = state.last_crawls()[0]
    assert run["source"] == "site" and run["complete"] and run["counts"]["new"] == 5


def test_unchanged_recrawl_makes_only_conditional_requests(
    server: HostileServer, client: httpx.Client, state: CrawlState, source: Source
) -> None:
    events, crawler = crawl(client, state, source)
    assert not any(isinstance(e, DocumentFetched | DocumentRemoved) for e in events)
    unchanged = {e.url for e in events if isinstance(e, DocumentUnchanged)}
    assert len(unchanged) == 5
    requests = [
        h for h in server.state.requests if h.path not in ("/robots.txt", "/site/redirect-to-b")
    ]
    assert requests and all(h.method == "GET" and h.conditional for h in requests), requests
    assert crawler.summary.not_modified == 6 and crawler.summary.fetched == 0


def test_changed_and_removed_pages(
    server: HostileServer, client: httpx.Client, state: CrawlState, source: Source
) -> None:
    server.state.overrides["/site/a"] = "<html><title>Artikkel A</title><p>Ny tekst.</p></html>"
    server.state.gone["/site/b"] = 410
    # /site/c no longer links to /site/d: d vanishes from links (and there is no sitemap).
    server.state.overrides["/site/c"] = "<html><title>Artikkel C</title><p>Uten lenke.</p></html>"
    events, crawler = crawl(client, state, source)
    u = server.url
    changed = docs(events)
    assert set(changed) == {u("/site/a"), u("/site/c")}
    assert not changed[u("/site/a")].new
    removed = {e.url: e for e in events if isinstance(e, DocumentRemoved)}
    assert removed[u("/site/b")].reason == "http_410"
    assert removed[u("/site/b")].doc_id == doc_id_for_url(u("/site/b"))
    assert removed[u("/site/d")].reason == "vanished"
    assert server.state.hits("/site/d") == []
    assert crawler.summary.removed == 2 and crawler.summary.changed == 2
    # A third crawl does not remove them again.
    events, _ = crawl(client, state, source)
    assert not any(isinstance(e, DocumentRemoved) for e in events)
    assert any(isinstance(e, ItemFailed) and e.reason == "http_410" for e in events)


def test_robots_unreachable_disallows_all_and_removes_nothing(
    server: HostileServer, client: httpx.Client, state: CrawlState, source: Source
) -> None:
    server.state.robots_status = 503
    events, _ = crawl(client, state, source)
    assert {h.path for h in server.state.requests} == {"/robots.txt"}
    assert events and all(
        isinstance(e, ItemSkipped) and e.reason == "robots_disallowed" for e in events
    )
    log = state.crawl_log(url=server.url("/robots.txt"), limit=1)[0]
    assert log.outcome == "robots" and log.reason == "robots_unreachable"
    assert log.http_status == 503
    assert not state.last_crawls()[0]["complete"]


def test_robots_404_allows_all(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    server.state.robots_status = 404
    events, _ = crawl(client, state, make_source(server, "/site/"))
    assert server.url("/site/privat/hemmelig") in {
        e.url for e in events if isinstance(e, ItemFailed)
    }  # 404 page


def test_crawl_delay_from_robots_spaces_requests(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    server.state.robots = "User-agent: *\nCrawl-delay: 0.3\n"
    # robots.txt, the start page and the PDF (a leaf may be one level past max_depth)
    crawl(client, state, make_source(server, "/site/", max_depth=0))
    times = [h.at for h in server.state.requests]
    assert len(times) == 3
    assert all(later - earlier >= 0.29 for earlier, later in itertools.pairwise(times))


def test_sitemap_lastmod_unchanged_skips_the_fetch(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    server.state.sitemap = {"/site/a": "2024-05-01", "/site/b": "2024-05-01T10:00:00+02:00"}
    source = make_source(server, "/site/", sitemap=server.url("/site/sitemap.xml"))
    crawl(client, state, source)
    server.state.reset_counts()
    server.state.sitemap["/site/b"] = "2024-05-02"
    events, crawler = crawl(client, state, source)
    assert server.state.hits(exact="/site/a") == []  # same lastmod: not even a conditional GET
    assert len(server.state.hits(exact="/site/b")) == 1
    assert DocumentUnchanged(server.url("/site/a"), doc_id_for_url(server.url("/site/a"))) in events
    assert not any(isinstance(e, DocumentFetched) for e in events)
    assert crawler.summary.unchanged == 5


def test_caps_and_canonical(server: HostileServer, client: httpx.Client, state: CrawlState) -> None:
    u = server.url
    server.state.overrides["/site/a"] = (
        '<html><head><title>A</title><link rel="canonical" href="/site/a-kanonisk"></head>'
        "<p>Tekst</p></html>"
    )
    server.state.overrides["/site/b"] = (
        '<html><head><title>B</title><link rel="canonical" href="https://evil.example/b">'
        "</head><p>Tekst</p></html>"
    )
    source = make_source(server, "/site/", kind=SourceKind.PROJECT_SITE, max_pages=4)
    events, crawler = crawl(client, state, source)
    fetched = docs(events)
    assert u("/site/") in fetched  # the start page of a project site is a document
    assert fetched[u("/site/a-kanonisk")].document.metadata["fetched_url"] == u("/site/a")
    assert u("/site/b") in fetched  # canonical on another host ignored
    assert crawler.summary.skipped["max_pages"] >= 1
    assert not state.last_crawls()[0]["complete"]  # capped: no tombstones from this run


def test_consumer_stops_early_and_the_next_crawl_resumes(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    source = make_source(server, "/site/")
    crawler = Crawler(fast_config(), client, state, extract=stub_extract)
    first: list[CrawlEvent] = []
    for event in crawler.crawl([source]):
        first.append(event)
        if len(first) == 3:
            break  # the third event was taken but its URL was not marked done
    rest, _ = crawl(client, state, source)
    assert rest[0] == first[-1] or (
        isinstance(rest[0], DocumentFetched) and rest[0].document.url == first[-1].document.url
    )
    urls = [e.document.url for e in [*first[:-1], *rest] if isinstance(e, DocumentFetched)]
    assert len(urls) == len(set(urls)) == 5
    assert len(server.state.hits(exact="/site/a")) <= 2


def test_every_hostile_case_is_recorded_and_the_crawl_goes_on(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    started = time.monotonic()
    events, crawler = crawl(client, state, make_source(server, "/hostile/"))
    elapsed = time.monotonic() - started
    u = server.url
    for path, (outcome, reason) in HOSTILE_CASES.items():
        entries = state.crawl_log(url=u(path))
        assert entries, f"no log entry for {path}"
        assert (entries[-1].outcome, entries[-1].reason) == (outcome, reason), path
    fetched = docs(events)
    assert u("/hostile/after") in fetched and u("/hostile/after-empty") in fetched
    # Legacy encodings: the HTTP charset reached extraction.
    assert fetched[u("/hostile/cp1252")].document.title == "Blåbærsyltetøy"
    assert "«Ørland» –" in fetched[u("/hostile/cp1252")].document.text
    assert fetched[u("/hostile/latin1")].document.title == "Fløtemysost"
    # Sniffing beats the header both ways.
    assert fetched[u("/hostile/pdf-as-html")].document.content_type == "application/pdf"
    assert fetched[u("/hostile/octet.pdf")].document.content_type == "application/pdf"
    assert fetched[u("/hostile/html-as-pdf")].document.content_type == "text/html"
    # Redirect chain: the document is the final URL; the hops are in the log.
    assert u("/hostile/chain/0") in fetched
    chain = state.crawl_log(url=u("/hostile/chain/3"))[0]
    assert chain.final_url == u("/hostile/chain/0") and chain.detail.count("(302)") == 3
    # Retried: 500 then ok, 503/429 with Retry-After (capped at 0.2 s), truncated body.
    for path in ("/hostile/flaky", "/hostile/busy", "/hostile/ratelimit", "/hostile/truncated"):
        assert len(server.state.hits(exact=path)) == 2, path
    for path in ("/hostile/busy", "/hostile/ratelimit"):
        first, second = server.state.hits(exact=path)
        assert second.at - first.at >= 0.19
    assert len(server.state.hits(exact="/hostile/drip")) == 1  # total cap: not retried
    # Headers dripped one byte per 0.2 s never trip the read timeout; the total cap holds.
    assert len(server.state.hits(exact="/hostile/drip-headers")) == 1
    assert state.crawl_log(url=u("/hostile/drip-headers"))[0].elapsed < 1.5
    assert len(server.state.hits(exact="/hostile/gone")) == 1  # 4xx: not retried
    # The gzip bomb was stopped at the cap, counting decompressed bytes.
    bomb = state.crawl_log(url=u("/hostile/bomb"))[0]
    assert bomb.bytes <= 512 * 1024 + 64 * 1024
    # Traps are bounded: query variants per path and depth.
    assert len(server.state.hits("/hostile/kalender")) == 5
    assert len(server.state.hits("/hostile/arkiv")) <= 5
    assert len(server.state.hits("/hostile/sider/")) == 4
    # Loops and long chains stop; robots-disallowed paths are never requested.
    assert len(server.state.hits("/hostile/many/")) == 6
    assert server.state.hits("/hostile/privat") == []
    assert crawler.summary.failed["read_timeout"] == 2
    assert elapsed < 20


def test_real_extractor_on_hostile_pages(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    pytest.importorskip("samsok.ingest.extract.dispatch")
    crawler = Crawler(fast_config(), client, state)
    source = make_source(server, "/hostile/", max_depth=1)
    events = list(crawler.crawl([source]))
    assert any(
        isinstance(e, DocumentFetched) and e.document.url == server.url("/hostile/after")
        for e in events
    )
    assert {e.url for e in events if not isinstance(e, DocumentFetched)} | {
        e.document.url for e in events if isinstance(e, DocumentFetched)
    } >= {server.url(p) for p in HOSTILE_CASES if "/chain/" not in p}

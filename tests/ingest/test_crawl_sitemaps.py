"""Sitemaps: robots.txt `Sitemap:` lines, index files, gzip, caps (local server)."""

from __future__ import annotations

import gzip
import tracemalloc

import httpx
from samsok.ingest.crawl import CrawlState, DocumentFetched, DocumentRemoved
from samsok.ingest.crawl.sitemap import harvest_sitemaps, parse_sitemap

from tests.ingest.hostile_server import HostileServer, make_source
from tests.ingest.hostile_server import run_crawl as crawl

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
XML = {"Content-Type": "application/xml"}
GZIP = {"Content-Type": "application/gzip"}
HIDDEN = "<html><title>Skjult</title><p>Bare i sitemap.</p></html>"


def urlset(*locs: str, lastmod: str = "2024-05-01") -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc><lastmod>{lastmod}</lastmod></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset {NS}>{entries}</urlset>'.encode()


def index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex {NS}>{entries}</sitemapindex>'.encode()


def robots_with(server: HostileServer, *sitemaps: str) -> None:
    lines = "".join(f"Sitemap: {s}\n" for s in sitemaps)
    server.state.robots = "User-agent: *\nDisallow: /site/privat/\n" + lines


def test_robots_sitemaps_index_and_gzip(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    u = server.url
    server.state.overrides["/site/skjult"] = HIDDEN
    server.state.overrides["/site/skjult2"] = HIDDEN.replace("Skjult", "Skjult 2")
    server.state.sitemap = {"/site/a": "2024-05-01"}
    files = server.state.files
    files["/sitemap-index.xml"] = (
        index(
            u("/site/sitemap.xml"),
            u("/sitemaps/sider.xml.gz"),
            u("/sitemaps/kodet.xml"),
            "http://example.invalid/sitemap.xml",
        ),
        XML,
    )
    # .xml.gz served as a file, and an XML sitemap gzipped in transit (Content-Encoding).
    files["/sitemaps/sider.xml.gz"] = (gzip.compress(urlset(u("/site/skjult"))), GZIP)
    files["/sitemaps/kodet.xml"] = (
        gzip.compress(urlset(u("/site/skjult2"))),
        {**XML, "Content-Encoding": "gzip"},
    )
    # robots.txt names the index and (again) the sitemap the source is configured with.
    robots_with(server, u("/sitemap-index.xml"), u("/site/sitemap.xml"))
    source = make_source(server, "/site/", sitemap=u("/site/sitemap.xml"))
    events, crawler = crawl(client, state, source)
    fetched = {e.document.url for e in events if isinstance(e, DocumentFetched)}
    assert {u("/site/skjult"), u("/site/skjult2")} <= fetched  # linked from nowhere
    for path in (
        "/site/sitemap.xml",
        "/sitemap-index.xml",
        "/sitemaps/sider.xml.gz",
        "/sitemaps/kodet.xml",
    ):
        assert len(server.state.hits(exact=path)) == 1, path  # deduplicated
    other = state.crawl_log(url="http://example.invalid/sitemap.xml")
    assert [(e.outcome, e.reason) for e in other] == [("skipped", "out_of_scope")]
    hidden = state.crawl_log(url=u("/site/skjult"))[0]
    assert hidden.reason == "new"
    assert state.last_crawls()[0]["complete"]
    assert crawler.summary.requests == len(server.state.requests)


def test_robots_sitemap_alone_seeds_the_crawl(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    u = server.url
    server.state.overrides["/site/skjult"] = HIDDEN
    server.state.files["/kart.xml"] = (urlset(u("/site/skjult")), XML)
    robots_with(server, u("/kart.xml"))
    events, _ = crawl(client, state, make_source(server, "/site/"))  # no sitemap configured
    assert u("/site/skjult") in {e.document.url for e in events if isinstance(e, DocumentFetched)}
    events, _ = crawl(client, state, make_source(server, "/site/"), obey_robots=False)
    assert len(server.state.hits(exact="/kart.xml")) == 1  # robots.txt not read: not used


def test_oversized_gzip_sitemap_stops_at_the_cap(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    u = server.url
    huge = urlset(*(u(f"/site/side-{n:07d}-{'x' * 80}") for n in range(20_000)))
    assert len(huge) > 2 * 1024 * 1024
    server.state.files["/stor.xml.gz"] = (gzip.compress(huge), GZIP)
    server.state.overrides["/site/skjult"] = HIDDEN
    server.state.files["/liten.xml"] = (urlset(u("/site/skjult")), XML)
    robots_with(server, u("/stor.xml.gz"), u("/liten.xml"))
    events, _ = crawl(client, state, make_source(server, "/site/"))  # max_bytes 1 MiB
    big = state.crawl_log(url=u("/stor.xml.gz"))
    assert ("skipped", "too_large") in {(e.outcome, e.reason) for e in big}
    assert not server.state.hits("/site/side-")
    assert u("/site/skjult") in {e.document.url for e in events if isinstance(e, DocumentFetched)}
    assert not state.last_crawls()[0]["complete"]  # entries were lost: no tombstones


def test_sitemap_count_and_entry_caps(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    u = server.url
    for n in range(30):
        server.state.files[f"/kart/{n}.xml"] = (urlset(u(f"/site/s{n}")), XML)
    server.state.files["/kart/index.xml"] = (index(*(u(f"/kart/{n}.xml") for n in range(30))), XML)
    robots_with(server, u("/kart/index.xml"))
    crawl(client, state, make_source(server, "/site/"), max_sitemaps=5)
    assert len(server.state.hits("/kart/")) == 5
    capped = [e for e in state.crawl_log(reason="max_sitemaps")]
    assert len(capped) == 1 and "26 sitemaps left unread" in capped[0].detail
    assert not state.last_crawls()[0]["complete"]
    server.state.reset_counts()
    crawl(client, state, make_source(server, "/site/"), max_sitemap_entries=3)
    assert len(server.state.hits("/site/s")) == 3
    assert state.crawl_log(reason="max_sitemap_entries", limit=1)


def test_missing_robots_sitemap_does_not_block_removals(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    source = make_source(server, "/site/")
    crawl(client, state, source)
    robots_with(server, server.url("/finnes-ikke.xml"))  # a stale Sitemap: line (404)
    server.state.overrides["/site/c"] = "<html><title>Artikkel C</title><p>Uten lenke.</p></html>"
    events, _ = crawl(client, state, source)
    assert [e.url for e in events if isinstance(e, DocumentRemoved)] == [server.url("/site/d")]
    log = state.crawl_log(url=server.url("/finnes-ikke.xml"), limit=1)[0]
    assert (log.outcome, log.reason) == ("failed", "http_404")
    # The configured sitemap missing is different: its pages would look vanished.
    configured = make_source(server, "/site/", sitemap=server.url("/site/borte.xml"))
    crawl(client, state, configured)
    assert not state.last_crawls()[0]["complete"]


def test_parse_sitemap_caps_gzip_and_plain_bodies() -> None:
    body = urlset("https://x.no/a")
    assert parse_sitemap(gzip.compress(body), max_bytes=len(body)).urls[0].loc == "https://x.no/a"
    assert parse_sitemap(gzip.compress(body), max_bytes=len(body) - 1).too_large
    assert parse_sitemap(body, max_bytes=10).too_large
    assert parse_sitemap(gzip.compress(b"x" * 100)[:20]).urls == ()
    # A gzip bomb is inflated only up to the cap, not in full and then measured.
    bomb = gzip.compress(b"<urlset>" + b" " * (40 * 1024 * 1024))
    tracemalloc.start()
    try:
        assert parse_sitemap(bomb, max_bytes=64 * 1024).too_large
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_harvest_follows_nested_sitemaps_breadth_first_once() -> None:
    bodies = {
        "https://x.no/index.xml": index(
            "https://x.no/a.xml", "https://x.no/b.xml", "https://x.no/index.xml"
        ),
        "https://x.no/a.xml": urlset("https://x.no/1", "https://x.no/2"),
        "https://x.no/b.xml": urlset("https://x.no/2", "https://x.no/3", lastmod="2024-06-01"),
    }
    read: list[str] = []
    notes: list[tuple[str, str]] = []

    def reader(url: str) -> bytes | None:
        read.append(url)
        return bodies.get(url)

    harvest = harvest_sitemaps(
        ["https://x.no/index.xml", "https://X.no/a.xml"],
        reader,
        follow=lambda url: True,
        note=lambda url, reason, detail: notes.append((url, reason)),
        max_files=10,
        max_entries=100,
        max_bytes=10_000,
    )
    assert read == ["https://x.no/index.xml", "https://x.no/a.xml", "https://x.no/b.xml"]
    assert list(harvest.entries) == ["https://x.no/1", "https://x.no/2", "https://x.no/3"]
    assert harvest.entries["https://x.no/2"][1] == "https://x.no/a.xml"  # first listing wins
    assert harvest.complete and notes == []

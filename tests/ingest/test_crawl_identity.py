"""Issue 8, observation 4: ad-hoc crawls of two sites on one host name, or of two sections of
one site, keep each other's documents; a complete recrawl still removes its own vanished pages.

The crawler runs against loopback servers: two `HostileServer`s (two ports on 127.0.0.1) and
sections of one server built from `state.overrides`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from samsok.ingest.crawl import (
    CrawlState,
    DocumentRemoved,
    Source,
    SourceKind,
)
from samsok.ingest.documents import Region, doc_id_for_url

from tests.ingest.hostile_server import HostileServer, fetched, removed
from tests.ingest.hostile_server import crawl_events as crawl


def live(state: CrawlState, urls: set[str]) -> set[str]:
    return {url for url in urls if (page := state.page(url)) and page.status == "live"}


def page(title: str, *links: str) -> str:
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in links)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{title}: tekst om helse og samhandling.</p><nav>{anchors}</nav></body></html>"
    )


@pytest.fixture
def other() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def sections(server: HostileServer) -> HostileServer:
    """/aktuelt/ (two articles) and /helse/ (one article) on one site."""
    server.state.overrides.update(
        {
            "/aktuelt/": page("Aktuelt", "/aktuelt/1", "/aktuelt/2"),
            "/aktuelt/1": page("Aktuelt en"),
            "/aktuelt/2": page("Aktuelt to"),
            "/helse/": page("Helse", "/helse/1"),
            "/helse/1": page("Helse en"),
        }
    )
    return server


def section_sources(sections: HostileServer) -> tuple[Source, Source]:
    """Ad hoc sources of /aktuelt/ and /helse/: two scopes of one site (in two regions)."""
    return (
        Source.adhoc(sections.url("/aktuelt/"), Region.ORKDAL),
        Source.adhoc(sections.url("/helse/"), Region.VAERNES),
    )


def test_adhoc_source_identity_is_its_scope() -> None:
    a = Source.adhoc("http://127.0.0.1:8001/", "orkdal")
    b = Source.adhoc("http://127.0.0.1:8002/", "vaernes")
    aktuelt = Source.adhoc("https://Www.Kommune.no:443/aktuelt/sak.html?utm_source=x", "orkdal")
    helse = Source.adhoc("https://www.kommune.no/helse/", "orkdal")
    assert len({a.name, b.name, aktuelt.name, helse.name}) == 4
    # Normalised: case, default port, tracking parameters and the file name do not count.
    assert aktuelt.name == Source.adhoc("https://www.kommune.no/aktuelt/", "vaernes").name
    assert aktuelt.name == "adhoc:https://www.kommune.no/aktuelt/"
    assert Source.adhoc("http://www.kommune.no/aktuelt/", "orkdal").name != aktuelt.name
    # Pages stored under the old host-only name still belong to it (see the upgrade test).
    assert a.legacy_names == b.legacy_names == ("adhoc-127.0.0.1",)


def test_two_adhoc_crawls_of_two_ports_keep_both_sites(
    server: HostileServer, other: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    first = crawl(client, state, Source.adhoc(server.url("/site/"), Region.ORKDAL))
    second = crawl(client, state, Source.adhoc(other.url("/site/"), Region.VAERNES))
    site_a, site_b = fetched(first), fetched(second)
    assert len(site_a) == len(site_b) == 6  # the start page, a-d and the PDF, on each port
    assert removed(second) == set()
    assert live(state, site_a) == site_a and live(state, site_b) == site_b
    # Each site's own recrawl is complete and still keeps the other's.
    assert removed(crawl(client, state, Source.adhoc(server.url("/site/"), Region.ORKDAL))) == set()
    assert live(state, site_a | site_b) == site_a | site_b


def test_two_sections_of_one_site_keep_both(
    sections: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    u = sections.url
    aktuelt, helse = section_sources(sections)
    first, second = crawl(client, state, aktuelt), crawl(client, state, helse)
    assert fetched(first) == {u("/aktuelt/"), u("/aktuelt/1"), u("/aktuelt/2")}
    assert fetched(second) == {u("/helse/"), u("/helse/1")}
    assert removed(second) == set()
    assert live(state, fetched(first)) == fetched(first)


def test_complete_recrawl_of_one_scope_removes_only_its_own_vanished_pages(
    sections: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    u = sections.url
    aktuelt, helse = section_sources(sections)
    crawl(client, state, aktuelt)
    crawl(client, state, helse)
    sections.state.overrides["/aktuelt/"] = page("Aktuelt", "/aktuelt/1")  # /aktuelt/2 unlinked
    sections.state.overrides.pop("/helse/1")  # gone from the site, but helse is not recrawled
    recrawl = crawl(client, state, aktuelt)
    assert [(e.url, e.doc_id, e.reason) for e in recrawl if isinstance(e, DocumentRemoved)] == [
        (u("/aktuelt/2"), doc_id_for_url(u("/aktuelt/2")), "vanished")
    ]
    assert live(state, {u("/helse/"), u("/helse/1"), u("/aktuelt/1")}) == {
        u("/helse/"),
        u("/helse/1"),
        u("/aktuelt/1"),
    }


def test_pages_under_the_old_host_only_name_survive_the_upgrade(
    sections: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    """A data folder from before: both sections stored under `adhoc-127.0.0.1`."""
    u = sections.url

    def legacy(section: str) -> Source:
        return Source(
            name="adhoc-127.0.0.1",
            title=u(section),
            region=Region.ORKDAL,
            kind=SourceKind.PROJECT_SITE,
            start_urls=(u(section),),
            allowed=(u(section),),
        )

    crawl(client, state, legacy("/aktuelt/"))
    crawl(client, state, legacy("/helse/"), remove_vanished=False)
    everything = {u("/aktuelt/"), u("/aktuelt/1"), u("/aktuelt/2"), u("/helse/"), u("/helse/1")}
    assert live(state, everything) == everything
    assert {state.page(url).source for url in everything} == {"adhoc-127.0.0.1"}  # type: ignore[union-attr]

    # The new aktuelt scope: its own old pages are its own (a vanished one goes), helse's stay.
    sections.state.overrides["/aktuelt/"] = page("Aktuelt", "/aktuelt/1")
    events = crawl(client, state, Source.adhoc(u("/aktuelt/"), Region.ORKDAL))
    assert removed(events) == {u("/aktuelt/2")}
    assert live(state, everything) == everything - {u("/aktuelt/2")}
    events = crawl(client, state, Source.adhoc(u("/helse/"), Region.ORKDAL))
    assert removed(events) == set()
    assert state.page(u("/helse/1")).source == f"adhoc:{u('/helse/')}"  # type: ignore[union-attr]


def test_toml_source_tombstones_only_inside_its_scope(
    sections: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    """Narrowing a source's prefixes does not make the pages it no longer looks at vanish."""
    u = sections.url
    both = Source(
        name="kommune",
        title="Kommune",
        region=Region.ORKDAL,
        kind=SourceKind.PROJECT_SITE,
        start_urls=(u("/aktuelt/"), u("/helse/")),
        allowed=(u("/aktuelt/"), u("/helse/")),
    )
    crawl(client, state, both)
    narrowed = replace(both, start_urls=(u("/aktuelt/"),), allowed=(u("/aktuelt/"),))
    assert removed(crawl(client, state, narrowed)) == set()
    assert live(state, {u("/helse/"), u("/helse/1")}) == {u("/helse/"), u("/helse/1")}

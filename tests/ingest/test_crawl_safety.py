"""Issue 8, observation 7: the crawl stays where it was sent.

- robots.txt and sitemap redirects stay on the source's hosts (another port of 127.0.0.1 is
  another host here);
- connections to private, loopback, link-local, ... addresses are refused unless allowed, for
  hosts given by name too, at every redirect hop, and against DNS rebinding;
- only http(s) URLs are crawled.

The crawler runs against loopback `HostileServer`s; `fast_config` opts in to loopback, and the
tests that are about the address guard take that opt-in away again.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from samsok.api.settings import Settings
from samsok.ingest.config import CrawlConfig
from samsok.ingest.crawl import (
    CrawlState,
    DocumentRemoved,
    ItemSkipped,
    Source,
    SourceKind,
    parse_sources,
)
from samsok.ingest.crawl.sitefiles import stay_on
from samsok.ingest.documents import Region
from samsok.ingest.errors import SourceConfigError, UnsupportedScheme
from samsok.ingest.fetch import AddressPolicy

from tests.ingest.hostile_server import HostileServer, fetched, make_source, run_crawl
from tests.ingest.hostile_server import crawl_events as crawl


def log(state: CrawlState, url: str) -> list[tuple[str, str]]:
    return [(e.outcome, e.reason) for e in state.crawl_log(url=url)]


@pytest.fixture
def other() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def by_name(server: HostileServer, host: str, section: str = "/site/") -> Source:
    url = f"http://{host}:{server.port}{section}"
    return make_source(server, section, start_urls=(url,), allowed=(url,))


# -- robots.txt and sitemap redirects ----------------------------------------------------------


def test_robots_redirect_to_another_host_is_not_followed(
    server: HostileServer, other: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    source = make_source(server, "/site/")
    first = fetched(crawl(client, state, source))
    assert first
    server.state.redirects["/robots.txt"] = other.url("/robots.txt")
    server.state.reset_counts()
    events = crawl(client, state, source)
    assert other.state.requests == []  # not robots.txt, not anything
    assert log(state, server.url("/robots.txt"))[0] == ("skipped", "cross_host_redirect")
    # Rules unknown: treated as unreachable, so nothing on that origin is crawled ...
    assert server.state.hits("/site/") == []
    assert (
        ItemSkipped(
            server.url("/site/"),
            "robots_disallowed",
            state.crawl_log(url=server.url("/site/"))[0].detail,
        )
        in events
    )
    # ... and the run is incomplete: no page of the source is tombstoned.
    assert not any(isinstance(e, DocumentRemoved) for e in events)
    assert state.runs("site")[0]["complete"] is False


def test_robots_redirect_on_the_same_host_is_followed_and_obeyed(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    server.state.redirects["/robots.txt"] = "/robots-real.txt"
    server.state.files["/robots-real.txt"] = (
        b"User-agent: *\nDisallow: /site/b\n",
        {"Content-Type": "text/plain"},
    )
    urls = fetched(crawl(client, state, make_source(server, "/site/")))
    assert server.url("/site/a") in urls and server.url("/site/b") not in urls
    assert server.state.hits(exact="/site/b") == []


def test_sitemap_redirects_to_another_host_are_not_followed(
    server: HostileServer, other: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    source = make_source(server, "/site/", sitemap=server.url("/site/sitemap.xml"))
    crawl(client, state, source)
    server.state.redirects["/site/sitemap.xml"] = other.url("/site/sitemap.xml")
    server.state.redirects["/listed.xml"] = other.url("/site/sitemap.xml")
    server.state.robots += f"Sitemap: {server.url('/listed.xml')}\n"
    other.state.sitemap = {"/site/x": "2024-05-01"}
    server.state.overrides["/site/"] = "<html><body><p>Tom.</p></body></html>"  # links gone
    events = crawl(client, state, source)
    assert other.state.requests == []
    for url in (server.url("/site/sitemap.xml"), server.url("/listed.xml")):
        assert log(state, url)[0] == ("skipped", "cross_host_redirect"), url
    # Pages only a sitemap listed would look vanished: an unread sitemap tombstones nothing.
    assert not any(isinstance(e, DocumentRemoved) for e in events)
    assert state.runs("site")[0]["complete"] is False


def test_same_host_means_host_and_port_not_scheme() -> None:
    check = stay_on({"x.no", "www.x.no"}, "robots.txt")
    for target in (
        "https://x.no/robots.txt",
        "http://x.no:80/robots.txt",
        "https://www.x.no/robots.txt",
    ):
        assert check(target) is None, target
    for target in (
        "https://cdn.x.no/robots.txt",
        "http://x.no:8080/robots.txt",
        "http://127.0.0.1/robots.txt",
    ):
        assert check(target) == ("cross_host_redirect", f"robots.txt redirected to {target}")


# -- the address guard -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fe80::1%lo",
        "fc00::1",
        "fd12:3456::1",
        "100.64.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "ff02::1",
        "0.0.0.0",
        "::",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.10",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "2002:a00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_non_global_addresses_are_refused(ip: str) -> None:
    assert AddressPolicy().refusal(ip) is not None
    assert AddressPolicy(allow_private=True).refusal(ip) is None


@pytest.mark.parametrize(
    "ip", ["93.184.216.34", "8.8.8.8", "2001:4860:4860::8888", "::ffff:93.184.216.34"]
)
def test_global_addresses_are_allowed(ip: str) -> None:
    assert AddressPolicy().refusal(ip) is None


def test_allowed_networks_open_only_what_they_name() -> None:
    policy = AddressPolicy(allowed_networks=("127.0.0.0/8", "::1/128"))
    assert policy.refusal("127.0.0.1") is None and policy.refusal("::1") is None
    assert policy.refusal("::ffff:127.0.0.1") is None  # the same address on the wire
    assert policy.refusal("10.0.0.1") is not None and policy.refusal("169.254.169.254")
    with pytest.raises(ValueError, match="not an IP network"):
        CrawlConfig(allowed_networks=("10.0.0.0/33",))


def test_a_name_resolving_to_loopback_is_refused_unless_allowed(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    source = by_name(server, "localhost")
    events = crawl(client, state, source, allowed_networks=())
    assert server.state.requests == []  # no byte reached it: robots.txt, pages, nothing
    robots = state.crawl_log(url=f"http://localhost:{server.port}/robots.txt")[0]
    assert (robots.outcome, robots.reason) == ("skipped", "private_address")
    assert "localhost resolves to" in robots.detail and "loopback" in robots.detail
    assert fetched(events) == set()
    assert [(e.url, e.reason) for e in events if isinstance(e, ItemSkipped)] == [
        (source.start_urls[0], "private_address")
    ]

    # Without robots in the way, the page itself is refused with the typed reason.
    events = crawl(client, state, source, allowed_networks=(), obey_robots=False)
    assert server.state.requests == []
    assert next((e.url, e.reason) for e in events if isinstance(e, ItemSkipped)) == (
        source.start_urls[0],
        "private_address",
    )

    # The opt-in: loopback allowed, the same crawl fetches the site.
    assert fetched(crawl(client, state, source, allowed_networks=(), allow_private=True))
    assert server.state.hits(exact="/site/a")


def test_a_redirect_to_a_private_address_is_refused(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    # Only the test server's own address is opted in; 127.0.0.2 (in scope) is not.
    elsewhere = f"http://127.0.0.2:{server.port}/site/"
    source = make_source(
        server,
        "/site/",
        start_urls=(server.url("/site/go"),),
        allowed=(server.url("/site/"), elsewhere),
    )
    server.state.redirects["/site/go"] = elsewhere + "b"
    events = crawl(client, state, source, allowed_networks=("127.0.0.1/32",), obey_robots=False)
    skipped = [e for e in events if isinstance(e, ItemSkipped)]
    assert [(e.url, e.reason) for e in skipped] == [(server.url("/site/go"), "private_address")]
    assert "127.0.0.2 is loopback" in skipped[0].detail
    assert state.runs("site")[0]["complete"] is False  # a refusal says nothing about removal

    # With robots.txt obeyed, the hop's robots.txt is refused first: the same reason.
    events = crawl(client, state, source, allowed_networks=("127.0.0.1/32",))
    assert [(e.url, e.reason) for e in events if isinstance(e, ItemSkipped)] == [
        (server.url("/site/go"), "private_address")
    ]
    robots = state.crawl_log(url=f"http://127.0.0.2:{server.port}/robots.txt")[0]
    assert (robots.outcome, robots.reason) == ("skipped", "private_address")


def test_dns_rebinding_is_caught_at_connect_time(
    server: HostileServer, client: httpx.Client, state: CrawlState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answers a public address to the check's lookup and 127.0.0.1 to the connect's."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        ip = "93.184.216.34" if len(lookups) % 2 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    source = by_name(server, "rebind.test")
    events = crawl(client, state, source, allowed_networks=(), obey_robots=False)
    assert len(lookups) == 2  # the guard's lookup passed; the connect went to 127.0.0.1
    assert server.state.requests == []
    skipped = [e for e in events if isinstance(e, ItemSkipped)]
    assert [e.reason for e in skipped] == ["private_address"]
    assert "peer address 127.0.0.1 is loopback" in skipped[0].detail

    # The same rebinding with the guard off does reach the server: the check above is real.
    lookups.clear()
    crawl(client, state, source, allow_private=True, obey_robots=False)
    assert server.state.hits(exact="/site/")


def test_setting_turns_the_guard_off_and_defaults_to_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CrawlConfig().allow_private is False and CrawlConfig().allowed_networks == ()
    monkeypatch.delenv("SAMSOK_CRAWL_ALLOW_PRIVATE", raising=False)
    assert Settings().crawl_config().allow_private is False
    monkeypatch.setenv("SAMSOK_CRAWL_ALLOW_PRIVATE", "true")
    assert Settings().crawl_config().allow_private is True


# -- schemes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "ftp://x.no/",
        "data:text/html,<p>x</p>",
        "javascript:alert(1)",
        "x.no/side",
    ],
)
def test_non_http_start_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsupportedScheme, match="not an http"):
        Source.adhoc(url, "orkdal")
    with pytest.raises(UnsupportedScheme):
        Source(
            name="s",
            title="s",
            region=Region.ORKDAL,
            kind=SourceKind.PROJECT_SITE,
            start_urls=(url,),
            allowed=("https://x.no/",),
        )
    toml = (
        '[[source]]\nname = "s"\ntitle = "s"\nregion = "orkdal"\nkind = "project_site"\n'
        f'start_urls = ["{url}"]\nallowed = ["https://x.no/"]\n'
    )
    with pytest.raises(SourceConfigError, match="not an http"):
        parse_sources(toml)


def test_non_http_links_and_redirects_are_never_requested(
    server: HostileServer, client: httpx.Client, state: CrawlState
) -> None:
    links = (
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "data:text/html,hei",
        "javascript:alert(1)",
        "/site/to-file",
    )
    anchors = "".join(f'<a href="{href}">lenke</a>' for href in links)
    server.state.overrides["/site/"] = f"<html><body><p>Forside.</p>{anchors}</body></html>"
    server.state.redirects["/site/to-file"] = "file:///etc/passwd"
    _, crawler = run_crawl(client, state, make_source(server, "/site/"))
    assert crawler.summary.skipped.get("unsupported_scheme") == 4
    assert log(state, server.url("/site/to-file")) == [("failed", "bad_redirect")]
    assert {hit.path for hit in server.state.requests} == {"/robots.txt", "/site/", "/site/to-file"}

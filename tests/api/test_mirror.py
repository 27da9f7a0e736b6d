"""The offline mirror server, alone and behind RewritingTransport with the crawler."""

from __future__ import annotations

from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from samsok.api.mirror import serve_mirror
from samsok.ingest.crawl import (
    CrawlState,
    DocumentFetched,
    DocumentUnchanged,
    Source,
)
from samsok.ingest.documents import Region
from samsok.ingest.fetch import RewritingTransport

from tests.ingest.hostile_server import crawl_events, make_pdf

HOST = "www.example.no"
ROOT_MIRROR = Path(__file__).resolve().parents[2] / "corpus" / "mirror"


@pytest.fixture
def mirror_root(tmp_path: Path) -> Path:
    site = tmp_path / HOST
    (site / "nyheter").mkdir(parents=True)
    (site / "dokumenter").mkdir()
    (site / "index.html").write_text(
        "<html><head><title>Forside</title></head><body><p>Velkommen.</p>"
        '<a href="/nyheter/">Nyheter</a> <a href="/nyheter/sak.html?utm_source=x">Sak</a>'
        '<a href="https://www.example.no/dokumenter/rapport.pdf">PDF</a>'
        '<a href="/mangler.html">Mangler</a></body></html>',
        encoding="utf-8",
    )
    (site / "nyheter" / "index.html").write_text(
        '<html><title>Nyheter</title><meta name="samsok-listing" content="1">'
        '<a href="/nyheter/sak.html">Sak</a></html>',
        encoding="utf-8",
    )
    (site / "nyheter" / "sak.html").write_bytes(
        "<html><title>Sak på Værnes</title><p>Ærlig tekst.</p></html>".encode("cp1252")
    )
    (site / "dokumenter" / "rapport.pdf").write_bytes(make_pdf("Rapport"))
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /admin/\n", encoding="utf-8")
    (site / "sitemap.xml").write_text("<urlset/>", encoding="utf-8")
    return tmp_path


def test_serves_files_with_types_validators_and_404(mirror_root: Path) -> None:
    with serve_mirror(mirror_root, [HOST]) as mirror, httpx.Client() as client:
        base = mirror.urls[HOST]
        assert mirror.host_map == {f"https://{HOST}": base}
        assert base.startswith("http://127.0.0.1:")
        home = client.get(base + "/")
        assert home.status_code == 200 and home.headers["content-type"] == "text/html"
        assert "Velkommen" in home.text
        assert client.get(base + "/robots.txt").headers["content-type"].startswith("text/plain")
        assert client.get(base + "/sitemap.xml").headers["content-type"] == "application/xml"
        pdf = client.get(base + "/dokumenter/rapport.pdf")
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        assert client.get(base + "/nyheter/").status_code == 200
        moved = client.get(base + "/nyheter")
        assert moved.status_code == 301 and moved.headers["location"] == "/nyheter/"
        assert client.get(base + "/mangler.html").status_code == 404
        assert client.get(base + "/../" + HOST + "/index.html").status_code in (200, 404)
        assert client.get(base + "/%2e%2e/%2e%2e/etc/passwd").status_code == 404
        etag, modified = home.headers["etag"], home.headers["last-modified"]
        assert client.get(base + "/", headers={"If-None-Match": etag}).status_code == 304
        assert client.get(base + "/", headers={"If-Modified-Since": modified}).status_code == 304
        old = formatdate(0, usegmt=True)
        assert client.get(base + "/", headers={"If-Modified-Since": old}).status_code == 200
        assert client.head(base + "/").content == b""


def test_unknown_host_folder(mirror_root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        serve_mirror(mirror_root, ["www.nope.no"])


def test_crawl_through_rewriting_transport_keeps_real_urls(
    mirror_root: Path, tmp_path: Path
) -> None:
    source = Source.adhoc(f"https://{HOST}/", Region.VAERNES)
    with serve_mirror(mirror_root, [HOST]) as mirror, CrawlState(tmp_path / "c.db") as state:
        transport = RewritingTransport(httpx.HTTPTransport(), mirror.host_map, strict=True)
        with httpx.Client(transport=transport) as client:
            first = crawl_events(client, state, source)
            second = crawl_events(client, state, source)
    documents = {e.document.url: e.document for e in first if isinstance(e, DocumentFetched)}
    assert set(documents) == {
        f"https://{HOST}/",
        f"https://{HOST}/nyheter/sak.html",
        f"https://{HOST}/dokumenter/rapport.pdf",
    }
    assert all(entry.url.startswith(f"https://{HOST}/") for entry in state_log(tmp_path))
    assert not any(isinstance(e, DocumentFetched) for e in second)
    assert sum(isinstance(e, DocumentUnchanged) for e in second) == 3


def state_log(tmp_path: Path) -> list:  # type: ignore[type-arg]
    with CrawlState(tmp_path / "c.db") as state:
        return state.crawl_log()


def test_project_mirror_is_served() -> None:
    hosts = (
        sorted(p.name for p in ROOT_MIRROR.iterdir() if p.is_dir()) if ROOT_MIRROR.is_dir() else []
    )
    if not hosts:
        pytest.skip("corpus/mirror not present")
    with serve_mirror(ROOT_MIRROR, hosts) as mirror, httpx.Client() as client:
        for host in hosts:
            robots = client.get(mirror.urls[host] + "/robots.txt")
            assert robots.status_code == 200 and "User-agent" in robots.text
            assert client.get(mirror.urls[host] + "/").status_code == 200

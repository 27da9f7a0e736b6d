"""Local originals: kept content-addressed and deduplicated, served safely, removed with the
last document that uses them, capped; no server path in JSON or HTML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from samsok.api.app import create_app
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.documents import Region, doc_id_for_url
from samsok.search.schemas import SearchMode, SearchRequest

from tests.api.conftest import BROWSER_ACCEPT
from tests.fakes import HashingEmbedder
from tests.paths import PROJECT_ROOT

REPORTS = PROJECT_ROOT / "corpus/mirror/www.varnesregionen.no/dokumenter/2011"
PDF = REPORTS / "Forprosjekt_DMS_Vaernesregionen.pdf"
OTHER_PDF = REPORTS / "Sluttrapport_delprosjekt2_kommuneoverlege_helsesoster_jordmor.pdf"
HOSTILE_HTML = (
    "<!doctype html><html><head><title>Notat om legevakt</title></head><body><main>"
    "<h1>Notat om legevakt</h1><script>document.title='pwned'</script>"
    "<p>Legevakten i Orkdal samarbeider med kommunene om akutte døgnplasser og "
    "utskrivning fra sykehuset, og erfaringene deles med Værnesregionen.</p></main></body></html>"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    reports = tmp_path / "server" / "secret-path" / "rapporter"
    reports.mkdir(parents=True)
    shutil.copy(PDF, reports / "dms.pdf")
    shutil.copy(PDF, reports / "dms-kopi.pdf")  # same bytes: stored once
    shutil.copy(OTHER_PDF, reports / "sluttrapport.pdf")
    (reports / "notat.html").write_text(HOSTILE_HTML, "utf-8")
    return reports


def _services(tmp_path: Path, **settings: object) -> Services:
    return Services(
        Settings(data_dir=tmp_path / "data", **settings),  # type: ignore[arg-type]
        embedder=HashingEmbedder(),
    )


def test_local_pdf_is_kept_served_and_removed(tmp_path: Path, folder: Path) -> None:
    services = _services(tmp_path)
    try:
        summary = services.ingest_paths([folder], Region.ORKDAL, "rapporter", None)
        assert summary["originals"] == {"kept": 4}
        doc_id = doc_id_for_url("local:rapporter/dms.pdf")
        copy_id = doc_id_for_url("local:rapporter/dms-kopi.pdf")
        blobs = [p for p in (tmp_path / "data" / "originals").rglob("*") if p.is_file()]
        assert len(blobs) == 3  # dms.pdf and its copy share one file
        originals = services.status()["originals"]
        assert originals == {
            "documents": 4,
            "files": 3,
            "bytes": PDF.stat().st_size + OTHER_PDF.stat().st_size + len(HOSTILE_HTML.encode()),
            "skipped": 0,
        }

        client = TestClient(create_app(services.settings, services.index))
        found = client.get("/search", params={"q": "distriktsmedisinsk senter", "limit": 20})
        assert str(tmp_path) not in found.text and "file:" not in found.text
        hits = {h["doc_id"]: h for h in found.json()["results"]}
        hit = hits.get(doc_id) or hits[copy_id]
        assert hit["url"] in ("local:rapporter/dms.pdf", "local:rapporter/dms-kopi.pdf")
        assert hit["page_url"] == f"/documents/{hit['doc_id']}/original#page={hit['page']}"
        page = client.get(
            "/", params={"q": "distriktsmedisinsk senter"}, headers={"Accept": BROWSER_ACCEPT}
        )
        assert str(tmp_path) not in page.text and "file:" not in page.text
        assert f'href="/documents/{hit["doc_id"]}/original#page={hit["page"]}"' in page.text
        briefing = client.get(
            "/briefing", params={"pick": f"{hit['doc_id']}:{hit['chunk_id']}", "format": "html"}
        )
        assert f'href="/documents/{hit["doc_id"]}/original#page={hit["page"]}"' in briefing.text
        assert str(tmp_path) not in briefing.text
        markdown = client.get(
            "/briefing", params={"pick": f"{hit['doc_id']}:{hit['chunk_id']}", "format": "md"}
        )
        assert str(tmp_path) not in markdown.text and "file:" not in markdown.text
        document = client.get(f"/documents/{doc_id}")
        assert document.json()["url"] == "local:rapporter/dms.pdf"
        assert str(tmp_path) not in document.text
        doc_page = client.get(f"/documents/{doc_id}", headers={"Accept": BROWSER_ACCEPT}).text
        assert f'href="/documents/{doc_id}/original#page=2"' in doc_page
        assert str(tmp_path) not in doc_page

        original = client.get(f"/documents/{doc_id}/original")
        assert original.status_code == 200
        assert original.content == PDF.read_bytes()
        assert original.headers["content-type"] == "application/pdf"
        assert original.headers["content-disposition"].startswith("inline;")
        assert 'filename="dms.pdf"' in original.headers["content-disposition"]
        assert original.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in original.headers["content-security-policy"]

        html_id = doc_id_for_url("local:rapporter/notat.html")
        note = client.get(f"/documents/{html_id}/original")
        assert note.status_code == 200 and note.headers["content-type"].startswith("text/html")
        assert note.headers["content-security-policy"].startswith("sandbox")

        # Crawled documents and unknown ids have no original; bad ids never reach the disk.
        assert client.get("/documents/0123456789abcdef/original").status_code == 404
        assert client.get("/documents/..%2F..%2Fetc/original").status_code in (404, 422)
        assert client.get("/documents/%2e%2e/original").status_code in (404, 422)

        # The shared file stays while the copy uses it, and goes with the last user.
        services.index.remove(doc_id)
        assert client.get(f"/documents/{copy_id}/original").content == PDF.read_bytes()
        assert client.get(f"/documents/{doc_id}/original").status_code == 404
        services.index.remove(copy_id)
        blobs = [p for p in (tmp_path / "data" / "originals").rglob("*") if p.is_file()]
        assert len(blobs) == 2
        assert services.status()["originals"]["documents"] == 2
    finally:
        services.close()


def test_reingest_is_idempotent_and_names_are_relative(tmp_path: Path, folder: Path) -> None:
    services = _services(tmp_path)
    try:
        services.ingest_paths([folder], Region.ORKDAL, "rapporter", None)
        again = services.ingest_paths([folder], Region.ORKDAL, "rapporter", None)
        assert again["new"] == 0 and again["unchanged"] == 4 and again["removed"] == 0
        assert services.status()["originals"]["files"] == 3
        single = services.ingest_paths([folder / "dms.pdf"], Region.ORKDAL, "rapporter", None)
        assert single["duplicates"] == 1  # a new name (its own) for text indexed before
        urls = {d.url for d in services.index.store.documents_all()}
        assert "local:dms.pdf" in urls and all(str(tmp_path) not in u for u in urls)
    finally:
        services.close()


def test_over_the_cap_the_document_is_indexed_without_its_original(
    tmp_path: Path, folder: Path
) -> None:
    cap = PDF.stat().st_size + 10  # room for one of the PDFs only
    services = _services(tmp_path, originals_max_bytes=cap)
    try:
        summary = services.ingest_paths([folder], Region.ORKDAL, "rapporter", None)
        assert summary["new"] >= 3
        assert summary["originals"]["not_kept"] >= 1
        assert services.status()["originals"]["bytes"] <= cap
        client = TestClient(create_app(services.settings, services.index))
        skipped = services.index.store.query(
            "SELECT doc_id FROM originals WHERE sha256 IS NULL LIMIT 1"
        )[0][0]
        response = client.get(f"/documents/{skipped}/original")
        assert response.status_code == 404
        assert "SAMSOK_ORIGINALS_MAX_BYTES" in response.json()["error"]
        hits = services.index.search(SearchRequest(q="legevakt", mode=SearchMode.LEXICAL))
        assert hits.results  # indexed all the same
    finally:
        services.close()


def test_legacy_file_urls_never_leak(tmp_path: Path) -> None:
    from samsok.search.schemas import Hit

    hit = Hit.model_validate(
        {
            "doc_id": "ab",
            "url": "file:///srv/hemmelig/rapporter/x.pdf",
            "title": "x",
            "region": "orkdal",
            "type": "report",
            "source": "local",
            "published": None,
            "page": 2,
            "page_url": "file:///srv/hemmelig/rapporter/x.pdf#page=2",
            "snippet": "",
            "score": 1.0,
            "chunk_id": 1,
            "also_published_at": ["file:///srv/hemmelig/y.pdf"],
        }
    )
    assert "hemmelig" not in hit.model_dump_json()

""" "Nytt og endret" end to end: a recrawl of the mirror with a page added, a page and a PDF
changed and a page removed shows exactly those in /changes, in the Atom feed (parsed with
feedparser) and in `samsok changes`. Model-free (the hashing embedder)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from samsok.api.app import create_app
from samsok.api.cli import cli
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.documents import Region, doc_id_for_url
from samsok.search.store import LOCAL_TZ

from tests.fakes import HashingEmbedder
from tests.mirror_edits import ADDED, CHANGED, PDF, REMOVED, SITE, edit_mirror
from tests.paths import PROJECT_ROOT

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def recrawled(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("changes")
    mirror = root / "mirror"
    shutil.copytree(PROJECT_ROOT / "corpus" / "mirror" / SITE, mirror / SITE)
    settings = Settings(data_dir=root / "data", mirror_dir=mirror)
    services = Services(settings, embedder=HashingEmbedder())
    first = services.crawl(["vaernesregionen"], mirror=True)
    assert first.crawl.new >= 20
    between = datetime.now(UTC)
    edit_mirror(mirror)
    second = services.crawl(["vaernesregionen"], mirror=True)
    assert (second.crawl.new, second.crawl.changed, second.crawl.removed) == (1, 2, 1)
    client = TestClient(create_app(settings, services.index))
    yield settings, services, client, between
    services.close()


def _kinds(body: dict) -> dict[str, str]:
    return {item["url"]: item["kind"] for g in body["groups"] for item in g["items"]}


def test_changes_show_exactly_what_the_recrawl_changed(recrawled) -> None:
    _, _, client, between = recrawled
    response = client.get("/changes", params={"since": between.isoformat()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert _kinds(body) == {ADDED: "new", CHANGED: "changed", PDF: "changed", REMOVED: "removed"}
    assert (body["new"], body["changed"], body["removed"], body["total"]) == (1, 2, 1, 4)
    items = {i["url"]: i for g in body["groups"] for i in g["items"]}
    assert items[PDF]["pages_removed"] == [4] and items[PDF]["pages_added"] == []
    assert items[CHANGED]["text_changed"] and not items[CHANGED]["title_changed"]
    assert items[REMOVED]["removed_reason"] and items[REMOVED]["title"]  # still shown
    assert items[ADDED]["title"] == "Bassengtrening for seniorer i Stjørdal"
    assert items[ADDED]["document_url"] == f"/documents/{doc_id_for_url(ADDED)}"
    times = [i["at"] for g in body["groups"] for i in g["items"]]
    for group in body["groups"]:
        stamps = [i["at"] for i in group["items"]]
        assert stamps == sorted(stamps, reverse=True)  # newest first
    assert len(times) == 4
    # Orkdal had no change in this period.
    assert (
        client.get("/changes", params={"since": between.isoformat(), "region": "orkdal"}).json()[
            "total"
        ]
        == 0
    )


def test_a_date_covers_the_whole_day_and_the_first_crawl_is_a_baseline(recrawled) -> None:
    _, services, client, _ = recrawled
    today = datetime.now(LOCAL_TZ).date()
    for since in (f"{today:%d.%m.%Y}", today.isoformat()):
        body = client.get("/changes", params={"since": since}).json()
        # The first crawl found what the site already had: counted, not listed as news.
        assert _kinds(body) == {
            ADDED: "new",
            CHANGED: "changed",
            PDF: "changed",
            REMOVED: "removed",
        }
        [note] = body["baseline"]
        assert note["source"] == "vaernesregionen" and note["region"] == "vaernes"
        documents = services.index.store.documents_all()
        # Every document but the one added later and the two changed since (listed above).
        assert note["documents"] == len(documents) - 3


def test_local_files_are_never_a_baseline(tmp_path: Path) -> None:
    services = Services(Settings(data_dir=tmp_path / "data"), embedder=HashingEmbedder())
    try:
        reports = tmp_path / "rapporter"
        reports.mkdir()
        (reports / "notat.html").write_text(
            "<html><head><title>Notat om legevakt</title></head><body><main><h1>Notat om "
            "legevakt</h1><p>Legevakten i Orkdal samarbeider med kommunene om akutte "
            "døgnplasser.</p></main></body></html>",
            "utf-8",
        )
        services.ingest_paths([reports], Region.ORKDAL, "rapporter", None)
        body = services.changes(datetime.now(LOCAL_TZ).date(), None)
        assert [i.url for i in body.items()] == ["local:rapporter/notat.html"]
        assert body.items()[0].kind == "new" and not body.baseline
    finally:
        services.close()


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"since": "31.02.2020"}, "since"),
        ({"since": "i går"}, "since"),
        ({"since": "2999-01-01"}, "since"),
        ({"region": "oslo"}, "region"),
    ],
)
def test_bad_parameters_are_422_with_a_reason(recrawled, params: dict, name: str) -> None:
    _, _, client, _ = recrawled
    response = client.get("/changes", params=params)
    assert response.status_code == 422
    assert response.json()["error"].startswith(f"{name}:")
    page = client.get("/changes", params=params, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 400 and 'class="error-summary"' in page.text


def test_atom_feed_is_valid_and_stable(recrawled) -> None:
    _, _, client, between = recrawled
    response = client.get("/changes/vaernes.atom", params={"since": between.isoformat()})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id.startswith("urn:uuid:") and feed.feed.title and feed.feed.updated
    assert any(link.rel == "self" for link in feed.feed.links)
    assert len(feed.entries) == 4
    for entry in feed.entries:
        assert entry.id.startswith("urn:uuid:") and entry.title and entry.updated_parsed
        assert entry.link.startswith("http://testserver/documents/")
    by_link = {e.link.rsplit("/", 1)[1]: e for e in feed.entries}
    assert set(by_link) == {doc_id_for_url(u) for u in (ADDED, CHANGED, PDF, REMOVED)}
    assert by_link[doc_id_for_url(REMOVED)].title.startswith("Fjernet:")
    again = feedparser.parse(client.get("/changes/vaernes.atom").content)
    # Stable ids; the first crawl (a baseline) is not in the feed either.
    assert {e.id for e in again.entries} == {e.id for e in feed.entries}
    assert not feedparser.parse(client.get("/changes/orkdal.atom").content).entries
    # The same feed by query parameter or content negotiation.
    for response in (
        client.get("/changes.atom", params={"region": "vaernes"}),
        client.get("/changes", params={"region": "vaernes", "format": "atom"}),
        client.get(
            "/changes", params={"region": "vaernes"}, headers={"Accept": "application/atom+xml"}
        ),
    ):
        assert response.headers["content-type"].startswith("application/atom+xml")
        assert {e.id for e in feedparser.parse(response.content).entries} == {
            e.id for e in again.entries
        }
    assert client.get("/changes.atom", params={"region": "oslo"}).status_code == 422
    assert client.get("/changes/oslo.atom").status_code == 422


def test_cli_prints_the_same_items(recrawled) -> None:
    settings, _, client, between = recrawled
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "changes", "--since", between.isoformat()]
    as_json = runner.invoke(cli, [*base, "--json"])
    assert as_json.exit_code == 0, as_json.output
    api = client.get("/changes", params={"since": between.isoformat()}).json()
    assert _kinds(json.loads(as_json.stdout)) == _kinds(api)
    text = runner.invoke(cli, base)
    assert text.exit_code == 0, text.output
    assert "1 new, 2 changed, 1 removed" in text.stdout
    for item in (i for g in api["groups"] for i in g["items"]):
        assert item["title"] in text.stdout and item["url"] in text.stdout
    bad = runner.invoke(cli, ["--data-dir", str(settings.data_dir), "changes", "--since", "x"])
    assert bad.exit_code != 0 and "since" in bad.output and "Traceback" not in bad.output


def test_changes_page_and_compare_link(recrawled) -> None:
    _, _, client, _ = recrawled
    today = datetime.now(LOCAL_TZ).date()
    html = client.get(
        "/changes",
        params={"since": f"{today:%d.%m.%Y}", "region": "vaernes"},
        headers={"Accept": BROWSER_ACCEPT},
    ).text
    assert 'class="change change--removed"' in html
    assert "Bassengtrening for seniorer i Stjørdal" in html
    assert f'value="{today:%d.%m.%Y}"' in html
    assert 'type="application/atom+xml"' in html
    compare = client.get(
        "/compare",
        params={"q": "legevakt", "date_from": "01.06.2013"},
        headers={"Accept": BROWSER_ACCEPT},
    ).text
    assert "Nytt i Værnes siden 01.06.2013" in compare
    assert "/changes?since=2013-06-01&amp;region=vaernes" in compare


def test_a_removed_documents_page_says_so(recrawled) -> None:
    _, _, client, _ = recrawled
    page = client.get(f"/documents/{doc_id_for_url(REMOVED)}", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 410
    assert "Dokumentet er fjernet fra søket" in page.text and "(404)" in page.text
    assert client.get(f"/documents/{doc_id_for_url(REMOVED)}").status_code == 404  # JSON
    unknown = client.get("/documents/0123456789abcdef", headers={"Accept": BROWSER_ACCEPT})
    assert unknown.status_code == 404

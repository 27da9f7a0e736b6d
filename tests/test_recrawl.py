"""Recrawling the mirror through the whole pipe: unchanged costs nothing, changes and removals
reach both indexes. Uses the model-free test embedder so it runs in seconds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder
from tests.paths import PROJECT_ROOT

SITE = "www.varnesregionen.no"
LEGEVAKT = f"https://{SITE}/nyheter/2012/felles-legevakt-fra-1-september.html"


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    shutil.copytree(PROJECT_ROOT / "corpus" / "mirror" / SITE, root / SITE)
    return root


def _page_file(mirror: Path, url: str) -> Path:
    return mirror / SITE / url.split(f"{SITE}/", 1)[1]


def test_recrawl_unchanged_changed_and_removed(tmp_path: Path, mirror: Path) -> None:
    embedder = HashingEmbedder()
    settings = Settings(data_dir=tmp_path / "data", mirror_dir=mirror)
    services = Services(settings, embedder=embedder)
    try:
        first = services.crawl(["vaernesregionen"], mirror=True)
        assert first.crawl.new >= 20
        legevakt = services.index.search(
            SearchRequest(q="legevakt", mode=SearchMode.LEXICAL, limit=50)
        )
        assert LEGEVAKT in {hit.url for hit in legevakt.results}

        calls = embedder.calls
        unchanged = services.crawl(["vaernesregionen"], mirror=True)
        assert unchanged.crawl.new == unchanged.crawl.changed == unchanged.crawl.removed == 0
        assert unchanged.crawl.fetched == 0  # 304s and sitemap lastmod only
        assert embedder.calls == calls

        page = _page_file(mirror, LEGEVAKT)
        page.unlink()
        changed_url = f"https://{SITE}/samhandling/delprosjekt-7-folkehelse.html"
        changed = _page_file(mirror, changed_url)
        changed.write_text(
            changed.read_text("utf-8").replace(
                "</h1>",
                "</h1><p>Frisklivssentralen i Meråker tilbyr nå bassengtrening for seniorer.</p>",
                1,
            ),
            "utf-8",
        )
        # The CMS updates its sitemap: the deleted page's entry goes, the edited page's
        # lastmod moves.
        sitemap = mirror / SITE / "sitemap.xml"
        xml = sitemap.read_text("utf-8")
        entry_start = xml.rindex("<url>", 0, xml.index(LEGEVAKT))
        entry_end = xml.index("</url>", entry_start) + len("</url>")
        xml = xml[:entry_start] + xml[entry_end:]
        xml = xml.replace(
            f"<loc>{changed_url}</loc>\n    <lastmod>2013-02-05</lastmod>",
            f"<loc>{changed_url}</loc>\n    <lastmod>2013-03-01</lastmod>",
        )
        sitemap.write_text(xml, "utf-8")
        third = services.crawl(["vaernesregionen"], mirror=True)
        assert third.crawl.removed == 1 and third.indexing.removed == 1
        assert third.crawl.changed == 1
        urls = {
            h.url
            for h in services.index.search(
                SearchRequest(q="legevakt", mode=SearchMode.LEXICAL, limit=50)
            ).results
        }
        assert LEGEVAKT not in urls
        pool = services.index.search(SearchRequest(q="bassengtrening", mode=SearchMode.LEXICAL))
        assert [h.url for h in pool.results] == [changed_url]
    finally:
        services.close()

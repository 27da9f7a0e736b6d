"""Issue 8, observation 4 as an operator ran it: two ad-hoc crawls of two sites on one host name
(`samsok crawl --url http://127.0.0.1:P1/ --region orkdal`, then P2 and vaernes) through the whole
pipe. The second crawl used to remove every document of the first. The two sites are the
bundled mirror's, served on two loopback ports; the model-free test embedder keeps it fast."""

from __future__ import annotations

from pathlib import Path

from samsok.api.mirror import serve_mirror
from samsok.api.services import Services
from samsok.api.settings import Settings

from tests.fakes import HashingEmbedder
from tests.paths import PROJECT_ROOT

SITES = ["arkiv.snillfjord.kommune.no", "www.varnesregionen.no"]


def test_two_adhoc_crawls_on_one_host_name_keep_both_sets_of_documents(tmp_path: Path) -> None:
    # Ad-hoc crawls of a loopback server need the opt-in, as they would in a deployment.
    settings = Settings(data_dir=tmp_path / "data", crawl_allow_private=True, crawl_delay=0.0)
    services = Services(settings, embedder=HashingEmbedder())
    try:
        with serve_mirror(PROJECT_ROOT / "corpus" / "mirror", SITES) as mirror:
            orkdal, vaernes = (mirror.urls[site] + "/" for site in SITES)
            first = services.crawl([], url=orkdal, region="orkdal")
            after_first = services.index.stats()
            second = services.crawl([], url=vaernes, region="vaernes")
            after_second = services.index.stats()
            again = services.crawl([], url=orkdal, region="orkdal")
            after_again = services.index.stats()
    finally:
        services.close()
    assert first.crawl.new >= 5 and second.crawl.new >= 5
    assert second.crawl.removed == 0 and again.crawl.removed == 0
    orkdal_docs = after_first.by_region["orkdal"]
    assert after_second.by_region == {
        "orkdal": orkdal_docs,
        "vaernes": after_second.documents - orkdal_docs,
    }
    assert after_second.by_region["vaernes"] > 0
    assert after_again.documents == after_second.documents
    assert len(after_second.by_source) == 2  # one source per scope, not one per host name


def test_two_adhoc_crawls_of_two_sections_of_one_site_keep_both(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", crawl_allow_private=True, crawl_delay=0.0)
    services = Services(settings, embedder=HashingEmbedder())
    try:
        with serve_mirror(PROJECT_ROOT / "corpus" / "mirror", SITES[1:]) as mirror:
            base = mirror.urls[SITES[1]]
            nyheter = services.crawl([], url=base + "/nyheter/", region="vaernes")
            after_nyheter = services.index.stats().documents
            samhandling = services.crawl([], url=base + "/samhandling/", region="vaernes")
            stats = services.index.stats()
            urls = {d.url for d in services.index.store.documents_all()}
    finally:
        services.close()
    assert nyheter.crawl.new >= 5 and samhandling.crawl.new >= 5
    assert samhandling.crawl.removed == 0
    assert stats.documents == after_nyheter + samhandling.indexing.as_dict()["new"]
    assert any("/nyheter/" in url for url in urls) and any("/samhandling/" in url for url in urls)
    assert sorted(stats.by_source) == [f"adhoc:{base}/nyheter/", f"adhoc:{base}/samhandling/"]


def test_adhoc_crawl_of_a_loopback_site_is_refused_without_the_opt_in(tmp_path: Path) -> None:
    services = Services(
        Settings(data_dir=tmp_path / "data", crawl_delay=0.0), embedder=HashingEmbedder()
    )
    try:
        with serve_mirror(PROJECT_ROOT / "corpus" / "mirror", SITES[:1]) as mirror:
            report = services.crawl([], url=mirror.urls[SITES[0]] + "/", region="orkdal")
    finally:
        services.close()
    assert report.crawl.new == 0 and report.crawl.requests == 0
    # robots.txt refused, and so the start page: the summary says why.
    assert report.crawl.skipped == {"private_address": 1}

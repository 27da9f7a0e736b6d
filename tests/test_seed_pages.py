"""The two real seed pages crawled from loopback, indexed, and found (issue 9).

The SiO project page (a project description with a dated news list below it) used to be
classified as a listing and never indexed. Here both seed pages sit in a mirror folder of
their own, each under a news archive start page (a true listing, followed but not indexed),
and are crawled through the same `Services` the CLI uses:

* fast: the model-free test embedder; asserts what was indexed and with which text;
* slow: the real model, with the bundled mirror crawled too (so the index is not tiny and
  holds near-twins of both pages), and paraphrased queries that must find each page.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.search.embedding import Embedder
from samsok.search.schemas import SearchRequest

from tests.fakes import HashingEmbedder
from tests.paths import PROJECT_ROOT, shared_data

SIO_HOST = "www.sio-seed.no"
VAERNES_HOST = "www.vaernes-seed.no"
SIO_URL = f"https://{SIO_HOST}/prosjektet/"
VAERNES_URL = f"https://{VAERNES_HOST}/vaernes-viser-seg-fram/"
SEED_FILES = {SIO_URL: "000_63974a30ab076464.txt", VAERNES_URL: "003_adad3abac36aaaf6.txt"}

# Paraphrases of what each page says, not keyword copies of it, written before any run. The
# bundled mirror holds a paraphrased twin of each seed page ("Prosjektets mål", "Invitert til
# Helsekonferansen") and pages on the same projects, so a query can fairly rank a twin first.
QUERIES = {
    SIO_URL: [
        "hva skal kommunene i Orkdal ha på bordet før de bestemmer seg for å binde seg til et "
        "varig helsesamarbeid",
        "hvilke forutsetninger om penger, styring og datasystemer må avklares før et felles "
        "tilbud med St. Olavs kan komme i gang",
        "hvordan skal prosjektet samordnes med Fylkesmannen i to fylker og KS",
        "rapport som skal gjøre deltakerkommunene i stand til å bestemme om de blir med i et "
        "fast samarbeid",
        "hva er hovedmålet med samhandlingsprosjektet i Orkdalsregionen",
        "kompetanse og fagmiljø kommunene trenger for å møte utfordringene stortingsmeldingen "
        "peker på",
    ],
    VAERNES_URL: [
        "hvem skal vise fram det prisbelønte samarbeidet om jordmor og kommunelege på den "
        "store nasjonale konferansen i Oslo",
        "hvilke sju delprosjekter har Tydal, Selbu, Stjørdal og Meråker satt i gang med sykehusene",
        "ledende helsesøster i Tydal skal representere regionen på konferansen",
        "hvilke mål har helseprosjektet i Værnesregionen, som helsekommune og pasientforløp",
        "kommuneoverlegen i Stjørdal er fornøyd med å få presentere delprosjektet sitt for "
        "tusen deltakere",
        "hvilke helseforetak samarbeider de fire kommunene med i samhandlingsprosjektet",
    ],
}


def _archive(links: list[tuple[str, str]]) -> str:
    """A true listing: a news archive of dated teasers (followed, not indexed)."""
    items = "".join(
        f'<li class="teaser">\n<a href="{href}">{title}</a>\n<p>Les mer om saken.</p>\n'
        f"<span class='date'>{10 + i:02d}.05.2012</span>\n</li>\n"
        for i, (href, title) in enumerate(links)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Nyheter</title></head>"
        f"<body><main><h1>Nyheter</h1><ul class='news'>{items}</ul></main></body></html>"
    )


def _seed_mirror(root: Path, seeds: Path) -> None:
    for url, name in SEED_FILES.items():
        host = url.split("/")[2]
        path = root / host / url.split(host, 1)[1].strip("/") / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        # The seed extracts are served as the HTML pages they were taken from.
        shutil.copyfile(seeds / name, path)
        others = [("/om-oss/", "Om oss"), ("/kontakt/", "Kontakt"), ("/personvern/", "Personvern")]
        page = url.split(host, 1)[1]
        (root / host / "nyheter").mkdir(exist_ok=True)
        (root / host / "nyheter" / "index.html").write_text(
            _archive([(page, "Prosjektsiden"), *others]), "utf-8"
        )
        (root / host / "robots.txt").write_text("User-agent: *\nAllow: /\n", "utf-8")


_SOURCES = """
[[source]]
name = "sio-seed"
title = "SiO (seed page)"
region = "orkdal"
kind = "municipality_news"
start_urls = ["https://{sio}/nyheter/"]
allowed = ["https://{sio}/"]
mirror = "{sio}"
max_depth = 2
max_pages = 20

[[source]]
name = "vaernes-seed"
title = "Værnesregionen (seed page)"
region = "vaernes"
kind = "municipality_news"
start_urls = ["https://{vaernes}/nyheter/"]
allowed = ["https://{vaernes}/"]
mirror = "{vaernes}"
max_depth = 2
max_pages = 20
"""


def _settings(tmp: Path, with_bundled_mirror: bool, **extra: object) -> Settings:
    seeds = shared_data("seeds", needs=tuple(SEED_FILES.values()))
    mirror = tmp / "mirror"
    if with_bundled_mirror:
        shutil.copytree(PROJECT_ROOT / "corpus" / "mirror", mirror)
    _seed_mirror(mirror, seeds)
    sources = _SOURCES.format(sio=SIO_HOST, vaernes=VAERNES_HOST)
    if with_bundled_mirror:
        sources = (PROJECT_ROOT / "corpus" / "sources.toml").read_text("utf-8") + sources
    (tmp / "sources.toml").write_text(sources, "utf-8")
    return Settings(
        data_dir=tmp / "data", mirror_dir=mirror, sources_file=tmp / "sources.toml", **extra
    )


def test_both_seed_pages_are_crawled_and_indexed_with_their_own_text(tmp_path: Path) -> None:
    services = Services(_settings(tmp_path, with_bundled_mirror=False), embedder=HashingEmbedder())
    try:
        report = services.crawl(["sio-seed", "vaernes-seed"], mirror=True)
        rows = {row.url: row for row in services.index.store.documents_all()}
        # Both seed pages are documents; the two news archives are listings (not indexed).
        assert set(rows) == {SIO_URL, VAERNES_URL}, report
        assert report.crawl.skipped.get("listing_page") == 2, report
        sio, vaernes = (
            "\n".join(page.text for page in services.index.document(rows[url].doc_id).pages)
            for url in (SIO_URL, VAERNES_URL)
        )
        assert "Prosjektets hovedmål er å utarbeide en prosjektrapport" in sio
        assert "IKT og tilgrensende tjenester" in sio
        for teaser in ("Veivalgsprosess", "Gapanalysen", "Scenarioprosess", "2011-05-24"):
            assert teaser not in sio, teaser  # the news list is not the page's text
        assert "sju ulike delprosjekt" in vaernes and "Les forrige sak" not in vaernes
    finally:
        services.close()


@pytest.fixture(scope="module")
def crawled_with_mirror(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[Services]:
    tmp = tmp_path_factory.mktemp("seeds")
    settings = _settings(tmp, with_bundled_mirror=True, model_cache_dir=embedder.config.cache_dir)
    services = Services(settings, embedder=embedder)
    services.crawl([], mirror=True)
    yield services
    services.close()


@pytest.mark.slow
@pytest.mark.parametrize("url", list(QUERIES))
def test_paraphrased_queries_find_the_seed_pages(crawled_with_mirror: Services, url: str) -> None:
    """Each seed page is in the top 3 for at least half of its paraphrased queries (a floor
    over queries, as in test_end_to_end: one hard query may miss, the page may not), and in
    the top 10 for most of them. Measured when written: 4 of 6 in the top 3 for each page."""
    services = crawled_with_mirror
    assert services.index.stats().documents >= 40  # the bundled mirror is in the index too
    ranks = []
    for query in QUERIES[url]:
        response = services.index.search(SearchRequest(q=query, limit=10))
        ranks.append(
            next(
                (
                    rank
                    for rank, hit in enumerate(response.results, start=1)
                    if url == hit.url or url in hit.also_published_at
                ),
                None,
            )
        )
    in_top3 = sum(rank is not None and rank <= 3 for rank in ranks)
    in_top10 = sum(rank is not None for rank in ranks)
    assert in_top3 * 2 >= len(ranks), ranks
    assert in_top10 * 3 >= 2 * len(ranks), ranks

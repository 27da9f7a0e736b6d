"""A small index of hand-written Norwegian documents and an app over it, for page and API tests.

Both regions and all three types are present, one report is a three-page PDF, one story is
published at two URLs (a duplicate pair), and one document is hostile: a `<script>` title,
HTML in its text and `javascript:` URLs, so every page can be checked for escaping.
The browser tests build the same index (`build_fixture_index`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from samsok.api.app import create_app
from samsok.api.settings import Settings
from samsok.ingest.chunk import chunk_document
from samsok.ingest.config import ChunkConfig
from samsok.ingest.documents import DocType, Document, ExtractedPage, Page, Region
from samsok.search.index import IndexConfig, SearchIndex
from samsok.search.store import LOCAL_TZ

from tests.fakes import HashingEmbedder

PDF_URL = "https://www.orkdal.kommune.no/dokumenter/sluttrapport-utskrivning.pdf"
XSS_TITLE = "<script>alert(1)</script>"
JORDMOR_TEXT = (
    "Gravide i Tydal og Selbu får nå oppfølging av jordmor nær hjemmet. Den interkommunale "
    "jordmortjenesten i Værnesregionen har faste dager i hver kommune, og jordmor følger opp "
    "svangerskapet i samarbeid med fastlegen. Kommunene deler utgiftene etter innbyggertall."
)


def _doc(
    url: str,
    title: str,
    region: Region,
    doc_type: DocType,
    text: str | list[Page],
    published: date | None,
    source: str,
    content_type: str = "text/html",
) -> Document:
    # Built the way extraction builds documents: an extracted page tied to its source.
    pages = text if isinstance(text, list) else [Page(None, text)]
    page = ExtractedPage(
        url, content_type, title=title, pages=pages, published=published, language="nb"
    )
    return page.to_document(source=source, region=region, doc_type=doc_type, fetched_at=None)


FIXTURE_DOCUMENTS: list[Document] = [
    _doc(
        "https://www.orkdal.kommune.no/nyheter/velferdsteknologi-trygghet",
        "Velferdsteknologi gir trygghet hjemme",
        Region.ORKDAL,
        DocType.NEWS,
        "Orkdal kommune har tatt i bruk digitale tilsyn og trygghetsalarmer. Velferdsteknologi "
        "gjør at eldre kan bo lenger hjemme, og hjemmetjenesten får varsel når noe skjer. "
        "Erfaringene fra SiO viser færre akutte innleggelser.",
        date(2021, 3, 15),
        "orkdal.kommune.no",
    ),
    _doc(
        PDF_URL,
        "Sluttrapport: samhandling om utskrivning fra sykehus",
        Region.ORKDAL,
        DocType.REPORT,
        [
            Page(
                1,
                "Sluttrapport fra prosjektet om utskrivning. Samhandling i Orkdalsregionen "
                "(SiO) mellom kommunene og St. Olavs hospital.",
            ),
            Page(
                2,
                "Utskrivningsklare pasienter skal tas imot i kommunen samme dag. Et felles "
                "pasientforløp med daglige tavlemøter gjorde overgangen tryggere.",
            ),
            Page(
                3,
                "Anbefalinger: styrk legevakt og kommunale akutte døgnplasser, og del "
                "erfaringene med andre regioner.",
            ),
        ],
        date(2019, 6, 1),
        "orkdal.kommune.no",
        "application/pdf",
    ),
    _doc(
        "https://www.orkdal.kommune.no/tjenester/legevakt",
        "Legevakt i Orkdalsregionen",
        Region.ORKDAL,
        DocType.PAGE,
        "Legevakten for Orkdalsregionen ligger på Orkanger. Ring 116 117 om natta og i helgene. "
        "Legevakten samarbeider med kommunale akutte døgnplasser.",
        None,
        "orkdal.kommune.no",
    ),
    _doc(
        "https://www.orkdal.kommune.no/nyheter/frisklivssentral",
        "Frisklivssentralen åpner i Orkanger",
        Region.ORKDAL,
        DocType.NEWS,
        "Frisklivssentralen gir kurs i fysisk aktivitet, kosthold og røykeslutt. Folkehelse og "
        "forebygging er målet, og fastlegen kan henvise.",
        date(2016, 9, 5),
        "orkdal.kommune.no",
    ),
    _doc(
        "https://www.orkdal.kommune.no/nyheter/demensteam",
        "Demensteam besøker hjemmeboende",
        Region.ORKDAL,
        DocType.NEWS,
        "Demensteamet i Orkdal gir råd til pårørende og kartlegger hjemmeboende med demens. "
        "Dagaktivitetstilbud avlaster familiene.",
        date(2017, 2, 20),
        "orkdal.kommune.no",
    ),
    _doc(
        "https://www.stjordal.kommune.no/nyheter/trygghetsalarm",
        "Trygghetsalarm og velferdsteknologi i Stjørdal",
        Region.VAERNES,
        DocType.NEWS,
        "Værnesregionen innfører velferdsteknologi i hjemmetjenesten. Trygghetsalarmer med GPS "
        "og digitale medisindispensere gir eldre trygghet i eget hjem.",
        date(2022, 9, 1),
        "stjordal.kommune.no",
    ),
    _doc(
        "https://www.stjordal.kommune.no/rapporter/dms-evaluering",
        "Distriktsmedisinsk senter: evaluering",
        Region.VAERNES,
        DocType.REPORT,
        "Evalueringen av distriktsmedisinsk senter på Stjørdal viser at intermediære senger gir "
        "kortere liggetid på sykehus. Utskrivningsklare pasienter tas imot raskere.",
        date(2018, 11, 20),
        "stjordal.kommune.no",
    ),
    _doc(
        "https://www.stjordal.kommune.no/tjenester/legevakt",
        "Interkommunal legevakt i Værnesregionen",
        Region.VAERNES,
        DocType.PAGE,
        "Legevaktsamarbeidet dekker Meråker, Selbu, Tydal, Frosta og Stjørdal. Legevakten ligger "
        "ved Stjørdal helsesenter.",
        date(2020, 1, 10),
        "stjordal.kommune.no",
    ),
    _doc(
        "https://www.stjordal.kommune.no/nyheter/jordmor",
        "Felles jordmortjeneste for Tydal og Selbu",
        Region.VAERNES,
        DocType.NEWS,
        JORDMOR_TEXT,
        date(2014, 5, 2),
        "stjordal.kommune.no",
    ),
    # The same story on another municipality's site: indexed as "also published at".
    _doc(
        "https://www.selbu.kommune.no/nyheter/jordmor",
        "Felles jordmortjeneste for Tydal og Selbu",
        Region.VAERNES,
        DocType.NEWS,
        JORDMOR_TEXT,
        date(2014, 5, 2),
        "selbu.kommune.no",
    ),
    _doc(
        "https://www.stjordal.kommune.no/nyheter/rus-psykiatri",
        "Felles enhet for rus og psykiatri",
        Region.VAERNES,
        DocType.NEWS,
        "Kommunene i Værnesregionen og helseforetaket har etablert en felles enhet for rus og "
        "psykisk helse. Overgangene mellom sykehus og kommune blir bedre.",
        date(2015, 10, 12),
        "stjordal.kommune.no",
    ),
    _doc(
        "https://www.meraker.kommune.no/nyheter/hverdagsrehabilitering",
        "Hverdagsrehabilitering i Meråker",
        Region.VAERNES,
        DocType.NEWS,
        "Hverdagsrehabilitering hjelper eldre å mestre hverdagen hjemme etter sykdom. "
        "Fysioterapeut og hjemmetjeneste trener sammen med brukeren.",
        date(2019, 4, 8),
        "meraker.kommune.no",
    ),
    # Hostile: markup in the title and text, script URLs as address and duplicate address
    # (the same document at two script URLs).
    *(
        _doc(
            f"javascript:alert({n})",
            XSS_TITLE,
            Region.ORKDAL,
            DocType.NEWS,
            "<img src=x onerror=alert(2)> Velferdsteknologi og trygghet for eldre i Orkdal: "
            "<b>teksten</b> inneholder markup som aldri skal tolkes.",
            date(2020, 6, 1),
            "<i>kilde</i>",
        )
        for n in (1, 3)
    ),
]


def build_fixture_index(data_dir: Path) -> SearchIndex:
    embedder = HashingEmbedder()
    chunker = functools.partial(
        chunk_document, config=ChunkConfig(), count_tokens=embedder.count_tokens
    )
    index = SearchIndex(data_dir, embedder, chunker, IndexConfig())  # type: ignore[arg-type]
    index.upsert_many(FIXTURE_DOCUMENTS)
    index.commit()
    return index


@pytest.fixture(scope="session")
def fixture_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    index = build_fixture_index(tmp_path_factory.mktemp("pages") / "data")
    yield index
    index.close()


# The app's "now": 00:30 in Norway is still the day before in UTC, so a page that dates by the
# UTC or the machine's calendar instead of the Norwegian one shows the wrong day.
NOW = datetime(2024, 5, 3, 0, 30, tzinfo=LOCAL_TZ)
TODAY = NOW.date()


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def app(fixture_index: SearchIndex, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    settings = Settings(data_dir=tmp_path_factory.mktemp("settings"))
    return create_app(settings, fixture_index, clock=fixed_clock)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="session")
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A client that asks for HTML the way browsers do (content negotiation)."""
    with TestClient(app, headers={"Accept": BROWSER_ACCEPT}) as test_client:
        yield test_client


#: What every search hit shows (the JSON API and `samsok search --json` alike).
HIT_KEYS = frozenset(
    {"doc_id", "url", "title", "region", "type", "published", "page", "snippet", "score"}
)


def html_of(response: httpx.Response, status: int = 200) -> str:
    """The body of an HTML page answered with `status` (checked, with the start of the body on
    a wrong status)."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def page_showing(client: TestClient, path: str, params: dict[str, str], *fragments: str) -> str:
    """The HTML page at `path` (checked as `html_of` does), asserted to contain each of
    `fragments`; a failure names the first fragment missing."""
    html = html_of(client.get(path, params=params))
    missing = [fragment for fragment in fragments if fragment not in html]
    assert not missing, f"{path} {params} lacks {missing[0]!r}"
    return html


def doc_id(url: str) -> str:
    from samsok.ingest.documents import doc_id_for_url

    return doc_id_for_url(url)

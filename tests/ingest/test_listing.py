"""Listing pages vs pages with their own prose above or beside a list of dated teasers.

A news archive (mostly teasers) is a listing: followed, not indexed. A project page whose own
description sits above or beside a dated news list is a document of its own text, teasers
left out. The constructed pages here are the ones the thresholds in `samsok.ingest.extract.listing`
were chosen on (with the mirror and the seed pages; see docs/extraction.md).
"""

from __future__ import annotations

import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.extract import extract_html
from samsok.ingest.extract.listing import MIN_OWN_PROSE_CHARS

from tests.ingest.conftest import SIO_URL
from tests.paths import shared_data

PROSE = [
    "Prosjektet skal gi kommunestyrene et godt grunnlag for å avgjøre om de vil gå inn i et "
    "fast og forpliktende samarbeid om helse- og omsorgstjenester med sykehuset.",
    "Arbeidet er delt inn i fem faser: ståstedsanalyse, fremtidsbilder, gapanalyse, "
    "veivalg og sluttrapport. Hver fase avsluttes med en delrapport til styringsgruppen.",
    "Kommunene samarbeider allerede om legevakt og jordmortjeneste, og prosjektet ser på "
    "hvordan de kan løse de nye oppgavene fra samhandlingsreformen sammen.",
]
TEASERS = [
    ("Ny felles legevakt åpner", "Fra 1. september får innbyggerne felles legevakt på kveld."),
    ("Sluttrapport lagt fram", "Styringsgruppen har fått sluttrapporten fra prosjektet."),
    ("Frisklivssentral i Selbu", "Frisklivssentralen får en avdeling i Selbu fra februar."),
    ("Konferanse om samhandling", "Regionene deler erfaringer på en felles konferanse."),
    ("Brukerkontor gir én dør inn", "De fire kommunene samarbeider om felles brukerkontor."),
    ("Forprosjekt for DMS klart", "Forprosjektet anbefaler et senter med seksten senger."),
]


def _teaser_list(count: int = 6) -> str:
    items = "".join(
        f'<li class="news-item">\n<a href="/nyheter/sak-{i}.html">{title}</a>\n'
        f"<p>{lead}</p>\n<span class='date'>{10 + i:02d}.03.2012</span>\n</li>\n"
        for i, (title, lead) in enumerate(TEASERS[:count])
    )
    return f"<h2>Siste nytt</h2><ul class='news'>{items}</ul>"


def _page(main: str, side: str = "") -> bytes:
    return (
        "<html><head><title>Samhandlingsprosjektet</title></head><body>"
        "<nav><a href='/'>Forside</a> <a href='/nyheter/'>Nyheter</a></nav>"
        f"<main><h1>Samhandlingsprosjektet</h1>{main}</main>{side}"
        "<footer>Kontakt oss · Personvern</footer></body></html>"
    ).encode()


def _assert_own_text_only(text: str, paragraphs: list[str]) -> None:
    for paragraph in paragraphs:
        assert paragraph in text
    for title, lead in TEASERS:
        assert title not in text and lead not in text
    assert "2012" not in text  # the teaser dates went with the teasers
    assert "Siste nytt" not in text  # the list's label went with the list


@pytest.fixture
def config() -> ExtractConfig:
    return ExtractConfig()


def test_news_archive_is_a_listing(config: ExtractConfig) -> None:
    intro = "<p>Her finner du nyheter fra samhandlingsprosjektet i regionen.</p>"
    page = extract_html(_page(intro + _teaser_list()), "https://x.no/nyheter/", config)
    assert page.is_listing is True
    assert "own_text_kept" not in page.metadata["listing_signals"]


def test_front_page_with_a_tagline_is_a_listing(config: ExtractConfig) -> None:
    tagline = (
        "<p>Interkommunalt samarbeid for fire kommuner. Sammen gir vi innbyggerne bedre "
        "tjenester enn hver kommune kunne gitt alene.</p>"
    )
    page = extract_html(_page(tagline + _teaser_list()), "https://x.no/", config)
    assert page.is_listing is True


def test_project_page_with_prose_above_a_news_list_is_indexed(config: ExtractConfig) -> None:
    prose = "".join(f"<p>{p}</p>" for p in PROSE)
    page = extract_html(_page(prose + _teaser_list()), "https://x.no/prosjekt/", config)
    assert page.is_listing is False
    assert "own_text_kept" in page.metadata["listing_signals"]
    _assert_own_text_only(page.pages[0].text, PROSE)
    assert page.published is None  # a teaser's date is not the page's date
    assert "https://x.no/nyheter/sak-5.html" in page.links  # the teasers are still followed


def test_project_page_with_prose_beside_a_news_list_is_indexed(config: ExtractConfig) -> None:
    prose = "".join(f"<p>{p}</p>" for p in PROSE)
    html = (
        "<html><head><title>Prosjektet</title></head><body><div id='content'>"
        f"<div class='col-main'><h1>Prosjektet</h1>{prose}</div>"
        f"<div class='col-news'>{_teaser_list()}</div></div></body></html>"
    )
    page = extract_html(html, "https://x.no/prosjekt/", config)
    assert page.is_listing is False
    _assert_own_text_only(page.pages[0].text, PROSE)


def test_one_paragraph_above_a_news_list_is_not_enough(config: ExtractConfig) -> None:
    page = extract_html(_page(f"<p>{PROSE[0]}</p>" + _teaser_list()), "https://x.no/", config)
    assert len(PROSE[0]) < MIN_OWN_PROSE_CHARS
    assert page.is_listing is True


def _plain(prose: list[str], teasers: int) -> bytes:
    parts = [*prose]
    for i, (title, lead) in enumerate(TEASERS[:teasers]):
        parts.append(f"{title}\n\n{lead}\n2012-03-{10 + i:02d}")
    return "\n\n".join(parts).encode()


def test_plain_text_prose_above_dated_teasers_is_indexed(config: ExtractConfig) -> None:
    page = extract_html(_plain(PROSE, 5), "https://x.no/", config)
    assert page.content_type == "text/plain"
    assert page.is_listing is False
    _assert_own_text_only(page.pages[0].text, PROSE[1:])  # the first line may be the title
    assert page.published is None


def test_plain_text_dated_teasers_only_is_a_listing(config: ExtractConfig) -> None:
    assert extract_html(_plain([], 6), "https://x.no/", config).is_listing is True


def test_plain_text_dates_opening_each_teaser(config: ExtractConfig) -> None:
    teasers = [f"2012-03-{10 + i:02d}\n{t}\n\n{lead}" for i, (t, lead) in enumerate(TEASERS)]
    body = "\n\n".join(["Nyheter", *teasers]).encode()
    assert extract_html(body, "https://x.no/", config).is_listing is True
    with_prose = "\n\n".join([*PROSE, *teasers]).encode()
    page = extract_html(with_prose, "https://x.no/", config)
    assert page.is_listing is False
    _assert_own_text_only(page.pages[0].text, PROSE[1:])


def test_sio_seed_page_keeps_its_description_without_the_news_list(
    config: ExtractConfig,
) -> None:
    seed = shared_data("seeds") / "000_63974a30ab076464.txt"
    page = extract_html(seed.read_bytes(), SIO_URL, config)
    assert page.is_listing is False
    text = page.pages[0].text
    assert "Prosjektets hovedmål er å utarbeide en prosjektrapport" in text
    assert "helseforetaket, Fylkesmannen i Sør-Trøndelag" in text
    for teaser in ("eget nettsted", "Veivalgsprosess", "Gapanalysen", "Ståstedsanalyse"):
        assert teaser not in text, teaser
    assert page.published is None

from __future__ import annotations

from datetime import date, timedelta

import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.errors import EmptyContent
from samsok.ingest.extract import extract_html

from tests.ingest.conftest import FIXTURES, SIO_URL, VAERNES_URL
from tests.paths import shared_data

# --- the Værnes article in WordPress chrome -------------------------------------------

BODY_SENTENCES = [
    "Værnesregionen er spesielt invitert til å dele av sine erfaringer",
    "15. februar fikk tildelt samhandlingsprisen fra statsråd Anne-Grete Strøm-Erichsen",
    "Hun vil sammen med ledende helsesøster i Tydal, Ingrid Haarstad",
    "- Identifisere ulike samhandlingsprosjekt.",
    "- Interkommunalt samarbeid om brukerkontor.",
    "Les også rapporten Sluttrapport helse- og omsorgsprosjektet (PDF).",
]
CLUTTER = [
    "Tekststørrelse",
    "Kontrast",
    "18 °C",
    "Stjørdal, NO",
    "18/06/2019",
    "Les forrige sak",
    "Nyvalgt 1. nestleder",
    "Velkommen Ola",
    "Senterpartiet er godt fornøyd",
    "informasjonskapsler",
    "Coop Storlien",
    "Postboks 133",
    "Siste nytt",
    "Forside",
    "Close",
]


def test_article_keeps_body_and_drops_chrome(vaernes_html: bytes, config: ExtractConfig) -> None:
    page = extract_html(vaernes_html, VAERNES_URL, config)
    text = page.pages[0].text
    for sentence in BODY_SENTENCES:
        assert sentence in text
    for clutter in CLUTTER:
        assert clutter not in text, clutter
    assert page.pages[0].number is None
    assert page.metadata["extractor"] == "trafilatura-precision"


@pytest.mark.parametrize(
    ("config", "stage"),
    [
        (ExtractConfig(favour="recall"), "trafilatura-recall"),
        (ExtractConfig(favour="balanced"), "trafilatura-balanced"),
        # Nothing is long enough: every stage runs and the longest result (the DOM rescue
        # of <article>) wins.
        (ExtractConfig(min_text_length=10**6), "dom-rescue"),
    ],
)
def test_cascade_stages_keep_body_and_drop_chrome(
    vaernes_html: bytes, config: ExtractConfig, stage: str
) -> None:
    page = extract_html(vaernes_html, VAERNES_URL, config)
    assert page.metadata["extractor"] == stage
    for sentence in BODY_SENTENCES[:3]:
        assert sentence in page.pages[0].text
    for clutter in CLUTTER:
        assert clutter not in page.pages[0].text, clutter


def test_article_structure_headings_and_paragraphs(
    vaernes_html: bytes, config: ExtractConfig
) -> None:
    text = extract_html(vaernes_html, VAERNES_URL, config).pages[0].text
    blocks = text.split("\n\n")
    assert "## Fakta om helse- og omsorgsprosjektene i Værnesregionen:" in blocks
    # The seven sub-projects are one list block, one item per line.
    lists = [b for b in blocks if b.startswith("- Interkommunalt samarbeid om DMS")]
    assert len(lists) == 1 and lists[0].count("\n") == 6


def test_article_metadata(vaernes_html: bytes, config: ExtractConfig) -> None:
    page = extract_html(vaernes_html, VAERNES_URL, config)
    assert page.title == "Værnes viser seg fram"  # og:title minus " - Værnesregionen"
    assert page.published == date(2012, 4, 20)  # the <time> in the byline, not the 2019 bar
    assert page.language == "nb"
    assert page.canonical_url == "https://www.vaernesregionen.no/vaernes-viser-seg-fram/"
    assert page.is_listing is False
    assert page.content_type == "text/html"


def test_links_whole_page_absolute_deduplicated(vaernes_html: bytes, config: ExtractConfig) -> None:
    links = extract_html(vaernes_html, VAERNES_URL, config).links
    assert links[0] == "https://www.vaernesregionen.no/personvern/"  # cookie banner comes first
    assert "https://www.vaernesregionen.no/kategori/samhandling/" in links  # menu links too
    pdf = "https://www.vaernesregionen.no/wp-content/uploads/2012/04/Sluttrapport%20helse.pdf"
    assert pdf in links
    assert links.count("https://www.vaernesregionen.no/velkommen-ola/") == 1
    assert all(link.startswith(("http://", "https://")) for link in links)
    assert not any("#" in link for link in links)
    assert links.index("https://www.vaernesregionen.no/om-oss/") < links.index(pdf)


def test_weather_bar_date_is_not_the_publication_date(
    vaernes_html: bytes, config: ExtractConfig
) -> None:
    html = vaernes_html.decode("utf-8")
    start = html.index("<time")
    without_byline = html[:start] + html[html.index("</time>") + len("</time>") :]
    page = extract_html(without_byline, VAERNES_URL, config)
    assert page.published is None
    # Same with a theme that gives its bar no telling class names.
    generic = without_byline.replace(
        '<div class="td-header-top-menu">',
        '<div class="topline"><span>18 °C Stjørdal, NO</span> <span class="date">18/06/2019</span>',
    )
    assert extract_html(generic, VAERNES_URL, config).published is None


# --- a table-layout page from an older municipal CMS ---------------------------------


def test_table_layout_page(config: ExtractConfig) -> None:
    body = (FIXTURES / "table_layout_article.html").read_bytes()
    page = extract_html(body, "https://www.orkdal.kommune.no/kompetansenettverk.2001.html", config)
    blocks = page.pages[0].text.split("\n\n")
    assert blocks[0].startswith("Helsefagarbeidere i de 13 kommunene skal lære av hverandre")
    # Section headings come back although trafilatura drops them outside <article>.
    assert "### Samlinger to ganger i året" in blocks
    assert blocks[-1].startswith("Påmelding til første samling")
    assert all(" | " not in block for block in blocks)  # not rendered as one big table
    for clutter in (
        "°C",
        "Tekststørrelse",
        "Du er her",
        "Les forrige sak",
        "Halsa",
        "Annonse",
        "Orkanger Bil",
        "Servicetorget",
        "Rådhuset",
        "Publisert",
    ):
        assert clutter not in page.pages[0].text, clutter
    assert page.title == "Kompetansenettverk for helsefagarbeidere"
    assert page.published == date(2012, 5, 8)  # not the 2020 date in the weather bar
    assert page.metadata["encoding"] == "cp1252"


# --- listing detection on the SiO front page -----------------------------------------


def test_front_page_with_own_prose_is_a_document(sio_html: bytes, config: ExtractConfig) -> None:
    # The project description above the dated news list is the page's own text (issue 9):
    # indexed without the teasers, whose links are still followed.
    page = extract_html(sio_html, SIO_URL, config)
    assert page.is_listing is False
    assert page.published is None  # teaser dates belong to the items
    assert "https://www.sio.no/rapporter/staastedsanalyse.pdf" in page.links
    assert "Prosjektets hovedmål er å utarbeide en prosjektrapport" in page.pages[0].text
    assert "Daglig leder SiO samhandlingsenhet" not in page.pages[0].text
    assert "2012-04-10" not in page.pages[0].text
    assert "Tekststørrelse" not in page.pages[0].text
    assert page.title == "SiO – Samhandlingsreformen i Orkdalsregionen - Forside"


def _article(paragraphs: int, related: int) -> str:
    body = "".join(
        f"<p>Avsnitt {i} om samhandling mellom kommunene og helseforetaket, med nok tekst til "
        f"å ligne en ekte artikkel om helse- og omsorgstjenester i regionen.</p>"
        for i in range(paragraphs)
    )
    items = "".join(
        f'<div class="item"><a href="/sak-{i}/">Relatert sak nummer {i}</a>'
        f"<span>0{i + 1}.03.2012</span></div>"
        for i in range(related)
    )
    return (
        "<html><head><title>Sak</title></head><body><main><article><h1>Ny sak</h1>"
        f"{body}</article><div class='more'>{items}</div></main></body></html>"
    )


def test_article_with_a_few_related_teasers_is_not_listing(config: ExtractConfig) -> None:
    assert extract_html(_article(12, 3), "https://x.no/sak", config).is_listing is False
    # ... while the same teasers as the whole content are a listing.
    assert extract_html(_article(0, 6), "https://x.no/arkiv", config).is_listing is True


def test_index_of_documents_is_listing(config: ExtractConfig) -> None:
    items = "".join(
        f'<li><a href="/dok/rapport-{i}.pdf">Rapport fra arbeidsgruppe {i} om samhandling</a></li>'
        for i in range(8)
    )
    html = (
        "<html><head><title>Rapporter</title></head><body><main><h1>Rapporter</h1>"
        f"<p>Her finner du rapportene fra prosjektet.</p><ul>{items}</ul></main></body></html>"
    )
    page = extract_html(html, "https://www.sio.no/rapporter/", config)
    assert page.is_listing is True
    assert "https://www.sio.no/dok/rapport-7.pdf" in page.links


# --- dates ------------------------------------------------------------------------------


def _dated(byline: str, head: str = "", url_path: str = "/sak") -> tuple[str, str]:
    html = (
        f"<html><head><title>Sak</title>{head}</head><body>"
        '<div class="top-bar">Onsdag 18/06/2019</div>'
        f"<article><h1>Helsekonferansen i Oslo</h1><p class='byline'>{byline}</p>"
        + "<p>Kommunene i regionen har inngått et samarbeid om helse og omsorg. " * 6
        + "</p></article></body></html>"
    )
    return html, f"https://www.example.no{url_path}"


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Publisert 2012-08-27", date(2012, 8, 27)),
        ("Publisert 18.06.2011", date(2011, 6, 18)),
        ("Publisert 18/06/2011", date(2011, 6, 18)),
        ("Publisert 15. februar 2011", date(2011, 2, 15)),
        ("Publisert 15. feb. 2011", date(2011, 2, 15)),
        ("Publisert 3. desember 2010 kl. 12:30", date(2010, 12, 3)),
    ],
)
def test_byline_dates_in_norwegian_formats(
    byline: str, expected: date, config: ExtractConfig
) -> None:
    html, url = _dated(byline)
    page = extract_html(html, url, config)
    assert page.published == expected
    assert page.metadata["date_source"] in {"byline", "htmldate"}


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            '<meta property="article:published_time" content="2013-05-02T10:00:00+02:00">',
            date(2013, 5, 2),
        ),
        ('<meta name="DC.date" content="2014-01-09">', date(2014, 1, 9)),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", '
            '"datePublished": "2015-03-04T08:00:00Z"}</script>',
            date(2015, 3, 4),
        ),
    ],
)
def test_meta_dates_win(head: str, expected: date, config: ExtractConfig) -> None:
    html, url = _dated("Publisert 15. februar 2011", head=head)
    page = extract_html(html, url, config)
    assert page.published == expected
    assert page.metadata["date_source"] == "meta"


def test_time_element_date(config: ExtractConfig) -> None:
    html, url = _dated('<time datetime="2016-10-11T09:00">11. oktober</time>')
    assert extract_html(html, url, config).published == date(2016, 10, 11)


def test_byline_beats_url_date(config: ExtractConfig) -> None:
    html, url = _dated("Publisert 15. februar 2011", url_path="/2019/01/01/sak/")
    assert extract_html(html, url, config).published == date(2011, 2, 15)
    html, url = _dated("Av redaksjonen", url_path="/2019/01/02/sak/")
    page = extract_html(html, url, config)
    assert page.published == date(2019, 1, 2) and page.metadata["date_source"] == "url"


def test_implausible_dates_are_rejected(config: ExtractConfig) -> None:
    future = date.today() + timedelta(days=40)
    html, url = _dated(f"Publisert {future:%d.%m.%Y}")
    assert extract_html(html, url, config).published is None
    html, url = _dated("Publisert 12.03.1985")
    assert extract_html(html, url, config).published is None
    head = '<meta property="article:published_time" content="1970-01-01T00:00:00Z">'
    html, url = _dated("Av redaksjonen", head=head)
    assert extract_html(html, url, config).published is None


# --- decoding -------------------------------------------------------------------------

NORWEGIAN = "Værnesregionen: helsesøster i Stjørdal og Meråker – «Å være først» er ærlig."


def _page(meta: str = "") -> str:
    return (
        f"<html><head>{meta}<title>Om Værnes</title></head><body><article><h1>Om Værnes</h1>"
        + f"<p>{NORWEGIAN} Kommunene samarbeider om tjenestene.</p>" * 4
        + "</article></body></html>"
    )


@pytest.mark.parametrize(
    ("meta", "declared"),
    [
        ('<meta charset="windows-1252">', None),
        ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">', None),
        ("", "ISO-8859-1"),
        ("", None),  # no declaration at all: detected
    ],
)
def test_windows_1252_page(meta: str, declared: str | None, config: ExtractConfig) -> None:
    body = _page(meta).encode("cp1252")
    page = extract_html(body, "https://x.no/om", config, declared_encoding=declared)
    assert NORWEGIAN in page.pages[0].text
    assert page.title == "Om Værnes"


def test_latin1_label_over_utf8_body_and_utf8_label_over_latin1_body(config: ExtractConfig) -> None:
    utf8 = extract_html(
        _page().encode("utf-8"), "https://x.no/a", config, declared_encoding="iso-8859-1"
    )
    assert NORWEGIAN in utf8.pages[0].text
    latin = _page('<meta charset="utf-8">').encode("cp1252")
    assert NORWEGIAN in extract_html(latin, "https://x.no/b", config).pages[0].text


def test_malformed_html_does_not_crash(config: ExtractConfig) -> None:
    body = (
        b"<html><head><title>Brukket side</title><body><div><p>Kommunene i regionen har "
        b"\xff\xfe\x00 inng\xc3\xa5tt et samarbeid om helse og omsorg <b>uten lukkede "
        b"tagger<p>Neste avsnitt om samhandling og forebygging</div></div></span><table><tr>"
        b"<td>celle<td>celle</table><p>Mer tekst om tjenestene i Stj\xc3\xb8rdal og Mer\xc3\xa5ker"
        + b" og enda mer tekst om samarbeidet."
        * 8
    )
    page = extract_html(body, "https://x.no/brukket", config)
    assert "inngått" in page.pages[0].text
    assert "Stjørdal" in page.pages[0].text
    for garbage in (b"\x00\x01<<<>>>", b"<html><body><<p>>>", b"</div></div>" * 50):
        with pytest.raises(EmptyContent):
            extract_html(garbage, "https://x.no/tom", config)


def test_page_without_text_keeps_links_on_the_error(config: ExtractConfig) -> None:
    html = (
        '<html><head><base href="https://www.sio.no/nytt/"></head><body>'
        '<nav><a href="a.html">A</a> <a href="/b#top">B</a> <a href="//cdn.sio.no/c.pdf">C</a> '
        '<a href="mailto:x@sio.no">x</a> <a href="javascript:void(0)">j</a> <a href="/b">B</a>'
        "</nav></body></html>"
    )
    with pytest.raises(EmptyContent) as caught:
        extract_html(html, "https://www.sio.no/", config)
    assert caught.value.page is not None
    assert caught.value.page.links == [
        "https://www.sio.no/nytt/a.html",
        "https://www.sio.no/b",
        "https://cdn.sio.no/c.pdf",
    ]


def test_links_from_frames_and_refresh(config: ExtractConfig) -> None:
    html = (
        '<html><head><meta http-equiv="refresh" content="5; URL=\'/ny/forside.html\'">'
        '</head><frameset><frame src="meny.html"><frame src="innhold.html"></frameset>'
        "<noframes><p>Kommunene samarbeider om helse og omsorg i hele regionen.</p></noframes>"
        "</html>"
    )
    page = extract_html(html, "https://www.sio.no/gammel/", config)
    assert "Kommunene samarbeider" in page.pages[0].text
    assert page.links == [
        "https://www.sio.no/ny/forside.html",
        "https://www.sio.no/gammel/meny.html",
        "https://www.sio.no/gammel/innhold.html",
    ]


def test_nynorsk_is_told_apart(config: ExtractConfig) -> None:
    html = (
        "<html><head><title>Samhandling</title></head><body><article><h1>Samhandling</h1>"
        + "<p>Kommunane i regionen har fått nye oppgåver, og det krev meir samarbeid mellom "
        "tenestene. Eg trur ikkje at dei eldre får den hjelpa dei treng frå kommunen.</p>"
        * 3
        + "</article></body></html>"
    )
    assert extract_html(html, "https://x.no/nn", config).language == "nn"


# --- plain-text input (the seed extracts) ---------------------------------------------


def test_plain_text_input_is_one_page_with_first_line_title(config: ExtractConfig) -> None:
    text = (
        "ico textsize.png Tekststørrelse\nico contrast.png Kontrast\n\n"
        "18 °C Stjørdal, NO\n18/06/2019\n\nVærnes viser seg fram\n\n"
        "Værnesregionen er spesielt invitert til å dele av sine erfaringer under "
        "Helsekonferansen.\n\nDet er nærmere 1000 konferansedeltakere i Oslo.\n\n"
        "Les forrige sak:\nVelkommen Ola\n\nSenterpartiet er godt fornøyd […]\n\nClose"
    )
    page = extract_html(text, "https://x.no/sak", config)
    assert page.title == "Værnes viser seg fram"
    assert page.metadata["extractor"] == "plain-text"
    assert len(page.pages) == 1
    body = page.pages[0].text
    assert body.startswith("Værnesregionen er spesielt invitert")
    for clutter in (
        "Tekststørrelse",
        "Kontrast",
        "18 °C",
        "18/06/2019",
        "Les forrige sak",
        "Velkommen Ola",
        "Close",
    ):
        assert clutter not in body, clutter
    assert page.published is None


def test_les_ogsa_in_the_second_half_drops_its_titles_not_the_article(
    config: ExtractConfig,
) -> None:
    body = [
        "Kommunene i Værnesregionen har samarbeidet om helse i mange år.",
        "Prosjektet har sju delprosjekter, fra legevakt til folkehelse.",
        "Styringsgruppen møtes hver måned for å følge opp arbeidet.",
        "Brukerkontoret tok imot over tusen henvendelser det første året.",
        "Jordmortjenesten er nå felles for Tydal, Selbu, Stjørdal og Meråker.",
    ]
    after = [
        "Neste steg er en felles plan for rus og psykiatri i regionen.",
        "Planen skal være ferdig før sommeren, sier prosjektlederen.",
    ]
    text = "\n\n".join(
        [
            "Samarbeid om helse",
            *body,
            "Les også:\nNy avtale om legevakt i Stjørdal",
            "Kommunelegen får ny rolle",
            *after,
            "Relaterte saker",
            "Helsekonferansen 2012",
        ]
    )
    kept = extract_html(text, "https://x.no/sak", config).pages[0].text
    for paragraph in [*body, *after]:
        assert paragraph in kept, paragraph
    for teaser in (
        "Les også",
        "Ny avtale om legevakt",
        "Kommunelegen får ny rolle",
        "Relaterte saker",
        "Helsekonferansen 2012",
    ):
        assert teaser not in kept, teaser


def test_real_seed_extracts(config: ExtractConfig) -> None:
    seeds = shared_data("seeds")
    vaernes = extract_html((seeds / "003_adad3abac36aaaf6.txt").read_bytes(), VAERNES_URL, config)
    assert vaernes.title == "Værnes viser seg fram"
    assert vaernes.published is None and vaernes.is_listing is False
    assert "Tekststørrelse" not in vaernes.pages[0].text and "18 °C" not in vaernes.pages[0].text
    assert "Les forrige sak" not in vaernes.pages[0].text
    assert "sju ulike delprosjekt" in vaernes.pages[0].text
    assert "Coop Storlien" not in vaernes.pages[0].text
    assert vaernes.content_type == "text/plain"
    sio = extract_html((seeds / "000_63974a30ab076464.txt").read_bytes(), SIO_URL, config)
    assert sio.is_listing is False  # its own prose above the news list is indexed
    assert "Veivalgsprosess" not in sio.pages[0].text
    assert "Tekststørrelse" not in sio.pages[0].text and "Kontrast" not in sio.pages[0].text
    assert "Prosjektets hovedmål" in sio.pages[0].text

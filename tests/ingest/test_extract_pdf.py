from __future__ import annotations

import json

import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.errors import PdfBroken, PdfEncrypted, PdfError, PdfNoText
from samsok.ingest.extract import extract_pdf
from samsok.ingest.extract.pdf_text import clean_pages, join_hyphenated

from tests.ingest.conftest import EVAL, PdfMaker
from tests.paths import shared_data

URL = "https://www.example.no/rapport.pdf"
LONG = "Kommunene i regionen har inngått et forpliktende samarbeid om helse- og omsorgs"

# --- the real-world samples -------------------------------------------------------------

SAMPLES = EVAL / "pdf-samples"
# Files whose outcome we know: anything else must parse.
EXPECTED_ERRORS: dict[str, type[PdfError]] = {
    "005-libreoffice-writer-password/libreoffice-writer-password.pdf": PdfEncrypted,
    "007-imagemagick-images/imagemagick-ASCII85Decode.pdf": PdfNoText,
    "007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf": PdfNoText,
    "007-imagemagick-images/imagemagick-lzw.pdf": PdfNoText,
    "017-unreadable-meta-data/unreadablemetadata.pdf": PdfBroken,
    "019-grayscale-image/grayscale-image.pdf": PdfNoText,
    "023-cmyk-image/cmyk-image.pdf": PdfNoText,
}


def _sample_files() -> list[str]:
    if not SAMPLES.exists():
        return ["<absent>"]
    return sorted(str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*.pdf"))


@pytest.mark.parametrize("relative", _sample_files())
def test_every_pdf_sample_parses_or_fails_with_a_reason(
    relative: str, config: ExtractConfig
) -> None:
    samples = shared_data("eval", "pdf-samples")
    listed = {e["path"]: e for e in json.loads((samples / "files.json").read_text())["data"]}
    entry = listed.get(relative, {})
    body = (samples / relative).read_bytes()
    expected_error = EXPECTED_ERRORS.get(relative)
    if entry.get("encrypted"):
        expected_error = PdfEncrypted
    if expected_error is not None:
        with pytest.raises(expected_error) as caught:
            extract_pdf(body, f"https://x.no/{relative}", config)
        assert type(caught.value) is not PdfError and str(caught.value).strip()
        assert caught.value.reason
        return
    page = extract_pdf(body, f"https://x.no/{relative}", config)
    if "pages" in entry:
        assert int(page.metadata["pdf_pages"]) == entry["pages"]
    assert page.pages and all(p.text.strip() for p in page.pages)
    numbers = [p.number for p in page.pages]
    assert numbers == sorted(numbers) and all(
        1 <= n <= int(page.metadata["pdf_pages"]) for n in numbers
    )
    assert page.title and page.content_type == "application/pdf"


def test_sample_metadata_is_used(config: ExtractConfig) -> None:
    samples = shared_data("eval", "pdf-samples")
    geo = extract_pdf(
        (samples / "009-pdflatex-geotopo/GeoTopo-komprimiert.pdf").read_bytes(), URL, config
    )
    assert geo.title == "Geometrie und Topologie"
    assert geo.published is not None and geo.published.year == 2016
    assert geo.language == "de"
    assert len(geo.pages) == 117


# --- generated PDFs ---------------------------------------------------------------------


def test_running_headers_page_numbers_and_hyphens(
    make_pdf: PdfMaker, config: ExtractConfig
) -> None:
    words = ["første", "andre", "tredje"]
    pages = [
        [
            f"Dette er den {word} siden av rapporten, og den handler om samarbeid i regionen,",
            f"og den {word} siden fortsetter med en lang linje om tjenestene i kommunene,",
            f"{LONG}tjenestene på den {word} siden,",
            "og samarbeidet gjelder helse-",
            "tjeneste, IKT-",
            "løsninger i Nord-",
            "Norge og helse-",
            f"og omsorgssektoren i rapporten om samhandlingsreformen på den {word} siden,",
            f"mens den {word} siden slutter med en lang linje om samarbeid mellom kommunene,",
            f"og slik avsluttes den {word} siden med en setning som tar slutt her.",
        ]
        for word in words
    ]
    body = make_pdf(
        pages,
        title="Samhandling 2011",
        header="Samhandling i Orkdal – Rapport 2011",
        footer="Side {n} av {total}",
    )
    page = extract_pdf(body, URL, config)
    assert [p.number for p in page.pages] == [1, 2, 3]
    for p, word in zip(page.pages, words, strict=True):
        assert "Samhandling i Orkdal" not in p.text
        assert "Side " not in p.text
        assert f"Dette er den {word} siden" in p.text
        assert f"den {word} siden med en setning som tar slutt her." in p.text
        assert "omsorgstjenestene på den" in p.text
        assert "siden, og samarbeidet gjelder helsetjeneste, " in p.text
        assert "IKT-løsninger i Nord-Norge og helse- og omsorgssektoren" in p.text
        assert "\n" not in p.text  # one re-flowed paragraph
    assert page.title == "Samhandling 2011"
    assert page.language == "nb"


def test_title_falls_back_to_first_heading_line(make_pdf: PdfMaker, config: ExtractConfig) -> None:
    body = make_pdf([["Sluttrapport for SiO", "", f"{LONG}tjenestene i Orkdalsregionen."]])
    page = extract_pdf(body, "https://x.no/dokumenter/sio_rapport.pdf", config)
    assert page.title == "Sluttrapport for SiO"
    assert page.metadata["title_source"] == "first-line"


def test_image_only_pdf_is_no_text(make_pdf: PdfMaker, config: ExtractConfig) -> None:
    with pytest.raises(PdfNoText, match="no text layer"):
        extract_pdf(make_pdf([[], []], image_only=True), URL, config)


def test_encrypted_pdfs(make_pdf: PdfMaker, config: ExtractConfig) -> None:
    security = pytest.importorskip("reportlab.lib.pdfencrypt")
    locked = make_pdf(
        [["Hemmelig innhold om helse"]], encrypt=security.StandardEncryption("hemmelig")
    )
    with pytest.raises(PdfEncrypted, match="password"):
        extract_pdf(locked, URL, config)
    # An owner password alone (empty user password) still opens for reading.
    owner_only = security.StandardEncryption("", ownerPassword="eier", canPrint=0)
    page = extract_pdf(
        make_pdf([["Åpent innhold om helse og omsorg"]], encrypt=owner_only), URL, config
    )
    assert "Åpent innhold" in page.pages[0].text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"%PDF-1.7\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.4\n" + bytes(range(256)) * 40,
        b"not a pdf at all",
    ],
)
def test_broken_pdfs_raise_pdf_broken(body: bytes, config: ExtractConfig) -> None:
    with pytest.raises(PdfError) as caught:
        extract_pdf(body, URL, config)
    assert isinstance(caught.value, PdfBroken | PdfNoText)
    assert str(caught.value)


def test_truncated_pdf(make_pdf: PdfMaker, config: ExtractConfig) -> None:
    body = make_pdf([[f"{LONG}tjenestene side {n}."] for n in range(1, 4)])
    for cut in (len(body) // 3, len(body) // 2, len(body) - 40):
        try:
            page = extract_pdf(body[:cut], URL, config)
        except PdfError as exc:  # the typed outcome; anything else fails the test
            assert exc.reason
        else:
            assert page.pages


def test_page_and_time_caps(make_pdf: PdfMaker) -> None:
    body = make_pdf([[f"{LONG}tjenestene side {n}."] for n in range(1, 4)])
    capped = extract_pdf(body, URL, ExtractConfig(pdf_max_pages=2))
    assert [p.number for p in capped.pages] == [1, 2]
    assert capped.metadata["pdf_truncated"] == "page cap 2 of 3"
    assert capped.metadata["pdf_pages"] == "3"
    rushed = extract_pdf(body, URL, ExtractConfig(pdf_time_limit=1e-9))
    assert [p.number for p in rushed.pages] == [1]
    assert rushed.metadata["pdf_truncated"].startswith("time limit")


# --- text clean-up units ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        ("om helse-", "tjeneste i kommunen", "om helsetjeneste i kommunen"),
        ("om helse-", "og omsorg", "om helse- og omsorg"),
        ("nye IKT-", "løsninger", "nye IKT-løsninger"),
        ("i Nord-", "Norge", "i Nord-Norge"),
        ("etter covid19-", "pandemien", "etter covid19-pandemien"),
    ],
)
def test_join_hyphenated(first: str, second: str, joined: str) -> None:
    assert join_hyphenated(first, second) == joined


def test_join_hyphenated_leaves_other_lines() -> None:
    assert join_hyphenated("en vanlig linje", "neste linje") is None
    assert join_hyphenated("tall 10 -", "20") is None


def test_page_numbers_only_go_when_they_repeat() -> None:
    single = clean_pages(["Kort notat om samhandling i regionen.\n3"])
    assert single == ["Kort notat om samhandling i regionen.\n\n3"]
    texts = [f"Side {n} handler om samarbeid.\n{LONG}tjenestene.\n- {n} -" for n in range(1, 5)]
    assert all(not page.endswith("-") for page in clean_pages(texts))
    # A document of identical pages keeps its text (not a running header) but no numbers.
    same = clean_pages([f"Samme tekst på hver side.\n{n}" for n in range(1, 4)])
    assert same == ["Samme tekst på hver side."] * 3


def test_dot_leaders_collapse() -> None:
    (page,) = clean_pages(["3.2 Fundamentalgruppe . . . . . . . . . . 47\n\nInnhold ....... 3"])
    assert page == "3.2 Fundamentalgruppe … 47\n\nInnhold … 3"


def test_ligatures_and_soft_hyphens() -> None:
    (page,) = clean_pages(["Eﬀektiv oﬀentlig ﬁnansiering av helse\u00ad\ntjenester i kommunene."])
    assert page == "Effektiv offentlig finansiering av helsetjenester i kommunene."


@pytest.mark.parametrize(
    "kwargs", [{"favour": "speed"}, {"pdf_max_pages": 0}, {"pdf_time_limit": 0}]
)
def test_extract_config_is_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ExtractConfig(**kwargs)  # type: ignore[arg-type]

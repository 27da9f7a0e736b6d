from __future__ import annotations

import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.errors import EmptyContent, UnsupportedContent
from samsok.ingest.extract import extract, sniff

from tests.ingest.conftest import VAERNES_URL, PdfMaker

TEXT = "Kommunene i Værnesregionen samarbeider om helse- og omsorgstjenester i hele regionen."


def _pdf(make_pdf: PdfMaker) -> bytes:
    return make_pdf([[TEXT, "Dette er rapportens andre linje om samhandling."]], title="Rapport")


def test_pdf_served_as_html_is_read_as_pdf(make_pdf: PdfMaker, config: ExtractConfig) -> None:
    page = extract(_pdf(make_pdf), "https://x.no/rapport", "text/html; charset=utf-8", config)
    assert page.content_type == "application/pdf"
    assert page.pages[0].number == 1
    assert "Værnesregionen samarbeider" in page.pages[0].text


def test_pdf_with_junk_before_the_header(make_pdf: PdfMaker, config: ExtractConfig) -> None:
    body = b"\r\n\xef\xbb\xbf  " + _pdf(make_pdf)
    assert sniff(body, "application/octet-stream") == "pdf"
    assert extract(body, "https://x.no/r", "application/octet-stream", config).title == "Rapport"


def test_html_quoting_the_pdf_magic_is_html(config: ExtractConfig) -> None:
    html = f"<html><head><title>Om %PDF-1.4</title></head><body><p>{TEXT}</p></body></html>"
    assert sniff(html.encode(), "application/pdf") == "html"


def test_html_served_as_pdf_is_read_as_html(vaernes_html: bytes, config: ExtractConfig) -> None:
    page = extract(vaernes_html, VAERNES_URL, "application/pdf", config)
    assert page.content_type == "text/html"
    assert page.title == "Værnes viser seg fram"


def test_http_charset_is_honoured(config: ExtractConfig) -> None:
    html = f"<html><body><article><h1>Om oss</h1><p>{TEXT}</p>" * 3 + "</article></body></html>"
    page = extract(
        html.encode("cp1252"), "https://x.no/om", "text/html; charset=windows-1252", config
    )
    assert TEXT in page.pages[0].text


def test_plain_text_is_accepted(config: ExtractConfig) -> None:
    page = extract(f"Om samarbeidet\n\n{TEXT}".encode(), "https://x.no/a.txt", "text/plain", config)
    assert page.title == "Om samarbeidet" and TEXT in page.pages[0].text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "text/html"),
        (b"PK\x03\x04" + b"\x00" * 64, "application/pdf"),
        (b"\x00\x01\x02\x03" * 64, None),
        (b'{"json": "is not a document"}', "application/json"),
    ],
)
def test_other_content_is_unsupported(
    body: bytes, content_type: str | None, config: ExtractConfig
) -> None:
    with pytest.raises(UnsupportedContent) as caught:
        extract(body, "https://x.no/fil", content_type, config)
    assert caught.value.reason == "unsupported_content_type"


@pytest.mark.parametrize(
    "body", [b"", b"   \n\t ", b"<html><head><title>T</title></head><body></body></html>"]
)
def test_empty_content(body: bytes, config: ExtractConfig) -> None:
    with pytest.raises(EmptyContent) as caught:
        extract(body, "https://x.no/tom", "text/html", config)
    assert caught.value.reason == "no_text"

"""Fixtures for the extraction and chunking tests.

HTML fixtures in `fixtures/` wrap the text of the two real seed pages in typical CMS chrome
(menus, accessibility widget, weather/date bar, ad, teasers, cookie banner, footer).
PDFs are generated with reportlab (a dev dependency) so each test states its own input.
Tests that read ../shared beside the checkout (real PDFs, the AEB benchmark, the seed
extracts) skip with a reason when it is absent.

The crawler tests share `server` (the hostile loopback server), `client` and `state`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.crawl import CrawlState

from tests.ingest.hostile_server import HostileServer
from tests.paths import find_shared

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = find_shared()
EVAL = SHARED / "eval"

VAERNES_URL = "https://www.vaernesregionen.no/vaernes-viser-seg-fram/"
SIO_URL = "https://www.sio.no/"

PdfPage = Sequence[str]  # the lines of one page, top to bottom
PdfMaker = Callable[..., bytes]


@pytest.fixture
def config() -> ExtractConfig:
    return ExtractConfig()


@pytest.fixture
def vaernes_html() -> bytes:
    return (FIXTURES / "vaernes_article.html").read_bytes()


@pytest.fixture
def sio_html() -> bytes:
    return (FIXTURES / "sio_front.html").read_bytes()


@pytest.fixture
def make_pdf() -> PdfMaker:
    """make_pdf(pages, title=None, encrypt=None, creation=None) -> PDF bytes.

    Each page is a list of lines drawn top-down with Helvetica 11 (latin-1, so æøå work);
    `header`/`footer` lines (with `{n}` for the page number) are drawn on every page.
    """
    canvas_module = pytest.importorskip("reportlab.pdfgen.canvas")
    pagesizes = pytest.importorskip("reportlab.lib.pagesizes")

    def build(
        pages: Sequence[PdfPage],
        *,
        title: str | None = None,
        header: str | None = None,
        footer: str | None = None,
        encrypt: object = None,
        image_only: bool = False,
    ) -> bytes:
        buffer = io.BytesIO()
        pdf = canvas_module.Canvas(buffer, pagesize=pagesizes.A4, encrypt=encrypt, invariant=1)
        if title:
            pdf.setTitle(title)
        width, height = pagesizes.A4
        for number, lines in enumerate(pages, start=1):
            if image_only:
                pdf.rect(72, 300, 300, 200, fill=1)
            pdf.setFont("Helvetica", 11)
            if header:
                pdf.drawString(72, height - 40, header.format(n=number))
            y = height - 80
            for line in lines:
                pdf.drawString(72, y, line)
                y -= 15
            if footer:
                pdf.drawString(width / 2, 30, footer.format(n=number, total=len(pages)))
            pdf.showPage()
        pdf.save()
        return buffer.getvalue()

    return build


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


@pytest.fixture
def state(tmp_path: Path) -> Iterator[CrawlState]:
    with CrawlState(tmp_path / "crawl.db") as s:
        yield s

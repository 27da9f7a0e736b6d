"""Edits to a copy of the Værnes mirror between two crawls, as the site's CMS would make them:
a page added, a page edited, a PDF republished without its last page, a page deleted, and
the sitemap updated to match. Shared by the change-log tests and the browser tests."""

from __future__ import annotations

from pathlib import Path

import pypdf

__all__ = ["ADDED", "CHANGED", "PDF", "REMOVED", "SITE", "edit_mirror"]

SITE = "www.varnesregionen.no"
BASE = f"https://{SITE}"
REMOVED = f"{BASE}/nyheter/2012/felles-legevakt-fra-1-september.html"
CHANGED = f"{BASE}/samhandling/delprosjekt-7-folkehelse.html"
PDF = f"{BASE}/dokumenter/2011/Forprosjekt_DMS_Vaernesregionen.pdf"
ADDED = f"{BASE}/nyheter/2013/bassengtrening-for-seniorer.html"


def _file(mirror: Path, url: str) -> Path:
    return mirror / SITE / url.removeprefix(f"{BASE}/")


def _set_lastmod(xml: str, url: str, lastmod: str) -> str:
    start = xml.index(f"<loc>{url}</loc>")
    open_tag = xml.index("<lastmod>", start)
    close_tag = xml.index("</lastmod>", open_tag)
    return xml[: open_tag + len("<lastmod>")] + lastmod + xml[close_tag:]


def edit_mirror(mirror: Path) -> None:
    """What the CMS does between two crawls: one page each added, edited and deleted, and a
    PDF republished without its last page; the sitemap follows."""
    _file(mirror, REMOVED).unlink()
    changed = _file(mirror, CHANGED)
    changed.write_text(
        changed.read_text("utf-8").replace(
            "</h1>", "</h1><p>Frisklivssentralen tilbyr nå bassengtrening for seniorer.</p>", 1
        ),
        "utf-8",
    )
    pdf = _file(mirror, PDF)
    reader = pypdf.PdfReader(pdf)
    writer = pypdf.PdfWriter()
    for page in reader.pages[:-1]:
        writer.add_page(page)
    if reader.metadata:
        writer.add_metadata(dict(reader.metadata))
    with pdf.open("wb") as fh:
        writer.write(fh)
    html = (
        '<!doctype html><html lang="nb"><head><meta charset="utf-8">'
        "<title>Bassengtrening for seniorer i Stjørdal</title></head><body><main><article>"
        "<h1>Bassengtrening for seniorer i Stjørdal</h1>"
        '<p class="dato">Publisert 2. mars 2013</p>'
        "<p>Fra mars kan seniorer i alle kommunene i Værnesregionen trene i "
        "varmtvannsbassenget på Stjørdal. Fysioterapeutene leder gruppene to ganger i uka.</p>"
        "<p>Frisklivssentralen tar imot påmeldinger, og fastlegen kan henvise. Tilbudet er "
        "et samarbeid mellom kommunene og helseforetaket, og det blir evaluert etter ett år "
        "med tanke på om det kan bli fast.</p></article></main></body></html>"
    )
    _file(mirror, ADDED).write_text(html, "utf-8")
    sitemap = mirror / SITE / "sitemap.xml"
    xml = sitemap.read_text("utf-8")
    entry_start = xml.rindex("<url>", 0, xml.index(REMOVED))
    entry_end = xml.index("</url>", entry_start) + len("</url>")
    xml = xml[:entry_start] + xml[entry_end:]
    xml = _set_lastmod(xml, CHANGED, "2013-03-01")
    xml = _set_lastmod(xml, PDF, "2013-03-01")
    xml = xml.replace(
        "</urlset>",
        f"  <url>\n    <loc>{ADDED}</loc>\n    <lastmod>2013-03-02</lastmod>\n  </url>\n</urlset>",
    )
    sitemap.write_text(xml, "utf-8")

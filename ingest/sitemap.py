"""sitemap.xml parsing (urlset and sitemapindex, optionally gzipped).

Sitemaps come from the sites we crawl, so the parser is defensive: no entity expansion, no
network access for DTDs, recover from broken markup, at most `MAX_URLS` entries per file,
and a gzipped sitemap is inflated with a size cap.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

__all__ = ["MAX_URLS", "Sitemap", "SitemapEntry", "parse_sitemap"]

logger = logging.getLogger(__name__)

#: The sitemap protocol's own limit per file.
MAX_URLS = 50_000
_MAX_XML_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None  # as an ISO 8601 UTC string; compared as text between crawls


@dataclass(frozen=True)
class Sitemap:
    urls: tuple[SitemapEntry, ...] = ()
    sitemaps: tuple[SitemapEntry, ...] = ()  # nested sitemaps of a sitemap index


def parse_sitemap(body: bytes) -> Sitemap:
    """Entries of a sitemap document; an unparseable body gives an empty Sitemap."""
    if body[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, _MAX_XML_BYTES)
        except zlib.error as exc:
            logger.warning("corrupt gzipped sitemap: %s", exc)
            return Sitemap()
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        logger.warning("unparseable sitemap: %s", exc)
        return Sitemap()
    if root is None:
        return Sitemap()
    urls: list[SitemapEntry] = []
    sitemaps: list[SitemapEntry] = []
    kind = etree.QName(root).localname
    for element in root:
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        name = etree.QName(element).localname
        if (kind, name) not in (("urlset", "url"), ("sitemapindex", "sitemap")):
            continue
        loc = lastmod = None
        for child in element:
            if not isinstance(child.tag, str):
                continue
            field = etree.QName(child).localname
            if field == "loc" and child.text:
                loc = child.text.strip()
            elif field == "lastmod" and child.text:
                lastmod = _normalise_lastmod(child.text.strip())
        if loc:
            (urls if name == "url" else sitemaps).append(SitemapEntry(loc, lastmod))
        if len(urls) + len(sitemaps) >= MAX_URLS:
            logger.warning("sitemap has more than %d entries; the rest is ignored", MAX_URLS)
            break
    return Sitemap(tuple(urls), tuple(sitemaps))


def _normalise_lastmod(value: str) -> str | None:
    """W3C datetime ('2024-05-01', '2024-05-01T10:00:00+02:00') → UTC ISO text, else None."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()

"""sitemap.xml parsing (urlset and sitemapindex, optionally gzipped) and harvesting.

Sitemaps come from the sites we crawl, so the parser is defensive: no entity expansion, no
network access for DTDs, recover from broken markup, at most `MAX_URLS` entries per file,
and a gzipped sitemap is inflated only up to the byte cap (a bigger one is `too_large`).

`harvest_sitemaps` reads the sitemaps of one source: the configured one and those listed in
robots.txt (`Sitemap:` lines), deduplicated, and follows sitemap index files breadth first,
with caps on the number of files and of entries. It does no I/O itself: the crawler passes
a reader that fetches through its `Fetcher` (polite, logged, robots-checked).
"""

from __future__ import annotations

import logging
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree
from samsok.ingest.documents import SkipReason
from samsok.ingest.urls import normalize_url

__all__ = ["MAX_URLS", "Harvest", "Sitemap", "SitemapEntry", "harvest_sitemaps", "parse_sitemap"]

logger = logging.getLogger(__name__)

#: The sitemap protocol's own limit per file.
MAX_URLS = 50_000
#: The sitemap protocol's own limit per file: 50 MB uncompressed.
_MAX_XML_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None  # as an ISO 8601 UTC string; compared as text between crawls


@dataclass(frozen=True)
class Sitemap:
    urls: tuple[SitemapEntry, ...] = ()
    sitemaps: tuple[SitemapEntry, ...] = ()  # nested sitemaps of a sitemap index
    too_large: bool = False  # more than the byte cap (decompressed); nothing was parsed
    truncated: bool = False  # more than MAX_URLS entries; the rest was ignored


def parse_sitemap(body: bytes, max_bytes: int = _MAX_XML_BYTES) -> Sitemap:
    """Entries of a sitemap document; an unparseable body gives an empty Sitemap."""
    if body[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, max_bytes + 1)
        except zlib.error as exc:
            logger.warning("corrupt gzipped sitemap: %s", exc)
            return Sitemap()
    if len(body) > max_bytes:
        return Sitemap(too_large=True)
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
            return Sitemap(tuple(urls), tuple(sitemaps), truncated=True)
    return Sitemap(tuple(urls), tuple(sitemaps))


@dataclass
class Harvest:
    """The page URLs (normalised) of a source's sitemaps: url → (lastmod, sitemap URL)."""

    entries: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # sitemap URLs read, in order
    complete: bool = True  # False: a cap or an oversized file cut the list short


#: reason, detail for a sitemap that was not (fully) used.
Note = Callable[[str, str, str], None]


def harvest_sitemaps(
    roots: Iterable[str],
    read: Callable[[str], bytes | None],
    *,
    follow: Callable[[str], bool],
    note: Note,
    max_files: int,
    max_entries: int,
    max_bytes: int,
) -> Harvest:
    """Entries of the sitemaps `roots` and the sitemaps they nest, breadth first.

    `read(url)` gives a sitemap's body or None (it records why itself); `follow(url)` says
    whether a sitemap URL may be read at all (the source's hosts); `note(url, reason,
    detail)` records a sitemap that was left out or cut short. A URL listed twice keeps its
    first lastmod.
    """
    harvest = Harvest()
    queue = deque(roots)
    seen: set[str] = set()
    while queue:
        try:
            url = normalize_url(queue.popleft())
        except ValueError:
            continue
        if url in seen:
            continue
        seen.add(url)
        if not follow(url):
            note(url, SkipReason.OUT_OF_SCOPE, "sitemap on another host")
            continue
        if len(harvest.files) >= max_files:
            harvest.complete = False
            note(
                url,
                "max_sitemaps",
                f"{1 + len(queue)} sitemaps left unread; at most {max_files} per run",
            )
            break
        harvest.files.append(url)
        body = read(url)
        if body is None:
            continue
        parsed = parse_sitemap(body, max_bytes)
        if parsed.too_large or parsed.truncated:
            harvest.complete = False
            note(
                url,
                SkipReason.TOO_LARGE,
                f"more than {max_bytes} bytes (decompressed)"
                if parsed.too_large
                else f"more than {MAX_URLS} entries; the rest ignored",
            )
        queue.extend(entry.loc for entry in parsed.sitemaps)
        for entry in parsed.urls:
            try:
                loc = normalize_url(entry.loc)
            except ValueError:
                continue
            if loc in harvest.entries:
                continue
            if len(harvest.entries) >= max_entries:
                harvest.complete = False
                note(
                    url,
                    "max_sitemap_entries",
                    f"more than {max_entries} URLs in the "
                    "sitemaps of this source; the rest ignored",
                )
                return harvest
            harvest.entries[loc] = (entry.lastmod, url)
    return harvest


def _normalise_lastmod(value: str) -> str | None:
    """W3C datetime ('2024-05-01', '2024-05-01T10:00:00+02:00') → UTC ISO text, else None."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()

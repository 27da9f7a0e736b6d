"""What an HTML page says about itself besides its text: title, links, canonical URL.

Links come from the whole page, menus included (the crawler needs them), resolved against
`<base href>` (itself resolved against the page URL), http(s) only, without fragments,
deduplicated in document order. `<a href>`, `<area href>`, `<frame src>`, `<iframe src>`
and a `<meta http-equiv=refresh>` target count (old municipal sites still use framesets and
refresh redirects); `javascript:`, `mailto:` and `tel:` do not.

The title prefers `og:title`, then the first `<h1>`, then `<title>`, and strips a site-name
suffix or prefix ("Værnes viser seg fram | Værnesregionen" → "Værnes viser seg fram"):
a segment equal to `og:site_name`/`application-name`, or, for `<title>`, the segment
that repeats the site name part shared with the other candidates.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml.etree import _Element
from samsok.ingest.extract.html_blocks import inline_text

__all__ = ["base_url", "canonical_url", "extract_links", "extract_title", "strip_site_name"]

_SEPARATORS = re.compile(r"\s+[|–—·:»«\-]\s+|\s+::\s+")
_MAX_TITLE = 300
# Titles that name a kind of page, not the page: the next candidate says more.
_GENERIC_TITLES = {"forside", "hjem", "home", "startside", "start", "index"}
_REFRESH_URL = re.compile(r"url\s*=\s*(.+)$", re.IGNORECASE)


def _clean(text: str | None) -> str:
    return inline_text(text or "")


def _absolute(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    try:
        absolute = urldefrag(urljoin(base, href)).url
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def base_url(tree: _Element, url: str) -> str:
    for base in tree.iter("base"):
        resolved = _absolute(base.get("href"), url)
        if resolved:
            return resolved
    return url


def _refresh_target(element: _Element) -> str | None:
    if (element.get("http-equiv") or "").lower() != "refresh":
        return None
    match = _REFRESH_URL.search(element.get("content") or "")
    return match.group(1).strip("'\" ") if match else None


def extract_links(tree: _Element, url: str) -> list[str]:
    base = base_url(tree, url)
    seen: dict[str, None] = {}
    for element in tree.iter("a", "area", "frame", "iframe", "meta"):
        if element.tag == "meta":
            href = _refresh_target(element)
        elif element.tag in ("frame", "iframe"):
            href = element.get("src")
        else:
            href = element.get("href")
        absolute = _absolute(href, base)
        if absolute and absolute not in seen:
            seen[absolute] = None
    return list(seen)


def canonical_url(tree: _Element, url: str) -> str | None:
    for link in tree.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels:
            return _absolute(link.get("href"), base_url(tree, url))
    return None


def _meta(tree: _Element, *names: str) -> str:
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key in names:
            value = _clean(meta.get("content"))
            if value:
                return value
    return ""


def strip_site_name(title: str, site_names: set[str]) -> str:
    """Drop leading/trailing separator segments that name the site."""
    names = {name.strip().lower() for name in site_names if name.strip()}
    pieces = re.split(f"({_SEPARATORS.pattern})", title)  # segment, separator, segment, ...
    while len(pieces) > 2 and pieces[-1].strip().lower() in names:
        del pieces[-2:]
    while len(pieces) > 2 and pieces[0].strip().lower() in names:
        del pieces[:2]
    return "".join(pieces).strip()


def _site_names(tree: _Element, html_title: str, candidates: list[str]) -> set[str]:
    names = {_meta(tree, "og:site_name"), _meta(tree, "application-name")}
    # A <title> segment that no other title candidate contains is most likely the site.
    segments = _SEPARATORS.split(html_title) if html_title else []
    if len(segments) > 1 and any(candidates):
        for segment in (segments[0], segments[-1]):
            if all(segment.lower() not in c.lower() for c in candidates if c):
                names.add(segment.strip())
    return {name for name in names if name}


#: An `<h1>` shorter than this is a logo letter or an icon, not a title (by hand).
_MIN_H1_CHARS = 3


def _first_h1(tree: _Element) -> str:
    for heading in tree.iter("h1"):
        text = _clean(heading.text_content())
        if len(text) >= _MIN_H1_CHARS:
            return text
    return ""


def extract_title(tree: _Element) -> tuple[str, str]:
    """(title, where it came from: og, h1, title or none)."""
    title_element = tree.find(".//title")
    html_title = _clean(title_element.text_content()) if title_element is not None else ""
    og_title = _meta(tree, "og:title", "twitter:title")
    h1 = _first_h1(tree)
    site_names = _site_names(tree, html_title, [og_title, h1])
    candidates = (("og", og_title), ("h1", h1), ("title", html_title))
    names = {n.lower() for n in site_names}
    for allow_generic in (False, True):
        for source, candidate in candidates:
            if not candidate or (candidate.lower() in _GENERIC_TITLES and not allow_generic):
                continue
            stripped = strip_site_name(candidate, site_names)
            if stripped and stripped.lower() not in names:
                return stripped[:_MAX_TITLE], source
    return "", "none"

"""URL normalisation and crawl scope.

One page reached as `HTTP://Www.X.no:80/a?utm_source=fb&b=2&a=1#top` and as
`http://www.x.no/a?a=1&b=2` must be fetched once and get one document id, so every URL
the crawler sees goes through `normalize_url` first: w3lib's `canonicalize_url` (host
lower-cased, query arguments sorted, percent-encoding made uniform, fragment dropped; the
path keeps its case because servers treat it case-sensitively), tracking parameters removed
with `url_query_cleaner`, and default ports dropped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from samsok.ingest.documents import SkipReason
from w3lib.url import canonicalize_url, url_query_cleaner

if TYPE_CHECKING:
    from samsok.ingest.crawl import Source

__all__ = [
    "HTTP_SCHEMES",
    "TRACKING_PARAMETERS",
    "align_scheme",
    "in_prefix",
    "in_scope",
    "is_http_url",
    "looks_like_pdf",
    "normalize_url",
    "path_key",
    "scope_check",
    "url_host",
    "within_scope",
]

#: Query parameters that only say where a visitor came from; never part of a page's identity.
TRACKING_PARAMETERS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "vero_id",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "s_cid",
    }
)
#: Parameter-name prefixes with the same meaning (utm_source, utm_medium, ...).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "hsa_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: The only schemes the crawler fetches: a file:, ftp:, data: or javascript: URL is refused.
HTTP_SCHEMES: frozenset[str] = frozenset(_DEFAULT_PORTS)
_PDF_PATH = re.compile(r"\.pdf$", re.IGNORECASE)


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def normalize_url(url: str) -> str:
    """The one spelling of `url` the crawler stores, compares and fetches.

    Raises ValueError for URLs that cannot be parsed (e.g. a bad port).
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _DEFAULT_PORTS and parts.port == _DEFAULT_PORTS[scheme]:
        # canonicalize_url keeps an explicit default port; ":443" and "" are the same server.
        netloc = parts.netloc.rsplit(":", 1)[0]
        url = urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))
    url = canonicalize_url(url, keep_fragments=False)
    query = urlsplit(url).query
    if query:
        tracking = sorted(
            {
                name
                for name, _ in parse_qsl(query, keep_blank_values=True)
                if name.lower() in TRACKING_PARAMETERS or name.lower().startswith(TRACKING_PREFIXES)
            }
        )
        if tracking:
            url = url_query_cleaner(url, tracking, remove=True, unique=False, keep_fragments=False)
    return url


def url_host(url: str) -> str:
    """Lower-case host (with a non-default port) of an absolute URL, '' if there is none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if port and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def path_key(url: str) -> str:
    """The URL without its query: query-string variants of one path share this key."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def looks_like_pdf(url: str) -> bool:
    return bool(_PDF_PATH.search(urlsplit(url).path))


def in_prefix(url: str, source: Source) -> bool:
    """Under one of the source's allowed prefixes (http and https count as the same site)."""
    bare = url.split("://", 1)[-1]
    return any(bare.startswith(prefix.split("://", 1)[-1]) for prefix in source.allowed)


def scope_check(url: str, source: Source, *, pdf_leeway: bool = False) -> SkipReason | None:
    """Why `url` (normalised) is outside the source, or None when it may be crawled.

    With `pdf_leeway`, a URL outside the allowed prefixes but on one of the source's hosts is
    in scope too: sites keep their PDFs under /files/ or /globalassets/ while the pages live
    under /prosjekt/. The crawler uses it for PDF-looking links and accepts only a PDF there.
    """
    if not is_http_url(url):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        return SkipReason.OUT_OF_SCOPE if scheme in HTTP_SCHEMES else SkipReason.UNSUPPORTED_SCHEME
    if not in_prefix(url, source) and not (pdf_leeway and url_host(url) in source.hosts):
        return SkipReason.OUT_OF_SCOPE
    if any(pattern.search(url) for pattern in source.exclude):
        return SkipReason.EXCLUDED
    is_start = url in source.start_urls
    if (
        source.include
        and not is_start
        and not pdf_leeway
        and not any(pattern.search(url) for pattern in source.include)
    ):
        return SkipReason.EXCLUDED
    return None


def within_scope(url: str, source: Source) -> bool:
    """Is `url` where a crawl of `source` looks: under an allowed prefix, or a PDF on one of its
    hosts (the one-hop PDF leeway). Ignores exclude/include: a page a pattern now excludes is
    still the source's own, to be tombstoned when it is not seen."""
    return is_http_url(url) and (
        in_prefix(url, source) or (looks_like_pdf(url) and url_host(url) in source.hosts)
    )


def align_scheme(url: str, source: Source) -> str:
    """Give a link to one of the source's hosts the scheme its allowed prefix uses.

    Sites link to themselves with both http:// and https://; without this, one page would be
    crawled twice and indexed under two document ids.
    """
    host = url_host(url)
    if host not in source.hosts:
        return url
    for prefix in source.allowed:
        if url_host(prefix) == host:
            scheme = prefix.split("://", 1)[0]
            return scheme + "://" + url.split("://", 1)[1]
    return url


def in_scope(url: str, source: Source) -> bool:
    """True when the crawler may follow `url` for `source` (prefix, exclude and include)."""
    try:
        return scope_check(normalize_url(url), source) is None
    except ValueError:
        return False

"""Small frozen configs for the ingest stages.

Each stage gets its own config, built once from `samsok.api.settings.Settings` and passed in;
nothing here reads the environment. The classes are independent of each other so more
(e.g. `CrawlConfig`) can be added to this module without touching them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "LOOPBACK_NETWORKS",
    "ChunkConfig",
    "CrawlConfig",
    "ExtractConfig",
    "Favour",
    "IPNetwork",
    "parse_networks",
]

Favour = Literal["precision", "balanced", "recall"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: What the offline mirror and the tests put in `CrawlConfig.allowed_networks`: loopback only.
LOOPBACK_NETWORKS: tuple[str, ...] = ("127.0.0.0/8", "::1/128")


def parse_networks(networks: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings ("10.1.0.0/16", "::1") as networks; ValueError names a bad one.

    Here rather than in `samsok.ingest.fetch.netguard` (which applies them) because
    `CrawlConfig` validates its `allowed_networks` with it: a config module importing the
    fetch package would close an import cycle (fetch → config → fetch).
    """
    parsed = []
    for network in networks:
        try:
            parsed.append(ipaddress.ip_network(network.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{network!r} is not an IP network ({exc})") from exc
    return tuple(parsed)


@dataclass(frozen=True)
class ExtractConfig:
    """Options for turning a fetched body (HTML or PDF) into an `ExtractedPage`.

    HTML
        favour: the first stage of the HTML cascade. "precision" (default) because our
            municipal CMS pages carry a lot of chrome (accessibility widgets, weather bars,
            teasers) and a missed sentence hurts search less than indexed clutter; the
            cascade falls back to recall and to a DOM rescue when a stage gives too little.
        min_text_length: characters a cascade stage must produce before we stop and accept
            it (shorter results run the next stage; the longest result wins at the end).
        date_languages: dateparser language codes for dates written in words
            ("15. februar 2011").
        earliest_date: publication dates before this are treated as noise (scanned
            archives, epoch defaults). Dates after today are always rejected.
        max_html_chars: decoded HTML beyond this is cut before parsing (a size guard; the
            fetcher has its own byte cap).

    PDF
        pdf_max_pages: pages read from one PDF; the rest is dropped and the page is
            marked truncated in metadata (`pdf_truncated`).
        pdf_time_limit: seconds of text extraction per PDF; checked between pages, so a
            single pathological page can overrun it (pypdf's own stream limits bound that).

    Both
        language_min_chars: below this much text no language is guessed (None).
    """

    favour: Favour = "precision"
    min_text_length: int = 200
    date_languages: tuple[str, ...] = ("nb", "nn")
    earliest_date: date = date(1990, 1, 1)
    max_html_chars: int = 5_000_000
    pdf_max_pages: int = 500
    pdf_time_limit: float = 60.0
    language_min_chars: int = 40

    def __post_init__(self) -> None:
        if self.favour not in ("precision", "balanced", "recall"):
            raise ValueError(f"favour must be precision, balanced or recall, not {self.favour!r}")
        if self.pdf_max_pages < 1:
            raise ValueError("pdf_max_pages must be at least 1")
        if self.pdf_time_limit <= 0:
            raise ValueError("pdf_time_limit must be positive")


@dataclass(frozen=True)
class ChunkConfig:
    """Options for cutting a `Document` into `Chunk`s for the embedding model.

    max_tokens: upper bound for a chunk's text (including the context line) as measured by
        the caller's `count_tokens` (the embedding model's tokenizer). 128 (about 80 words,
        a paragraph) ranked documents best on NorQuAD: chunks of 96–128 tokens scored hybrid
        nDCG@10 0.954–0.958, 160–256 tokens 0.948–0.955 (docs/retrieval.md).
    overlap_tokens: how much of the end of a chunk is repeated at the start of the next one
        in the same section, in whole sentences (0 disables it).
    include_title: prepend a "title — heading" context line to each chunk's text so that a
        passage like "Prosjektet består av sju delprosjekt" still says which project.
    min_chunk_chars: a chunk whose body has fewer word characters than this is not emitted
        (the default, 1, drops only chunks without any letter or digit: "—", "•").
    """

    max_tokens: int = 128
    overlap_tokens: int = 16
    include_title: bool = True
    min_chunk_chars: int = 1

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        if not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise ValueError("overlap_tokens must be >= 0 and below half of max_tokens")


@dataclass(frozen=True)
class CrawlConfig:
    """Settings of the crawler (`samsok.ingest.fetch.client`, `samsok.ingest.crawl.robots`,
    `samsok.ingest.crawl.sitemap`, `samsok.ingest.crawl.crawler` and the modules they use).

    Politeness is on by default: robots.txt is obeyed, one request at a time per host, and
    at least `delay_seconds` between two requests to the same host (more when robots.txt
    asks for a larger Crawl-delay, up to `max_crawl_delay_seconds`).
    """

    #: Sent with every request; names the bot and says how to reach its operators.
    user_agent: str = "SamsokBot/0.1 (+https://github.com/samsok; kontakt: samsok@example.no)"
    #: Seconds between two requests to the same host (robots.txt Crawl-delay may raise it).
    delay_seconds: float = 1.0
    #: Upper bound on a robots.txt Crawl-delay we honour; a larger one is capped (and logged).
    max_crawl_delay_seconds: float = 30.0
    #: Requests in flight per host.
    per_host_concurrency: int = 1
    #: Seconds to establish a connection.
    connect_timeout: float = 10.0
    #: Seconds to wait for the next bytes from the server.
    read_timeout: float = 20.0
    #: Wall-clock seconds for one request including its whole body (stops slow-drip servers).
    total_timeout: float = 60.0
    #: Extra attempts after a connect error, timeout, truncated body, 5xx or 429.
    retries: int = 3
    #: First backoff in seconds; doubles per attempt, with jitter.
    backoff_base_seconds: float = 0.5
    #: Longest Retry-After we wait for; longer values are cut to this.
    retry_after_cap_seconds: float = 120.0
    #: Size cap on a decompressed body (PDFs and everything else).
    max_bytes: int = 20 * 1024 * 1024
    #: Size cap on a decompressed HTML body.
    max_html_bytes: int = 5 * 1024 * 1024
    #: Size cap on a decompressed robots.txt fetch. By hand: 4× the 500 KiB RFC 9309 asks a
    #: crawler to parse (`robots.ROBOTS_MAX_BYTES`), so a larger file is read and cut, not lost.
    max_robots_bytes: int = 2 * 1024 * 1024
    #: Redirect hops followed per URL; each hop is scoped and robots-checked.
    max_redirects: int = 5
    #: Distinct query strings crawled per path in one run (calendar and paging traps).
    max_query_variants: int = 20
    #: Link depth from the start URLs, used when a source does not set its own.
    max_depth: int = 5
    #: Pages fetched per source and run, used when a source does not set its own.
    max_pages: int = 500
    #: Obey robots.txt (disallow rules and Crawl-delay).
    obey_robots: bool = True
    #: After a complete crawl, emit DocumentRemoved for known pages no longer linked or listed.
    remove_vanished: bool = True
    #: Age limit on trusting a sitemap `<lastmod>` (many CMSs never update it): a page whose
    #: lastmod is unchanged is still revalidated with a conditional GET when a request last
    #: confirmed it longer ago than this. Also how often a known dead URL is retried.
    #: 0 revalidates every crawl.
    revalidate_after_days: float = 7.0
    #: A URL that answered 404/410 in this many crawls in a row is known dead: it is retried
    #: only once per `revalidate_after_days` and skipped (known_dead) otherwise. 0: never.
    known_dead_after_crawls: int = 3
    #: Sitemap files read per source and run (the source's, robots.txt's, nested ones).
    max_sitemaps: int = 20
    #: Page URLs taken from all sitemaps of a source in one run.
    max_sitemap_entries: int = 50_000
    #: Let the crawler connect to non-global addresses: private, loopback, link-local,
    #: multicast, reserved, unspecified (`samsok.ingest.fetch.netguard`). Off: a host that is or
    #: resolves to one is refused before any request byte is sent (`private_address` in the
    #: crawl log), for every request, redirect hop, robots.txt and sitemap.
    allow_private: bool = False
    #: Networks (CIDR) reachable even with `allow_private` off. The offline mirror and the
    #: tests opt in to loopback only (`LOOPBACK_NETWORKS`).
    allowed_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (
            min(
                self.delay_seconds,
                self.max_crawl_delay_seconds,
                self.backoff_base_seconds,
                self.retry_after_cap_seconds,
            )
            < 0
        ):
            raise ValueError("delays must not be negative")
        if min(self.connect_timeout, self.read_timeout, self.total_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if (
            min(
                self.per_host_concurrency,
                self.max_bytes,
                self.max_html_bytes,
                self.max_robots_bytes,
            )
            < 1
        ):
            raise ValueError("per_host_concurrency and the byte caps must be at least 1")
        if (
            min(
                self.retries,
                self.max_redirects,
                self.max_query_variants,
                self.max_depth,
                self.max_pages,
                self.known_dead_after_crawls,
                self.max_sitemaps,
                self.max_sitemap_entries,
                self.revalidate_after_days,
            )
            < 0
        ):
            raise ValueError(
                "retries, max_redirects, max_query_variants, max_depth, max_pages,"
                " known_dead_after_crawls, the sitemap caps and"
                " revalidate_after_days must not be negative"
            )
        if isinstance(self.allowed_networks, str):
            raise ValueError("allowed_networks must be a tuple of CIDR strings, not one string")
        parse_networks(self.allowed_networks)  # a typo fails here, not at the first request

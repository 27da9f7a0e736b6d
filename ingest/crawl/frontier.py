"""Step 2 of a crawl: may a frontier URL be fetched, and must it be?

`Gate.check` runs the checks in order; the first that stops the URL gives its `Step`:
scope (prefixes, exclude/include), depth, the run's page cap, the query-variant cap,
robots.txt, a known dead URL (404/410 in the last `known_dead_after_crawls` crawls, checked
less than `revalidate_after_days` ago), and a sitemap `<lastmod>` equal to the stored one
for a page a request confirmed less than `revalidate_after_days` ago (unchanged, unfetched).
An older confirmation means a conditional GET: a 304 costs one request and no parsing.

Also here: what the crawler commits for one URL (`Step`), the run in progress (`CrawlRun`),
and how links become frontier entries (`link_mode`, `page_links`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from samsok.ingest.config import CrawlConfig
from samsok.ingest.crawl.events import CrawlEvent, DocumentUnchanged, ItemSkipped
from samsok.ingest.crawl.robots import RobotsCache, RobotsStatus
from samsok.ingest.crawl.schema import PageState
from samsok.ingest.crawl.sources import Source
from samsok.ingest.crawl.state import CrawlState
from samsok.ingest.documents import ExtractedPage, SkipReason
from samsok.ingest.fetch import FetchResult, Validators
from samsok.ingest.urls import align_scheme, looks_like_pdf, normalize_url, path_key, scope_check

__all__ = [
    "KNOWN_DEAD",
    "CrawlRun",
    "CrawlService",
    "Gate",
    "Step",
    "link_mode",
    "page_links",
    "skip",
    "unchanged",
]

#: Skip reason of a URL that keeps answering 404/410 (not retried every crawl).
KNOWN_DEAD = SkipReason.KNOWN_DEAD.value


@dataclass
class CrawlRun:
    source: Source
    id: int
    counts: dict[str, Any]

    @property
    def pages(self) -> int:
        return int(self.counts.get("pages", 0))


@dataclass
class Step:
    """The event for one frontier URL and what to commit once it has been consumed."""

    event: CrawlEvent | None
    outcome: str  # log outcome: ok | not_modified | skipped | failed | removed
    reason: str = ""
    detail: str = ""
    result: FetchResult | None = None
    page: dict[str, Any] | None = None  # columns to save for `page_url`
    page_url: str | None = None
    links: list[str] = field(default_factory=list)


def skip(url: str, reason: str, detail: str = "") -> Step:
    return Step(ItemSkipped(url, reason, detail), "skipped", reason, detail)


def unchanged(stored: PageState, why: str, outcome: str, page: dict[str, Any]) -> Step:
    """The stored page stands (a listing stays a skipped listing); its links are followed."""
    event: CrawlEvent = (
        ItemSkipped(stored.url, SkipReason.LISTING, why)
        if stored.is_listing
        else DocumentUnchanged(stored.url, stored.doc_id)
    )
    reason = SkipReason.LISTING if stored.is_listing else SkipReason.UNCHANGED
    return Step(
        event,
        outcome,
        reason,
        why,
        page={**page, "status": "live"},
        page_url=stored.url,
        links=stored.links,
    )


@dataclass(eq=False)  # identity, as a service object
class CrawlService:
    """What every step of a crawl works with: the crawl log and the (injectable) clock."""

    state: CrawlState
    now: Callable[[], datetime]


@dataclass(eq=False)
class Gate(CrawlService):
    config: CrawlConfig
    robots: RobotsCache

    def check(
        self, run: CrawlRun, url: str, depth: int, mode: str, lastmod: str | None
    ) -> Step | None:
        """The step that ends `url` without a request, or None to fetch it."""
        source, config = run.source, self.config
        reason = scope_check(url, source, pdf_leeway=mode == "pdf")
        if reason is not None:
            return Step(ItemSkipped(url, reason), "skipped", reason)
        max_depth = source.max_depth if source.max_depth is not None else config.max_depth
        # A PDF is a leaf: one level past the depth limit costs one request and no links.
        if depth > max_depth + (1 if mode == "pdf" or looks_like_pdf(url) else 0):
            return skip(url, SkipReason.MAX_DEPTH, f"depth {depth} > {max_depth}")
        max_pages = source.max_pages if source.max_pages is not None else config.max_pages
        if run.pages >= max_pages:
            run.counts["truncated"] = True
            return skip(url, SkipReason.MAX_PAGES, f"{max_pages} pages fetched")
        if "?" in url and (
            self.state.variant_count(run.id, path_key(url)) >= config.max_query_variants
        ):
            return skip(
                url,
                SkipReason.QUERY_VARIANTS,
                f"{config.max_query_variants} query variants of {path_key(url)}",
            )
        if config.obey_robots and not self.robots.allowed(url):
            rules = self.robots.rules_for(url)
            if rules.status is RobotsStatus.UNREACHABLE:
                run.counts["incomplete"] = True
            if rules.skipped == SkipReason.PRIVATE_ADDRESS:  # the page would be refused too
                return skip(url, SkipReason.PRIVATE_ADDRESS, rules.detail)
            return skip(url, SkipReason.ROBOTS, rules.detail or "disallowed by robots.txt")
        stored = self.state.page(url)
        if stored is None:
            return None
        dead_after = config.known_dead_after_crawls
        if dead_after and stored.dead_streak >= dead_after and self._recent(stored):
            return skip(
                url,
                KNOWN_DEAD,
                f"404/410 in the last {stored.dead_streak} crawls, last at "
                f"{stored.last_validated}; retried "
                f"{config.revalidate_after_days:g} days after that",
            )
        if (
            lastmod
            and stored.sitemap_lastmod == lastmod
            and stored.status == "live"
            and (stored.content_hash or stored.is_listing)
            and self._recent(stored)
        ):
            return unchanged(
                stored, "sitemap lastmod unchanged", "skipped", {"sitemap_lastmod": lastmod}
            )
        return None

    def _recent(self, stored: PageState) -> bool:
        """Did a request confirm the stored state less than `revalidate_after_days` ago?"""
        checked = stored.checked
        limit = timedelta(days=self.config.revalidate_after_days)
        return checked is not None and self.now() - checked < limit

    def validators(self, url: str) -> Validators | None:
        page = self.state.page(url)
        # Only for pages whose outcome we can repeat without a body (a document or a listing).
        if page is None or page.status != "live" or not (page.content_hash or page.is_listing):
            return None
        return Validators(page.etag, page.last_modified) or None

    def hop_check(self, run: CrawlRun, url: str) -> tuple[str, str] | None:
        """May a redirect go on to `url`? (reason, detail) when it may not."""
        reason = scope_check(url, run.source, pdf_leeway=True)
        if reason is not None:
            return str(reason), f"redirect to {url}"
        if self.config.obey_robots and not self.robots.allowed(url):
            refused = self.robots.rules_for(url).skipped == SkipReason.PRIVATE_ADDRESS
            return str(
                SkipReason.PRIVATE_ADDRESS if refused else SkipReason.ROBOTS
            ), f"redirect to {url}"
        item = self.state.frontier_item(run.id, url)
        if item is not None and item.state == "done":
            return str(SkipReason.DUPLICATE), f"redirect to {url}, already crawled"
        return None


def link_mode(url: str, source: Source) -> str | None:
    """ "page" for a URL in scope, "pdf" for a PDF link one hop outside it, None otherwise."""
    if scope_check(url, source) is None:
        return "page"
    if looks_like_pdf(url) and scope_check(url, source, pdf_leeway=True) is None:
        return "pdf"
    return None


def page_links(extracted: ExtractedPage, source: Source) -> list[str]:
    """Normalised, de-duplicated links in page order (scope is decided when enqueued)."""
    links: dict[str, None] = {}
    for link in extracted.links:
        try:
            links[align_scheme(normalize_url(link), source)] = None
        except ValueError:
            continue
    return list(links)

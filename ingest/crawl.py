"""The crawler: sources in, `CrawlEvent`s out, state in `crawl.db` so a crawl can resume.

For each source, one run (resumed if the last one did not finish):
1. seed the frontier with the start URLs and the sitemaps' URLs, each with its `<lastmod>`
   (`samsok.ingest.sitemap`: the source's sitemap and robots.txt's `Sitemap:` lines, index files
   followed, bounded);
2. take the shallowest pending URL and check it (`samsok.ingest.frontier`): scope, depth, page cap,
   query-variant cap, robots.txt, known dead URLs; a sitemap `<lastmod>` equal to the stored
   one, for a page confirmed less than `revalidate_after_days` ago, ends it as unchanged;
3. fetch it (`samsok.ingest.fetch`: politeness, retries, caps, a hard deadline, conditional GET,
   checked redirects);
4. 304 → unchanged, its stored links are followed; same body hash → unchanged, not parsed;
5. extract, follow its links (and PDFs on the source's hosts one hop outside the prefixes);
   a listing page is followed but not emitted; same content hash → unchanged
   (`samsok.ingest.interpret`);
6. yield the event; only when the consumer asks for the next one is the outcome committed
   (log, page state with its validation time or dead streak, new links, URL done) in one
   transaction, so a crash re-delivers the event in flight instead of losing it;
7. after a complete run (frontier empty, no cap hit, no transient failure), documents no
   longer linked or listed are removed (tombstoned) — only the source's own (stored under its
   name, which for an ad-hoc source is its scope) and only inside its scope.

Crawl scope: robots.txt and sitemap redirects stay on the source's hosts (another host is
`cross_host_redirect`, not fetched; a robots.txt we could not read that way means nothing on
that origin is crawled, like an unreachable one); pages' redirects are scope-checked per hop;
non-http(s) URLs are refused (`unsupported_scheme`); and every connection is checked against
the address policy (`samsok.ingest.netguard`, `private_address`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from samsok.ingest.config import CrawlConfig
from samsok.ingest.crawlstate import CrawlState
from samsok.ingest.events import (
    CrawlEvent,
    CrawlSummary,
    DocumentFetched,
    DocumentRemoved,
    DocumentUnchanged,
    ItemFailed,
    ItemSkipped,
    count,
    counted,
)
from samsok.ingest.fetch import PAGE_TYPES, PDF_TYPES, Fetcher, FetchResult, HopCheck, Outcome
from samsok.ingest.frontier import CrawlRun, Gate, Step, link_mode
from samsok.ingest.interpret import ExtractFn, Interpreter, doc_alive_elsewhere
from samsok.ingest.models import SkipReason
from samsok.ingest.robots import RobotsCache, RobotsRules, origin_of, rules_from_fetch
from samsok.ingest.sitemap import Harvest, harvest_sitemaps
from samsok.ingest.sources import Source
from samsok.ingest.urls import normalize_url, path_key, scope_check, url_host, within_scope

__all__ = [
    "CrawlEvent",
    "CrawlSummary",
    "Crawler",
    "DocumentFetched",
    "DocumentRemoved",
    "DocumentUnchanged",
    "ItemFailed",
    "ItemSkipped",
]

logger = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Crawler:
    def __init__(
        self,
        config: CrawlConfig,
        client: httpx.Client,
        state: CrawlState,
        extract: ExtractFn | None = None,
        extract_config: Any = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        if extract is None:
            from samsok.ingest.extract import extract as real_extract  # heavy imports, only if used

            extract = real_extract
        if extract_config is None:
            from samsok.ingest.config import ExtractConfig

            extract_config = ExtractConfig()
        self.config = config
        self.state = state
        self._clock = clock
        self._now = now  # wall clock: validation times, revalidation and known-dead ages
        self._fetcher = Fetcher(client, config, clock=clock, sleep=sleep,
                                crawl_delay=lambda url: self._robots.crawl_delay(url))
        self._interpret = Interpreter(state, extract, extract_config, now)
        self._fresh_robots()
        self._run: CrawlRun | None = None
        self.summary = CrawlSummary()

    @property
    def requests(self) -> int:
        return self._fetcher.requests

    def crawl(self, sources: Iterable[Source]) -> Iterator[CrawlEvent]:
        """Crawl each source in turn; stop iterating at any time and the next crawl resumes."""
        self.summary = CrawlSummary()
        self._fresh_robots()
        started, requests = self._clock(), self._fetcher.requests
        try:
            for source in sources:
                yield from self._crawl_source(source)
        finally:
            self.summary.seconds = self._clock() - started
            self.summary.requests = self._fetcher.requests - requests
            self._run = None

    def _fresh_robots(self) -> None:
        """robots.txt is read again in every crawl."""
        self._robots = RobotsCache(self._load_robots, self.config.user_agent)
        self._gate = Gate(self.config, self.state, self._robots, self._now)

    # -- runs ----------------------------------------------------------------------------------

    def _crawl_source(self, source: Source) -> Iterator[CrawlEvent]:
        if source.legacy_names:
            moved = self.state.adopt_pages(source.legacy_names, source.name,
                                           lambda url: within_scope(url, source))
            if moved:
                logger.info("%s: %d pages stored under %s adopted", source.name, moved,
                            ", ".join(source.legacy_names))
        opened = self.state.open_run(source.name)
        run = self._run = CrawlRun(source, opened.id, dict(opened.counts))
        if opened.resumed:
            logger.info("resuming crawl of %s (run %d)", source.name, run.id)
        if not run.counts.get("seeded"):
            self._seed(run)
        while (item := self.state.next_pending(run.id)) is not None:
            step = self._step(run, item.url, item.depth, item.mode, item.lastmod)
            if step.event is not None:
                yield step.event
            self._commit(run, item.url, item.depth, step)
        complete = not (run.counts.get("truncated") or run.counts.get("incomplete"))
        if complete and self.config.remove_vanished:
            yield from self._tombstones(run)
        self.state.finish_run(run.id, run.counts, complete=complete)
        logger.info("crawl of %s done: %s", source.name, run.counts)

    def _seed(self, run: CrawlRun) -> None:
        harvest = self._sitemaps(run)
        with self.state.transaction():
            # Sitemap entries first, so a start URL listed there keeps its lastmod.
            for url, (lastmod, listed_in) in harvest.entries.items():
                mode = link_mode(url, run.source)
                if mode is not None:
                    self.state.enqueue(run.id, run.source.name, url, 0,
                                       discovered_from=listed_in, mode=mode, lastmod=lastmod)
            for url in run.source.start_urls:
                self.state.enqueue(run.id, run.source.name, url, 0)
            if not harvest.complete:
                run.counts["incomplete"] = True  # pages listed past a cap would look vanished
            run.counts["seeded"] = True
            self.state.save_counts(run.id, run.counts)

    def _sitemaps(self, run: CrawlRun) -> Harvest:
        source = run.source
        roots = [source.sitemap] if source.sitemap else []
        if self.config.obey_robots:
            for origin in dict.fromkeys(origin_of(url) for url in source.start_urls):
                roots += self._robots.rules_for(origin + "/").sitemaps()
        configured = normalize_url(source.sitemap) if source.sitemap else None
        return harvest_sitemaps(
            roots, lambda url: self._read_sitemap(
                run, url, configured=url == configured,
                check=_stay_on({*source.hosts, url_host(url)}, "sitemap")),
            follow=lambda url: url == configured or url_host(url) in source.hosts,
            note=lambda url, reason, detail: self._log_now(run, url, "skipped", reason, detail),
            max_files=self.config.max_sitemaps, max_entries=self.config.max_sitemap_entries,
            max_bytes=self.config.max_bytes,
        )

    def _read_sitemap(self, run: CrawlRun, url: str, *, configured: bool,
                      check: HopCheck) -> bytes | None:
        if self.config.obey_robots and not self._robots.allowed(url):
            self._log_now(run, url, "skipped", SkipReason.ROBOTS, "sitemap")
            return None
        result = self._fetcher.fetch(url, accept=None, max_bytes=self.config.max_bytes,
                                     check=check)
        if result.outcome is Outcome.OK:
            self._log_now(run, url, "ok", "sitemap", result.detail, result)
            return result.body
        # Skipped: a redirect to another host, a refused address, too large. Its pages might
        # be listed nowhere else, so the run is incomplete (below) and tombstones nothing.
        self._log_now(run, url, str(result.outcome), result.reason, result.detail, result)
        status = result.status_code or 0
        # Pages only listed there would look vanished: no tombstones this run. A 4xx of a
        # sitemap we were only pointed to (robots.txt, an index) lists nothing: that is all.
        if configured or not (400 <= status < 500 and status != 429):
            run.counts["incomplete"] = True
        return None

    def _tombstones(self, run: CrawlRun) -> Iterator[CrawlEvent]:
        for page in self.state.unseen_pages(run.source.name, run.id):
            if not within_scope(page.url, run.source):
                # The source's prefixes were narrowed since: this crawl did not look there,
                # so it cannot say the page vanished.
                continue
            event: DocumentRemoved | None = None
            if page.doc_id and not doc_alive_elsewhere(self.state, page.doc_id, page.url,
                                                       run.id):
                event = DocumentRemoved(page.url, page.doc_id, "vanished")
                yield event
            with self.state.transaction():
                self.state.save_page(page.url, run.source.name, page.last_seen_run or run.id,
                                     status="gone")
                if event is not None:
                    count(run.counts, "removed")
                    self.summary.add("removed")
                    self.state.log(run.id, run.source.name, page.url, "removed",
                                   reason="vanished",
                                   detail="no longer linked or listed in a complete crawl")
                self.state.save_counts(run.id, run.counts)

    # -- one URL -------------------------------------------------------------------------------

    def _step(self, run: CrawlRun, url: str, depth: int, mode: str, lastmod: str | None) -> Step:
        step = self._gate.check(run, url, depth, mode, lastmod)
        if step is not None:
            return step
        result = self._fetcher.fetch(
            url, validators=self._gate.validators,
            check=lambda hop: self._gate.hop_check(run, hop),
            accept=PDF_TYPES if mode == "pdf" else PAGE_TYPES,
        )
        run.counts["pages"] = run.pages + 1
        step = self._interpret.step(run, url, depth, result)
        step.result = result
        if lastmod and step.page is not None:
            step.page.setdefault("sitemap_lastmod", lastmod)
        return step

    def _commit(self, run: CrawlRun, url: str, depth: int, step: Step) -> None:
        source, result = run.source, step.result
        detail = step.detail
        if result is not None and result.redirects:
            hops = " -> ".join(f"{hop.url} ({hop.status})" for hop in result.redirects)
            detail = f"{detail}; redirects: {hops}" if detail else f"redirects: {hops}"
        now = self._now().isoformat(timespec="seconds")
        with self.state.transaction():
            self._log_now(run, url, step.outcome, step.reason, detail, result)
            if step.page is not None and step.page_url:
                page = step.page
                if result is not None and result.outcome in (Outcome.OK, Outcome.NOT_MODIFIED):
                    page = {**page, "last_validated": now}
                self.state.save_page(step.page_url, source.name, run.id, **page)
            if result is not None and result.status_code is not None:
                if result.outcome is Outcome.FAILED and result.status_code in (404, 410):
                    self.state.record_dead(url, source.name, run.id, now)
                else:
                    self.state.clear_dead(url)
            self._enqueue_links(run, url, depth, step)
            if "?" in url and result is not None:
                self.state.bump_variant(run.id, path_key(url))
            self.state.mark(run.id, url)
            if result is not None and result.final_url != url:
                self.state.mark(run.id, result.final_url)
            self._tally(run, step)
            self.state.save_counts(run.id, run.counts)

    def _enqueue_links(self, run: CrawlRun, url: str, depth: int, step: Step) -> None:
        source = run.source
        for link in step.links:
            mode = link_mode(link, source)
            if mode is not None:
                self.state.enqueue(run.id, source.name, link, depth + 1,
                                   discovered_from=step.page_url or url, mode=mode)
            elif self.state.enqueue(run.id, source.name, link, depth + 1,
                                    discovered_from=url, state="skipped"):
                # Counted once per run, not logged: most are links to other sites.
                why = str(scope_check(link, source) or SkipReason.OUT_OF_SCOPE)
                count(run.counts, "skipped", why)
                self.summary.add("skipped", why)

    def _tally(self, run: CrawlRun, step: Step) -> None:
        http = str(step.result.outcome) if step.result is not None else None
        for key, reason in counted(http, step.event):
            count(run.counts, key, reason)
            self.summary.add(key, reason)

    # -- robots.txt and the log ----------------------------------------------------------------

    def _load_robots(self, origin: str) -> RobotsRules:
        url = origin + "/robots.txt"
        # RFC 9309 §2.3.1.2 lets a crawler follow robots.txt redirects across hosts; we keep
        # them on the origin's host and the source's hosts, so a site cannot point the crawler
        # elsewhere. A refused redirect leaves the rules unknown: treated as unreachable
        # (§2.3.1.4, complete disallow for this origin and crawl), which also keeps the run
        # from tombstoning. Add the target host to the source's `allowed` to follow it.
        hosts = {url_host(url), *(self._run.source.hosts if self._run is not None else ())}
        result = self._fetcher.fetch(url, accept=None, max_bytes=2 * 1024 * 1024,
                                     check=_stay_on(hosts, "robots.txt"))
        rules = rules_from_fetch(origin, result)
        if self._run is not None:
            if result.outcome is Outcome.SKIPPED:
                self._log_now(self._run, url, "skipped", result.reason,
                              f"{result.detail}; robots.txt unread: nothing on {origin} is "
                              "crawled", result)
            else:
                self._log_now(self._run, url, "robots", rules.status, rules.detail, result)
        delay = rules.crawl_delay(self.config.user_agent)
        if delay:  # the robots.txt request itself counts: wait before the next one
            self._fetcher.pause(url, min(delay, self.config.max_crawl_delay_seconds))
        return rules

    def _log_now(self, run: CrawlRun, url: str, outcome: str, reason: str, detail: str = "",
                 result: FetchResult | None = None) -> None:
        """Log one outcome (in its own transaction, or in the one already open)."""
        with self.state.transaction():
            self.state.log(run.id, run.source.name, url, outcome, reason=reason, detail=detail,
                           http_status=result.status_code if result else None,
                           nbytes=result.bytes_read if result else 0,
                           elapsed=result.elapsed if result else 0.0,
                           final_url=result.final_url if result else None)



def _stay_on(hosts: set[str] | frozenset[str], what: str) -> HopCheck:
    """A redirect check that refuses hops to any host but `hosts` (robots.txt, sitemaps)."""

    def check(target: str) -> tuple[str, str] | None:
        if url_host(target) in hosts:
            return None
        return str(SkipReason.CROSS_HOST_REDIRECT), f"{what} redirected to {target}"

    return check

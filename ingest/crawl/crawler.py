"""The crawler: sources in, `CrawlEvent`s out, state in `crawl.db` so a crawl can resume.

For each source, one run (resumed if the last one did not finish):
1. seed the frontier with the start URLs and the sitemaps' URLs, each with its `<lastmod>`
   (`samsok.ingest.crawl.sitemap`: the source's sitemap and robots.txt's `Sitemap:` lines, index
   files followed, bounded; read by `samsok.ingest.crawl.sitefiles` on the source's hosts only);
2. take the shallowest pending URL and check it (`samsok.ingest.crawl.frontier`): scope, depth,
   page cap, query-variant cap, robots.txt, known dead URLs; a sitemap `<lastmod>` equal to the
   stored one, for a page confirmed less than `revalidate_after_days` ago, ends it as unchanged;
3. fetch it (`samsok.ingest.fetch.client`: politeness, retries, caps, a hard deadline, conditional
   GET, checked redirects);
4. 304 → unchanged, its stored links are followed; same body hash → unchanged, not parsed;
5. extract, follow its links (and PDFs on the source's hosts one hop outside the prefixes);
   a listing page is followed but not emitted; same content hash → unchanged
   (`samsok.ingest.crawl.interpret`);
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
the address policy (`samsok.ingest.fetch.netguard`, `private_address`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from samsok.ingest.config import CrawlConfig
from samsok.ingest.crawl.events import (
    CrawlEvent,
    CrawlSummary,
    DocumentRemoved,
    count,
    counted,
)
from samsok.ingest.crawl.frontier import CrawlRun, Gate, Step, link_mode
from samsok.ingest.crawl.interpret import ExtractFn, Interpreter, doc_alive_elsewhere
from samsok.ingest.crawl.sitefiles import SiteFiles
from samsok.ingest.crawl.sources import Source
from samsok.ingest.crawl.state import CrawlState
from samsok.ingest.documents import SkipReason
from samsok.ingest.fetch import PAGE_TYPES, PDF_TYPES, Fetcher, FetchResult, Outcome
from samsok.ingest.urls import in_prefix, path_key, scope_check, within_scope

__all__ = ["Crawler"]

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
            # Imported here: the extractors' libraries are heavy and a test crawl may not need them
            from samsok.ingest.extract import extract as real_extract

            extract = real_extract
        if extract_config is None:
            from samsok.ingest.config import ExtractConfig

            extract_config = ExtractConfig()
        self.config = config
        self.state = state
        self._clock = clock
        self._now = now  # wall clock: validation times, revalidation and known-dead ages
        self._fetcher = Fetcher(
            client,
            config,
            clock=clock,
            sleep=sleep,
            crawl_delay=lambda url: self._robots.crawl_delay(url),
        )
        self._interpret = Interpreter(state, now, extract, extract_config)
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
        self._site = SiteFiles(self._fetcher, self.config, self._log_now, lambda: self._run)
        self._robots = self._site.robots
        self._gate = Gate(self.state, self._now, self.config, self._robots)

    # -- runs ----------------------------------------------------------------------------------

    def _crawl_source(self, source: Source) -> Iterator[CrawlEvent]:
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
        harvest = self._site.harvest(run)
        with self.state.transaction():
            # Sitemap entries first, so a start URL listed there keeps its lastmod.
            for url, (lastmod, listed_in) in harvest.entries.items():
                mode = link_mode(url, run.source)
                if mode is not None:
                    self.state.enqueue(
                        run.id,
                        run.source.name,
                        url,
                        0,
                        discovered_from=listed_in,
                        mode=mode,
                        lastmod=lastmod,
                    )
            for url in run.source.start_urls:
                self.state.enqueue(run.id, run.source.name, url, 0)
            if not harvest.complete:
                run.counts["incomplete"] = True  # pages listed past a cap would look vanished
            run.counts["seeded"] = True
            self.state.save_counts(run.id, run.counts)

    def _tombstones(self, run: CrawlRun) -> Iterator[CrawlEvent]:
        # Pages stored under an older name of the source (ad-hoc sources were named after
        # their host) are its own too, but only under its prefixes: another section or port
        # of the host, stored under the same old name, keeps its pages.
        source = run.source
        for page in self.state.unseen_pages(source.name, run.id, *source.legacy_names):
            own = page.source == source.name
            if not (within_scope(page.url, source) if own else in_prefix(page.url, source)):
                # Outside what this crawl looked at: it cannot say the page vanished.
                continue
            event: DocumentRemoved | None = None
            if page.doc_id and not doc_alive_elsewhere(self.state, page.doc_id, page.url, run.id):
                event = DocumentRemoved(page.url, page.doc_id, "vanished")
                yield event
            with self.state.transaction():
                self.state.save_page(
                    page.url, run.source.name, page.last_seen_run or run.id, status="gone"
                )
                if event is not None:
                    count(run.counts, "removed")
                    self.summary.add("removed")
                    self.state.log(
                        run.id,
                        run.source.name,
                        page.url,
                        "removed",
                        reason="vanished",
                        detail="no longer linked or listed in a complete crawl",
                    )
                self.state.save_counts(run.id, run.counts)

    # -- one URL -------------------------------------------------------------------------------

    def _step(self, run: CrawlRun, url: str, depth: int, mode: str, lastmod: str | None) -> Step:
        step = self._gate.check(run, url, depth, mode, lastmod)
        if step is not None:
            return step
        result = self._fetcher.fetch(
            url,
            validators=self._gate.validators,
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
                self.state.enqueue(
                    run.id,
                    source.name,
                    link,
                    depth + 1,
                    discovered_from=step.page_url or url,
                    mode=mode,
                )
            elif self.state.enqueue(
                run.id, source.name, link, depth + 1, discovered_from=url, state="skipped"
            ):
                # Counted once per run, not logged: most are links to other sites.
                why = str(scope_check(link, source) or SkipReason.OUT_OF_SCOPE)
                count(run.counts, "skipped", why)
                self.summary.add("skipped", why)

    def _tally(self, run: CrawlRun, step: Step) -> None:
        http = str(step.result.outcome) if step.result is not None else None
        for key, reason in counted(http, step.event):
            count(run.counts, key, reason)
            self.summary.add(key, reason)

    # -- the log -------------------------------------------------------------------------------

    def _log_now(
        self,
        run: CrawlRun,
        url: str,
        outcome: str,
        reason: str,
        detail: str = "",
        result: FetchResult | None = None,
    ) -> None:
        """Log one outcome (in its own transaction, or in the one already open)."""
        with self.state.transaction():
            self.state.log(
                run.id,
                run.source.name,
                url,
                outcome,
                reason=reason,
                detail=detail,
                http_status=result.status_code if result else None,
                nbytes=result.bytes_read if result else 0,
                elapsed=result.elapsed if result else 0.0,
                final_url=result.final_url if result else None,
            )

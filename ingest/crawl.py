"""The crawler: sources in, `CrawlEvent`s out, state in `crawl.db` so a crawl can resume.

For each source, one run (resumed if the last one did not finish):
1. seed the frontier from the sitemap (with each URL's `<lastmod>`) and the start URLs;
2. take the shallowest pending URL and check it: scope, depth, query-variant cap, page cap,
   robots.txt; a sitemap `<lastmod>` equal to the stored one ends it as unchanged, unfetched;
3. fetch it (`ingest.fetch`: politeness, retries, caps, conditional GET, checked redirects);
4. 304 → unchanged, its stored links are followed; same body hash → unchanged, not parsed;
5. extract, follow its links (and PDFs on the source's hosts one hop outside the prefixes);
   a listing page is followed but not emitted; same content hash → unchanged;
6. yield the event; only when the consumer asks for the next one is the outcome committed
   (log, page state, new links, URL done) in one transaction, so a crash re-delivers the
   event in flight instead of losing it;
7. after a complete run (frontier empty, no cap hit, no transient failure), documents no
   longer linked or listed are removed (tombstoned).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from ingest.config import CrawlConfig
from ingest.crawlstate import CrawlState, PageState
from ingest.dedup import signature
from ingest.errors import ExtractionError
from ingest.fetch import PAGE_TYPES, PDF_TYPES, Fetcher, FetchResult, Outcome, Validators
from ingest.models import Document, ExtractedPage, SkipReason
from ingest.robots import RobotsCache, RobotsRules, RobotsStatus, rules_from_response
from ingest.sitemap import parse_sitemap
from ingest.sources import Source, SourceKind
from ingest.urls import (
    align_scheme,
    in_prefix,
    looks_like_pdf,
    normalize_url,
    path_key,
    scope_check,
    url_host,
)

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

ExtractFn = Callable[[bytes, str, "str | None", Any], ExtractedPage]
_TRANSIENT = {"connect_error", "connect_timeout", "read_timeout", "network_error", "truncated",
              "total_timeout", "http_429", "extraction_error"}
_MAX_SITEMAPS = 20


@dataclass(frozen=True)
class DocumentFetched:
    document: Document
    new: bool  # False: a changed version of a document indexed before


@dataclass(frozen=True)
class DocumentUnchanged:
    url: str
    doc_id: str | None = None


@dataclass(frozen=True)
class DocumentRemoved:
    url: str
    doc_id: str
    reason: str  # http_404 | http_410 | vanished


@dataclass(frozen=True)
class ItemSkipped:
    url: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class ItemFailed:
    url: str
    reason: str
    detail: str = ""


CrawlEvent = DocumentFetched | DocumentUnchanged | DocumentRemoved | ItemSkipped | ItemFailed


@dataclass
class CrawlSummary:
    """Counts of one `crawl()` call (all sources); per-run counts are kept in crawl.db."""

    fetched: int = 0  # 2xx bodies received
    not_modified: int = 0  # 304 answers
    new: int = 0
    changed: int = 0
    unchanged: int = 0  # 304, same body/content hash, or same sitemap lastmod
    removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in vars(self).items()}


def _count(counts: dict[str, Any], key: str, reason: str | None = None) -> None:
    if reason is None:
        counts[key] = counts.get(key, 0) + 1
    else:
        bucket = counts.setdefault(key, {})
        bucket[reason] = bucket.get(reason, 0) + 1


@dataclass
class _Run:
    source: Source
    id: int
    counts: dict[str, Any]

    @property
    def pages(self) -> int:
        return int(self.counts.get("pages", 0))


@dataclass
class _Step:
    """The event for one frontier URL and what to commit once it has been consumed."""

    event: CrawlEvent | None
    outcome: str  # log outcome: ok | not_modified | skipped | failed | removed
    reason: str = ""
    detail: str = ""
    result: FetchResult | None = None
    page: dict[str, Any] | None = None  # columns to save for `page_url`
    page_url: str | None = None
    links: list[str] = field(default_factory=list)


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
    ) -> None:
        if extract is None:
            from ingest.extract import extract as real_extract  # heavy imports, only if used

            extract = real_extract
        if extract_config is None:
            from ingest.config import ExtractConfig

            extract_config = ExtractConfig()
        self.config = config
        self.state = state
        self._extract = extract
        self._extract_config = extract_config
        self._clock = clock
        self._robots = RobotsCache(self._load_robots, config.user_agent)
        self._fetcher = Fetcher(client, config, clock=clock, sleep=sleep,
                                crawl_delay=lambda url: self._robots.crawl_delay(url))
        self._run: _Run | None = None
        self.summary = CrawlSummary()

    @property
    def requests(self) -> int:
        return self._fetcher.requests

    def crawl(self, sources: Iterable[Source]) -> Iterator[CrawlEvent]:
        """Crawl each source in turn; stop iterating at any time and the next crawl resumes."""
        self.summary = CrawlSummary()
        self._robots = RobotsCache(self._load_robots, self.config.user_agent)  # fresh per crawl
        started, requests = self._clock(), self._fetcher.requests
        try:
            for source in sources:
                yield from self._crawl_source(source)
        finally:
            self.summary.seconds = self._clock() - started
            self.summary.requests = self._fetcher.requests - requests
            self._run = None

    # -- runs ----------------------------------------------------------------------------------

    def _crawl_source(self, source: Source) -> Iterator[CrawlEvent]:
        opened = self.state.open_run(source.name)
        run = self._run = _Run(source, opened.id, dict(opened.counts))
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

    def _seed(self, run: _Run) -> None:
        entries = self._sitemap_entries(run) if run.source.sitemap else []
        with self.state.transaction():
            # Sitemap entries first, so a start URL listed there keeps its lastmod.
            for url, lastmod in entries:
                mode = self._mode(url, run.source)
                if mode is not None:
                    self.state.enqueue(run.id, run.source.name, url, 0,
                                       discovered_from=run.source.sitemap, mode=mode,
                                       lastmod=lastmod)
            for url in run.source.start_urls:
                self.state.enqueue(run.id, run.source.name, url, 0)
            run.counts["seeded"] = True
            self.state.save_counts(run.id, run.counts)

    def _sitemap_entries(self, run: _Run) -> list[tuple[str, str | None]]:
        queue = [run.source.sitemap or ""]
        seen: set[str] = set()
        entries: list[tuple[str, str | None]] = []
        while queue and len(seen) < _MAX_SITEMAPS:
            url = normalize_url(queue.pop(0))
            if url in seen:
                continue
            seen.add(url)
            if self.config.obey_robots and not self._robots.allowed(url):
                self._log_now(run, url, "skipped", SkipReason.ROBOTS, "sitemap")
                continue
            result = self._fetcher.fetch(url, accept=None, max_bytes=self.config.max_bytes)
            self._log_now(run, url, "ok" if result.outcome is Outcome.OK else "failed",
                          "sitemap" if result.outcome is Outcome.OK else result.reason,
                          result.detail, result)
            if result.outcome is not Outcome.OK:
                # Pages only listed there would look vanished: no tombstones this run.
                run.counts["incomplete"] = True
                continue
            parsed = parse_sitemap(result.body)
            queue.extend(e.loc for e in parsed.sitemaps if url_host(e.loc) in run.source.hosts)
            for entry in parsed.urls:
                try:
                    entries.append((normalize_url(entry.loc), entry.lastmod))
                except ValueError:
                    continue
        return entries

    def _tombstones(self, run: _Run) -> Iterator[CrawlEvent]:
        for page in self.state.unseen_pages(run.source.name, run.id):
            event: DocumentRemoved | None = None
            if page.doc_id and not self._doc_alive_elsewhere(page.doc_id, page.url, run.id):
                event = DocumentRemoved(page.url, page.doc_id, "vanished")
                yield event
            with self.state.transaction():
                self.state.save_page(page.url, run.source.name, page.last_seen_run or run.id,
                                     status="gone")
                if event is not None:
                    _count(run.counts, "removed")
                    self.summary.removed += 1
                    self.state.log(run.id, run.source.name, page.url, "removed",
                                   reason="vanished",
                                   detail="no longer linked or listed in a complete crawl")
                self.state.save_counts(run.id, run.counts)

    def _doc_alive_elsewhere(self, doc_id: str, url: str, run_id: int) -> bool:
        return any(p.url != url and p.status == "live" and p.last_seen_run == run_id
                   and p.content_hash for p in self.state.pages_for_doc(doc_id))

    # -- one URL -------------------------------------------------------------------------------

    def _step(self, run: _Run, url: str, depth: int, mode: str, lastmod: str | None) -> _Step:
        source = run.source
        reason = scope_check(url, source, pdf_leeway=mode == "pdf")
        if reason is not None:
            return _Step(ItemSkipped(url, reason), "skipped", reason)
        max_depth = source.max_depth if source.max_depth is not None else self.config.max_depth
        # A PDF is a leaf: one level past the depth limit costs one request and no links.
        if depth > max_depth + (1 if mode == "pdf" or looks_like_pdf(url) else 0):
            return _skip(url, SkipReason.MAX_DEPTH, f"depth {depth} > {max_depth}")
        max_pages = source.max_pages if source.max_pages is not None else self.config.max_pages
        if run.pages >= max_pages:
            run.counts["truncated"] = True
            return _skip(url, SkipReason.MAX_PAGES, f"{max_pages} pages fetched")
        if "?" in url and self._variants(run, url) >= self.config.max_query_variants:
            return _skip(url, SkipReason.QUERY_VARIANTS,
                         f"{self.config.max_query_variants} query variants of {path_key(url)}")
        if self.config.obey_robots and not self._robots.allowed(url):
            rules = self._robots.rules_for(url)
            if rules.status is RobotsStatus.UNREACHABLE:
                run.counts["incomplete"] = True
            return _skip(url, SkipReason.ROBOTS, rules.detail or "disallowed by robots.txt")
        stored = self.state.page(url)
        if (lastmod and stored and stored.sitemap_lastmod == lastmod and stored.status == "live"
                and (stored.content_hash or stored.is_listing)):
            return self._unchanged(stored, "sitemap lastmod unchanged", "skipped",
                                   {"sitemap_lastmod": lastmod})
        result = self._fetcher.fetch(
            url, validators=self._validators, check=lambda hop: self._hop_check(run, hop),
            accept=PDF_TYPES if mode == "pdf" else PAGE_TYPES,
        )
        run.counts["pages"] = run.pages + 1
        step = self._after_fetch(run, url, depth, result)
        step.result = result
        if lastmod and step.page is not None:
            step.page.setdefault("sitemap_lastmod", lastmod)
        return step

    def _after_fetch(self, run: _Run, url: str, depth: int, result: FetchResult) -> _Step:
        final = result.final_url
        if result.outcome is Outcome.SKIPPED:
            return _skip(url, result.reason, result.detail)
        if result.outcome is Outcome.FAILED:
            return self._failed(run, url, result)
        stored = self.state.page(final)
        validators = {"etag": result.validators.etag,
                      "last_modified": result.validators.last_modified}
        if result.outcome is Outcome.NOT_MODIFIED:
            if stored is None:  # cannot happen: validators come from a stored page
                return _Step(ItemFailed(url, "unexpected_304"), "failed", "unexpected_304")
            return self._unchanged(stored, "HTTP 304", "not_modified", validators)
        if not in_prefix(final, run.source) and result.media_type not in PDF_TYPES:
            return _skip(url, SkipReason.OUT_OF_SCOPE, f"{final}: only PDFs outside the prefixes")
        body_hash = hashlib.sha256(result.body).hexdigest()
        if (stored and stored.body_hash == body_hash and stored.status == "live"
                and (stored.content_hash or stored.is_listing)):
            return self._unchanged(stored, "same body", "ok", {**validators})
        try:
            extracted = self._extract(result.body, final, result.content_type,
                                      self._extract_config)
        except ExtractionError as exc:
            step = _skip(url, str(exc.reason), str(exc))
            partial = getattr(exc, "page", None)  # EmptyContent keeps the links of a bare page
            if isinstance(partial, ExtractedPage) and in_prefix(final, run.source):
                step.links = self._links(partial, run.source)
                step.page_url = final
            return step
        except Exception as exc:  # a bug in extraction must not stop the crawl
            logger.exception("extraction crashed on %s", final)
            return _Step(ItemFailed(url, "extraction_error", repr(exc)), "failed",
                         "extraction_error", repr(exc))
        links = self._links(extracted, run.source) if in_prefix(final, run.source) else []
        common: dict[str, Any] = {**validators, "body_hash": body_hash, "links": links,
                                  "status": "live", "last_fetched": _now()}
        is_start = final in run.source.start_urls or url in run.source.start_urls
        if extracted.is_listing and not (run.source.kind is SourceKind.PROJECT_SITE
                                         and depth == 0 and is_start):
            page = {**common, "is_listing": True, "content_hash": None, "doc_id": None}
            return _Step(ItemSkipped(url, SkipReason.LISTING), "skipped", SkipReason.LISTING,
                         page=page, page_url=final, links=links)
        document = self._document(extracted, run.source, final)
        content_hash = document.content_hash
        page = {**common, "is_listing": False, "doc_id": document.doc_id,
                "content_hash": content_hash}
        twin = self._emitted_twin(document.doc_id, content_hash, final, run.id)
        if twin is not None:
            return _Step(ItemSkipped(url, SkipReason.DUPLICATE, f"same document as {twin}"),
                         "skipped", SkipReason.DUPLICATE, page=page, page_url=final, links=links)
        if stored and stored.content_hash == content_hash and stored.doc_id == document.doc_id \
                and stored.status == "live":
            return _Step(DocumentUnchanged(final, document.doc_id), "ok", SkipReason.UNCHANGED,
                         page=page, page_url=final, links=links)
        new = not any(p.content_hash and p.status == "live"
                      for p in self.state.pages_for_doc(document.doc_id))
        page.update(signature=signature(document.text), last_changed=_now())
        return _Step(DocumentFetched(document, new), "ok", "new" if new else "changed",
                     page=page, page_url=final, links=links)

    def _failed(self, run: _Run, url: str, result: FetchResult) -> _Step:
        if result.reason in _TRANSIENT or result.reason.startswith("http_5"):
            run.counts["incomplete"] = True
        if result.status_code in (404, 410):
            for candidate in dict.fromkeys((result.final_url, url)):
                known = self.state.page(candidate)
                if known and known.status == "live" and known.doc_id and known.content_hash:
                    gone = {"status": "gone"}
                    if self._doc_alive_elsewhere(known.doc_id, candidate, run.id):
                        return _Step(None, "removed", result.reason, "another URL has it",
                                     page=gone, page_url=candidate)
                    return _Step(DocumentRemoved(candidate, known.doc_id, result.reason),
                                 "removed", result.reason, result.detail,
                                 page=gone, page_url=candidate)
        return _Step(ItemFailed(url, result.reason, result.detail), "failed", result.reason,
                     result.detail)

    def _unchanged(self, stored: PageState, why: str, outcome: str,
                   page: dict[str, Any]) -> _Step:
        event: CrawlEvent = (ItemSkipped(stored.url, SkipReason.LISTING, why) if stored.is_listing
                             else DocumentUnchanged(stored.url, stored.doc_id))
        reason = SkipReason.LISTING if stored.is_listing else SkipReason.UNCHANGED
        return _Step(event, outcome, reason, why, page={**page, "status": "live"},
                     page_url=stored.url, links=stored.links)

    def _commit(self, run: _Run, url: str, depth: int, step: _Step) -> None:
        source, result = run.source, step.result
        detail = step.detail
        if result is not None and result.redirects:
            hops = " -> ".join(f"{hop.url} ({hop.status})" for hop in result.redirects)
            detail = f"{detail}; redirects: {hops}" if detail else f"redirects: {hops}"
        with self.state.transaction():
            self.state.log(
                run.id, source.name, url, step.outcome, reason=step.reason,
                detail=detail, http_status=result.status_code if result else None,
                nbytes=result.bytes_read if result else 0,
                elapsed=result.elapsed if result else 0.0,
                final_url=result.final_url if result else None,
            )
            if step.page is not None and step.page_url:
                self.state.save_page(step.page_url, source.name, run.id, **step.page)
            for link in step.links:
                mode = self._mode(link, source)
                if mode is not None:
                    self.state.enqueue(run.id, source.name, link, depth + 1,
                                       discovered_from=step.page_url or url, mode=mode)
                elif self.state.enqueue(run.id, source.name, link, depth + 1,
                                        discovered_from=url, state="skipped"):
                    # Counted once per run, not logged: most are links to other sites.
                    why = str(scope_check(link, source) or SkipReason.OUT_OF_SCOPE)
                    _count(run.counts, "skipped", why)
                    _count(vars(self.summary), "skipped", why)
            if "?" in url and result is not None:
                self.state.bump_variant(run.id, path_key(url))
            self.state.mark(run.id, url)
            if result is not None and result.final_url != url:
                self.state.mark(run.id, result.final_url)
            self._tally(run, step)
            self.state.save_counts(run.id, run.counts)

    def _tally(self, run: _Run, step: _Step) -> None:
        result, event = step.result, step.event
        bumps: list[tuple[str, str | None]] = []
        if result is not None and result.outcome is Outcome.OK:
            bumps.append(("fetched", None))
        if result is not None and result.outcome is Outcome.NOT_MODIFIED:
            bumps.append(("not_modified", None))
        if isinstance(event, DocumentFetched):
            bumps.append(("new" if event.new else "changed", None))
        elif isinstance(event, DocumentUnchanged):
            bumps.append(("unchanged", None))
        elif isinstance(event, DocumentRemoved):
            bumps.append(("removed", None))
        elif isinstance(event, ItemSkipped | ItemFailed):
            bumps.append(("skipped" if isinstance(event, ItemSkipped) else "failed",
                          str(event.reason)))
        for key, reason in bumps:
            _count(run.counts, key, reason)
            if reason is None:
                setattr(self.summary, key, getattr(self.summary, key) + 1)
            else:
                _count(vars(self.summary), key, reason)

    # -- helpers -------------------------------------------------------------------------------

    def _variants(self, run: _Run, url: str) -> int:
        return self.state.variant_count(run.id, path_key(url))

    def _validators(self, url: str) -> Validators | None:
        page = self.state.page(url)
        # Only for pages whose outcome we can repeat without a body (a document or a listing).
        if page is None or page.status != "live" or not (page.content_hash or page.is_listing):
            return None
        return Validators(page.etag, page.last_modified) or None

    def _hop_check(self, run: _Run, url: str) -> tuple[str, str] | None:
        reason = scope_check(url, run.source, pdf_leeway=True)
        if reason is not None:
            return str(reason), f"redirect to {url}"
        if self.config.obey_robots and not self._robots.allowed(url):
            return str(SkipReason.ROBOTS), f"redirect to {url}"
        item = self.state.frontier_item(run.id, url)
        if item is not None and item.state == "done":
            return str(SkipReason.DUPLICATE), f"redirect to {url}, already crawled"
        return None

    @staticmethod
    def _mode(url: str, source: Source) -> str | None:
        if scope_check(url, source) is None:
            return "page"
        if looks_like_pdf(url) and scope_check(url, source, pdf_leeway=True) is None:
            return "pdf"
        return None

    @staticmethod
    def _links(extracted: ExtractedPage, source: Source) -> list[str]:
        """Normalised, de-duplicated links in page order (scope is decided when enqueued)."""
        links: dict[str, None] = {}
        for link in extracted.links:
            try:
                links[align_scheme(normalize_url(link), source)] = None
            except ValueError:
                continue
        return list(links)

    def _document(self, extracted: ExtractedPage, source: Source, final: str) -> Document:
        canonical = final
        if extracted.canonical_url:
            try:
                candidate = normalize_url(extracted.canonical_url)
            except ValueError:
                candidate = final
            # A canonical on another host is a claim we cannot check; keep our URL then.
            if url_host(candidate) == url_host(final):
                canonical = candidate
        document = extracted.to_document(source=source.name, region=source.region,
                                         fetched_at=datetime.now(UTC))
        metadata = {**document.metadata, "source_kind": str(source.kind)}
        if canonical != final:
            metadata["fetched_url"] = final
        return replace(document, url=canonical, metadata=metadata)

    def _emitted_twin(self, doc_id: str, content_hash: str, url: str, run_id: int) -> str | None:
        for page in self.state.pages_for_doc(doc_id):
            if page.url != url and page.last_seen_run == run_id \
                    and page.content_hash == content_hash:
                return page.url
        return None

    def _load_robots(self, origin: str) -> RobotsRules:
        url = origin + "/robots.txt"
        result = self._fetcher.fetch(url, accept=None, max_bytes=2 * 1024 * 1024)
        if result.outcome is Outcome.OK:
            rules = rules_from_response(origin, result.status_code, result.body)
        elif result.outcome is Outcome.FAILED:
            rules = rules_from_response(origin, result.status_code, None,
                                        f"robots.txt: {result.reason} {result.detail}".strip())
        else:
            rules = RobotsRules(origin, RobotsStatus.UNREACHABLE, result.status_code,
                                f"robots.txt: {result.reason} {result.detail}".strip())
        if self._run is not None:
            self._log_now(self._run, url, "robots", rules.status, rules.detail, result)
        delay = rules.crawl_delay(self.config.user_agent)
        if delay:  # the robots.txt request itself counts: wait before the next one
            self._fetcher.pause(url, min(delay, self.config.max_crawl_delay_seconds))
        return rules

    def _log_now(self, run: _Run, url: str, outcome: str, reason: str, detail: str = "",
                 result: FetchResult | None = None) -> None:
        with self.state.transaction():
            self.state.log(run.id, run.source.name, url, outcome, reason=reason, detail=detail,
                           http_status=result.status_code if result else None,
                           nbytes=result.bytes_read if result else 0,
                           elapsed=result.elapsed if result else 0.0,
                           final_url=result.final_url if result else None)


def _skip(url: str, reason: str, detail: str = "") -> _Step:
    return _Step(ItemSkipped(url, reason, detail), "skipped", reason, detail)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

"""Steps 4–5 of a crawl: what a `FetchResult` means for the index.

- skipped or failed fetch → ItemSkipped / ItemFailed; a 404/410 of a live document →
  DocumentRemoved (unless another URL carries the same document);
- 304 → unchanged, the stored links are followed;
- outside the prefixes and not a PDF → out of scope; same body hash → unchanged, not parsed;
- otherwise extract: a listing page is followed but not emitted; a document already emitted
  this run under another URL is a duplicate; same content hash → unchanged; else new or
  changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from samsok.ingest.crawl.events import (
    CrawlEvent,
    DocumentFetched,
    DocumentRemoved,
    DocumentUnchanged,
    ItemFailed,
    ItemSkipped,
)
from samsok.ingest.crawl.frontier import CrawlRun, CrawlService, Step, page_links, skip, unchanged
from samsok.ingest.crawl.sources import Source, SourceKind
from samsok.ingest.crawl.state import CrawlState
from samsok.ingest.documents import Document, ExtractedPage, SkipReason
from samsok.ingest.errors import ExtractionError
from samsok.ingest.fetch import PDF_TYPES, FetchResult, Outcome
from samsok.ingest.urls import in_prefix, normalize_url, url_host

__all__ = ["TRANSIENT", "ExtractFn", "Interpreter", "doc_alive_elsewhere"]

logger = logging.getLogger(__name__)

ExtractFn = Callable[[bytes, str, "str | None", Any], ExtractedPage]
#: Failures that may pass: a run with one of them is incomplete (no tombstones).
TRANSIENT = frozenset(
    {
        "connect_error",
        "connect_timeout",
        "read_timeout",
        "network_error",
        "truncated",
        "total_timeout",
        "http_429",
        "extraction_error",
    }
)


def doc_alive_elsewhere(state: CrawlState, doc_id: str, url: str, run_id: int) -> bool:
    """Did this run see the document live under another URL?"""
    return any(
        p.url != url and p.status == "live" and p.last_seen_run == run_id and p.content_hash
        for p in state.pages_for_doc(doc_id)
    )


@dataclass(eq=False)
class Interpreter(CrawlService):
    extract: ExtractFn
    extract_config: Any

    def step(self, run: CrawlRun, url: str, depth: int, result: FetchResult) -> Step:
        final = result.final_url
        if result.outcome is Outcome.SKIPPED:
            if result.reason == SkipReason.PRIVATE_ADDRESS:
                # The host (now) resolves somewhere we may not go: that says nothing about the
                # page being gone, so this run tombstones nothing.
                run.counts["incomplete"] = True
            return skip(url, result.reason, result.detail)
        if result.outcome is Outcome.FAILED:
            return self._failed(run, url, result)
        stored = self.state.page(final)
        validators = {
            "etag": result.validators.etag,
            "last_modified": result.validators.last_modified,
        }
        if result.outcome is Outcome.NOT_MODIFIED:
            if stored is None:  # cannot happen: validators come from a stored page
                return Step(ItemFailed(url, "unexpected_304"), "failed", "unexpected_304")
            return unchanged(stored, "HTTP 304", "not_modified", validators)
        if not in_prefix(final, run.source) and result.media_type not in PDF_TYPES:
            return skip(url, SkipReason.OUT_OF_SCOPE, f"{final}: only PDFs outside the prefixes")
        body_hash = hashlib.sha256(result.body).hexdigest()
        if (
            stored
            and stored.body_hash == body_hash
            and stored.status == "live"
            and (stored.content_hash or stored.is_listing)
        ):
            return unchanged(stored, "same body", "ok", {**validators})
        try:
            extracted = self.extract(result.body, final, result.content_type, self.extract_config)
        except ExtractionError as exc:
            step = skip(url, str(exc.reason), str(exc))
            partial = getattr(exc, "page", None)  # EmptyContent keeps the links of a bare page
            if isinstance(partial, ExtractedPage) and in_prefix(final, run.source):
                step.links = page_links(partial, run.source)
                step.page_url = final
            return step
        except Exception as exc:  # a bug in extraction must not stop the crawl
            logger.exception("extraction crashed on %s", final)
            return Step(
                ItemFailed(url, "extraction_error", repr(exc)),
                "failed",
                "extraction_error",
                repr(exc),
            )
        links = page_links(extracted, run.source) if in_prefix(final, run.source) else []

        def page_step(event: CrawlEvent, outcome: str, reason: str, page: dict[str, Any]) -> Step:
            """A step that saves `page` for the fetched URL and follows its links."""
            return Step(event, outcome, reason, page=page, page_url=final, links=links)

        now = self.now().isoformat(timespec="seconds")
        common: dict[str, Any] = {
            **validators,
            "body_hash": body_hash,
            "links": links,
            "status": "live",
            "last_fetched": now,
        }
        is_start = final in run.source.start_urls or url in run.source.start_urls
        if extracted.is_listing and not (
            run.source.kind is SourceKind.PROJECT_SITE and depth == 0 and is_start
        ):
            page = {**common, "is_listing": True, "content_hash": None, "doc_id": None}
            return page_step(
                ItemSkipped(url, SkipReason.LISTING), "skipped", SkipReason.LISTING, page
            )
        document = self._document(extracted, run.source, final)
        content_hash = document.content_hash
        page = {
            **common,
            "is_listing": False,
            "doc_id": document.doc_id,
            "content_hash": content_hash,
        }
        twin = self._emitted_twin(document.doc_id, content_hash, final, run.id)
        if twin is not None:
            return page_step(
                ItemSkipped(url, SkipReason.DUPLICATE, f"same document as {twin}"),
                "skipped",
                SkipReason.DUPLICATE,
                page,
            )
        if (
            stored
            and stored.content_hash == content_hash
            and stored.doc_id == document.doc_id
            and stored.status == "live"
        ):
            return page_step(
                DocumentUnchanged(final, document.doc_id), "ok", SkipReason.UNCHANGED, page
            )
        new = not any(
            p.content_hash and p.status == "live" for p in self.state.pages_for_doc(document.doc_id)
        )
        page.update(last_changed=now)
        return page_step(DocumentFetched(document, new), "ok", "new" if new else "changed", page)

    def _failed(self, run: CrawlRun, url: str, result: FetchResult) -> Step:
        if result.reason in TRANSIENT or result.reason.startswith("http_5"):
            run.counts["incomplete"] = True
        if result.status_code in (404, 410):
            for candidate in dict.fromkeys((result.final_url, url)):
                known = self.state.page(candidate)
                if known and known.status == "live" and known.doc_id and known.content_hash:
                    gone = {"status": "gone"}
                    if doc_alive_elsewhere(self.state, known.doc_id, candidate, run.id):
                        return Step(
                            None,
                            "removed",
                            result.reason,
                            "another URL has it",
                            page=gone,
                            page_url=candidate,
                        )
                    return Step(
                        DocumentRemoved(candidate, known.doc_id, result.reason),
                        "removed",
                        result.reason,
                        result.detail,
                        page=gone,
                        page_url=candidate,
                    )
        return Step(
            ItemFailed(url, result.reason, result.detail), "failed", result.reason, result.detail
        )

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
        document = extracted.to_document(
            source=source.name, region=source.region, fetched_at=self.now()
        )
        metadata = {**document.metadata, "source_kind": str(source.kind)}
        if canonical != final:
            metadata["fetched_url"] = final
        return replace(document, url=canonical, metadata=metadata)

    def _emitted_twin(self, doc_id: str, content_hash: str, url: str, run_id: int) -> str | None:
        for page in self.state.pages_for_doc(doc_id):
            if (
                page.url != url
                and page.last_seen_run == run_id
                and page.content_hash == content_hash
            ):
                return page.url
        return None

"""Feed what ingest produces into the index: crawl events and local documents.

The crawler marks a URL done only after its event has been consumed here, so each event is
applied (indexed or removed) before the next is pulled: a crash never loses a document.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from samsok.ingest import crawl
from samsok.search.index import SearchIndex, UpsertOutcome
from samsok.search.store import DEFAULT_ORIGINALS_MAX_BYTES

__all__ = ["EventApplier", "IndexingSummary", "apply_events"]


log = logging.getLogger(__name__)


@dataclass
class IndexingSummary:
    """What happened to the index during one run."""

    outcomes: Counter[str] = field(default_factory=Counter)
    removed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    originals: Counter[str] = field(default_factory=Counter)  # kept / not_kept (over the cap)
    interrupted: bool = False  # stopped early on request (a signal)

    def as_dict(self) -> dict[str, object]:
        return {
            "new": self.outcomes[UpsertOutcome.NEW],
            "changed": self.outcomes[UpsertOutcome.CHANGED],
            "unchanged": self.outcomes[UpsertOutcome.UNCHANGED],
            "duplicates": self.outcomes[UpsertOutcome.DUPLICATE],
            "empty": self.outcomes[UpsertOutcome.EMPTY],
            "removed": self.removed,
            "skipped": dict(self.skipped),
            "failed": dict(self.failed),
            "originals": dict(self.originals),
        }


class EventApplier:
    """Applies events to the writer one at a time and counts them in `summary`.

    A source's first crawl opens a change-log baseline (`search.store.changelog`); a local
    file's bytes (`DocumentFetched.original`) are kept as the document's original, within
    `originals_max_bytes` for all kept originals together. Use as a context manager: baselines
    a crash left open are closed on entry, this run's on exit.
    """

    def __init__(
        self, index: SearchIndex, *, originals_max_bytes: int = DEFAULT_ORIGINALS_MAX_BYTES
    ) -> None:
        self.index = index
        self.originals_max_bytes = originals_max_bytes
        self.summary = IndexingSummary()
        self._checked: set[str] = set()

    def __enter__(self) -> EventApplier:
        self.index.finish_baselines()  # one a crash left open
        return self

    def __exit__(self, *exc: object) -> None:
        self.index.finish_baselines()

    def apply(self, event: crawl.CrawlEvent) -> None:
        index, summary = self.index, self.summary
        if isinstance(event, crawl.DocumentFetched):
            source = event.document.source
            if event.original is None and source not in self._checked:
                self._checked.add(source)
                index.begin_baseline(source)
            summary.outcomes[index.upsert(event.document)] += 1
            if event.original is not None:
                kept = index.keep_original(
                    event.document.doc_id,
                    data=event.original.data,
                    name=event.original.name,
                    content_type=event.original.content_type,
                    max_bytes=self.originals_max_bytes,
                )
                summary.originals["kept" if kept.kept else "not_kept"] += 1
        elif isinstance(event, crawl.DocumentRemoved):
            summary.removed += int(index.remove(event.doc_id, reason=event.reason))
        elif isinstance(event, crawl.DocumentUnchanged):
            summary.outcomes[UpsertOutcome.UNCHANGED] += 1
        elif isinstance(event, crawl.ItemSkipped):
            summary.skipped[str(event.reason)] += 1
        elif isinstance(event, crawl.ItemFailed):
            summary.failed[str(event.reason)] += 1


def apply_events(
    index: SearchIndex,
    events: Iterable[crawl.CrawlEvent],
    *,
    on_event: Callable[[crawl.CrawlEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    originals_max_bytes: int = DEFAULT_ORIGINALS_MAX_BYTES,
) -> IndexingSummary:
    """Apply crawl events to the index one by one, then commit.

    `should_stop` is asked after each event: when it says so, the run ends there (the crawl
    generator is closed, so an unfinished crawl resumes next time and removes nothing)."""
    applier = EventApplier(index, originals_max_bytes=originals_max_bytes)
    try:
        with applier:
            for event in events:
                if should_stop is not None and should_stop():
                    applier.summary.interrupted = True
                    break
                applier.apply(event)
                if on_event is not None:
                    on_event(event)
                if should_stop is not None and should_stop():
                    applier.summary.interrupted = True
                    break
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
        index.commit()
    return applier.summary

"""Feed what ingest produces into the index: crawl events and local documents.

The crawler marks a URL done only after its event has been consumed here, so each event is
applied (indexed or removed) before the next is pulled: a crash never loses a document.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from samsok.ingest.crawl import (
    CrawlEvent,
    DocumentFetched,
    DocumentRemoved,
    DocumentUnchanged,
    ItemFailed,
    ItemSkipped,
)
from samsok.search.index import SearchIndex, UpsertOutcome

__all__ = ["IndexingSummary", "apply_event", "apply_events"]

log = logging.getLogger(__name__)


@dataclass
class IndexingSummary:
    """What happened to the index during one run."""

    outcomes: Counter[str] = field(default_factory=Counter)
    removed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
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
        }


def apply_events(
    index: SearchIndex,
    events: Iterable[CrawlEvent],
    *,
    on_event: Callable[[CrawlEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> IndexingSummary:
    """Apply crawl events to the index one by one, then commit.

    `should_stop` is asked after each event: when it says so, the run ends there (the crawl
    generator is closed, so an unfinished crawl resumes next time and removes nothing)."""
    summary = IndexingSummary()
    try:
        for event in events:
            if should_stop is not None and should_stop():
                summary.interrupted = True
                break
            apply_event(index, event, summary)
            if on_event is not None:
                on_event(event)
            if should_stop is not None and should_stop():
                summary.interrupted = True
                break
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
        index.commit()
    return summary


def apply_event(index: SearchIndex, event: CrawlEvent, summary: IndexingSummary) -> None:
    """Apply one event to the index and count it."""
    if isinstance(event, DocumentFetched):
        summary.outcomes[index.upsert(event.document)] += 1
    elif isinstance(event, DocumentRemoved):
        summary.removed += int(index.remove(event.doc_id))
    elif isinstance(event, DocumentUnchanged):
        summary.outcomes[UpsertOutcome.UNCHANGED] += 1
    elif isinstance(event, ItemSkipped):
        summary.skipped[str(event.reason)] += 1
    elif isinstance(event, ItemFailed):
        summary.failed[str(event.reason)] += 1

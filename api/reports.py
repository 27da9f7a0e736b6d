"""What the jobs report: the crawl summary table, the crawl log's latest runs, and one file's
extraction (`samsok extract`) as plain JSON data."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from samsok.api.console import table
from samsok.ingest.errors import ExtractionError

if TYPE_CHECKING:  # the crawler (httpx, extractors) loads with a crawl, not with `status`
    from samsok.ingest.crawl import CrawlSummary
    from samsok.search.pipeline import IndexingSummary

__all__ = ["CrawlReport", "ServiceError", "extract_file", "last_crawls"]

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A job cannot run as asked (unknown source, no mirror, …); the message says why."""


@dataclass
class CrawlReport:
    crawl: CrawlSummary
    indexing: IndexingSummary

    def render(self) -> str:
        """The summary table printed at the end of every crawl."""
        c, i = self.crawl, self.indexing.as_dict()
        rate = c.requests / c.seconds if c.seconds > 0 else 0.0
        lines = [
            f"Crawl: {c.requests} requests in {c.seconds:.1f} s ({rate:.1f}/s)",
            table(
                [
                    ("new", c.new, i["new"]),
                    ("changed", c.changed, i["changed"]),
                    ("unchanged", c.unchanged, i["unchanged"]),
                    ("removed", c.removed, i["removed"]),
                    ("near-duplicates", None, i["duplicates"]),
                    ("fetched", c.fetched, None),
                    ("not modified", c.not_modified, None),
                ],
                header=("", "crawl", "index"),
            ),
        ]
        for label, counts in (("skipped", c.skipped), ("failed", c.failed)):
            if counts:
                listed = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                lines.append(f"{label}: {listed}")
        return "\n".join(lines)


def last_crawls(path: Path) -> list[dict[str, object]]:
    """The crawl log's latest runs, read without writing (no crawl.db yet: no crawls)."""
    if not path.is_file():
        return []
    from samsok.ingest.crawl import CrawlState

    # "immutable" when SQLite cannot make the WAL's -shm file in a read-only folder.
    for mode in ("ro", "immutable"):
        state = CrawlState(path, read_only=mode)
        try:
            return state.last_crawls()
        except sqlite3.OperationalError as exc:
            error = exc
        finally:
            state.close()
    log.warning("cannot read %s: %s", path, error)
    return []


def extract_file(path: Path, *, url: str | None, config: object) -> dict[str, object]:
    """`samsok extract`: what extraction gets out of one local file, as plain JSON data."""
    from samsok.ingest.local import extract_local_file

    try:
        page = extract_local_file(path, url=url, config=config)  # type: ignore[arg-type]
    except ExtractionError as exc:
        raise ServiceError(f"{path}: {exc} [{exc.reason}]") from exc
    return {
        "url": page.url,
        "title": page.title,
        "published": page.published.isoformat() if page.published else None,
        "language": page.language,
        "content_type": page.content_type,
        "text": page.text,
        "pages": [{"number": p.number, "text": p.text} for p in page.pages],
    }

"""The tables of `crawl.db`, how an older file is brought up to date, and the row types.

Tables
    runs      one crawl of one source: started, finished, complete, counts (JSON)
    log       every fetch outcome: url, time, outcome, reason, detail, HTTP status, bytes, seconds
    pages     per URL: validators (ETag, Last-Modified), body and content hashes, the links
              it had, sitemap lastmod, live|gone, last run it was seen, when a request last
              confirmed what is stored (`last_validated`), and how many crawls in a row it
              answered 404/410 (`dead_streak`)
    frontier  the URLs of an unfinished run: depth, where found, pending|done|skipped
    variants  query-string variants counted per path in a run (trap guard)
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "DETAIL_MAX_CHARS",
    "SCHEMA_VERSION",
    "FrontierItem",
    "LogEntry",
    "PageState",
    "Run",
    "migrate",
    "page_from_row",
    "utc_now",
]

SCHEMA_VERSION = "3"
#: Seconds a writer waits for SQLite's lock (by hand: longer than any one URL's transaction;
#: readers never hold it, see docs/architecture.md "Concurrency").
BUSY_TIMEOUT_SECONDS = 30
#: Characters of an error detail kept per crawl-log line (by hand: a traceback's last lines).
DETAIL_MAX_CHARS = 2000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    complete INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS runs_source ON runs (source, id);
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY, run_id INTEGER, source TEXT, url TEXT NOT NULL, at TEXT NOT NULL,
    outcome TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
    http_status INTEGER, bytes INTEGER NOT NULL DEFAULT 0, elapsed REAL NOT NULL DEFAULT 0,
    final_url TEXT);
CREATE INDEX IF NOT EXISTS log_url ON log (url);
CREATE INDEX IF NOT EXISTS log_run ON log (run_id, outcome);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY, source TEXT NOT NULL, doc_id TEXT, etag TEXT, last_modified TEXT,
    body_hash TEXT, content_hash TEXT, is_listing INTEGER NOT NULL DEFAULT 0,
    links TEXT NOT NULL DEFAULT '[]', sitemap_lastmod TEXT, status TEXT NOT NULL DEFAULT 'live',
    first_seen TEXT, last_fetched TEXT, last_changed TEXT, last_seen_run INTEGER,
    last_validated TEXT, dead_streak INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS pages_source ON pages (source, status);
CREATE INDEX IF NOT EXISTS pages_doc ON pages (doc_id);
CREATE TABLE IF NOT EXISTS frontier (
    run_id INTEGER NOT NULL, url TEXT NOT NULL, source TEXT NOT NULL, depth INTEGER NOT NULL,
    discovered_from TEXT, mode TEXT NOT NULL DEFAULT 'page', lastmod TEXT,
    state TEXT NOT NULL DEFAULT 'pending', seq INTEGER NOT NULL,
    PRIMARY KEY (run_id, url));
CREATE INDEX IF NOT EXISTS frontier_next ON frontier (run_id, state, depth, seq);
CREATE TABLE IF NOT EXISTS variants (
    run_id INTEGER NOT NULL, path TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (run_id, path));
"""
#: Columns added after version 1: (table, column, definition).
_ADDED = (
    ("pages", "last_validated", "TEXT"),
    ("pages", "dead_streak", "INTEGER NOT NULL DEFAULT 0"),
)
#: Columns dropped: (table, column). Version 3 dropped `pages.signature`, the crawl-side
#: MinHash signature: near-duplicates are found once, by the index (`search.index`).
_DROPPED = (("pages", "signature"),)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def migrate(db: sqlite3.Connection) -> None:
    """Create the tables, or bring a crawl.db of an older version up to date."""
    db.executescript(_SCHEMA)
    for table, column, definition in _ADDED:
        if column not in _columns(db, table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    for table, column in _DROPPED:
        if column in _columns(db, table):
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite >= 3.35
    db.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key)"
        " DO UPDATE SET value = excluded.value",
        (SCHEMA_VERSION,),
    )


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Run:
    id: int
    source: str
    started: str
    resumed: bool
    counts: dict[str, Any]


@dataclass(frozen=True)
class FrontierItem:
    url: str
    depth: int
    discovered_from: str | None
    mode: str  # "page", or "pdf" for a link outside the prefixes that must turn out a PDF
    lastmod: str | None
    state: str


@dataclass(frozen=True)
class PageState:
    url: str
    source: str
    doc_id: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    content_hash: str | None
    is_listing: bool
    links: list[str]
    sitemap_lastmod: str | None
    status: str
    last_seen_run: int | None
    last_fetched: str | None = None
    #: When a request last confirmed what is stored: a 2xx body, a 304, or a 404/410 for a
    #: dead URL (ISO 8601 UTC).
    last_validated: str | None = None
    #: Crawls in a row in which the URL answered 404/410.
    dead_streak: int = 0

    @property
    def checked(self) -> datetime | None:
        """`last_validated` (or, for rows from before it existed, `last_fetched`)."""
        value = self.last_validated or self.last_fetched
        if not value:
            return None
        when = datetime.fromisoformat(value)
        return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LogEntry:
    run_id: int | None
    source: str | None
    url: str
    at: str
    outcome: str
    reason: str
    detail: str
    http_status: int | None
    bytes: int
    elapsed: float
    final_url: str | None


def page_from_row(row: sqlite3.Row) -> PageState:
    # A read-only reader does not migrate: columns added since the file's version are absent.
    present = set(row.keys())

    def later(column: str) -> Any:
        return row[column] if column in present else None

    return PageState(
        row["url"],
        row["source"],
        row["doc_id"],
        row["etag"],
        row["last_modified"],
        row["body_hash"],
        row["content_hash"],
        bool(row["is_listing"]),
        json.loads(row["links"] or "[]"),
        row["sitemap_lastmod"],
        row["status"],
        row["last_seen_run"],
        row["last_fetched"],
        later("last_validated"),
        int(later("dead_streak") or 0),
    )

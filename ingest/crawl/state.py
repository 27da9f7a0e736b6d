"""The crawler's memory: `crawl.db` (SQLite in WAL mode; tables in `samsok.ingest.crawl.schema`).

Every change the crawler makes for one URL goes through one `transaction()`, so a crash or
SIGKILL leaves either all of it or none of it; an unfinished run resumes from its frontier.
An older crawl.db is brought up to date when it is opened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from samsok.ingest.crawl.schema import (
    BUSY_TIMEOUT_SECONDS,
    DETAIL_MAX_CHARS,
    FrontierItem,
    LogEntry,
    PageState,
    Run,
    migrate,
    page_from_row,
    utc_now,
)

__all__ = ["CrawlState"]


class CrawlState:
    def __init__(self, db_path: Path | str, *, read_only: str = "") -> None:
        self.path = Path(db_path)
        self._depth = 0
        if read_only:  # "ro", or "immutable" in a read-only folder: reports that write nothing
            mode = "ro&immutable=1" if read_only == "immutable" else "ro"
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode={mode}", uri=True)
        else:  # autocommit: transactions are opened explicitly with BEGIN IMMEDIATE below
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS
            )
        self._db.row_factory = sqlite3.Row
        if read_only:
            return
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is crash-safe in WAL mode for a killed process; only an OS crash may lose the
        # last commits, and even then the database stays consistent.
        self._db.execute("PRAGMA synchronous=NORMAL")
        migrate(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CrawlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together (nested uses join the outer transaction)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # -- runs ----------------------------------------------------------------------------------

    def open_run(self, source: str) -> Run:
        """The source's unfinished run (to resume), or a new one."""
        row = self._db.execute(
            "SELECT * FROM runs WHERE source = ? AND finished IS NULL ORDER BY id DESC LIMIT 1",
            (source,),
        ).fetchone()
        if row is not None:
            return Run(row["id"], source, row["started"], True, json.loads(row["counts"]))
        started = utc_now()
        with self.transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (source, started) VALUES (?, ?)", (source, started)
            )
        return Run(int(cursor.lastrowid or 0), source, started, False, {})

    def save_counts(self, run_id: int, counts: dict[str, Any]) -> None:
        self._db.execute("UPDATE runs SET counts = ? WHERE id = ?", (json.dumps(counts), run_id))

    def finish_run(self, run_id: int, counts: dict[str, Any], *, complete: bool) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE runs SET finished = ?, complete = ?, counts = ? WHERE id = ?",
                (utc_now(), int(complete), json.dumps(counts), run_id),
            )
            # The frontier only matters for resuming; a finished run's is dropped.
            self._db.execute("DELETE FROM frontier WHERE run_id = ?", (run_id,))
            self._db.execute("DELETE FROM variants WHERE run_id = ?", (run_id,))

    def last_crawls(self) -> list[dict[str, Any]]:
        """The latest run of every source, newest first (for `samsok status`)."""
        rows = self._db.execute(
            "SELECT r.* FROM runs r JOIN (SELECT source, MAX(id) AS id FROM runs GROUP BY source)"
            " USING (id) ORDER BY r.id DESC"
        ).fetchall()
        return [self._run_dict(row) for row in rows]

    def runs(self, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs" + (" WHERE source = ?" if source else "")
        params: tuple[Any, ...] = (source,) if source else ()
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [self._run_dict(row) for row in rows]

    @staticmethod
    def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "run_id": row["id"],
            "source": row["source"],
            "started": row["started"],
            "finished": row["finished"],
            "complete": bool(row["complete"]),
            "counts": json.loads(row["counts"]),
        }

    # -- crawl log -----------------------------------------------------------------------------

    def log(
        self,
        run_id: int | None,
        source: str | None,
        url: str,
        outcome: str,
        *,
        reason: str = "",
        detail: str = "",
        http_status: int | None = None,
        nbytes: int = 0,
        elapsed: float = 0.0,
        final_url: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO log (run_id, source, url, at, outcome, reason, detail, http_status,"
            " bytes, elapsed, final_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                source,
                url,
                utc_now(),
                outcome,
                str(reason),
                detail[:DETAIL_MAX_CHARS],
                http_status,
                nbytes,
                round(elapsed, 4),
                final_url if final_url != url else None,
            ),
        )

    def crawl_log(
        self,
        *,
        run_id: int | None = None,
        source: str | None = None,
        url: str | None = None,
        outcome: str | None = None,
        reason: str | None = None,
        limit: int = 1000,
    ) -> list[LogEntry]:
        """Log entries, newest first, filtered by any of the given fields."""
        filters = {
            "run_id": run_id,
            "source": source,
            "url": url,
            "outcome": outcome,
            "reason": reason,
        }
        used = {k: v for k, v in filters.items() if v is not None}
        where = " AND ".join(f"{k} = ?" for k in used) or "1"
        rows = self._db.execute(
            f"SELECT * FROM log WHERE {where} ORDER BY id DESC LIMIT ?", (*used.values(), limit)
        ).fetchall()
        return [
            LogEntry(
                r["run_id"],
                r["source"],
                r["url"],
                r["at"],
                r["outcome"],
                r["reason"],
                r["detail"],
                r["http_status"],
                r["bytes"],
                r["elapsed"],
                r["final_url"],
            )
            for r in rows
        ]

    # -- frontier ------------------------------------------------------------------------------

    def enqueue(
        self,
        run_id: int,
        source: str,
        url: str,
        depth: int,
        *,
        discovered_from: str | None = None,
        mode: str = "page",
        lastmod: str | None = None,
        state: str = "pending",
    ) -> bool:
        """Add a URL to the run's frontier; False when the run has already seen it."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO frontier (run_id, url, source, depth, discovered_from, mode,"
            " lastmod, state, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM frontier WHERE run_id = ?))",
            (run_id, url, source, depth, discovered_from, mode, lastmod, state, run_id),
        )
        return cursor.rowcount > 0

    def next_pending(self, run_id: int) -> FrontierItem | None:
        """The shallowest, oldest pending URL (breadth first)."""
        row = self._db.execute(
            "SELECT * FROM frontier WHERE run_id = ? AND state = 'pending'"
            " ORDER BY depth, seq LIMIT 1",
            (run_id,),
        ).fetchone()
        return self._item(row) if row else None

    def frontier_item(self, run_id: int, url: str) -> FrontierItem | None:
        row = self._db.execute(
            "SELECT * FROM frontier WHERE run_id = ? AND url = ?", (run_id, url)
        ).fetchone()
        return self._item(row) if row else None

    def mark(self, run_id: int, url: str, state: str = "done") -> None:
        """Set a frontier URL's state, adding it (as found by a redirect) if it is new."""
        self._db.execute(
            "INSERT INTO frontier (run_id, url, source, depth, state, seq)"
            " SELECT ?, ?, source, 0, ?, 0 FROM runs WHERE id = ?"
            " ON CONFLICT (run_id, url) DO UPDATE SET state = excluded.state",
            (run_id, url, state, run_id),
        )

    def pending_count(self, run_id: int) -> int:
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM frontier WHERE run_id = ? AND state = 'pending'", (run_id,)
            ).fetchone()[0]
        )

    def bump_variant(self, run_id: int, path: str) -> None:
        """Count one more fetched query variant of `path` in this run."""
        self._db.execute(
            "INSERT INTO variants VALUES (?, ?, 1)"
            " ON CONFLICT (run_id, path) DO UPDATE SET count = count + 1",
            (run_id, path),
        )

    def variant_count(self, run_id: int, path: str) -> int:
        row = self._db.execute(
            "SELECT count FROM variants WHERE run_id = ? AND path = ?", (run_id, path)
        ).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _item(row: sqlite3.Row) -> FrontierItem:
        return FrontierItem(
            row["url"],
            row["depth"],
            row["discovered_from"],
            row["mode"],
            row["lastmod"],
            row["state"],
        )

    # -- per-URL state -------------------------------------------------------------------------

    def page(self, url: str) -> PageState | None:
        row = self._db.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
        return self._page(row) if row else None

    def pages_for_doc(self, doc_id: str) -> list[PageState]:
        rows = self._db.execute("SELECT * FROM pages WHERE doc_id = ?", (doc_id,)).fetchall()
        return [self._page(row) for row in rows]

    def save_page(self, url: str, source: str, run_id: int, **fields: Any) -> None:
        """Insert or update a URL's state; `fields` are columns of `pages` (links as a list)."""
        if "links" in fields:
            fields["links"] = json.dumps(fields["links"])
        if "is_listing" in fields:
            fields["is_listing"] = int(bool(fields["is_listing"]))
        fields = {**fields, "source": source, "last_seen_run": run_id}
        now = utc_now()
        self._db.execute(
            "INSERT INTO pages (url, source, first_seen) VALUES (?, ?, ?)"
            " ON CONFLICT (url) DO NOTHING",
            (url, source, now),
        )
        assignments = ", ".join(f"{column} = ?" for column in fields)
        self._db.execute(f"UPDATE pages SET {assignments} WHERE url = ?", (*fields.values(), url))

    def record_dead(self, url: str, source: str, run_id: int, at: str) -> None:
        """`url` answered 404/410 at `at`: one more crawl in its dead streak; it is gone."""
        self._db.execute(
            "INSERT INTO pages (url, source, first_seen, status) VALUES (?, ?, ?, 'gone')"
            " ON CONFLICT (url) DO NOTHING",
            (url, source, at),
        )
        self._db.execute(
            "UPDATE pages SET dead_streak = dead_streak + 1, last_validated = ?, status = 'gone',"
            " source = ?, last_seen_run = ? WHERE url = ?",
            (at, source, run_id, url),
        )

    def clear_dead(self, url: str) -> None:
        """`url` answered something other than 404/410: its dead streak ends."""
        self._db.execute(
            "UPDATE pages SET dead_streak = 0 WHERE url = ? AND dead_streak > 0", (url,)
        )

    def unseen_pages(self, source: str, run_id: int, *also: str) -> list[PageState]:
        """Live documents of the source (or of its older names `also`) this run did not see."""
        names = (source, *also)
        rows = self._db.execute(
            f"SELECT * FROM pages WHERE source IN ({', '.join('?' * len(names))})"
            " AND status = 'live' AND content_hash IS NOT NULL"
            " AND (last_seen_run IS NULL OR last_seen_run != ?)",
            (*names, run_id),
        ).fetchall()
        return [self._page(row) for row in rows]

    @staticmethod
    def _page(row: sqlite3.Row) -> PageState:
        return page_from_row(row)

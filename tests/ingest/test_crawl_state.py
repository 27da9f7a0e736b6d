"""crawl.db: runs, log, per-URL state, frontier; transactions, migration, dead streaks."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from samsok.ingest.crawl import CrawlState
from samsok.ingest.crawl.schema import SCHEMA_VERSION


def test_runs_resume_until_finished(tmp_path: Path) -> None:
    with CrawlState(tmp_path / "crawl.db") as state:
        run = state.open_run("s")
        assert not run.resumed
        with state.transaction():
            assert state.enqueue(run.id, "s", "https://x.no/", 0)
            assert not state.enqueue(run.id, "s", "https://x.no/", 1)  # seen this run
            state.enqueue(run.id, "s", "https://x.no/b", 1, discovered_from="https://x.no/")
            state.save_counts(run.id, {"new": 1})
    with CrawlState(tmp_path / "crawl.db") as state:  # as after a crash
        again = state.open_run("s")
        assert again.resumed and again.id == run.id and again.counts == {"new": 1}
        item = state.next_pending(run.id)
        assert item is not None and item.url == "https://x.no/" and item.depth == 0
        with state.transaction():
            state.mark(run.id, item.url)
        assert state.next_pending(run.id).url == "https://x.no/b"  # type: ignore[union-attr]
        state.finish_run(run.id, {"new": 2}, complete=True)
        assert state.next_pending(run.id) is None  # frontier dropped with the finished run
        assert not state.open_run("s").resumed
        last = state.last_crawls()
        assert [r["source"] for r in last] == ["s"] and last[0]["finished"] is None
        assert state.runs("s")[1]["counts"] == {"new": 2} and state.runs("s")[1]["complete"]


def test_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    with CrawlState(tmp_path / "crawl.db") as state:
        run = state.open_run("s")
        with pytest.raises(RuntimeError), state.transaction():
            state.log(run.id, "s", "https://x.no/a", "ok", reason="new")
            state.save_page("https://x.no/a", "s", run.id, etag='"1"', content_hash="h")
            raise RuntimeError("killed here")
        assert state.crawl_log() == [] and state.page("https://x.no/a") is None


def test_log_query_and_page_state(tmp_path: Path) -> None:
    with CrawlState(tmp_path / "crawl.db") as state:
        run = state.open_run("s")
        with state.transaction():
            state.log(
                run.id,
                "s",
                "https://x.no/a",
                "ok",
                reason="new",
                http_status=200,
                nbytes=10,
                elapsed=0.1,
            )
            state.log(
                run.id,
                "s",
                "https://x.no/b",
                "failed",
                reason="http_503",
                detail="after 4 attempts",
                http_status=503,
            )
            state.save_page(
                "https://x.no/a",
                "s",
                run.id,
                etag='"1"',
                links=["https://x.no/b"],
                is_listing=False,
                doc_id="d1",
                content_hash="h1",
            )
        failed = state.crawl_log(outcome="failed")
        assert [(e.url, e.reason, e.http_status) for e in failed] == [
            ("https://x.no/b", "http_503", 503)
        ]
        assert len(state.crawl_log(run_id=run.id)) == 2
        assert state.crawl_log(url="https://x.no/a")[0].bytes == 10
        page = state.page("https://x.no/a")
        assert page is not None and page.links == ["https://x.no/b"] and page.etag == '"1"'
        assert page.status == "live" and page.last_seen_run == run.id
        assert [p.url for p in state.pages_for_doc("d1")] == ["https://x.no/a"]
        assert state.unseen_pages("s", run.id + 1)[0].url == "https://x.no/a"


# The pages table as schema version 1 had it (before dead streaks and validation times).
VERSION_1_PAGES = (
    "CREATE TABLE pages (url TEXT PRIMARY KEY, source TEXT NOT NULL, doc_id TEXT,"
    " etag TEXT, last_modified TEXT, body_hash TEXT, content_hash TEXT, signature BLOB,"
    " is_listing INTEGER NOT NULL DEFAULT 0, links TEXT NOT NULL DEFAULT '[]',"
    " sitemap_lastmod TEXT, status TEXT NOT NULL DEFAULT 'live', first_seen TEXT,"
    " last_fetched TEXT, last_changed TEXT, last_seen_run INTEGER);"
)


def test_an_old_crawl_db_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "crawl.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            + VERSION_1_PAGES
            + "INSERT INTO pages (url, source, content_hash, last_fetched)"
            " VALUES ('https://x.no/a', 's', 'h', '2025-01-02T03:04:05+00:00');"
        )
    with CrawlState(path) as state:
        page = state.page("https://x.no/a")
        assert page is not None and page.dead_streak == 0 and page.last_validated is None
        assert page.checked == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)  # falls back
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta").fetchone()[0] == SCHEMA_VERSION == "3"
        assert "signature" not in {row[1] for row in db.execute("PRAGMA table_info(pages)")}
    CrawlState(path).close()  # opening an up-to-date file again changes nothing


def _version_2_file(path: Path) -> None:
    """A crawl.db as schema version 2 wrote it: pages carried a MinHash `signature`."""
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '2');"
            "CREATE TABLE pages (url TEXT PRIMARY KEY, source TEXT NOT NULL, doc_id TEXT,"
            " etag TEXT, last_modified TEXT, body_hash TEXT, content_hash TEXT, signature BLOB,"
            " is_listing INTEGER NOT NULL DEFAULT 0, links TEXT NOT NULL DEFAULT '[]',"
            " sitemap_lastmod TEXT, status TEXT NOT NULL DEFAULT 'live', first_seen TEXT,"
            " last_fetched TEXT, last_changed TEXT, last_seen_run INTEGER,"
            " last_validated TEXT, dead_streak INTEGER NOT NULL DEFAULT 0);"
            "CREATE INDEX pages_source ON pages (source, status);"
            "INSERT INTO pages (url, source, doc_id, etag, content_hash, signature, links,"
            " last_seen_run, dead_streak) VALUES ('https://x.no/a', 's', 'd1', '\"e\"', 'h',"
            " x'6d696e6861736800', '[\"https://x.no/b\"]', 7, 1);"
        )


def test_a_version_2_file_is_read_before_and_after_its_signatures_are_dropped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crawl.db"
    _version_2_file(path)
    with CrawlState(path, read_only="ro") as reader:  # readers never migrate
        page = reader.page("https://x.no/a")
        assert page is not None and page.content_hash == "h" and page.dead_streak == 1
    with CrawlState(path) as state:  # the writer migrates: the column goes, the rows stay
        page = state.page("https://x.no/a")
        assert page is not None
        assert (page.doc_id, page.etag, page.content_hash) == ("d1", '"e"', "h")
        assert page.links == ["https://x.no/b"] and page.last_seen_run == 7
        assert page.dead_streak == 1
        run = state.open_run("s")
        with state.transaction():
            state.save_page("https://x.no/c", "s", run.id, content_hash="h2")
        assert state.page("https://x.no/c") is not None
    with sqlite3.connect(path) as db:
        assert "signature" not in {row[1] for row in db.execute("PRAGMA table_info(pages)")}
        assert db.execute("SELECT value FROM meta").fetchone()[0] == "3"


def test_a_reader_reads_a_version_1_file_it_may_not_migrate(tmp_path: Path) -> None:
    path = tmp_path / "crawl.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            VERSION_1_PAGES
            + "INSERT INTO pages (url, source, content_hash) VALUES ('https://x.no/a', 's', 'h');"
        )
    with CrawlState(path, read_only="ro") as reader:
        page = reader.page("https://x.no/a")
        assert page is not None and page.last_validated is None and page.dead_streak == 0


def test_dead_streaks(tmp_path: Path) -> None:
    with CrawlState(tmp_path / "crawl.db") as state:
        run = state.open_run("s")
        with state.transaction():
            state.record_dead("https://x.no/borte", "s", run.id, "2025-01-01T00:00:00+00:00")
            state.record_dead("https://x.no/borte", "s", run.id, "2025-01-02T00:00:00+00:00")
            state.clear_dead("https://x.no/ukjent")  # no row: nothing to do
        page = state.page("https://x.no/borte")
        assert page is not None and page.dead_streak == 2 and page.status == "gone"
        assert page.last_validated == "2025-01-02T00:00:00+00:00" and page.doc_id is None
        assert state.page("https://x.no/ukjent") is None
        assert state.unseen_pages("s", run.id + 1) == []  # never a tombstone candidate
        with state.transaction():
            state.clear_dead("https://x.no/borte")
        assert state.page("https://x.no/borte").dead_streak == 0  # type: ignore[union-attr]

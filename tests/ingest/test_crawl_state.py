"""crawl.db: runs, log, per-URL state, frontier; transactions, migration, dead streaks and
near-duplicate signatures."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from samsok.ingest.crawl.schema import SCHEMA_VERSION
from samsok.ingest.crawl.state import CrawlState
from samsok.search.index.near_duplicates import NEAR_DUPLICATE, from_bytes, signature, similarity


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


def test_near_duplicate_signatures() -> None:
    text = (
        "Værnesregionen etablerer felles legevakt for Tydal, Selbu, Stjørdal og Meråker "
        "fra 1. september. Legevakten holder til ved Stjørdal helsehus og er åpen hele døgnet."
    )
    edited = text.replace("hele døgnet", "hele døgnet, alle dager")
    other = "Avisa melder om nytt fotballstadion i Orkanger og stengt vei over fjellet."
    a, b, c = signature(text), signature(edited), signature(other)
    assert isinstance(a, bytes) and similarity(a, a) == 1.0
    assert similarity(a, b) >= NEAR_DUPLICATE > similarity(a, c)
    assert similarity(signature(""), signature("")) == 0.0
    assert from_bytes(a).jaccard(from_bytes(b)) == pytest.approx(similarity(a, b))
    with pytest.raises(ValueError):
        similarity(a, b"junk")


def test_an_old_crawl_db_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "crawl.db"
    with sqlite3.connect(path) as db:  # the pages table as schema version 1 had it
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            "CREATE TABLE pages (url TEXT PRIMARY KEY, source TEXT NOT NULL, doc_id TEXT,"
            " etag TEXT, last_modified TEXT, body_hash TEXT, content_hash TEXT, signature BLOB,"
            " is_listing INTEGER NOT NULL DEFAULT 0, links TEXT NOT NULL DEFAULT '[]',"
            " sitemap_lastmod TEXT, status TEXT NOT NULL DEFAULT 'live', first_seen TEXT,"
            " last_fetched TEXT, last_changed TEXT, last_seen_run INTEGER);"
            "INSERT INTO pages (url, source, content_hash, last_fetched)"
            " VALUES ('https://x.no/a', 's', 'h', '2025-01-02T03:04:05+00:00');"
        )
    with CrawlState(path) as state:
        page = state.page("https://x.no/a")
        assert page is not None and page.dead_streak == 0 and page.last_validated is None
        assert page.checked == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)  # falls back
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta").fetchone()[0] == SCHEMA_VERSION == "2"
    CrawlState(path).close()  # opening an up-to-date file again changes nothing


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

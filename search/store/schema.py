"""The store's connection, layout and transactions: `StoreBase`, which the table modules
(`documents`, `chunks`, `vectors`) extend into `Store`.

The store is the source of truth. The FAISS files are derived from it (`search.index.dense`)
and `meta.generation` is bumped by every write transaction so a stale FAISS file is detected.

Tables
- `documents`: one row per URL. A near-duplicate of another document keeps its row (no data
  is lost) with `duplicate_of` set and no chunks; search shows it as "also published at".
- `chunks`: `id` is also the FAISS id. AUTOINCREMENT so an id is never reused.
- `chunks_fts`: FTS5 over analyzer terms, rowid = chunk id.
- `embeddings`: vectors keyed by (model id, chunk text hash): re-ingesting unchanged text
  embeds nothing.
- `minhash_bands`: LSH bands of the documents' MinHash signatures (near-duplicate lookup).
- `changes`, `change_baselines` (`search.store.changes`) and `originals`
  (`search.store.originals`): owned by those modules, created here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from samsok.search.errors import IndexMismatchError, ReadOnlyIndex, StoreMissing
from samsok.search.store.changelog import CHANGES_SCHEMA
from samsok.search.store.near_duplicates import lsh_rows
from samsok.search.store.originals import ORIGINALS_SCHEMA

__all__ = ["BUSY_TIMEOUT_MS", "IN_BATCH", "SCHEMA", "SCHEMA_VERSION", "StoreBase"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Ids per `IN (…)` list: SQLite caps bound parameters per statement (999 before 3.32), and
# one statement per few hundred ids costs nothing next to the rows it returns.
IN_BATCH = 500
# How long a statement waits for another connection's lock before failing: a writer's commit
# (FAISS file, then the store) takes well under a second; 10 s covers a slow disk.
BUSY_TIMEOUT_MS = 10_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    region TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    title TEXT NOT NULL,
    published TEXT,
    language TEXT,
    content_type TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fetched_at TEXT,
    indexed_at TEXT NOT NULL,
    metadata TEXT NOT NULL,
    pages TEXT NOT NULL,
    signature BLOB,
    duplicate_of TEXT REFERENCES documents(doc_id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS documents_filters ON documents(region, doc_type, published);
CREATE INDEX IF NOT EXISTS documents_duplicate_of ON documents(duplicate_of);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    page INTEGER,
    heading TEXT,
    context TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ordinal);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    terms, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, text_hash)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS minhash_bands (
    band INTEGER NOT NULL,
    key INTEGER NOT NULL,
    doc_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS minhash_bands_key ON minhash_bands(key);
CREATE INDEX IF NOT EXISTS minhash_bands_doc ON minhash_bands(doc_id);
"""


# Only until `ensure_lsh`: IndexConfig's default near-duplicate threshold.
_PLACEHOLDER_THRESHOLD = 0.5


class StoreBase:
    """The connection to `store.db` (thread-safe), its layout check, transactions and meta.

    `read_only=True` opens the file read-only (SQLite `mode=ro`, `query_only`): nothing is ever
    written, not even the schema. A reader pins one snapshot with `begin_snapshot()`; every
    query then sees the store as it was at that moment, whatever a writer commits meanwhile.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.immutable = False
        # Readers never compute bands; the writer sets its configured threshold's rows
        # (`ensure_lsh`) right after opening.
        self.lsh_rows = lsh_rows(_PLACEHOLDER_THRESHOLD)
        self._lock = threading.RLock()
        if read_only:
            self._conn = self._connect_read_only(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._conn.executescript(SCHEMA)
            # Tables owned by sibling modules (the change log, local originals); additive,
            # so older stores gain them without a layout change.
            self._conn.executescript(CHANGES_SCHEMA + ORIGINALS_SCHEMA)
        self._check_schema_version()

    def _connect_read_only(self, path: Path) -> sqlite3.Connection:
        if not path.is_file():
            raise StoreMissing(f"no index in {path.parent} yet (no {path.name})")
        uri = path.resolve().as_uri()
        try:
            conn = self._open_uri(f"{uri}?mode=ro")
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            # A WAL database needs its -shm file, which SQLite cannot create in a folder the
            # reader may not write to. With no writer able to write there either, the file is
            # effectively immutable: open it so (no locking, no -shm).
            if path.with_name(path.name + "-wal").exists():
                log.warning(
                    "%s has an unmerged write-ahead log that cannot be read from a "
                    "read-only folder; recent writes may be missing",
                    path,
                )
            log.info("opening %s as immutable (%s)", path, exc)
            self.immutable = True
            return self._open_uri(f"{uri}?mode=ro&immutable=1")

    @staticmethod
    def _open_uri(uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only=ON")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return conn

    def _check_schema_version(self) -> None:
        """Refuse a store written in another layout instead of failing later on a column."""
        try:
            found = self.get_meta("schema_version")
        except sqlite3.OperationalError as exc:  # read-only: no `meta` table at all
            raise IndexMismatchError(f"{self.path} is not a Samsøk store: {exc}") from exc
        if found is None and not self.read_only:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif found is not None and int(found) != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"{self.path} has store layout {found}, this version uses {SCHEMA_VERSION}: "
                "move the data folder aside and crawl again"
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def begin_snapshot(self) -> int:
        """Pin this (read-only) connection to the store as it is now; returns its generation.

        The read transaction stays open until `close()`: every later query sees this snapshot
        (SQLite WAL keeps it for us while a writer goes on)."""
        with self._lock:
            self._conn.execute("BEGIN")
            return self.generation

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """One atomic write; bumps the generation so derived indexes know they are stale.

        Yields the generation this transaction will publish when it commits."""
        if self.read_only:
            raise ReadOnlyIndex(f"{self.path} is open read-only")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                published = self.generation + 1
                yield published
                self._conn.execute(
                    "INSERT INTO meta(key, value) VALUES('generation', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (str(published),),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # -- meta -----------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        if self.read_only:
            raise ReadOnlyIndex(f"{self.path} is open read-only")
        with self._lock:
            self._conn.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- tables owned by sibling modules ----------------------------------------------------

    def execute(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        """One statement on a sibling module's table (`changes`, `originals`); writes belong
        inside `transaction()` so they commit or roll back with the document write."""
        with self._lock:
            return self._conn.execute(sql, params)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only statement."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _select_in(
        self, sql: str, values: Sequence[object], before: Sequence[object] = ()
    ) -> list[sqlite3.Row]:
        """Rows of `sql` (with `{marks}` where the `IN` list goes) over `values` in batches
        of `IN_BATCH`; `before` are the parameters that come before the list."""
        rows: list[sqlite3.Row] = []
        with self._lock:
            for start in range(0, len(values), IN_BATCH):
                part = list(values[start : start + IN_BATCH])
                marks = ",".join("?" * len(part))
                rows.extend(
                    self._conn.execute(sql.format(marks=marks), [*before, *part]).fetchall()
                )
        return rows

"""SQLite store: documents, chunks, the FTS5 lexical index and the embedding cache.

The store is the source of truth. The FAISS file is derived from it (see `dense.py`) and
`meta.generation` is bumped by every write transaction so a stale FAISS file is detected.

Tables
- `documents`: one row per URL. A near-duplicate of another document keeps its row (no data
  is lost) with `duplicate_of` set and no chunks; search shows it as "also published at".
- `chunks`: `id` is also the FAISS id. AUTOINCREMENT so an id is never reused.
- `chunks_fts`: FTS5 over analyzer terms, rowid = chunk id.
- `embeddings`: vectors keyed by (model id, chunk text hash): re-ingesting unchanged text
  embeds nothing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
from samsok.ingest.documents import Chunk, Document
from samsok.search.errors import IndexMismatchError, ReadOnlyIndex, StoreMissing
from samsok.search.index.near_duplicates import band_keys, lsh_rows
from samsok.search.store.changes import CHANGES_SCHEMA
from samsok.search.store.originals import ORIGINALS_SCHEMA
from samsok.search.store.records import ChunkRow, DocumentRow, Filters, now_iso, row_to_document

__all__ = ["ChunkRow", "DocumentRow", "Filters", "Store"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Ids per `IN (…)` list: SQLite caps bound parameters per statement (999 before 3.32), and
# one statement per few hundred ids costs nothing next to the rows it returns.
IN_BATCH = 500
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


class Store:
    """Thread-safe access to `store.db`. Writes happen inside `transaction()`.

    `read_only=True` opens the file read-only (SQLite `mode=ro`, `query_only`): nothing is ever
    written, not even the schema. A reader pins one snapshot with `begin_snapshot()`; every
    query then sees the store as it was at that moment, whatever a writer commits meanwhile.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.immutable = False
        self.lsh_rows = lsh_rows(0.5)  # the writer sets the configured threshold's (ensure_lsh)
        self._lock = threading.RLock()
        if read_only:
            self._conn = self._connect_read_only(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=10000")
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
        conn.execute("PRAGMA busy_timeout=10000")
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

    # -- documents ------------------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentRow | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM documents WHERE doc_id = ?", (doc_id,)
            ).fetchone()
        return row_to_document(row) if row else None

    def documents(self, doc_ids: Sequence[str]) -> dict[str, DocumentRow]:
        if not doc_ids:
            return {}
        rows = self._select_in("SELECT * FROM documents WHERE doc_id IN ({marks})", doc_ids)
        return {row["doc_id"]: row_to_document(row) for row in rows}

    def documents_all(self) -> list[DocumentRow]:
        """Every document row (primaries and duplicates), by URL."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM documents ORDER BY url").fetchall()
        return [row_to_document(row) for row in rows]

    def duplicates_of(self, doc_ids: Sequence[str]) -> dict[str, list[str]]:
        """Other URLs of the same story, per primary document."""
        if not doc_ids:
            return {}
        rows = self._select_in(
            "SELECT duplicate_of, url FROM documents WHERE duplicate_of IN ({marks}) ORDER BY url",
            doc_ids,
        )
        out: dict[str, list[str]] = {}
        for primary, url in rows:
            out.setdefault(primary, []).append(url)
        return out

    def signatures(self, exclude_doc_id: str | None = None) -> Iterator[tuple[str, bytes]]:
        """(doc_id, signature) of every primary document, for near-duplicate checks."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT doc_id, signature FROM documents "
                "WHERE duplicate_of IS NULL AND signature IS NOT NULL AND doc_id != ?",
                (exclude_doc_id or "",),
            ).fetchall()
        for row in rows:
            yield row[0], row[1]

    def ensure_lsh(self, rows: int) -> None:
        """Writer: index every signature in `minhash_bands` with `rows` rows per band (once
        per store, and again when the near-duplicate threshold changes the band shape)."""
        self.lsh_rows = rows
        if self.get_meta("lsh_bands") == f"v1 rows={rows}":
            return
        with self.transaction():
            self._conn.execute("DELETE FROM minhash_bands")
            for doc_id, sig in self._conn.execute(
                "SELECT doc_id, signature FROM documents WHERE signature IS NOT NULL"
            ).fetchall():
                self._put_bands(doc_id, sig)
            self.set_meta("lsh_bands", f"v1 rows={rows}")

    def _put_bands(self, doc_id: str, signature: bytes | None) -> None:
        self._conn.execute("DELETE FROM minhash_bands WHERE doc_id = ?", (doc_id,))
        if signature is None:
            return
        self._conn.executemany(
            "INSERT INTO minhash_bands(band, key, doc_id) VALUES (?, ?, ?)",
            [(band, key, doc_id) for band, key in enumerate(band_keys(signature, self.lsh_rows))],
        )

    def near_duplicate_candidates(
        self, signature: bytes, exclude_doc_id: str | None = None
    ) -> list[tuple[str, bytes]]:
        """(doc_id, signature) of the primary documents sharing an LSH band with
        `signature`, in the order `signatures()` lists them: an index lookup per band, not a
        scan of every signature."""
        keys = band_keys(signature, self.lsh_rows)
        if not keys:
            return []
        # Two indexed lookups (bands by key, then documents by id): one statement with a
        # subquery made SQLite scan the whole band table.
        marks = ",".join("?" * len(keys))
        with self._lock:
            ids = [
                r[0]
                for r in self._conn.execute(
                    f"SELECT DISTINCT doc_id FROM minhash_bands WHERE key IN ({marks})", keys
                )
                if r[0] != exclude_doc_id
            ]
        found = self._select_in(
            "SELECT rowid, doc_id, signature FROM documents WHERE doc_id IN ({marks}) "
            "AND duplicate_of IS NULL AND signature IS NOT NULL",
            ids,
        )
        return [(r[1], r[2]) for r in sorted(found, key=lambda r: r[0])]

    def put_document(
        self, doc: Document, *, signature: bytes | None, duplicate_of: str | None
    ) -> None:
        """Insert or replace a document row (its chunks are managed separately)."""
        pages = json.dumps([[p.number, p.text] for p in doc.pages], ensure_ascii=False)
        self._conn.execute(
            """
            INSERT INTO documents(doc_id, url, source, region, doc_type, title, published,
                language, content_type, content_hash, fetched_at, indexed_at, metadata, pages,
                signature, duplicate_of)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(doc_id) DO UPDATE SET
                url = excluded.url, source = excluded.source, region = excluded.region,
                doc_type = excluded.doc_type, title = excluded.title,
                published = excluded.published, language = excluded.language,
                content_type = excluded.content_type, content_hash = excluded.content_hash,
                fetched_at = excluded.fetched_at, indexed_at = excluded.indexed_at,
                metadata = excluded.metadata, pages = excluded.pages,
                signature = excluded.signature, duplicate_of = excluded.duplicate_of
            """,
            (
                doc.doc_id,
                doc.url,
                doc.source,
                doc.region.value,
                doc.doc_type.value,
                doc.title,
                doc.published.isoformat() if doc.published else None,
                doc.language,
                doc.content_type,
                doc.content_hash,
                doc.fetched_at.isoformat() if doc.fetched_at else None,
                now_iso(),
                json.dumps(doc.metadata, ensure_ascii=False, sort_keys=True),
                pages,
                signature,
                duplicate_of,
            ),
        )
        self._put_bands(doc.doc_id, signature)

    def delete_document(self, doc_id: str) -> list[int]:
        """Delete a document and its chunks; returns the removed chunk ids."""
        chunk_ids = self.delete_chunks(doc_id)
        self._conn.execute(
            "UPDATE documents SET duplicate_of = NULL WHERE duplicate_of = ?", (doc_id,)
        )
        self._conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        self._conn.execute("DELETE FROM minhash_bands WHERE doc_id = ?", (doc_id,))
        return chunk_ids

    def set_duplicate_of(self, doc_id: str, primary: str | None) -> None:
        self._conn.execute(
            "UPDATE documents SET duplicate_of = ? WHERE doc_id = ?", (primary, doc_id)
        )

    def duplicate_ids(self, primary: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT doc_id FROM documents WHERE duplicate_of = ? ORDER BY url", (primary,)
            ).fetchall()
        return [r[0] for r in rows]

    # -- chunks ---------------------------------------------------------------------------

    def delete_chunks(self, doc_id: str) -> list[int]:
        ids = [
            r[0] for r in self._conn.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))
        ]
        if ids:
            self._conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
            self._conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        return ids

    def add_chunks(self, chunks: Sequence[Chunk], terms: Sequence[str]) -> list[int]:
        """Insert chunks with their analyzer terms; returns the new chunk ids in order."""
        ids: list[int] = []
        for chunk, chunk_terms in zip(chunks, terms, strict=True):
            cur = self._conn.execute(
                "INSERT INTO chunks(doc_id, ordinal, page, heading, context, text, text_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    chunk.doc_id,
                    chunk.ordinal,
                    chunk.page,
                    chunk.heading,
                    chunk.context,
                    chunk.text,
                    chunk.text_hash,
                ),
            )
            chunk_id = int(cur.lastrowid or 0)
            self._conn.execute(
                "INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)", (chunk_id, chunk_terms)
            )
            ids.append(chunk_id)
        return ids

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, ChunkRow]:
        if not chunk_ids:
            return {}
        rows = self._select_in(
            "SELECT id, doc_id, ordinal, page, heading, text FROM chunks WHERE id IN ({marks})",
            chunk_ids,
        )
        return {
            r["id"]: ChunkRow(
                r["id"], r["doc_id"], r["ordinal"], r["page"], r["heading"], r["text"]
            )
            for r in rows
        }

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, doc_id, ordinal, page, heading, text FROM chunks "
                "WHERE doc_id = ? ORDER BY ordinal",
                (doc_id,),
            ).fetchall()
        return [
            ChunkRow(r["id"], r["doc_id"], r["ordinal"], r["page"], r["heading"], r["text"])
            for r in rows
        ]

    def chunk_doc_ids(self, chunk_ids: Iterable[int]) -> dict[int, str]:
        ids = list(chunk_ids)
        if not ids:
            return {}
        rows = self._select_in("SELECT id, doc_id FROM chunks WHERE id IN ({marks})", ids)
        return {r[0]: r[1] for r in rows}

    def filtered_chunk_ids(self, filters: Filters) -> np.ndarray:
        where, params = filters.sql()
        with self._lock:
            rows = self._conn.execute(
                f"SELECT c.id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE {where}",
                params,
            ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def lexical_search(self, match: str, filters: Filters, limit: int) -> list[tuple[int, float]]:
        """FTS5 BM25 over analyzer terms; returns (chunk id, score) best first (higher = better)."""
        where, params = filters.sql()
        with self._lock:
            if not filters.active:
                # FTS5 ranks and cuts first; only its top `limit` rows are joined (joining
                # every match before the sort took 3/4 of the time at 100k chunks). Exact
                # when `limit` rows pass (none was a duplicate's chunk) or when FTS5 had no
                # more matches (`n` < limit); otherwise the full query below. With a filter
                # this lost: ranking 16x deeper and filtering cost 10-15 % more CPU at 100k
                # chunks than the full query (benchmarks/scale.py).
                rows = self._conn.execute(
                    f"""
                    SELECT c.id, f.rank, f.n FROM (
                        SELECT rowid, rank, count(*) OVER () AS n FROM (
                            SELECT rowid, bm25(chunks_fts) AS rank FROM chunks_fts
                            WHERE chunks_fts MATCH ? ORDER BY rank, rowid LIMIT ?
                        )
                    ) f JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.doc_id = c.doc_id
                    WHERE {where} ORDER BY f.rank, c.id
                    """,
                    [match, limit, *params],
                ).fetchall()
                if len(rows) == limit or (rows and int(rows[0][2]) < limit):
                    return [(int(r[0]), -float(r[1])) for r in rows]
            rows = self._conn.execute(
                f"""
                SELECT c.id, bm25(chunks_fts) AS rank
                FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
                JOIN documents d ON d.doc_id = c.doc_id
                WHERE chunks_fts MATCH ? AND {where}
                ORDER BY rank, c.id LIMIT ?
                """,
                [match, *params, limit],
            ).fetchall()
        # bm25() is lower-is-better; negate so every run is "higher is better".
        return [(int(r[0]), -float(r[1])) for r in rows]

    def chunk_texts(self, limit: int | None = None) -> Iterator[str]:
        """Every chunk's text, or an even sample of about `limit` of them (every k-th id)."""
        step = 1
        if limit is not None:
            step = max(1, -(-self.chunk_count() // max(limit, 1)))
        with self._lock:
            rows = self._conn.execute("SELECT text FROM chunks WHERE id % ? = 0", (step,))
            rows = rows.fetchall()
        for row in rows:
            yield row[0]

    def all_chunks(self) -> list[tuple[int, str, str]]:
        """(id, embedded text, text hash) of every chunk; see `Chunk.embed_text`."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, CASE WHEN context = '' THEN text ELSE context || char(10) || text END, "
                "text_hash FROM chunks ORDER BY id"
            )
            return [(r[0], r[1], r[2]) for r in rows]

    def replace_terms(self, chunk_id: int, terms: str) -> None:
        self._conn.execute("DELETE FROM chunks_fts WHERE rowid = ?", (chunk_id,))
        self._conn.execute("INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)", (chunk_id, terms))

    # -- embeddings -----------------------------------------------------------------------

    def cached_vectors(self, model_id: str, text_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(text_hashes))
        with self._lock:
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ",".join("?" * len(part))
                for text_hash, blob in self._conn.execute(
                    f"SELECT text_hash, vector FROM embeddings WHERE model_id = ? "
                    f"AND text_hash IN ({marks})",
                    [model_id, *part],
                ):
                    out[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_vectors(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        rows = [(model_id, h, np.asarray(v, np.float32).tobytes()) for h, v in vectors.items()]
        with self._lock:
            # One transaction for the batch: in autocommit mode every row was its own commit
            # (a WAL sync each; 4 ms a row, most of a large ingest's time). The cache needs no
            # generation bump, so not `transaction()`.
            own = not self._conn.in_transaction
            if own:
                self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO embeddings(model_id, text_hash, vector) "
                    "VALUES (?, ?, ?)",
                    rows,
                )
            except BaseException:
                if own:
                    self._conn.execute("ROLLBACK")
                raise
            if own:
                self._conn.execute("COMMIT")

    def chunk_vectors(self, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every chunk that has a vector for this model."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT c.id, e.vector FROM chunks c JOIN embeddings e "
                "ON e.text_hash = c.text_hash AND e.model_id = ? ORDER BY c.id",
                (model_id,),
            ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return ids, vectors

    def chunk_fingerprint(self) -> tuple[int, int, int]:
        """(count, sum, max) of the chunk ids: a cheap check that FAISS holds the same set."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(MAX(id), 0) FROM chunks"
            ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, ascending (the ids FAISS must hold)."""
        with self._lock:
            rows = self._conn.execute("SELECT id FROM chunks ORDER BY id").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def vectors_of_chunks(self, model_id: str, chunk_ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these chunks (those that have one for this model)."""
        if not chunk_ids:
            return np.zeros((0, 0), dtype=np.float32)
        rows = self._select_in(
            "SELECT e.vector FROM chunks c JOIN embeddings e "
            "ON e.text_hash = c.text_hash AND e.model_id = ? WHERE c.id IN ({marks})",
            chunk_ids,
            [model_id],
        )
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([np.frombuffer(r[0], dtype=np.float32) for r in rows])

    def vectors_by_chunk_id(
        self, model_id: str, chunk_ids: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of these chunks that have a vector for this model."""
        rows = self._select_in(
            "SELECT c.id, e.vector FROM chunks c JOIN embeddings e "
            "ON e.text_hash = c.text_hash AND e.model_id = ? WHERE c.id IN ({marks})",
            chunk_ids,
            [model_id],
        )
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return ids, np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])

    def model_ids(self) -> list[str]:
        """Models that have vectors in the embedding cache, most vectors first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT model_id FROM embeddings GROUP BY model_id ORDER BY COUNT(*) DESC"
            ).fetchall()
        return [r[0] for r in rows]

    def chunk_count_missing_vectors(self, model_id: str) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM chunks c LEFT JOIN embeddings e "
                "ON e.text_hash = c.text_hash AND e.model_id = ? WHERE e.vector IS NULL",
                (model_id,),
            ).fetchone()
        return int(row[0])

    # -- stats ----------------------------------------------------------------------------

    def chunk_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def counts(self) -> dict[str, object]:
        with self._lock:
            c = self._conn
            docs = c.execute(
                "SELECT COUNT(*) FROM documents WHERE duplicate_of IS NULL"
            ).fetchone()[0]
            dups = c.execute(
                "SELECT COUNT(*) FROM documents WHERE duplicate_of IS NOT NULL"
            ).fetchone()[0]
            chunks = self.chunk_count()
            groups = {}
            for column in ("region", "doc_type", "source"):
                groups[column] = dict(
                    c.execute(
                        f"SELECT {column}, COUNT(*) FROM documents WHERE duplicate_of IS NULL "
                        f"GROUP BY {column} ORDER BY {column}"
                    ).fetchall()
                )
            last = c.execute("SELECT MAX(indexed_at) FROM documents").fetchone()[0]
        return {
            "documents": docs,
            "duplicates": dups,
            "chunks": chunks,
            "by_region": groups["region"],
            "by_type": groups["doc_type"],
            "by_source": groups["source"],
            "last_indexed": datetime.fromisoformat(last) if last else None,
        }

"""The `chunks` table, its FTS5 twin `chunks_fts`, and the counts over the store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import numpy as np
from samsok.ingest.documents import Chunk
from samsok.search.store.records import ChunkRow, Filters
from samsok.search.store.schema import StoreBase

__all__ = ["ChunkTable"]

# `lexical_subset` reads all of a match when it has at most this many rows per wanted id: one
# id's `rowid IN` lookup costs as much as reading ~150 matches (measured at 100k chunks).
SUBSET_SCAN_PER_ID = 100
# A filtered lexical search takes this many times more of FTS5's top rows than the share
# of chunks the filter keeps implies (a query's matches need not fall in a filter as often
# as chunks do); the full query answers when too few pass. benchmarks/scale.py measures it.
FILTER_DEPTH_MARGIN = 2.0


class ChunkTable(StoreBase):
    """Chunks (whose ids FAISS uses), their analyzer terms, and lexical search over them."""

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
        rows = self.query(
            "SELECT id, doc_id, ordinal, page, heading, text FROM chunks "
            "WHERE doc_id = ? ORDER BY ordinal",
            (doc_id,),
        )
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
        """The ids of the chunks `filters` keeps, ascending (`lexical_search` bisects them)."""
        where, params = filters.sql()
        with self._lock:
            rows = self._conn.execute(
                f"SELECT c.id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE {where}",
                params,
            ).fetchall()
        return np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))

    def lexical_search(
        self, match: str, filters: Filters, limit: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """FTS5 BM25 over analyzer terms; returns (chunk id, score) best first (higher = better).

        `allowed`: the ascending chunk ids `filters` keeps (`filtered_chunk_ids`), when the
        caller has them; a filtered search then ranks in FTS5 alone and filters in memory."""
        if limit <= 0:
            return []
        if filters.active and allowed is not None:
            return self._lexical_search_allowed(match, filters, limit, allowed)
        where, params = filters.sql()
        with self._lock:
            if not filters.active:
                # FTS5 ranks and cuts first; only its top `limit` rows are joined (joining
                # every match before the sort took 3/4 of the time at 100k chunks). Exact
                # when `limit` rows pass (none was a duplicate's chunk) or when FTS5 had no
                # more matches (`n` < limit); otherwise the full query.
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
            return self._lexical_search_joined(match, filters, limit)

    def _lexical_search_allowed(
        self, match: str, filters: Filters, limit: int, allowed: np.ndarray
    ) -> list[tuple[int, float]]:
        """Filtered `lexical_search`: FTS5 ranks its matches alone and keeps its top `depth`
        rows, of which those whose id is in `allowed` are kept (a binary search in memory,
        not a join per match: joining every match with `chunks` and `documents` was most
        of a filtered search). Exact: FTS5's order (rank, id) is the full query's, so the
        first `limit` kept rows are its answer; when fewer pass while FTS5 had more matches,
        the full query runs (reading on from an unlimited FTS5 sort instead measured
        dearer: SQLite then sorts every match, and each row read costs ~1 µs in Python).

        Why not filter *inside* the FTS5 match (a column of `region:…`-style tokens, so FTS5
        intersects posting lists)? FTS5's bm25 normalises by a row's token count over all
        columns, so any extra indexed token changes scores and can reorder results.
        """
        if not len(allowed):
            return []
        with self._lock:
            span = int(self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0])
            # As deep as should hold `limit` kept rows if matches fall in the filter as
            # often as chunks do, with a margin for queries whose matches fall in it less.
            depth = max(limit, int(limit * FILTER_DEPTH_MARGIN * max(span, 1) / len(allowed)))
            rows = self._conn.execute(
                "SELECT rowid, bm25(chunks_fts) AS rank FROM chunks_fts "
                "WHERE chunks_fts MATCH ? ORDER BY rank, rowid LIMIT ?",
                (match, depth),
            ).fetchall()
        if not rows:
            return []
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        at = np.minimum(np.searchsorted(allowed, ids), len(allowed) - 1)
        keep = np.flatnonzero(allowed[at] == ids)[:limit]
        if len(keep) < limit and len(rows) == depth:
            return self._lexical_search_joined(match, filters, limit)
        # bm25() is lower-is-better; negate so every run is "higher is better".
        return [(int(ids[i]), -float(rows[i][1])) for i in keep]

    def _lexical_search_joined(
        self, match: str, filters: Filters, limit: int
    ) -> list[tuple[int, float]]:
        """`lexical_search` by the full query: every match joined, filtered, then ranked and
        cut. Exact for any filter; also the only path before the rank-first query (what
        benchmarks/scale.py times as the session's start)."""
        where, params = filters.sql()
        with self._lock:
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

    def lexical_count(self, match: str) -> int:
        """How many chunks an FTS5 MATCH expression finds (a term's document frequency)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)
            ).fetchone()
        return int(row[0])

    def lexical_subset(
        self, match: str, chunk_ids: Sequence[int], *, df: int | None = None
    ) -> set[int]:
        """Those of `chunk_ids` that an FTS5 MATCH expression finds.

        `df`, the expression's document frequency when the caller knows it, picks the cheaper
        of two exact plans: `MATCH … AND rowid IN (ids)` runs the match once per id (40–200 µs
        an id), while reading every match and intersecting costs ~0.3 µs a match (100k
        chunks, 80 ids: 3–17 ms against 0.05–1.5 ms for words with df up to 4 600). Only a
        hint: a stale `df` (a writer's uncommitted rows) changes the plan, never the answer."""
        if not chunk_ids:
            return set()
        if df is not None and df <= SUBSET_SCAN_PER_ID * len(chunk_ids):
            return set(chunk_ids).intersection(self.lexical_matches(match))
        rows = self._select_in(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN ({marks})",
            chunk_ids,
            [match],
        )
        return {int(r[0]) for r in rows}

    def lexical_matches(self, match: str) -> list[int]:
        """Every chunk id an FTS5 MATCH expression finds."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)
            ).fetchall()
        return [int(r[0]) for r in rows]

    def chunk_texts(self, limit: int | None = None) -> Iterator[str]:
        """Every chunk's text, or an even sample of about `limit` of them (every k-th id)."""
        step = 1
        if limit is not None:
            step = max(1, -(-self.chunk_count() // max(limit, 1)))
        with self._lock:
            rows = self._conn.execute(
                "SELECT text FROM chunks WHERE id % ? = 0", (step,)
            ).fetchall()
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

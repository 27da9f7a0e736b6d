"""The `documents` table and the LSH bands of their MinHash signatures."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from samsok.ingest.documents import Document
from samsok.search.store.chunks import ChunkTable
from samsok.search.store.near_duplicates import band_keys, similarity
from samsok.search.store.records import (
    DocumentHeadRow,
    DocumentRow,
    identity_params,
    now_iso,
    row_to_document,
    row_to_head,
)

__all__ = ["DocumentTable"]


class DocumentTable(ChunkTable):
    """Documents (primaries and near-duplicates) and their near-duplicate lookup; deleting a
    document deletes its chunks, hence the chunk table underneath."""

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

    def document_heads(self, doc_ids: Sequence[str]) -> dict[str, DocumentHeadRow]:
        """The identity and content type of these documents (what a hit shows), without
        reading and decoding their pages and metadata as `documents` does."""
        if not doc_ids:
            return {}
        rows = self._select_in(
            "SELECT doc_id, url, source, region, doc_type, title, published, content_type "
            "FROM documents WHERE doc_id IN ({marks})",
            doc_ids,
        )
        return {row["doc_id"]: row_to_head(row) for row in rows}

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

    def near_duplicate_of(self, signature: bytes, doc_id: str, threshold: float) -> str | None:
        """The first primary document whose estimated Jaccard with `signature` reaches
        `threshold`, if any. Only documents sharing an LSH band are compared: the same answer
        as comparing with every stored signature, without the O(n) scan."""
        for other_id, other_sig in self.near_duplicate_candidates(signature, doc_id):
            if similarity(signature, other_sig) >= threshold:
                return other_id
        return None

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
                *identity_params(doc),
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

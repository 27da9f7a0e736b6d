"""SQLite store: documents, chunks, the FTS5 lexical index and the embedding cache, as one
`Store` object over one connection.

The parts: `schema` (connection, layout, transactions, meta), `documents` (documents and
their near-duplicate bands), `chunks` (chunks, FTS5 terms, counts), `vectors` (the embedding
cache); the change log (`changes`) and kept originals (`originals`) own their own tables.
"""

from __future__ import annotations

from samsok.search.store.documents import DocumentTable
from samsok.search.store.vectors import VectorCache

__all__ = ["Store"]


class Store(DocumentTable, VectorCache):
    """Thread-safe access to `store.db`. Writes happen inside `transaction()`.

    `read_only=True` opens the file read-only (SQLite `mode=ro`, `query_only`): nothing is ever
    written, not even the schema. A reader pins one snapshot with `begin_snapshot()`; every
    query then sees the store as it was at that moment, whatever a writer commits meanwhile.
    """

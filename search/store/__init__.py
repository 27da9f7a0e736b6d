"""The SQLite store: documents, chunks, FTS5, vector cache, change log, originals, writer lock."""

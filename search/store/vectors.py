"""The embedding cache (`embeddings`): vectors by (model id, chunk text hash), and the chunks'
vectors read through it — the exact vectors every FAISS file is rebuilt from."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np
from samsok.search.store.schema import StoreBase

__all__ = ["VectorCache"]


class VectorCache(StoreBase):
    """Vectors cached per model and chunk text; re-ingesting unchanged text embeds nothing."""

    # -- embeddings -----------------------------------------------------------------------

    def cached_vectors(self, model_id: str, text_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        rows = self._select_in(
            "SELECT text_hash, vector FROM embeddings"
            " WHERE model_id = ? AND text_hash IN ({marks})",
            list(dict.fromkeys(text_hashes)),
            [model_id],
        )
        return {text_hash: np.frombuffer(blob, dtype=np.float32) for text_hash, blob in rows}

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
        rows = self.query(
            "SELECT c.id, e.vector FROM chunks c JOIN embeddings e "
            "ON e.text_hash = c.text_hash AND e.model_id = ? ORDER BY c.id",
            (model_id,),
        )
        return _ids_and_vectors(rows)

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
        return _ids_and_vectors(rows)

    def model_ids(self) -> list[str]:
        """Models that have vectors in the embedding cache, most vectors first."""
        rows = self.query(
            "SELECT model_id FROM embeddings GROUP BY model_id ORDER BY COUNT(*) DESC"
        )
        return [r[0] for r in rows]

    def chunk_count_missing_vectors(self, model_id: str) -> int:
        rows = self.query(
            "SELECT COUNT(*) FROM chunks c LEFT JOIN embeddings e "
            "ON e.text_hash = c.text_hash AND e.model_id = ? WHERE e.vector IS NULL",
            (model_id,),
        )
        return int(rows[0][0])


def _ids_and_vectors(rows: list[sqlite3.Row]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of (chunk id, vector blob) rows; empty arrays for no rows."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return ids, np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])

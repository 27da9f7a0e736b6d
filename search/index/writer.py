"""The writer side of `SearchIndex`: keeps the store, the FTS5 terms and the dense vectors in
step, and publishes generations.

The writer holds the data folder's writer lock (`search.store.lock`) from open to close.
`upsert_many()` / `remove()` change the store in one transaction each and update FAISS in
memory; `commit()` writes `faiss-<G>.index` (or a delta) and then commits the store
transaction that publishes generation G, so the file for a generation exists before anyone can
see it, and then `manifest.json`. A missing or stale file is rebuilt from the vectors kept in
SQLite on open.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from samsok.ingest.chunk import Chunker
from samsok.ingest.documents import Chunk, Document
from samsok.search.errors import IndexMismatchError
from samsok.search.index.config import IndexConfig
from samsok.search.index.dense import DenseIndex
from samsok.search.index.dense_files import generation_files, remove_files
from samsok.search.index.lexical import LexicalIndex
from samsok.search.index.manifest import Manifest, library_versions
from samsok.search.index.views import View, load_checked
from samsok.search.store import (
    Store,
    WriterLock,
    delete_blob_if_unused,
    lsh_rows,
    record_removal,
    record_upsert,
    release_original,
    signature,
)

if TYPE_CHECKING:  # the model libraries load with the model, not with the index
    from samsok.search.embedding import Embedder

__all__ = ["IndexWriter", "UpsertOutcome"]

log = logging.getLogger(__name__)


class UpsertOutcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    EMPTY = "empty"


class IndexWriter:
    """The one writer of a data folder (it takes the writer lock on open)."""

    def __init__(
        self,
        owner: object,
        data_dir: Path,
        embedder: Embedder,
        chunker: Chunker,
        config: IndexConfig,
        lexical: LexicalIndex,
        *,
        allow_model_change: bool,
        wait: bool,
    ) -> None:
        self.data_dir = data_dir
        self.embedder = embedder
        self.chunker = chunker
        self.config = config
        self.pending = 0  # documents written since the last commit
        self._allow_model_change = allow_model_change
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = WriterLock(data_dir)
        self._lock.acquire(wait=wait)
        try:
            store = Store(data_dir / "store.db")
            lexical.load(store)
            store.ensure_lsh(lsh_rows(config.near_duplicate_threshold))
            self._view = View(owner, store.generation, store, DenseIndex(1), lexical, None)
            self._remove_unpublished_files(store.generation)
            self._view.dense = self._open_dense()
            self._view.model_id = embedder.model_id
        except BaseException:
            self._lock.release()
            raise

    @property
    def view(self) -> View:
        return self._view

    @property
    def store(self) -> Store:
        return self._view.store

    @property
    def lexical(self) -> LexicalIndex:
        return self._view.lexical

    @property
    def _dense(self) -> DenseIndex:
        return self._view.dense

    def close(self) -> None:
        """Commit what is pending and release the lock."""
        try:
            if self.pending:
                self.commit()
        finally:
            self._view.store.close()
            self._lock.release()

    def _open_dense(self) -> DenseIndex:
        """Writer open: the FAISS file of the store's generation, checked id for id against
        the store, or else rebuilt from the vectors SQLite keeps."""
        manifest = Manifest.read(self.data_dir)
        store = self._view.store
        generation = store.generation
        has_chunks = store.chunk_count() > 0
        built_with = manifest.model if manifest is not None else None
        model_changed = built_with is not None and built_with != self.embedder.model_id
        if model_changed and has_chunks and not self._allow_model_change:
            raise IndexMismatchError(
                f"the index in {self.data_dir} was built with model {built_with!r}, "
                f"but the configured model is {self.embedder.model_id!r}; "
                "run `samsok reindex` to embed it again with the configured model"
            )
        if not model_changed:
            dense = load_checked(
                self.data_dir, generation, store, self.embedder.dim, self.config.dense
            )
            if dense is not None and not dense.needs_rebuild:
                return dense
        return self._rebuild_dense()

    def _rebuild_dense(self) -> DenseIndex:
        store = self._view.store
        ids, vectors = store.chunk_vectors(self.embedder.model_id)
        dense = DenseIndex.build(self.embedder.dim, ids, vectors, self.config.dense)
        missing = store.chunk_count_missing_vectors(self.embedder.model_id)
        if missing:
            log.warning(
                "%d chunks have no vector for %s: run `samsok reindex`",
                missing,
                self.embedder.model_id,
            )
        log.info("rebuilt dense index from the store: %d vectors", dense.size)
        self.pending = max(self.pending, 1)  # write the rebuilt file on the next commit
        return dense

    def refit_lexical(self) -> None:
        """Refit the decompounder on the grown corpus and rewrite every chunk's terms, in one
        transaction (a reader sees the old vocabulary and terms, or the new ones)."""
        store = self._view.store
        with store.transaction():
            self._view.lexical.fit(store)
            for chunk_id, text, _ in store.all_chunks():
                store.replace_terms(chunk_id, self._view.lexical.index_terms(text))

    def commit(self) -> None:
        """Publish what is written: `faiss-<G>.index` first, then the store transaction that
        makes generation G visible, then `manifest.json`; files of older generations go."""
        view = self._view
        store = view.store
        if view.lexical.needs_refit(store.chunk_count()):
            self.refit_lexical()
        # Count, sum and max of the ids, not the id lists: O(1) memory per commit at 1M
        # chunks. Ids only grow (AUTOINCREMENT), so a chunk replaced behind FAISS's back
        # changes the sum.
        if view.dense.fingerprint() != store.chunk_fingerprint():
            # Only after an item was cut short between its store write and its FAISS update
            # (e.g. a second Ctrl-C): the store is the truth.
            log.warning("dense index out of step with the store; rebuilding it from the store")
            view.dense = self._rebuild_dense()
        elif view.dense.needs_rebuild:
            # Crossed the exact/ANN threshold (or outgrew the IVF lists): a new base from the
            # exact vectors SQLite keeps.
            view.dense = self._rebuild_dense()
        previous = generation_files(self.data_dir, view.generation)
        path: Path | None = None
        generation = -1
        try:
            with store.transaction() as generation:
                # A delta against the current base, or a new base when the delta grew big.
                path = view.dense.save_generation(self.data_dir, generation)
        except BaseException:
            if path is not None:  # never published: no reader can have seen it
                path.unlink(missing_ok=True)
                if path.name.endswith(".index"):
                    view.dense.base_generation = None  # that base is gone: write one again
            raise
        Manifest(
            model=self.embedder.model_id,
            dim=self.embedder.dim,
            generation=generation,
            faiss_file=f"faiss-{view.dense.base_generation}.index",
            faiss_delta=path.name if path.name.endswith(".delta") else None,
            faiss_kind=view.dense.kind,
            vectors=view.dense.size,
            versions=library_versions(),
            index_config=asdict(self.config),
            lexical=view.lexical.describe(),
            written_at=Manifest.now(),
        ).write(self.data_dir)
        view.generation = generation
        self.pending = 0
        self._remove_unpublished_files(generation, previous)

    def _remove_unpublished_files(self, keep: int, grace: set[str] | None = None) -> None:
        """Writer only (it holds the lock): drop FAISS files no generation in use needs, and
        temp files of killed writers. Kept: the files of generation `keep` (a base and maybe
        a delta) and `grace`, those of the generation published before it, for a reader that
        read its delta a moment ago. A reader that still serves an older generation has its
        vectors in memory; one that had not loaded it yet builds them from its snapshot."""
        remove_files(self.data_dir, generation_files(self.data_dir, keep) | (grace or set()))

    def upsert(self, doc: Document) -> UpsertOutcome:
        return self.upsert_many([doc])[0]

    def upsert_many(
        self, docs: Sequence[Document], *, show_progress: bool = False
    ) -> list[UpsertOutcome]:
        """Index documents: chunk, embed what the cache lacks (batched), store, update FAISS."""
        plans: list[tuple[Document, list[Chunk] | None, bytes | None]] = []
        to_embed: list[Chunk] = []
        for doc in docs:
            existing = self.store.document(doc.doc_id)
            if existing is not None and existing.content_hash == doc.content_hash:
                plans.append((doc, None, None))
                continue
            doc_chunks = self.chunker(doc)
            sig = signature(doc.text)
            plans.append((doc, doc_chunks, sig))
            to_embed.extend(doc_chunks)
        vectors = self._vectors_for(to_embed, show_progress=show_progress)
        outcomes = []
        for doc, chunks, planned_sig in plans:
            if chunks is None:
                outcomes.append(UpsertOutcome.UNCHANGED)
                continue
            outcomes.append(self._write(doc, chunks, planned_sig, vectors))
        self.pending += len(docs)
        if self.pending >= self.config.commit_every:
            self.commit()
        return outcomes

    def cache_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        """Put vectors computed elsewhere (chunk text hash → vector, by this index's model)
        into the embedding cache, so the next `upsert` of their chunks embeds nothing."""
        if vectors:
            self.store.put_vectors(self.embedder.model_id, vectors)

    def _vectors_for(
        self, chunks: Sequence[Chunk], *, show_progress: bool
    ) -> dict[str, np.ndarray]:
        model_id = self.embedder.model_id
        hashes = [c.text_hash for c in chunks]
        vectors = self.store.cached_vectors(model_id, hashes)
        missing: dict[str, str] = {}
        for chunk in chunks:
            if chunk.text_hash not in vectors:
                missing.setdefault(chunk.text_hash, chunk.embed_text)
        if missing:
            embedded = self.embedder.embed_documents(
                list(missing.values()), show_progress=show_progress
            )
            new = dict(zip(missing.keys(), embedded, strict=True))
            self.store.put_vectors(model_id, new)
            vectors.update(new)
        return vectors

    def _find_primary(self, doc: Document, sig: bytes | None) -> str | None:
        if sig is None:
            return None
        threshold = self.config.near_duplicate_threshold
        if len(doc.text.split()) < self.config.near_duplicate_min_words:
            threshold = 1.0  # a short text is merged only when it is the same text
        return self.store.near_duplicate_of(sig, doc.doc_id, threshold)

    def _write(
        self, doc: Document, chunks: list[Chunk], sig: bytes | None, vectors: dict[str, np.ndarray]
    ) -> UpsertOutcome:
        old = self.store.document(doc.doc_id)
        existed = old is not None
        primary = self._find_primary(doc, sig) if chunks else None
        with self.store.transaction():
            removed = self.store.delete_chunks(doc.doc_id)
            self.store.put_document(doc, signature=sig, duplicate_of=primary)
            record_upsert(self.store, old, doc, duplicate_of=primary)
            new_ids: list[int] = []
            if primary is None and chunks:
                terms = [self.lexical.index_terms(c.embed_text) for c in chunks]
                new_ids = self.store.add_chunks(chunks, terms)
        self._dense.remove(removed)
        if new_ids:
            self._dense.add(
                np.asarray(new_ids, dtype=np.int64),
                np.vstack([vectors[c.text_hash] for c in chunks]),
            )
        if primary is not None:
            log.debug("%s is a near-duplicate of %s; stored as also-published-at", doc.url, primary)
            return UpsertOutcome.DUPLICATE
        if not chunks:
            return UpsertOutcome.EMPTY
        return UpsertOutcome.CHANGED if existed else UpsertOutcome.NEW

    def remove(self, doc_id: str, *, reason: str = "") -> bool:
        """Remove a document from every index; a duplicate of it takes its place."""
        row = self.store.document(doc_id)
        if row is None:
            return False
        successors = self.store.duplicate_ids(doc_id)
        with self.store.transaction():
            removed = self.store.delete_document(doc_id)
            record_removal(self.store, row, reason=reason)
            unused_original = release_original(self.store, doc_id)
        if unused_original:
            delete_blob_if_unused(self.store, self.data_dir, unused_original)
        self._dense.remove(removed)
        self.pending += 1
        if successors:
            # The story is still published elsewhere: the first other URL takes its place.
            promoted_id, *others = successors
            with self.store.transaction():
                for other in others:
                    self.store.set_duplicate_of(other, promoted_id)
            promoted = self.store.document(promoted_id)
            if promoted is not None:
                doc = promoted.to_document()
                chunks = self.chunker(doc)
                vectors = self._vectors_for(chunks, show_progress=False)
                self._write(doc, chunks, signature(doc.text), vectors)
        return True

    def reindex(self, *, show_progress: bool = False) -> int:
        """Embed every chunk with the configured model and rebuild FAISS and FTS terms."""
        self.refit_lexical()
        rows = self.store.all_chunks()
        by_hash = {text_hash: text for _, text, text_hash in rows}
        cached = self.store.cached_vectors(self.embedder.model_id, list(by_hash))
        missing = {h: t for h, t in by_hash.items() if h not in cached}
        if missing:
            embedded = self.embedder.embed_documents(
                list(missing.values()), show_progress=show_progress
            )
            self.store.put_vectors(
                self.embedder.model_id, dict(zip(missing, embedded, strict=True))
            )
        self._view.dense = self._rebuild_dense()
        self._view.model_id = self.embedder.model_id
        self.commit()
        return len(missing)

"""Test doubles that behave like the real objects, for tests that are about something else.

`HashingEmbedder` has the `samsok.search.embedding.embedder.Embedder` interface: a deterministic
bag-of-words vector (hashed word trigrams), so a query shares a direction with the texts that
contain its words. Fast and model-free: page, API and store tests use it; retrieval-quality tests
use the real model (the `embedder` fixture).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
from samsok.ingest.documents import Chunk, Document

__all__ = ["HashingEmbedder", "page_chunker"]

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    def __init__(self, dim: int = 64, model_id: str = "test:hashing") -> None:
        self.dim = dim
        self.model_id = model_id
        self.max_tokens = 512
        self.calls = 0  # number of texts embedded, for cache tests

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            for i in range(max(1, len(word) - 2)):
                gram = word[i : i + 3]
                bucket = int.from_bytes(
                    hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little"
                )
                vec[bucket % self.dim] += 1.0
        norm = float(np.linalg.norm(vec))
        if norm == 0:
            vec[0] = 1.0
            return vec
        return vec / norm

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls += len(texts)
        return (
            np.vstack([self._vector(t) for t in texts])
            if texts
            else np.zeros((0, self.dim), np.float32)
        )

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text)) + 2


def page_chunker(doc: Document) -> list[Chunk]:
    """One chunk per page: enough structure for index tests, independent of ingest.chunk."""
    return [
        Chunk.of(doc, ordinal=i, text=page.text, page=page.number)
        for i, page in enumerate(p for p in doc.pages if p.text.strip())
    ]

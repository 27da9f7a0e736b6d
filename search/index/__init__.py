"""The index: `SearchIndex` over the store, the FAISS dense index and the FTS5 lexical run.

Callers import from here; the modules behind it are `core` (the `SearchIndex` object),
`writer`, `views`, `ranking`, `results`, `bookkeeping`, `manifest`, `config`, `dense`
(+ `faiss_base`, `dense_files`), `lexical`, `fusion` and `snippets`.

The names load on first use (PEP 562): `from samsok.search.index import IndexConfig` imports
`config` only, so the settings, and CLI commands that never open the index, start without FAISS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samsok.ingest.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from samsok.search.index.bookkeeping import ChunkText
    from samsok.search.index.config import (
        FUSIONS,
        DenseConfig,
        IndexConfig,
        LexicalConfig,
    )
    from samsok.search.index.core import SearchIndex
    from samsok.search.index.dense import DenseIndex
    from samsok.search.index.dense_query import DenseQuery, abbreviations, dense_text_for
    from samsok.search.index.fusion import fuse, rrf, weighted_minmax, weighted_zscore
    from samsok.search.index.lexical import LexicalIndex
    from samsok.search.index.manifest import Manifest
    from samsok.search.index.ranking import RankedChunk
    from samsok.search.index.relevance import (
        CALIBRATED_FLOORS,
        ChunkMatch,
        RelevanceFloor,
        chunk_evidence,
        chunk_matches,
        query_evidence,
    )
    from samsok.search.index.results import ChunkRef, page_url
    from samsok.search.index.views import ReloadStats
    from samsok.search.index.writer import UpsertOutcome

__all__ = [
    "CALIBRATED_FLOORS",
    "FUSIONS",
    "ChunkMatch",
    "ChunkRef",
    "ChunkText",
    "DenseConfig",
    "DenseIndex",
    "DenseQuery",
    "IndexConfig",
    "LexicalConfig",
    "LexicalIndex",
    "Manifest",
    "RankedChunk",
    "RelevanceFloor",
    "ReloadStats",
    "SearchIndex",
    "UpsertOutcome",
    "abbreviations",
    "chunk_evidence",
    "chunk_matches",
    "dense_text_for",
    "fuse",
    "page_url",
    "query_evidence",
    "rrf",
    "weighted_minmax",
    "weighted_zscore",
]

# Each public name and the module it lives in.
_HOMES = {
    "CALIBRATED_FLOORS": "relevance",
    "FUSIONS": "config",
    "ChunkMatch": "relevance",
    "ChunkRef": "results",
    "ChunkText": "bookkeeping",
    "DenseConfig": "config",
    "DenseIndex": "dense",
    "DenseQuery": "dense_query",
    "IndexConfig": "config",
    "LexicalConfig": "config",
    "LexicalIndex": "lexical",
    "Manifest": "manifest",
    "RankedChunk": "ranking",
    "RelevanceFloor": "relevance",
    "ReloadStats": "views",
    "SearchIndex": "core",
    "UpsertOutcome": "writer",
    "abbreviations": "dense_query",
    "chunk_evidence": "relevance",
    "chunk_matches": "relevance",
    "dense_text_for": "dense_query",
    "page_url": "results",
    "query_evidence": "relevance",
    "fuse": "fusion",
    "rrf": "fusion",
    "weighted_minmax": "fusion",
    "weighted_zscore": "fusion",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

"""The index: `SearchIndex` over the store, the FAISS dense index and the FTS5 lexical run.

Callers import from here; the modules behind it are `core` (the `SearchIndex` object),
`writer`, `views`, `ranking`, `results`, `bookkeeping`, `manifest`, `config`, `dense`
(+ `faiss_base`, `dense_files`), `lexical`, `fusion` and `snippets`.
"""

from samsok.ingest.chunk import Chunker
from samsok.search.index.bookkeeping import ChunkText
from samsok.search.index.config import FUSIONS, IndexConfig
from samsok.search.index.core import SearchIndex
from samsok.search.index.dense import DenseConfig, DenseIndex
from samsok.search.index.fusion import rrf, weighted_minmax, weighted_zscore
from samsok.search.index.lexical import LexicalConfig, LexicalIndex
from samsok.search.index.manifest import Manifest
from samsok.search.index.ranking import RankedChunk
from samsok.search.index.relevance import (
    CALIBRATED_FLOORS,
    RelevanceFloor,
    chunk_evidence,
    query_evidence,
)
from samsok.search.index.results import ChunkRef, page_url
from samsok.search.index.views import ReloadStats
from samsok.search.index.writer import UpsertOutcome

__all__ = [
    "CALIBRATED_FLOORS",
    "FUSIONS",
    "ChunkRef",
    "ChunkText",
    "Chunker",
    "DenseConfig",
    "DenseIndex",
    "IndexConfig",
    "LexicalConfig",
    "LexicalIndex",
    "Manifest",
    "RankedChunk",
    "RelevanceFloor",
    "ReloadStats",
    "SearchIndex",
    "UpsertOutcome",
    "chunk_evidence",
    "page_url",
    "query_evidence",
    "rrf",
    "weighted_minmax",
    "weighted_zscore",
]

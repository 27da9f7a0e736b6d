"""The index: `SearchIndex` over the store, the FAISS dense index and the FTS5 lexical run.

Callers import from here; the modules behind it are `core` (the `SearchIndex` object),
`config`, `ranking`, `results`, `views`, `manifest`, `dense`, `lexical`, `fusion`, `snippets`
and `near_duplicates`.
"""

from samsok.search.index.config import CALIBRATED_FLOORS, FUSIONS, IndexConfig, RelevanceFloor
from samsok.search.index.core import SearchIndex, UpsertOutcome
from samsok.search.index.ranking import RankedChunk
from samsok.search.index.results import ChunkRef, page_url
from samsok.search.index.views import ReloadStats

__all__ = [
    "CALIBRATED_FLOORS",
    "FUSIONS",
    "ChunkRef",
    "IndexConfig",
    "RankedChunk",
    "RelevanceFloor",
    "ReloadStats",
    "SearchIndex",
    "UpsertOutcome",
    "page_url",
]

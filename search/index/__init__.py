"""The index: `SearchIndex` over the store, the FAISS dense index and the FTS5 lexical run.

Callers import from here; the modules behind it are `core` (the `SearchIndex` object),
`writer`, `views`, `ranking`, `results`, `bookkeeping`, `manifest`, `config`, `dense`
(+ `faiss_base`, `dense_files`), `lexical`, `fusion`, `snippets` and `near_duplicates`.

The names load on first use (PEP 562): importing a leaf module such as `near_duplicates` or
`fusion` (the store and the crawler do) must not load FAISS and the whole core, and the core
imports the store, which would make an eager import here circular.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samsok.search.index.bookkeeping import ChunkText
    from samsok.search.index.config import (
        CALIBRATED_FLOORS,
        FUSIONS,
        IndexConfig,
        RelevanceFloor,
    )
    from samsok.search.index.core import SearchIndex
    from samsok.search.index.dense import DenseConfig
    from samsok.search.index.manifest import Manifest
    from samsok.search.index.ranking import RankedChunk
    from samsok.search.index.results import ChunkRef, page_url
    from samsok.search.index.views import ReloadStats
    from samsok.search.index.writer import Chunker, UpsertOutcome

_HOME = {
    "CALIBRATED_FLOORS": "config",
    "FUSIONS": "config",
    "IndexConfig": "config",
    "RelevanceFloor": "config",
    "SearchIndex": "core",
    "DenseConfig": "dense",
    "Manifest": "manifest",
    "RankedChunk": "ranking",
    "ChunkRef": "results",
    "page_url": "results",
    "ChunkText": "bookkeeping",
    "ReloadStats": "views",
    "Chunker": "writer",
    "UpsertOutcome": "writer",
}

__all__ = [
    "CALIBRATED_FLOORS",
    "FUSIONS",
    "ChunkRef",
    "ChunkText",
    "Chunker",
    "DenseConfig",
    "IndexConfig",
    "Manifest",
    "RankedChunk",
    "RelevanceFloor",
    "ReloadStats",
    "SearchIndex",
    "UpsertOutcome",
    "page_url",
]


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

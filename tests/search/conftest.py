"""Fixtures shared by the search tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from samsok.search.index import IndexConfig, SearchIndex

from tests.fakes import HashingEmbedder, page_chunker


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    """An empty index on the fake embedder, one chunk per page, default settings (a module
    that needs another config or content defines its own `index`)."""
    idx = SearchIndex(tmp_path / "data", HashingEmbedder(), page_chunker, IndexConfig())
    yield idx
    idx.close()

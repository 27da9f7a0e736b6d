"""`LazyEmbedder`: an `Embedder` whose model loads on first use.

Commands that never embed — `status`, lexical search, document pages — never pay the model
load (seconds to tens of seconds on a small machine).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from samsok.search.embedding.config import EmbedConfig
from samsok.search.forwarding import Forwarded

if TYPE_CHECKING:  # the model libraries load with the model, not with this module
    import numpy as np
    from samsok.search.embedding.embedder import Embedder

__all__ = ["LazyEmbedder"]


class LazyEmbedder:
    """An `Embedder` that loads its model on first use (thread-safe, once)."""

    def __init__(self, config: EmbedConfig, factory: Callable[[EmbedConfig], Embedder]) -> None:
        self.config = config
        self._factory = factory
        self._model: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _get(self) -> Embedder:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._factory(self.config)
        return self._model

    model_id = Forwarded[str](_get)
    dim = Forwarded[int](_get)
    max_tokens = Forwarded[int](_get)

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._get().embed_documents(texts, show_progress=show_progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._get().embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self._get().count_tokens(text)

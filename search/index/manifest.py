"""`manifest.json`: what the data folder's index was published with, read and written here only.

A description for people and tools (`samsok status`, benchmarks): the model id and dimension,
the published generation and its FAISS files, and the library versions that wrote them. The
writer rewrites it after every commit; readers pick FAISS files by the generation of their own
store snapshot, so a manifest a moment behind never makes them load the wrong file.

Format history: 1–2 were untyped dicts (format 2 kept only `faiss_version`); 3 adds
`versions`. Older files are still read: missing fields take their empty value.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np
from samsok.search.index.dense_files import readable_by_all

__all__ = ["MANIFEST_FORMAT", "MANIFEST_NAME", "Manifest", "library_versions"]

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 3
MANIFEST_NAME = "manifest.json"

# Distributions whose version decides whether vectors and FAISS files can be reused; read from
# the installed metadata so an optional backend (torch, ONNX) need not be imported for it.
_DISTRIBUTIONS = ("samsok", "sentence-transformers", "onnxruntime", "tokenizers")


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries that shape the index (None: not installed)."""
    versions: dict[str, str | None] = {"faiss": faiss.__version__, "numpy": np.__version__}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@dataclass(frozen=True)
class Manifest:
    """One published generation, as described in `manifest.json`."""

    model: str
    dim: int | None  # None: not recorded (an early format)
    generation: int | None  # None: not recorded
    faiss_file: str = ""
    faiss_delta: str | None = None  # the delta file of `generation`, None when it is a base
    faiss_kind: str = ""
    vectors: int = 0
    versions: dict[str, str | None] = field(default_factory=dict)
    index_config: dict[str, object] = field(default_factory=dict)
    lexical: dict[str, object] = field(default_factory=dict)
    written_at: str = ""
    format: int = MANIFEST_FORMAT

    @classmethod
    def from_json(cls, data: object) -> Manifest | None:
        """A manifest of any format so far; None when `data` does not describe one."""
        if not isinstance(data, dict):
            return None
        model, dim, generation = data.get("model"), data.get("dim"), data.get("generation")
        if not isinstance(model, str) or not model:
            return None
        versions = data.get("versions")
        if not isinstance(versions, dict):  # format ≤ 2
            faiss_version = data.get("faiss_version")
            versions = {"faiss": str(faiss_version)} if faiss_version else {}
        delta = data.get("faiss_delta")
        return cls(
            model=model,
            dim=dim if isinstance(dim, int) else None,
            generation=generation if isinstance(generation, int) else None,
            faiss_file=str(data.get("faiss_file") or ""),
            faiss_delta=delta if isinstance(delta, str) else None,
            faiss_kind=str(data.get("faiss_kind") or ""),
            vectors=int(data.get("vectors") or 0),
            versions={str(k): None if v is None else str(v) for k, v in versions.items()},
            index_config=dict(data.get("index_config") or {}),
            lexical=dict(data.get("lexical") or {}),
            written_at=str(data.get("written_at") or ""),
            format=int(data.get("format") or 1),
        )

    @classmethod
    def read(cls, data_dir: Path) -> Manifest | None:
        """The folder's manifest; None when there is none or it cannot be read (logged)."""
        path = data_dir / MANIFEST_NAME
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("unreadable manifest %s (%s); ignoring it", path, exc)
            return None
        manifest = cls.from_json(data)
        if manifest is None:
            log.warning("manifest %s names no model; ignoring it", path)
        return manifest

    def write(self, data_dir: Path) -> None:
        """Write atomically (temp file and rename), readable by readers running as others."""
        fd, tmp = tempfile.mkstemp(prefix="manifest.", suffix=".tmp", dir=data_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh, indent=2, sort_keys=True)
        readable_by_all(tmp)
        os.replace(tmp, data_dir / MANIFEST_NAME)

    @staticmethod
    def now() -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

"""The dense index on disk: `faiss-<B>.index` bases and `faiss-<G>.delta` files, written
atomically, read back, and cleaned up by the writer.

A delta (numpy `.npz`) holds everything generation G changed since its base B: the base's
generation, the dimension, the added ids with their exact vectors, and the removed base ids.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "BASE_FILE",
    "DELTA_FILE",
    "Delta",
    "atomic_write",
    "base_name",
    "delta_name",
    "generation_files",
    "read_delta",
    "readable_by_all",
    "remove_files",
    "write_delta",
]

# A generation's files are `faiss-<G>.<kind>`: kind "index" for a base, "delta" for a delta.
_BASE, _DELTA = "index", "delta"


def _file_name(generation: int | str | None, kind: str) -> str:
    return f"faiss-{generation}.{kind}"


def _file_pattern(kind: str) -> re.Pattern[str]:
    """`_file_name(G, kind)` for any generation G, with G captured: the one naming scheme."""
    head, tail = _file_name("\0", kind).split("\0")
    return re.compile(rf"^{re.escape(head)}(\d+){re.escape(tail)}$")


BASE_FILE = _file_pattern(_BASE)
DELTA_FILE = _file_pattern(_DELTA)


def base_name(generation: int | None) -> str:
    return _file_name(generation, _BASE)


def delta_name(generation: int) -> str:
    return _file_name(generation, _DELTA)


@dataclass(frozen=True)
class Delta:
    """One `faiss-<G>.delta` file's content."""

    base: int  # the generation of the base it applies to
    dim: int
    ids: np.ndarray  # added since the base
    vectors: np.ndarray  # their exact vectors
    removed: np.ndarray  # base ids removed since the base


def readable_by_all(path: str | Path) -> None:
    """mkstemp makes 0600 files; readers may run as another user (the API, staff): give the
    file the mode a plain `open()` would (0666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write through a temp file and rename: a crash leaves no half file under `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        readable_by_all(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_delta(path: Path, delta: Delta) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                base=np.asarray([delta.base], np.int64),
                dim=np.asarray([delta.dim], np.int64),
                ids=delta.ids,
                vectors=delta.vectors.astype(np.float32),
                removed=delta.removed,
            )

    atomic_write(path, write)


def read_delta(path: Path) -> Delta:
    """Raises ValueError for an unreadable delta, OSError when it cannot be opened."""
    try:
        with np.load(path) as data:
            return Delta(
                base=int(data["base"][0]),
                dim=int(data["dim"][0]),
                ids=data["ids"],
                vectors=data["vectors"],
                removed=data["removed"],
            )
    except (KeyError, IndexError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{path}: unreadable delta ({exc})") from exc


def generation_files(data_dir: Path, generation: int) -> set[str]:
    """Names of the files generation `generation` needs on disk (empty if it has none)."""
    if (data_dir / base_name(generation)).exists():
        return {base_name(generation)}
    delta = data_dir / delta_name(generation)
    try:
        with np.load(delta) as data:
            return {delta.name, base_name(int(data["base"][0]))}
    except (OSError, KeyError, IndexError, ValueError, zipfile.BadZipFile, EOFError):
        return set()


def remove_files(data_dir: Path, keep: Iterable[str]) -> None:
    """Drop FAISS files and temp files not in `keep` (the writer only)."""
    keep = set(keep)
    for entry in data_dir.iterdir():
        name = entry.name
        ours = BASE_FILE.match(name) or DELTA_FILE.match(name) or name == "faiss.index"
        temp = name.endswith(".tmp") and name.startswith(("faiss", "manifest."))
        if (ours and name not in keep) or temp:
            entry.unlink(missing_ok=True)

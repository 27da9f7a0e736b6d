"""FAISS dense index over chunk vectors. FAISS ids are `chunks.id` from the store.

Two segments, so a commit writes what changed and not the whole index:

- the *base*: exact (`IndexIDMap2(IndexFlatIP)`) while the corpus is small, IVF with 16-bit
  scalar quantisation (`IndexIVFScalarQuantizer` fp16, ids stored in the inverted lists) from
  `DenseConfig.ann_threshold` vectors on. Written as `faiss-<B>.index` at generation B and
  never changed on disk afterwards.
- the *delta*: vectors added since the base (exact, `IndexFlatIP`) plus the base ids removed
  since. Each commit of generation G writes `faiss-<G>.delta` (cumulative since the base, so a
  reader needs exactly two files); once the delta outgrows `merge_fraction` of the base it is
  folded in and a new base is written instead.

A search runs on both segments (removed ids masked out of the base with an id selector) and
merges by score. Filters are applied *inside* the search with an id selector (a bitmap built
with numpy for large id sets), so a filtered query still returns `k` hits whenever `k` chunks
match the filter.

Why IVF and not HNSW: IVF honours an id selector exactly inside the list scan (a filtered
query scans more lists instead of losing hits), supports adds and removals without a graph to
repair, and with fp16 costs ~780 bytes per vector at 384 dimensions (HNSW adds 2·M·4 bytes of
links per vector and degrades under restrictive filters).
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

__all__ = [
    "BASE_FILE",
    "DELTA_FILE",
    "DenseConfig",
    "DenseIndex",
    "generation_files",
    "readable_by_all",
    "remove_files",
]

log = logging.getLogger(__name__)

BASE_FILE = re.compile(r"^faiss-(\d+)\.index$")
DELTA_FILE = re.compile(r"^faiss-(\d+)\.delta$")


@dataclass(frozen=True)
class DenseConfig:
    """How the vector index is built. Defaults measured with `benchmarks/scale.py` (see
    docs/architecture.md, "How the index scales").

    - `ann_threshold`: below this many vectors the base is exact (flat, 4·dim bytes per
      vector, no training); from it on, IVF + fp16 (2·dim bytes per vector). fp16 rather than
      8-bit: 8-bit codes (dim bytes) lost 0.015–0.04 recall@10 among near-tied neighbours
      (0.965 vs 0.979 at 100k, nprobe 32, same speed) and 2·dim still fits 1 KB a chunk.
    - `ann_nlist`: IVF lists; 0 = sqrt(vectors) (k-means training stays in seconds and a
      list holds ~sqrt(N) vectors), retrained when the corpus grows 4× past it.
    - `ann_nprobe`: lists scanned per query (scaled up for restrictive filters, see `search`).
    - `merge_fraction` / `merge_min`: the delta is folded into a new base once it holds more
      than max(merge_min, merge_fraction · size) changes.

    How chosen (benchmarks/scale.py on 2 shared cores, 384 dimensions): exact search costs
    ~0.27 ms per 1 000 vectors a query (270 ms at 1M), so from ~100k vectors (~25 ms, the
    whole hybrid budget there) IVF pays; below it flat is exact and needs no training. With
    √N lists and fp16 codes, recall@10 against exact search on the 100k synthetic index was
    0.96 / 0.97 / 0.98 at nprobe 32 / 64 / 96 (1M, 8-bit codes, nprobe 32: 0.978); the
    delta limits keep a commit's file ≤ ~8 MB while a fold (a full base write) comes at most
    every 5 % of growth.
    """

    ann_threshold: int = 100_000
    ann_nlist: int = 0
    ann_nprobe: int = 64
    merge_fraction: float = 0.05
    merge_min: int = 5_000

    def __post_init__(self) -> None:
        if self.ann_threshold < 1 or self.ann_nprobe < 1 or self.ann_nlist < 0:
            raise ValueError("ann_threshold and ann_nprobe must be ≥ 1, ann_nlist ≥ 0")
        if not 0.0 < self.merge_fraction <= 1.0 or self.merge_min < 0:
            raise ValueError("merge_fraction must be within (0, 1] and merge_min ≥ 0")

    def nlist_for(self, n: int) -> int:
        return self.ann_nlist or max(16, int(math.sqrt(n)))


def readable_by_all(path: str | Path) -> None:
    """mkstemp makes 0600 files; readers may run as another user (the API, staff): give the
    file the mode a plain `open()` would (0666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _flat(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _base_ids(index: faiss.Index) -> np.ndarray:
    """Sorted ids held by a base index (flat with an id map, or IVF)."""
    if isinstance(index, faiss.IndexIDMap) or hasattr(index, "id_map"):
        return np.sort(faiss.vector_to_array(index.id_map).astype(np.int64))
    ivf = faiss.extract_index_ivf(index)
    invlists = ivf.invlists
    parts = []
    for list_no in range(ivf.nlist):
        size = invlists.list_size(list_no)
        if size:
            ptr = invlists.get_ids(list_no)
            parts.append(faiss.rev_swig_ptr(ptr, size).astype(np.int64).copy())
            invlists.release_ids(list_no, ptr)
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def _is_ivf(index: faiss.Index) -> bool:
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        return False
    return True


def _flat_vectors(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """(ids, exact vectors) of a flat base."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    flat = faiss.downcast_index(index.index)
    vectors = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(-1, flat.d).copy()
    return ids, vectors


def _train_ivf(dim: int, vectors: np.ndarray, nlist: int) -> faiss.Index:
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    # k-means on ≤ 64 points per list: enough for stable centroids, seconds not minutes.
    sample = vectors
    if len(vectors) > 64 * nlist:
        rng = np.random.default_rng(0)
        sample = vectors[np.sort(rng.choice(len(vectors), 64 * nlist, replace=False))]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index


def _bitmap(ids: np.ndarray, size: int) -> np.ndarray:
    """A FAISS `IDSelectorBitmap` bitmap (bit i of byte i>>3, little endian) of `ids`."""
    mask = np.zeros(size, dtype=bool)
    mask[ids] = True
    return np.packbits(mask, bitorder="little")


# Below this many ids a hash set (IDSelectorBatch) is cheaper to build than a bitmap.
_BATCH_MAX = 4096


class DenseIndex:
    def __init__(
        self,
        dim: int,
        index: faiss.Index | None = None,
        config: DenseConfig | None = None,
        *,
        base_generation: int | None = None,
    ) -> None:
        self.dim = dim
        self.config = config or DenseConfig()
        self._base = index if index is not None else _flat(dim)
        self.base_generation = base_generation  # None: the base is not on disk yet
        self._base_ids = _base_ids(self._base)
        self._removed: set[int] = set()  # base ids deleted since the base was written
        self._delta = _flat(dim)
        self._delta_vectors: dict[int, np.ndarray] = {}  # exact copies, for the delta file

    # -- shape ------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._base_ids) - len(self._removed) + len(self._delta_vectors)

    @property
    def kind(self) -> str:
        return "ivf-fp16" if _is_ivf(self._base) else "flat"

    @property
    def delta_changes(self) -> int:
        return len(self._removed) + len(self._delta_vectors)

    @property
    def needs_rebuild(self) -> bool:
        """The base no longer fits the corpus: flat above the threshold, IVF far below it, or
        IVF grown 4× past what its lists were trained for. Rebuilt from exact vectors."""
        size = self.size
        if _is_ivf(self._base):
            nlist = faiss.extract_index_ivf(self._base).nlist
            return size < self.config.ann_threshold // 2 or (
                not self.config.ann_nlist and self.config.nlist_for(size) >= 2 * nlist
            )
        return size >= self.config.ann_threshold

    def fingerprint(self) -> tuple[int, int, int]:
        """(count, sum, max) of the ids held; compare with `Store.chunk_fingerprint`."""
        ids = self.ids()
        if not len(ids):
            return 0, 0, 0
        return len(ids), int(ids.sum()), int(ids[-1])

    def ids(self) -> np.ndarray:
        """Every id in the index, ascending (for consistency checks)."""
        base = self._base_ids
        if self._removed:
            base = base[~np.isin(base, np.fromiter(self._removed, np.int64))]
        if not self._delta_vectors:
            return base
        delta = np.fromiter(self._delta_vectors, np.int64, len(self._delta_vectors))
        return np.sort(np.concatenate([base, delta]))

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls, dim: int, ids: np.ndarray, vectors: np.ndarray, config: DenseConfig | None = None
    ) -> DenseIndex:
        """A base of the kind the size calls for, holding these vectors."""
        config = config or DenseConfig()
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) >= config.ann_threshold:
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            index = _train_ivf(dim, vectors, config.nlist_for(len(ids)))
            index.add_with_ids(vectors, ids)
        else:
            index = _flat(dim)
            if len(ids):
                index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        return cls(dim, index, config)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vector dimension {vectors.shape[1]} != index dimension {self.dim}")
        ids = np.asarray(ids, dtype=np.int64)
        self._delta.add_with_ids(vectors, ids)
        for i, vec in zip(ids.tolist(), vectors, strict=True):
            self._delta_vectors[i] = vec

    def remove(self, ids: list[int] | np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        ids = np.asarray(ids, dtype=np.int64)
        in_delta = [i for i in ids.tolist() if i in self._delta_vectors]
        if in_delta:
            self._delta.remove_ids(np.asarray(in_delta, dtype=np.int64))
            for i in in_delta:
                del self._delta_vectors[i]
        in_base = ids[np.isin(ids, self._base_ids)]
        before = len(self._removed)
        self._removed.update(in_base.tolist())
        return len(in_delta) + len(self._removed) - before

    def fold(self) -> None:
        """Fold the delta into the base (in memory). An IVF base keeps its trained lists; a
        flat base that crossed the threshold is trained into IVF from its exact vectors."""
        removed = np.fromiter(self._removed, np.int64, len(self._removed))
        delta_ids = np.fromiter(self._delta_vectors, np.int64, len(self._delta_vectors))
        delta_vecs = (
            np.vstack(list(self._delta_vectors.values()))
            if len(delta_ids)
            else np.zeros((0, self.dim), np.float32)
        )
        if _is_ivf(self._base):
            if len(removed):
                self._base.remove_ids(faiss.IDSelectorBatch(removed))
            if len(delta_ids):
                self._base.add_with_ids(delta_vecs, delta_ids)
            self._base_ids = _base_ids(self._base)
        else:
            ids, vectors = _flat_vectors(self._base)
            keep = ~np.isin(ids, removed)
            ids = np.concatenate([ids[keep], delta_ids])
            vectors = np.vstack([vectors[keep], delta_vecs])
            rebuilt = DenseIndex.build(self.dim, ids, vectors, self.config)
            self._base, self._base_ids = rebuilt._base, rebuilt._base_ids
        self._removed.clear()
        self._delta = _flat(self.dim)
        self._delta_vectors.clear()
        self.base_generation = None

    # -- search -----------------------------------------------------------------------------

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, cosine) best first; `allowed` restricts to those chunk ids."""
        if self.size == 0 or k <= 0:
            return []
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if len(allowed) == 0:
                return []
            k = min(k, len(allowed))
        k = min(k, self.size)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        hits: list[tuple[int, float]] = []
        base_n = len(self._base_ids) - len(self._removed)
        if base_n > 0:
            hits.extend(self._search_base(q, k, allowed))
        if self._delta_vectors:
            delta_sel = self._selector(allowed, None)
            params = faiss.SearchParameters(sel=delta_sel) if delta_sel is not None else None
            kd = min(k, len(self._delta_vectors))
            scores, ids = self._delta.search(q, kd, params=params)
            hits.extend((int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True))
        hits = [(i, s) for i, s in hits if i >= 0]
        hits.sort(key=lambda h: (-h[1], h[0]))
        return hits[:k]

    def _search_base(
        self, q: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        sel = self._selector(allowed, self._removed)
        if _is_ivf(self._base):
            ivf = faiss.extract_index_ivf(self._base)
            nprobe = self.config.ann_nprobe
            if allowed is not None:
                # A filter keeping a fraction f of the chunks leaves ~f of each list: scan
                # 1/f as many lists so as many allowed candidates are compared as unfiltered.
                share = max(len(allowed) / max(len(self._base_ids), 1), 1e-6)
                nprobe = math.ceil(nprobe / min(share, 1.0))
            params = faiss.SearchParametersIVF(sel=sel, nprobe=min(nprobe, ivf.nlist))
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
        scores, ids = self._base.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True)]

    def _selector(self, allowed: np.ndarray | None, removed: set[int] | None) -> faiss.IDSelector:
        """An id selector for `allowed` minus `removed` (None: everything). The selector keeps
        the numpy buffers it points into alive (`_keep`)."""
        removed_arr = (
            np.fromiter(removed, np.int64, len(removed)) if removed else np.zeros(0, np.int64)
        )
        if allowed is None:
            if not len(removed_arr):
                return None
            inner = faiss.IDSelectorBatch(removed_arr)
            sel = faiss.IDSelectorNot(inner)
            sel._keep = (inner, removed_arr)
            return sel
        if len(allowed) <= _BATCH_MAX:
            if len(removed_arr):
                allowed = allowed[~np.isin(allowed, removed_arr)]
            sel = faiss.IDSelectorBatch(allowed)
            sel._keep = allowed
            return sel
        top = int(allowed.max()) + 1
        bitmap = _bitmap(allowed, top)
        if len(removed_arr):
            gone = removed_arr[removed_arr < top]
            np.bitwise_and.at(bitmap, gone >> 3, ~(1 << (gone & 7)).astype(np.uint8))
        sel = faiss.IDSelectorBitmap(bitmap)
        sel._keep = bitmap
        return sel

    def catch_up(
        self, want: np.ndarray, fetch: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    ) -> bool:
        """Make this index hold exactly the ids `want` (sorted): drop the others, add the
        missing ones with the exact vectors `fetch(ids)` returns. False (index unusable) when
        a vector is missing. Used by a reader whose snapshot has no files of its own (a
        writer between commits): a published generation plus the difference, instead of
        rebuilding (and retraining) the whole index."""
        have = self.ids()
        extra = np.setdiff1d(have, want, assume_unique=True)
        missing = np.setdiff1d(want, have, assume_unique=True)
        self.remove(extra)
        if len(missing):
            ids, vectors = fetch(missing)
            if len(ids) != len(missing):
                return False
            self.add(ids, vectors)
        return True

    # -- files ------------------------------------------------------------------------------

    def wants_fold(self) -> bool:
        limit = max(self.config.merge_min, self.config.merge_fraction * self.size)
        return self.base_generation is None or self.delta_changes > limit

    def save_generation(self, data_dir: Path, generation: int) -> Path:
        """Write what generation `generation` needs: a delta against the base on disk, or (no
        base yet, or the delta grew too big) the folded base. Returns the file written."""
        if self.wants_fold():
            if self.delta_changes:
                self.fold()
            path = data_dir / f"faiss-{generation}.index"
            _atomic_write(path, lambda tmp: faiss.write_index(self._base, tmp))
            self.base_generation = generation
            return path
        path = data_dir / f"faiss-{generation}.delta"
        ids = np.fromiter(self._delta_vectors, np.int64, len(self._delta_vectors))
        vectors = (
            np.vstack(list(self._delta_vectors.values()))
            if len(ids)
            else np.zeros((0, self.dim), np.float32)
        )
        removed = np.fromiter(sorted(self._removed), np.int64, len(self._removed))

        def write(tmp: str) -> None:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    base=np.asarray([self.base_generation], np.int64),
                    dim=np.asarray([self.dim], np.int64),
                    ids=ids,
                    vectors=vectors.astype(np.float32),
                    removed=removed,
                )

        _atomic_write(path, write)
        return path

    def files(self, generation: int) -> set[str]:
        """Names of the files generation `generation` was saved as (after `save_generation`)."""
        names = {f"faiss-{self.base_generation}.index"}
        if self.base_generation != generation:
            names.add(f"faiss-{generation}.delta")
        return names

    def save(self, path: Path) -> None:
        """Write the whole index (base and delta folded) as one FAISS file, atomically."""
        if self.delta_changes:
            self.fold()
        _atomic_write(path, lambda tmp: faiss.write_index(self._base, tmp))

    @classmethod
    def load(
        cls, path: Path, dim: int | None = None, config: DenseConfig | None = None
    ) -> DenseIndex:
        """Read one base FAISS file; `dim` None accepts the file's own dimension."""
        index = faiss.read_index(str(path))
        if dim is not None and index.d != dim:
            raise ValueError(f"{path}: dimension {index.d}, expected {dim}")
        match = BASE_FILE.match(path.name)
        return cls(index.d, index, config, base_generation=int(match.group(1)) if match else None)

    @classmethod
    def load_generation(
        cls,
        data_dir: Path,
        generation: int,
        dim: int | None = None,
        config: DenseConfig | None = None,
        reuse: DenseIndex | None = None,
    ) -> DenseIndex | None:
        """The index generation `generation` was published with: `faiss-<G>.index`, or
        `faiss-<G>.delta` applied to the base it names. None when there is no such file.
        `reuse`: an index whose base may be shared (readers never change a base) so a new
        generation over the same base costs only its delta. Raises ValueError, OSError or
        RuntimeError for an unreadable file."""
        base_path = data_dir / f"faiss-{generation}.index"
        if base_path.exists():
            return cls.load(base_path, dim, config)
        delta_path = data_dir / f"faiss-{generation}.delta"
        if not delta_path.exists():
            return None
        try:
            with np.load(delta_path) as data:
                base_gen = int(data["base"][0])
                delta_dim = int(data["dim"][0])
                ids, vectors, removed = data["ids"], data["vectors"], data["removed"]
        except (KeyError, IndexError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"{delta_path}: unreadable delta ({exc})") from exc
        if dim is not None and delta_dim != dim:
            raise ValueError(f"{delta_path}: dimension {delta_dim}, expected {dim}")
        if reuse is not None and reuse.base_generation == base_gen and reuse.dim == delta_dim:
            dense = cls(delta_dim, reuse._base, config, base_generation=base_gen)
        else:
            path = data_dir / f"faiss-{base_gen}.index"
            if not path.exists():
                raise ValueError(f"{delta_path}: its base {path.name} is gone")
            dense = cls.load(path, delta_dim, config)
        dense._removed = set(removed.tolist())
        dense.add(ids, vectors)
        return dense


def generation_files(data_dir: Path, generation: int) -> set[str]:
    """Names of the files generation `generation` needs on disk (empty if it has none)."""
    if (data_dir / f"faiss-{generation}.index").exists():
        return {f"faiss-{generation}.index"}
    delta = data_dir / f"faiss-{generation}.delta"
    try:
        with np.load(delta) as data:
            return {delta.name, f"faiss-{int(data['base'][0])}.index"}
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


def _atomic_write(path: Path, write: object) -> None:
    """Write through a temp file and rename: a crash leaves no half file under `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)  # type: ignore[operator]
        readable_by_all(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

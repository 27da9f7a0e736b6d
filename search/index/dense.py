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

import math
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
from samsok.search.index.config import DenseConfig
from samsok.search.index.dense_files import (
    BASE_FILE,
    Delta,
    atomic_write,
    base_name,
    delta_name,
    read_delta,
    write_delta,
)
from samsok.search.index.faiss_base import (
    base_ids,
    flat_index,
    flat_vectors,
    is_ivf,
    remove_ids,
    search_params,
    selector,
    train_ivf,
)

__all__ = ["DenseIndex"]

# A filter keeping less than this share of the chunks scans at most 1/share more IVF lists:
# a floor so an (almost) empty filter cannot ask for millions of probes (min(…, nlist) caps it).
MIN_FILTER_SHARE = 1e-6
# An IVF base goes back to flat only below threshold / this, so a corpus hovering around the
# threshold is not rebuilt one way and back on every commit.
FLAT_HYSTERESIS = 2
# The IVF lists were trained for `nlist_for(n)`; retrain once the corpus wants this many times
# as many lists (4× the vectors): list scans grow with √n until then.
RETRAIN_NLIST_GROWTH = 2


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
        self._base = index if index is not None else flat_index(dim)
        self.base_generation = base_generation  # None: the base is not on disk yet
        self._base_ids = base_ids(self._base)
        self._removed: set[int] = set()  # base ids deleted since the base was written
        self._delta = flat_index(dim)
        self._delta_vectors: dict[int, np.ndarray] = {}  # exact copies, for the delta file

    # -- shape ------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._base_ids) - len(self._removed) + len(self._delta_vectors)

    @property
    def kind(self) -> str:
        return "ivf-fp16" if is_ivf(self._base) else "flat"

    @property
    def delta_changes(self) -> int:
        return len(self._removed) + len(self._delta_vectors)

    @property
    def needs_rebuild(self) -> bool:
        """The base no longer fits the corpus: flat above the threshold, IVF far below it, or
        IVF grown 4× past what its lists were trained for. Rebuilt from exact vectors."""
        size = self.size
        if is_ivf(self._base):
            nlist = faiss.extract_index_ivf(self._base).nlist
            return size < self.config.ann_threshold // FLAT_HYSTERESIS or (
                not self.config.ann_nlist
                and self.config.nlist_for(size) >= RETRAIN_NLIST_GROWTH * nlist
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
            index = train_ivf(dim, vectors, config.nlist_for(len(ids)))
            index.add_with_ids(vectors, ids)
        else:
            index = flat_index(dim)
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
            remove_ids(self._delta, np.asarray(in_delta, dtype=np.int64))
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
        if is_ivf(self._base):
            if len(removed):
                self._base.remove_ids(faiss.IDSelectorBatch(removed))
            if len(delta_ids):
                self._base.add_with_ids(delta_vecs, delta_ids)
            self._base_ids = base_ids(self._base)
        else:
            ids, vectors = flat_vectors(self._base)
            keep = ~np.isin(ids, removed)
            ids = np.concatenate([ids[keep], delta_ids])
            vectors = np.vstack([vectors[keep], delta_vecs])
            rebuilt = DenseIndex.build(self.dim, ids, vectors, self.config)
            self._base, self._base_ids = rebuilt._base, rebuilt._base_ids
        self._removed.clear()
        self._delta = flat_index(self.dim)
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
            delta_sel = selector(allowed, None)
            params = search_params(delta_sel)
            kd = min(k, len(self._delta_vectors))
            scores, ids = self._delta.search(q, kd, params=params)
            hits.extend((int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True))
        hits = [(i, s) for i, s in hits if i >= 0]
        hits.sort(key=lambda h: (-h[1], h[0]))
        return hits[:k]

    def _search_base(
        self, q: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        sel = selector(allowed, self._removed)
        if is_ivf(self._base):
            ivf = faiss.extract_index_ivf(self._base)
            nprobe = self.config.ann_nprobe
            if allowed is not None:
                # A filter keeping a fraction f of the chunks leaves ~f of each list: scan
                # 1/f as many lists so as many allowed candidates are compared as unfiltered.
                share = max(len(allowed) / max(len(self._base_ids), 1), MIN_FILTER_SHARE)
                nprobe = math.ceil(nprobe / min(share, 1.0))
            params = search_params(sel, min(nprobe, ivf.nlist))
        else:
            params = search_params(sel)
        scores, ids = self._base.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True)]

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
            path = data_dir / base_name(generation)
            atomic_write(path, lambda tmp: faiss.write_index(self._base, tmp))
            self.base_generation = generation
            return path
        path = data_dir / delta_name(generation)
        assert self.base_generation is not None  # else wants_fold()
        ids = np.fromiter(self._delta_vectors, np.int64, len(self._delta_vectors))
        vectors = (
            np.vstack(list(self._delta_vectors.values()))
            if len(ids)
            else np.zeros((0, self.dim), np.float32)
        )
        removed = np.fromiter(sorted(self._removed), np.int64, len(self._removed))
        write_delta(path, Delta(self.base_generation, self.dim, ids, vectors, removed))
        return path

    def files(self, generation: int) -> set[str]:
        """Names of the files generation `generation` was saved as (after `save_generation`)."""
        names = {base_name(self.base_generation)}
        if self.base_generation != generation:
            names.add(delta_name(generation))
        return names

    def save(self, path: Path) -> None:
        """Write the whole index (base and delta folded) as one FAISS file, atomically."""
        if self.delta_changes:
            self.fold()
        atomic_write(path, lambda tmp: faiss.write_index(self._base, tmp))

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
        base_path = data_dir / base_name(generation)
        if base_path.exists():
            return cls.load(base_path, dim, config)
        delta_path = data_dir / delta_name(generation)
        if not delta_path.exists():
            return None
        delta = read_delta(delta_path)
        if dim is not None and delta.dim != dim:
            raise ValueError(f"{delta_path}: dimension {delta.dim}, expected {dim}")
        if reuse is not None and reuse.base_generation == delta.base and reuse.dim == delta.dim:
            dense = cls(delta.dim, reuse._base, config, base_generation=delta.base)
        else:
            path = data_dir / base_name(delta.base)
            if not path.exists():
                raise ValueError(f"{delta_path}: its base {path.name} is gone")
            dense = cls.load(path, delta.dim, config)
        dense._removed = set(delta.removed.tolist())
        dense.add(delta.ids, delta.vectors)
        return dense

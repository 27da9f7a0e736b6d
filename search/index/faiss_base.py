"""The FAISS side of the dense index: which base the corpus size calls for (exact or IVF), how
it is built and read back, and the id selectors that apply filters inside a search.

faiss ships type stubs with the raw SWIG signatures (`IDSelectorBitmap(n, bitmap)`,
`remove_ids(IDSelector)`); at import it installs numpy-taking methods over them. The calls
that rely on those wrappers go through `_faiss` (untyped) so mypy checks the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

__all__ = [
    "BATCH_SELECTOR_MAX",
    "DenseConfig",
    "base_ids",
    "flat_index",
    "flat_vectors",
    "is_ivf",
    "one_thread_per_query",
    "selector",
    "train_ivf",
]

_faiss: Any = faiss

# Below this many ids a hash set (IDSelectorBatch) is cheaper to build than a bitmap.
BATCH_SELECTOR_MAX = 4096
# k-means on at most this many points per IVF list: enough for stable centroids (FAISS warns
# below 39), seconds not minutes of training at 1M vectors.
TRAIN_POINTS_PER_LIST = 64
# The fewest IVF lists: below ~256 vectors a list, sqrt(n) lists would make lists too coarse.
MIN_NLIST = 16


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
        return self.ann_nlist or max(MIN_NLIST, int(math.sqrt(n)))


def flat_index(dim: int) -> faiss.Index:
    """An empty exact inner-product index with our ids."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def base_ids(index: faiss.Index) -> np.ndarray:
    """Sorted ids held by a base index (flat with an id map, or IVF)."""
    if isinstance(index, faiss.IndexIDMap) or hasattr(index, "id_map"):
        return np.sort(faiss.vector_to_array(_faiss_any(index).id_map).astype(np.int64))
    ivf = faiss.extract_index_ivf(index)
    invlists = ivf.invlists
    assert invlists is not None  # an IVF index always has its lists
    parts = []
    for list_no in range(ivf.nlist):
        size = invlists.list_size(list_no)
        if size:
            ptr = invlists.get_ids(list_no)
            parts.append(faiss.rev_swig_ptr(ptr, size).astype(np.int64).copy())
            _faiss_any(invlists).release_ids(list_no, ptr)
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def is_ivf(index: faiss.Index) -> bool:
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        return False
    return True


def flat_vectors(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """(ids, exact vectors) of a flat base."""
    wrapped = _faiss_any(index)
    ids = faiss.vector_to_array(wrapped.id_map).astype(np.int64)
    flat = _faiss_any(faiss.downcast_index(wrapped.index))
    vectors = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(-1, flat.d).copy()
    return ids, vectors


def train_ivf(dim: int, vectors: np.ndarray, nlist: int) -> faiss.Index:
    """An empty IVF index with fp16 codes, its lists trained on (a sample of) `vectors`."""
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    sample = vectors
    if len(vectors) > TRAIN_POINTS_PER_LIST * nlist:
        rng = np.random.default_rng(0)
        picked = rng.choice(len(vectors), TRAIN_POINTS_PER_LIST * nlist, replace=False)
        sample = vectors[np.sort(picked)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index


def search_params(sel: faiss.IDSelector | None, nprobe: int | None = None) -> Any:
    """Search parameters with an id selector (None: no restriction) and, for IVF, `nprobe`."""
    if nprobe is not None:
        return _faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
    return _faiss.SearchParameters(sel=sel) if sel is not None else None


def remove_ids(index: faiss.Index, ids: np.ndarray) -> None:
    """Remove `ids` from an index (the numpy wrapper takes the array itself)."""
    _faiss_any(index).remove_ids(ids)


def _bitmap(ids: np.ndarray, size: int) -> np.ndarray:
    """A FAISS `IDSelectorBitmap` bitmap (bit i of byte i>>3, little endian) of `ids`."""
    mask = np.zeros(size, dtype=bool)
    mask[ids] = True
    return np.packbits(mask, bitorder="little")


def selector(allowed: np.ndarray | None, removed: set[int] | None) -> faiss.IDSelector | None:
    """An id selector for `allowed` minus `removed` (None: everything). The selector keeps
    the numpy buffers it points into alive (`_keep`)."""
    removed_arr = np.fromiter(removed, np.int64, len(removed)) if removed else np.zeros(0, np.int64)
    sel: Any
    if allowed is None:
        if not len(removed_arr):
            return None
        inner = faiss.IDSelectorBatch(removed_arr)
        sel = faiss.IDSelectorNot(inner)
        sel._keep = (inner, removed_arr)
        return sel
    if len(allowed) <= BATCH_SELECTOR_MAX:
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
    sel = _faiss.IDSelectorBitmap(bitmap)
    sel._keep = bitmap
    return sel


def _faiss_any(obj: object) -> Any:
    """A FAISS object whose runtime attributes (set by faiss's wrappers, or of a subclass the
    stub does not name) mypy cannot see."""
    return obj


def one_thread_per_query() -> None:
    """Search on the calling thread only: for readers, which answer one query per thread.

    FAISS's default OpenMP team spreads one query's scan over every core, and its spinning
    barrier waits cost more CPU than they save (mirror index, 2 shared cores: 16.9 -> 8.6 ms
    CPU per search); concurrent requests use the cores instead. OpenMP keeps the setting per
    thread (a thread started later gets the default team again), so every thread that
    searches calls it; readers only (a writer's index training keeps the team)."""
    _faiss.omp_set_num_threads(1)

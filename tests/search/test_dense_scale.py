"""The vector index at scale: exact below the threshold, IVF-SQ8 above it, base + delta files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from samsok.ingest.documents import Region
from samsok.search.index import DenseConfig, DenseIndex, IndexConfig, SearchIndex
from samsok.search.index.dense_files import generation_files
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder
from tests.search.test_index import fill, make_doc, page_chunker


def clustered(n: int, dim: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around `clusters` centres: nearest neighbours are meaningful, as in text."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vecs = centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs.astype(np.float32)


def exact_top(vectors: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> set[int]:
    scores = vectors @ q
    return set(ids[np.argsort(-scores)[:k]].tolist())


def test_index_kind_switches_at_the_threshold() -> None:
    config = DenseConfig(ann_threshold=2000)
    vecs = clustered(2000)
    ids = np.arange(1, 2001, dtype=np.int64)
    assert DenseIndex.build(32, ids[:1999], vecs[:1999], config).kind == "flat"
    ann = DenseIndex.build(32, ids, vecs, config)
    assert ann.kind == "ivf-fp16"
    assert np.array_equal(ann.ids(), ids)
    # A flat index that grows past the threshold asks for an IVF base, and folding trains it.
    flat = DenseIndex.build(32, ids[:1500], vecs[:1500], config)
    flat.add(ids[1500:], vecs[1500:])
    assert flat.needs_rebuild
    flat.fold()
    assert flat.kind == "ivf-fp16" and np.array_equal(flat.ids(), ids)


@pytest.mark.parametrize("filtered", [False, True])
def test_ann_search_agrees_with_exact_search(filtered: bool) -> None:
    n = 6000
    vecs = clustered(n, seed=1)
    ids = np.arange(10, 10 + n, dtype=np.int64) * 3  # ids are store ids, not positions
    dense = DenseIndex.build(32, ids, vecs, DenseConfig(ann_threshold=1000, ann_nprobe=8))
    assert dense.kind == "ivf-fp16"
    rng = np.random.default_rng(2)
    allowed = np.sort(rng.choice(ids, n // 10, replace=False)) if filtered else None
    recalls = []
    for q in clustered(50, seed=3):
        hits = dense.search(q, 10, allowed)
        assert len(hits) == 10
        got = {i for i, _ in hits}
        if allowed is not None:
            assert got <= set(allowed.tolist())
            mask = np.isin(ids, allowed)
            truth = exact_top(vecs[mask], ids[mask], q, 10)
        else:
            truth = exact_top(vecs, ids, q, 10)
        recalls.append(len(got & truth) / 10)
    assert np.mean(recalls) >= 0.9


def test_removed_and_added_vectors_are_searched_in_both_segments() -> None:
    vecs = clustered(3000, seed=4)
    ids = np.arange(1, 3001, dtype=np.int64)
    dense = DenseIndex.build(32, ids[:2000], vecs[:2000], DenseConfig(ann_threshold=1000))
    dense.base_generation = 1
    q = vecs[5]
    assert dense.search(q, 1)[0][0] == 6
    dense.remove([6])
    dense.add(ids[2000:], vecs[2000:])
    dense.add(np.array([5000]), q.reshape(1, -1))
    assert dense.search(q, 1)[0][0] == 5000
    assert 6 not in {i for i, _ in dense.search(q, 50)}
    assert 6 not in {i for i, _ in dense.search(q, 50, np.arange(1, 3001))}
    expected = np.sort(np.concatenate([ids[ids != 6], [5000]]))
    assert np.array_equal(dense.ids(), expected)


def test_bitmap_filter_for_large_id_sets() -> None:
    vecs = clustered(12000, seed=5)
    ids = np.arange(1, 12001, dtype=np.int64)
    dense = DenseIndex.build(32, ids, vecs, DenseConfig(ann_threshold=100_000))
    allowed = ids[ids % 2 == 0]  # > the hash-set size: a numpy bitmap selector
    hits = dense.search(vecs[0], 20, allowed)
    assert len(hits) == 20 and all(i % 2 == 0 for i, _ in hits)
    mask = ids % 2 == 0
    assert {i for i, _ in hits} == exact_top(vecs[mask], ids[mask], vecs[0], 20)


def _files(data: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in data.glob("faiss-*")}


def test_a_commit_writes_a_delta_not_the_base(tmp_path: Path) -> None:
    data = tmp_path / "data"
    embedder = HashingEmbedder()
    with SearchIndex(data, embedder, page_chunker) as idx:
        fill(idx)
        base = _files(data)
        assert len(base) == 1 and next(iter(base)).endswith(".index")
        base_bytes = (data / next(iter(base))).read_bytes()
        reader = SearchIndex(data, embedder, page_chunker, read_only=True)
        idx.upsert(make_doc("https://x.example/ny.html", "Ny sak om legevakt i Stjørdal i mai."))
        idx.commit()
        files = _files(data)
        manifest = json.loads((data / "manifest.json").read_text())
        assert manifest["faiss_delta"] == f"faiss-{idx.generation}.delta"
        assert manifest["faiss_file"] in base  # the same base file, not rewritten
        assert files[manifest["faiss_file"]] == base[manifest["faiss_file"]]
        assert (data / manifest["faiss_file"]).read_bytes() == base_bytes
        assert not [n for n in files if n.endswith(".index") and n not in base]
        # A second change: a new cumulative delta; the previous one stays for one generation.
        old = idx.store.documents_all()[0]
        idx.remove(old.doc_id)
        idx.commit()
        assert f"faiss-{idx.generation}.delta" in _files(data)
        reader.refresh()
        request = SearchRequest(q="legevakt Stjørdal", mode=SearchMode.DENSE, limit=10)
        seen = [h.chunk_id for h in reader.search(request).results]
        assert reader.generation == idx.generation
        assert reader._dense.ids().tolist() == idx.store.chunk_ids().tolist()
        reader.close()
    fresh = SearchIndex(data, embedder, page_chunker, read_only=True)
    assert [h.chunk_id for h in fresh.search(request).results] == seen
    fresh.close()


def test_a_big_delta_is_folded_into_a_new_base(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = IndexConfig(dense=DenseConfig(merge_min=3, merge_fraction=0.01))
    with SearchIndex(data, HashingEmbedder(), page_chunker, config) as idx:
        fill(idx)
        first = {n for n in _files(data) if n.endswith(".index")}
        idx.upsert_many(
            [make_doc(f"https://x.example/{i}.html", f"Sak {i} om helse {i}") for i in range(5)]
        )
        idx.commit()
        manifest = json.loads((data / "manifest.json").read_text())
        assert manifest["faiss_delta"] is None
        assert manifest["faiss_file"] == f"faiss-{idx.generation}.index"
        idx.upsert(make_doc("https://x.example/z.html", "Enda en sak"))
        idx.commit()
        idx.upsert(make_doc("https://x.example/w.html", "Og en til"))
        idx.commit()
        # Two generations later the first base is unused: removed.
        assert not first & set(_files(data))
    with SearchIndex(data, HashingEmbedder(), page_chunker, config) as idx:
        assert np.array_equal(idx._dense.ids(), idx.store.chunk_ids())


def test_a_delta_whose_base_is_gone_is_rebuilt_from_the_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with SearchIndex(data, HashingEmbedder(), page_chunker) as idx:
        fill(idx)
        idx.upsert(make_doc("https://x.example/ny.html", "Ny sak", region=Region.ORKDAL))
        idx.commit()
    manifest = json.loads((data / "manifest.json").read_text())
    (data / manifest["faiss_file"]).unlink()
    with SearchIndex(data, HashingEmbedder(), page_chunker) as idx:
        assert np.array_equal(idx._dense.ids(), idx.store.chunk_ids())
    reader = SearchIndex(data, HashingEmbedder(), page_chunker, read_only=True)
    assert reader._dense.size == reader.stats().chunks
    reader.close()


def test_crossing_the_threshold_in_a_commit_builds_an_ivf_base(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = IndexConfig(dense=DenseConfig(ann_threshold=20))
    with SearchIndex(data, HashingEmbedder(), page_chunker, config) as idx:
        fill(idx, 4)
        assert idx._dense.kind == "flat" and idx._dense.size < 20
        fill(idx, 12)
        assert idx._dense.size >= 20
        manifest = json.loads((data / "manifest.json").read_text())
        assert manifest["faiss_kind"] == "ivf-fp16"
        hits = idx.search(SearchRequest(q="Sak nummer 3", mode=SearchMode.DENSE, limit=3))
        assert hits.results


_CHILD = """
import sys
from pathlib import Path
from samsok.search.index.dense import DenseConfig
from samsok.search.index import IndexConfig, SearchIndex
from tests.fakes import HashingEmbedder
from tests.search.test_index import make_doc, page_chunker

config = IndexConfig(dense=DenseConfig(ann_threshold=60, merge_min=20, merge_fraction=0.1))
with SearchIndex(Path(sys.argv[1]), HashingEmbedder(), page_chunker, config) as idx:
    i = 0
    while True:
        i += 1
        idx.upsert(make_doc(f"https://x.example/{i % 97}.html", f"Sak {i} om helse og omsorg {i}"))
        if i % 3 == 0:
            idx.remove(f"https://x.example/{(i * 7) % 97}.html")
        idx.commit()
        if i == 1:
            print("ready", flush=True)
"""


def test_kill_9_at_any_moment_leaves_a_consistent_index(tmp_path: Path) -> None:
    """A writer committing deltas, folds and the flat→IVF switch, killed over and over: every
    reopen (reader and writer) serves exactly the store's chunks."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(data)], cwd=root, stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(0.2 + float(rng.random()) * 1.5)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        reader = SearchIndex(data, HashingEmbedder(), page_chunker, read_only=True)
        assert np.array_equal(reader._dense.ids(), reader.store.chunk_ids())
        reader.close()
    with SearchIndex(data, HashingEmbedder(), page_chunker) as idx:
        assert np.array_equal(idx._dense.ids(), idx.store.chunk_ids())
        assert idx.store.chunk_count() > 0
        idx.commit()
        generation = idx.generation
        kept = {p.name for p in data.glob("faiss-*")}
    # The published generation's files, and at most the previous generation's (grace).
    assert generation_files(data, generation) <= kept
    assert len(kept) <= 4
    assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]


def test_a_reader_between_commits_catches_up_from_the_published_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = IndexConfig(dense=DenseConfig(ann_threshold=10))
    with SearchIndex(data, HashingEmbedder(), page_chunker, config) as idx:
        fill(idx)
        assert idx._dense.kind == "ivf-fp16"
        removed = idx.store.documents_all()[0].doc_id
        idx.remove(removed)
        idx.upsert(make_doc("https://x.example/ny.html", "Legevakt i Stjørdal"))
        # Not committed: the store's generation has no FAISS files.
        reader = SearchIndex(data, HashingEmbedder(), page_chunker, config, read_only=True)
        assert reader.reload_stats.built_in_memory == 1
        assert np.array_equal(reader._dense.ids(), reader.store.chunk_ids())
        # The published IVF base plus the difference, not an index rebuilt from scratch.
        assert reader._dense.kind == "ivf-fp16" and reader._dense.delta_changes == 2
        hits = reader.search(SearchRequest(q="Legevakt i Stjørdal", mode=SearchMode.DENSE))
        assert hits.results[0].url == "https://x.example/ny.html"
        reader.close()

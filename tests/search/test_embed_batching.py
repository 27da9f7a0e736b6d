"""Query cache, micro-batcher and length buckets, around a tiny fake model (no real model)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from samsok.search.embedding.batching import (
    MicroBatcher,
    QueryCache,
    embed_with_cache,
    length_buckets,
)


class FakeModel:
    """Deterministic vectors per text (independent of batch company), records every call."""

    def __init__(self, delay: float = 0.0, dim: int = 8) -> None:
        self.delay = delay
        self.dim = dim
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def vector(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % (2**32))
        v = rng.standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            if any(t == "boom" for t in texts):
                raise RuntimeError("model failed")
            return np.vstack([self.vector(t) for t in texts])
        finally:
            with self._lock:
                self.active -= 1


# -- query cache -------------------------------------------------------------------------------


def test_cache_evicts_the_least_recently_used() -> None:
    cache = QueryCache(2)
    a, b, c = (np.full(3, x, dtype=np.float32) for x in (1, 2, 3))
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", c)
    assert cache.get("b") is None
    np.testing.assert_array_equal(cache.get("a"), a)
    np.testing.assert_array_equal(cache.get("c"), c)
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (3, 1)


def test_cached_vectors_cannot_be_changed_by_a_caller() -> None:
    cache = QueryCache(4)
    original = np.ones(3, dtype=np.float32)
    cache.put("q", original)
    original[0] = 5  # the caller's own array: the cache kept a copy
    got = cache.get("q")
    assert got is not None and got[0] == 1
    with pytest.raises(ValueError):
        got[0] = 7


def test_size_zero_disables_the_cache_and_negative_is_refused() -> None:
    cache = QueryCache(0)
    cache.put("q", np.ones(3, dtype=np.float32))
    assert cache.get("q") is None and len(cache) == 0
    with pytest.raises(ValueError):
        QueryCache(-1)


def test_embed_with_cache_embeds_each_missing_text_once() -> None:
    model = FakeModel()
    cache = QueryCache(10)
    first = embed_with_cache(["a", "b", "a"], cache, model)
    assert model.calls == [["a", "b"]]
    np.testing.assert_array_equal(first[0], first[2])
    second = embed_with_cache(["b", "c", "a"], cache, model)
    assert model.calls[-1] == ["c"]
    np.testing.assert_array_equal(second, np.vstack([model.vector(t) for t in "bca"]))
    embed_with_cache(["a", "b", "c"], cache, model)
    assert len(model.calls) == 2  # all hits: no model call


# -- micro-batcher -----------------------------------------------------------------------------


def test_a_lone_caller_is_served_alone_and_at_once() -> None:
    model = FakeModel()
    batcher = MicroBatcher(model, max_batch=8, max_wait=0.5)
    started = time.perf_counter()
    for text in ["a", "b", "c"]:
        np.testing.assert_array_equal(batcher.embed([text])[0], model.vector(text))
    assert time.perf_counter() - started < 0.5  # never waited for company that was not there
    assert model.calls == [["a"], ["b"], ["c"]]


def test_concurrent_callers_get_their_own_vectors_from_shared_calls() -> None:
    model = FakeModel(delay=0.02)
    batcher = MicroBatcher(model, max_batch=16, max_wait=0.002)
    texts = [f"spørsmål {i}" for i in range(64)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda t: batcher.embed([t]), texts))
    for text, got in zip(texts, results, strict=True):
        assert got.shape == (1, model.dim)
        np.testing.assert_array_equal(got[0], model.vector(text))  # same as a single call
    assert sorted(t for call in model.calls for t in call) == sorted(texts)  # each once
    assert len(model.calls) < len(texts) / 2  # batched
    assert max(len(call) for call in model.calls) <= 16
    assert model.max_active == 1  # one model call at a time: the cores are not fought over


def test_multi_text_requests_stay_whole_and_in_order() -> None:
    model = FakeModel(delay=0.01)
    batcher = MicroBatcher(model, max_batch=4, max_wait=0.002)
    requests = [[f"r{i}-{j}" for j in range(1 + i % 3)] for i in range(20)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(batcher.embed, requests))
    for request, got in zip(requests, results, strict=True):
        np.testing.assert_array_equal(got, np.vstack([model.vector(t) for t in request]))
    for call in model.calls:  # a request is never split across model calls
        owners = [t.split("-")[0] for t in call]
        for owner in set(owners):
            wanted = next(r for r in requests if r[0].startswith(owner + "-"))
            assert [t for t in call if t.split("-")[0] == owner] == wanted
        assert len(call) <= 4 or len({t.split("-")[0] for t in call}) == 1


def test_a_model_error_reaches_every_caller_of_that_batch_and_only_them() -> None:
    model = FakeModel(delay=0.02)
    batcher = MicroBatcher(model, max_batch=64, max_wait=0.005)
    texts = ["boom", *[f"ok {i}" for i in range(15)]]

    def call(text: str) -> str:
        try:
            batcher.embed([text])
        except RuntimeError as exc:
            return str(exc)
        return "ok"

    with ThreadPoolExecutor(16) as pool:
        outcomes = dict(zip(texts, pool.map(call, texts), strict=True))
    failed_batches = [c for c in model.calls if "boom" in c]
    assert len(failed_batches) == 1
    for text, outcome in outcomes.items():
        assert outcome == ("model failed" if text in failed_batches[0] else "ok"), text
    np.testing.assert_array_equal(batcher.embed(["after"])[0], model.vector("after"))  # usable


def test_batcher_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        MicroBatcher(FakeModel(), max_batch=0)
    with pytest.raises(ValueError):
        MicroBatcher(FakeModel(), max_wait=-1)


# -- length buckets ----------------------------------------------------------------------------


def test_length_buckets_group_similar_lengths_and_cover_every_index_once() -> None:
    lengths = [5, 100, 7, 98, 6, 99, 50]
    buckets = length_buckets(lengths, 3)
    assert buckets == [[1, 5, 3], [6, 2, 4], [0]]
    assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
    assert length_buckets([], 4) == []
    with pytest.raises(ValueError):
        length_buckets([1], 0)

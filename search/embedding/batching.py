"""Scheduling around one embedding model: query vector cache, micro-batching, length buckets.

All three are model-free (they wrap a ``texts -> vectors`` function), so they are tested with a
tiny fake model and shared by every embedding backend.

- `QueryCache`: an LRU of query vectors. Users repeat queries (paging, filters, the same
  question from many staff); a hit costs microseconds instead of a model call.
- `MicroBatcher`: concurrent request threads that each want one query embedded are served by
  one batched model call. On 2 cores a batch of 8 short queries costs little more than one
  query, while 8 separate calls would queue behind each other and fight for the cores.
- `length_buckets`: documents sorted by token length before batching, so a batch pads to
  similar lengths instead of to the longest text in the whole input.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MicroBatcher", "QueryCache", "length_buckets"]

EmbedFn = Callable[[list[str]], np.ndarray]


class QueryCache:
    """A thread-safe LRU of ``text -> vector``; ``size`` 0 disables it."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"query cache size must be >= 0, got {size}")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        if self.size == 0:
            return None
        with self._lock:
            vector = self._items.get(text)
            if vector is None:
                self.misses += 1
                return None
            self._items.move_to_end(text)
            self.hits += 1
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        if self.size == 0:
            return
        stored = np.array(vector, dtype=np.float32, copy=True)
        stored.setflags(write=False)  # handed out to many callers: nobody may change it
        with self._lock:
            self._items[text] = stored
            self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def embed_with_cache(texts: Sequence[str], cache: QueryCache, embed: EmbedFn) -> np.ndarray:
    """Vectors for ``texts``: cached ones from ``cache``, the others from one ``embed`` call
    (each distinct missing text embedded once), then cached."""
    found: list[np.ndarray | None] = [cache.get(t) for t in texts]
    missing = list(dict.fromkeys(t for t, v in zip(texts, found, strict=True) if v is None))
    if missing:
        fresh = dict(zip(missing, embed(missing), strict=True))
        for text, vector in fresh.items():
            cache.put(text, vector)
        found = [fresh[t] if v is None else v for t, v in zip(texts, found, strict=True)]
    return np.vstack([np.asarray(v, dtype=np.float32) for v in found])


@dataclass(eq=False)
class _Request:
    texts: list[str]
    done: bool = False
    result: np.ndarray | None = None
    error: BaseException | None = None
    joined: int = field(default=0)  # how many requests shared its model call (for tests/logs)


class MicroBatcher:
    """Serves concurrent ``embed(texts)`` calls with shared, batched calls of ``fn``.

    Leader/follower, no thread of its own: a caller that finds the model idle runs it itself
    for every request waiting at that moment (up to ``max_batch`` texts); callers arriving
    meanwhile queue, and the next of them leads the following batch. Under load batches form
    by themselves while the model is busy. ``max_wait`` only applies when the last batch was
    shared (there is concurrency right now): the leader then waits that long for company
    before starting, so a lone caller never pays it. Requests are never split across batches,
    and each caller gets exactly the rows for its own texts, in order; an exception in ``fn``
    is raised in every caller of that batch.
    """

    def __init__(self, fn: EmbedFn, *, max_batch: int = 32, max_wait: float = 0.002) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if max_wait < 0:
            raise ValueError(f"max_wait must be >= 0, got {max_wait}")
        self._fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[_Request] = []
        self._busy = False
        self._last_shared = False
        self.model_calls = 0  # for tests and benchmarks

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        request = _Request(list(texts))
        with self._cond:
            self._pending.append(request)
            self._cond.notify_all()  # a leader waiting for company may start now
            while not request.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._lead()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _lead(self) -> None:
        """Run one batch (called with the lock held; releases it around the model call)."""
        self._busy = True
        try:
            if self._last_shared and self.max_wait > 0:
                deadline = time.monotonic() + self.max_wait
                while self._pending_texts() < self.max_batch:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch = self._take_batch()
            self._last_shared = len(batch) > 1
            self.model_calls += 1
            self._cond.release()
            try:
                texts = [t for r in batch for t in r.texts]
                vectors = self._fn(texts) if texts else None
                start = 0
                for r in batch:
                    if vectors is None:
                        r.result = np.zeros((0, 0), dtype=np.float32)
                    else:
                        r.result = vectors[start : start + len(r.texts)]
                    start += len(r.texts)
                    r.joined = len(batch)
            except BaseException as exc:  # every caller of the batch (the leader too) raises it
                for r in batch:
                    r.error = exc
            finally:
                self._cond.acquire()
            for r in batch:
                r.done = True
        finally:
            self._busy = False
            self._cond.notify_all()

    def _pending_texts(self) -> int:
        return sum(len(r.texts) for r in self._pending)

    def _take_batch(self) -> list[_Request]:
        batch: list[_Request] = []
        size = 0
        while self._pending:
            nxt = self._pending[0]
            if batch and size + len(nxt.texts) > self.max_batch:
                break
            batch.append(self._pending.pop(0))
            size += len(nxt.texts)
        return batch


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of texts of similar length (longest first, so a memory
    problem shows at once), each batch at most ``batch_size``; ties keep input order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

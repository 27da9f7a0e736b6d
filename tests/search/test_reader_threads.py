"""A reader answers each query on the thread that asked: request threads too, not only the
thread that opened it (the HTTP server searches in its worker threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import faiss
import pytest
from samsok.search.index import SearchIndex
from samsok.search.schemas import SearchRequest

from tests.fakes import HashingEmbedder, page_chunker
from tests.search.test_index import TOPICS, make_doc

T = TypeVar("T")


def _in_new_thread(fn: Callable[[], T]) -> T:
    out: list[T] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


def test_reader_searches_on_one_openmp_thread_in_every_thread(tmp_path: Path) -> None:
    if _in_new_thread(faiss.omp_get_max_threads) == 1:
        pytest.skip("one core (or OMP_NUM_THREADS=1): a new thread's team is one thread anyway")
    data = tmp_path / "data"
    with SearchIndex(data, HashingEmbedder(), page_chunker) as writer:
        writer.upsert_many([make_doc(f"https://x.no/{i}", t) for i, t in enumerate(TOPICS)])
    reader = SearchIndex(data, HashingEmbedder(), page_chunker, read_only=True)
    try:

        def search_then_team() -> tuple[int, int]:
            total = reader.search(SearchRequest(q="jordmor i Tydal")).total
            return total, faiss.omp_get_max_threads()

        total, team = _in_new_thread(search_then_team)
        assert total > 0
        assert team == 1  # FAISS's OpenMP team is per thread: this one was set, too
    finally:
        reader.close()

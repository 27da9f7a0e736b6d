"""Hybrid search runs the query embedding and dense run beside the lexical run
(`IndexConfig.concurrent_runs`): same answers as one after the other, errors still surface."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from samsok.ingest.documents import DocType, Region
from samsok.search.index import IndexConfig, SearchIndex
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder, page_chunker
from tests.search.test_index import fill

QUERIES = ["jordmor Tydal", "legevakt om natta", "helse og omsorg", "Værnesregionen sak"]
FILTERS: list[dict[str, object]] = [
    {},
    {"region": Region.ORKDAL},
    {"type": DocType.NEWS},
    {"date_from": date(2012, 1, 1), "date_to": date(2015, 1, 1)},
]


class ThreadRecordingEmbedder(HashingEmbedder):
    """Records the thread of each query embedding; can fail on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.fail = False

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("embedding failed")
        return super().embed_queries(texts)


def test_concurrent_hybrid_search_gives_the_sequential_answer(tmp_path: Path) -> None:
    embedder = ThreadRecordingEmbedder()
    config = IndexConfig(candidates=5)
    with SearchIndex(tmp_path / "data", embedder, page_chunker, config) as writer:
        fill(writer)
    sequential = SearchIndex(
        tmp_path / "data",
        embedder,
        page_chunker,
        replace(config, concurrent_runs=False),
        read_only=True,
    )
    concurrent = SearchIndex(tmp_path / "data", embedder, page_chunker, config, read_only=True)
    try:
        for q in QUERIES:
            for filt in FILTERS:
                request = SearchRequest(q=q, mode=SearchMode.HYBRID, limit=5, **filt)
                embedder.threads.clear()
                want = sequential.search(request)
                assert embedder.threads == [threading.current_thread().name]
                embedder.threads.clear()
                got = concurrent.search(request)
                assert embedder.threads and embedder.threads[0].startswith("samsok-dense")
                assert [(h.doc_id, h.score, h.snippet) for h in got.results] == [
                    (h.doc_id, h.score, h.snippet) for h in want.results
                ], (q, filt)
                assert got.total == want.total
                assert want.results or filt  # the unfiltered queries find something
    finally:
        sequential.close()
        concurrent.close()


def test_an_error_in_the_concurrent_dense_run_is_the_search_error(tmp_path: Path) -> None:
    embedder = ThreadRecordingEmbedder()
    with SearchIndex(tmp_path / "data", embedder, page_chunker, IndexConfig()) as index:
        fill(index)
        embedder.fail = True
        with pytest.raises(RuntimeError, match="embedding failed"):
            index.search(SearchRequest(q="jordmor", mode=SearchMode.HYBRID))
        # lexical mode never embeds
        assert index.search(SearchRequest(q="jordmor", mode=SearchMode.LEXICAL)).results

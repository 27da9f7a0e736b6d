"""`GET /search` from many clients at once over real HTTP: every answer is the one a lone
client gets, with the reader searching in the server's worker threads and the concurrent
queries' embeddings shared through the micro-batcher."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from samsok.api.app import create_app
from samsok.api.settings import Settings
from samsok.search.embedding.batching import MicroBatcher
from samsok.search.index import SearchIndex

from tests.api.conftest import build_fixture_index
from tests.fakes import HashingEmbedder
from tests.servers import serve_app

QUERIES = [
    "legevakt",
    "jordmor i kommunen",
    "samhandling sykehus",
    "rehabilitering eldre",
    "hjemmesykepleie natt",
    "psykisk helse barn",
    "kreft koordinator",
    "Værnes Orkdal avtale",
]
MODES = ("hybrid", "dense", "lexical")


class BatchedHashing(HashingEmbedder):
    """The hashing embedder with its query calls going through a `MicroBatcher`; each model
    call takes a while, as a real one does, so concurrent queries share calls."""

    def __init__(self) -> None:
        super().__init__()
        self.batcher = MicroBatcher(self._slow_call, max_batch=8, max_wait=0.002)

    def _slow_call(self, texts: list[str]) -> np.ndarray:
        time.sleep(0.02)
        return super().embed_queries(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.batcher.embed(texts)


def _answer(client: httpx.Client, q: str, mode: str) -> dict[str, Any]:
    response = client.get("/search", params={"q": q, "mode": mode, "limit": 5})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body.pop("took_ms")
    return body


def test_concurrent_searches_get_the_answers_a_lone_client_gets(tmp_path: Path) -> None:
    build_fixture_index(tmp_path / "data").close()
    embedder = BatchedHashing()
    reader = SearchIndex(tmp_path / "data", embedder, lambda doc: [], read_only=True)  # type: ignore[arg-type]
    app = create_app(Settings(data_dir=tmp_path / "settings"), reader)
    asks = [(q, mode) for q in QUERIES for mode in MODES]
    try:
        with serve_app(app) as base:
            with httpx.Client(base_url=base, timeout=30) as client:
                alone = {ask: _answer(client, *ask) for ask in asks}
            assert any(a["results"] for a in alone.values())
            crowd = asks * 4
            random.Random(7).shuffle(crowd)

            def one(ask: tuple[str, str]) -> tuple[tuple[str, str], dict[str, Any]]:
                with httpx.Client(base_url=base, timeout=30) as client:
                    return ask, _answer(client, *ask)

            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(one, crowd))
    finally:
        reader.close()
    for ask, body in answers:
        assert body == alone[ask], ask
    embedded = sum(1 for _, mode in [*asks, *crowd] if mode != "lexical")
    assert embedder.batcher.model_calls < embedded  # some calls were shared

"""A crawl killed with SIGKILL mid-way leaves SQLite and FAISS consistent and resumes cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.chunk import chunk_document
from samsok.search.embedding import Embedder
from samsok.search.index import SearchIndex

from tests.concurrency.helpers import documents_in
from tests.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _assert_consistent(settings: Settings, embedder: Embedder) -> tuple[int, int]:
    chunker = partial(
        chunk_document, config=settings.chunk_config(), count_tokens=embedder.count_tokens
    )
    with SearchIndex(settings.data_dir, embedder, chunker, settings.index_config()) as index:
        chunk_ids = np.array(sorted(cid for cid, _, _ in index.store.all_chunks()), dtype=np.int64)
        assert np.array_equal(index._dense.ids(), chunk_ids)
        stats = index.stats()
        return stats.documents + stats.duplicates, stats.chunks


def test_killed_crawl_resumes_without_duplicates(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data", model_cache_dir=embedder.config.cache_dir)
    env = {
        **os.environ,
        "SAMSOK_DATA_DIR": str(settings.data_dir),
        "SAMSOK_MODEL_CACHE_DIR": str(embedder.config.cache_dir),
        "SAMSOK_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "samsok.api.cli", "crawl", "--mirror"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while documents_in(settings.data_dir) < 8:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the crawl indexed nothing in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    documents_after_kill, _ = _assert_consistent(settings, embedder)
    assert documents_after_kill >= 8

    # Resume: the frontier picks up where it stopped; a clean crawl elsewhere is the reference.
    with_resume = Services(settings, embedder=embedder)
    try:
        with_resume.crawl([], mirror=True)
    finally:
        with_resume.close()
    resumed = _assert_consistent(settings, embedder)

    clean_settings = Settings(
        data_dir=tmp_path / "clean", model_cache_dir=embedder.config.cache_dir
    )
    clean = Services(clean_settings, embedder=embedder)
    try:
        clean.crawl([], mirror=True)
    finally:
        clean.close()
    assert resumed == _assert_consistent(clean_settings, embedder)

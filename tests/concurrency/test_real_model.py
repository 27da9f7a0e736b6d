"""Observation 1 on the real path: `python -m samsok.api.cli serve` and `… ingest` with the real
embedding model (no test hooks at all), sharing one data folder."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.documents import Region
from samsok.search.embedding import Embedder

from tests.concurrency.conftest import make_pages
from tests.concurrency.helpers import REAL_CLI, assert_disk_consistent, cli_env, start_server
from tests.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_real_server_picks_up_a_real_ingest(tmp_path: Path, embedder: Embedder) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, model_cache_dir=embedder.config.cache_dir)
    make_pages(tmp_path / "first", 4, seed=11)
    services = Services(settings, embedder=embedder)
    try:
        services.ingest_paths([tmp_path / "first"], Region.ORKDAL, "local", None)
    finally:
        services.close()
    env = cli_env(data, SAMSOK_MODEL_CACHE_DIR=str(embedder.config.cache_dir))
    log = tmp_path / "serve.log"
    server, base = start_server(data, env, log, module=REAL_CLI, seconds=120)
    try:
        # The first dense query loads the model in the server (not at start).
        assert httpx.get(f"{base}/search", params={"q": "jordmor"}, timeout=120).status_code == 200
        words = make_pages(tmp_path / "second", 3, seed=12)
        ingest = subprocess.run(
            [
                sys.executable,
                "-m",
                "samsok.api.cli",
                "ingest",
                str(tmp_path / "second"),
                "--region",
                "vaernes",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert ingest.returncode == 0, ingest.stderr[-3000:]
        committed = time.monotonic()
        generation, _ = assert_disk_consistent(data)
        while httpx.get(f"{base}/health", timeout=30).json()["generation"] != generation:
            assert time.monotonic() - committed < 5, "not served within 5 s of the commit"
            time.sleep(0.1)
        for word in words.values():
            hits = httpx.get(
                f"{base}/search", params={"q": word, "mode": "lexical"}, timeout=60
            ).json()["results"]
            assert word in hits[0]["snippet"]
            doc = hits[0]["doc_id"]
            assert httpx.get(f"{base}/documents/{doc}/similar", timeout=60).status_code == 200
            page = httpx.get(f"{base}/documents/{doc}", headers={"Accept": "text/html"}, timeout=60)
            assert page.status_code == 200
        dense = httpx.get(
            f"{base}/search", params={"q": "jordmor", "mode": "dense", "limit": 50}, timeout=60
        ).json()
        assert dense["total"] == 7  # every document, the new ones included, is in FAISS
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 143
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert "Traceback" not in log.read_text()

"""Ingest fan-out on Ray: the same index as a local crawl, and nothing lost when stopped.

Runs on a local Ray instance (2 CPUs) with the model-free test embedder in the workers."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.documents import DocType, Document, Page, Region
from samsok.search.distributed import (
    JOURNAL_FILE,
    Journal,
    document_from_json,
    document_to_json,
)
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder
from tests.paths import PROJECT_ROOT

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'samsok[ray]'")

SITE = "www.varnesregionen.no"


def _document(n: int) -> Document:
    return Document(
        url=f"https://example.kommune.no/nyheter/{n}.html",
        source="test",
        region=Region.VAERNES,
        doc_type=DocType.NEWS,
        title=f"Nyhet {n} om jordmortjenesten",
        pages=[Page(None, f"Jordmødrene i Tydal og Selbu deler vakter, del {n}. " * 20)],
        published=date(2011, 5, n % 28 + 1),
        language="nb",
        fetched_at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        metadata={"author": "Kari"},
    )


def test_document_json_round_trip() -> None:
    doc = _document(3)
    again = document_from_json(document_to_json(doc))
    assert again == doc
    assert again.content_hash == doc.content_hash


@pytest.fixture(scope="module")
def local_ray() -> object:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        # The workers import the test embedder from the checkout.
        runtime_env={"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}},
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    shutil.copytree(PROJECT_ROOT / "corpus" / "mirror" / SITE, root / SITE)
    return root


def _snapshot(services: Services) -> dict[str, object]:
    """Everything that defines the index: documents, chunks with their vectors, FAISS ids."""
    index = services.index
    store = index.store
    docs = sorted(
        (row.doc_id, row.content_hash, row.duplicate_of or "") for row in store.documents_all()
    )
    ids, vectors = store.chunk_vectors(index.embedder.model_id)
    order = np.argsort(ids)
    return {
        "docs": docs,
        "chunk_count": len(ids),
        "vectors": np.round(vectors[order], 5).tobytes(),
        "texts": sorted(store.chunk_texts()),
        "faiss_ids": sorted(int(i) for i in ids),
    }


def test_ray_crawl_gives_the_same_index_as_a_local_crawl(
    local_ray: object, tmp_path: Path, mirror: Path
) -> None:
    snapshots = {}
    for mode in ("local", "ray"):
        settings = Settings(
            data_dir=tmp_path / mode,
            mirror_dir=mirror,
            ray_address="local" if mode == "ray" else None,
            ray_workers=2,
        )
        writer_embedder = HashingEmbedder()
        services = Services(settings, embedder=writer_embedder, worker_embedder=HashingEmbedder)
        try:
            report = services.crawl(["vaernesregionen"], mirror=True)
            assert report.indexing.as_dict()["new"] >= 20
            if mode == "ray":  # every chunk was embedded by a worker, none by the writer
                assert writer_embedder.calls == 0
            else:
                assert writer_embedder.calls > 0
            snapshots[mode] = _snapshot(services)
            hits = services.index.search(
                SearchRequest(q="felles jordmortjeneste", mode=SearchMode.DENSE, limit=5)
            )
            assert hits.results
        finally:
            services.close()
        assert (
            not (tmp_path / mode / JOURNAL_FILE).exists()
            or not Journal(tmp_path / mode / JOURNAL_FILE).pending()
        ), "the journal must be empty after a complete run"
    assert snapshots["ray"] == snapshots["local"]


def test_writer_indexes_what_a_killed_ray_run_left_in_the_journal(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    journal = Journal(settings.data_dir / JOURNAL_FILE)
    docs = [_document(n) for n in range(3)]
    for doc in docs:
        journal.add(doc)
    journal.close()  # as if the process was killed with these in flight

    services = Services(settings, embedder=HashingEmbedder())
    try:
        writer = services.writer  # opening the writer replays the journal
        for doc in docs:
            assert writer.store.document(doc.doc_id) is not None
        assert not Journal(settings.data_dir / JOURNAL_FILE).pending()
    finally:
        services.close()


@pytest.mark.slow
def test_cli_crawl_with_ray_as_an_operator_runs_it(embedder: object, tmp_path: Path) -> None:
    """`samsok crawl --mirror --ray` in a process of its own, with the real model in one worker;
    then a search from another process finds the Værnes documents."""
    import os
    import re
    import subprocess
    import sys

    env = {
        **os.environ,
        "SAMSOK_DATA_DIR": str(tmp_path / "data"),
        "SAMSOK_MODEL_CACHE_DIR": str(embedder.config.cache_dir),  # type: ignore[attr-defined]
        "SAMSOK_RAY_WORKERS": "1",
        "SAMSOK_LOG_LEVEL": "WARNING",
    }
    crawl = subprocess.run(
        [sys.executable, "-m", "samsok.api.cli", "crawl", "vaernesregionen", "--mirror", "--ray"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    # The crawl's summary table: "new" with the crawl's and the index's counts.
    assert re.search(r"^new\s+\d+\s+\d+", crawl.stdout, re.M), crawl.stdout
    assert not Journal(tmp_path / "data" / JOURNAL_FILE).pending()
    search = subprocess.run(
        [sys.executable, "-m", "samsok.api.cli", "search", "felles jordmortjeneste", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert search.returncode == 0, search.stderr[-3000:]
    assert SITE in search.stdout

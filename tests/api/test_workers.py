"""`samsok serve` with several worker processes: what the parent hands to its workers, and
which path `Services.serve` takes. Real processes and signals: tests/concurrency."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from samsok.api import workers
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.api.workers import (
    WORKER_SPEC_ENV,
    WorkerSpec,
    WorkerSpecError,
    default_workers,
    factory_path,
    worker_app,
)
from samsok.ingest.documents import Region
from samsok.search.errors import IndexMismatchError

from tests.concurrency.helpers import write_pages
from tests.fakes import HashingEmbedder

ASKED_THREADS: list[int | None] = []


def recording_factory(settings: Settings) -> HashingEmbedder:
    """A module-level factory, so a worker can import it by name; records the threads asked."""
    ASKED_THREADS.append(settings.threads)
    return HashingEmbedder()


def _indexed(tmp_path: Path) -> Settings:
    """A data folder with one page indexed (by the recording factory's model)."""
    settings = Settings(data_dir=tmp_path / "data", threads=2, serve_threads=1, serve_workers=2)
    write_pages(tmp_path / "pages", {"dms": ("DMS i Stjørdal", "Distriktsmedisinsk senter.")})
    services = Services(settings, embedder_factory=recording_factory)
    try:
        services.ingest_paths([tmp_path / "pages"], Region.VAERNES, "local", None)
    finally:
        services.close()
    return settings


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """What `serve_workers` was called with (the worker processes are not started)."""
    made: list[tuple[object, ...]] = []
    monkeypatch.setattr(workers, "serve_workers", lambda *args: made.append(args))
    return made


def test_settings_reach_the_workers_unchanged(tmp_path: Path) -> None:
    """Command-line overrides (--data-dir) and every other setting cross the process line."""
    settings = Settings(
        data_dir=tmp_path / "d",
        model_cache_dir=tmp_path / "m",
        threads=3,
        fusion="rrf",
        dense_weight=0.3,
        crawl_allow_private=True,
        ray_address=None,
        log_level="WARNING",
    )
    spec = WorkerSpec(settings.model_dump(mode="json"), "x:y", parent_pid=1)
    again = WorkerSpec.loads(spec.dumps())
    assert Settings(**again.settings) == settings  # type: ignore[arg-type]
    assert again == spec


def test_only_an_importable_factory_can_be_handed_to_workers() -> None:
    assert factory_path(recording_factory) == f"{__name__}:recording_factory"

    def local(settings: Settings) -> HashingEmbedder:
        return HashingEmbedder()

    for factory in (local, lambda settings: HashingEmbedder()):
        with pytest.raises(WorkerSpecError, match="SAMSOK_SERVE_WORKERS=1"):
            factory_path(factory)


def test_default_is_one_worker_per_core_within_bounds() -> None:
    assert 1 <= default_workers() <= workers.MAX_DEFAULT_WORKERS
    assert default_workers() <= (os.cpu_count() or 1)


def test_a_worker_serves_the_parents_folder_with_serve_threads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = _indexed(tmp_path)
    spec = WorkerSpec(
        settings.model_dump(mode="json"),
        factory_path(recording_factory),
        parent_pid=os.getppid(),  # alive for the whole test: the orphan watch stays quiet
    )
    monkeypatch.setenv(WORKER_SPEC_ENV, spec.dumps())
    ASKED_THREADS.clear()
    app = worker_app()
    try:
        assert ASKED_THREADS == [1]  # a worker embeds only queries: SAMSOK_SERVE_THREADS
        assert app.state.settings == settings
        assert app.state.index.read_only
        with TestClient(app) as client:
            response = client.get("/search", params={"q": "distriktsmedisinsk"})
        assert response.status_code == 200
        assert [hit["title"] for hit in response.json()["results"]] == ["DMS i Stjørdal"]
    finally:
        app.state.index.close()


def test_a_worker_without_its_spec_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKER_SPEC_ENV, raising=False)
    with pytest.raises(WorkerSpecError, match="samsok serve"):
        worker_app()


def test_serve_hands_several_workers_the_settings_and_factory(
    tmp_path: Path, calls: list[tuple[object, ...]]
) -> None:
    settings = _indexed(tmp_path)
    services = Services(settings, embedder_factory=recording_factory)
    ASKED_THREADS.clear()
    services.serve("127.0.0.1", 8123)
    assert calls == [(settings, recording_factory, "127.0.0.1", 8123, 2)]
    # The parent keeps no reader and no embedder (e.g. `demo`'s crawl model) while workers serve.
    assert services._index is None and services._embedder is None


def test_serve_with_workers_fails_before_any_worker_on_a_folder_it_cannot_serve(
    tmp_path: Path, calls: list[tuple[object, ...]]
) -> None:
    """The parent opens the index first: its own clear error, not N failing workers."""
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "store.db") as conn:  # some other program's database
        conn.execute("CREATE TABLE notes (text)")
    settings = Settings(data_dir=data, serve_workers=2)
    with pytest.raises(IndexMismatchError, match="not a Samsøk store"):
        Services(settings, embedder_factory=recording_factory).serve("127.0.0.1", 8123)
    assert calls == []


def test_serve_with_a_given_embedder_object_serves_in_this_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, calls: list[tuple[object, ...]]
) -> None:
    """An embedder object cannot cross into spawned workers: one server, in this process."""
    import uvicorn

    settings = _indexed(tmp_path)
    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    services = Services(settings, embedder=HashingEmbedder())
    try:
        services.serve("127.0.0.1", 8123)
    finally:
        services.close()
    assert calls == [] and len(served) == 1


def test_the_workers_option_overrides_the_setting(
    tmp_path: Path, calls: list[tuple[object, ...]]
) -> None:
    """`samsok serve --workers N` (and `demo --workers N`) over SAMSOK_SERVE_WORKERS."""
    from click.testing import CliRunner
    from samsok.api.cli import CliDeps, cli

    settings = _indexed(tmp_path)
    runner = CliRunner(env={"SAMSOK_DATA_DIR": str(settings.data_dir), "SAMSOK_SERVE_WORKERS": "2"})
    deps = CliDeps(embedder_factory=recording_factory)
    result = runner.invoke(cli, ["serve", "--workers", "3", "--port", "8124"], obj=deps)
    assert result.exit_code == 0, result.output
    assert [(call[0].serve_workers, call[-1]) for call in calls] == [(3, 3)]  # type: ignore[attr-defined]

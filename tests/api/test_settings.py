"""The one settings object: environment overrides, validation, and a README entry per setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from samsok.api.settings import Settings

from tests.paths import PROJECT_ROOT


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    missing = [name for name in Settings.model_fields if f"`SAMSOK_{name.upper()}`" not in readme]
    assert not missing, f"settings missing from README: {missing}"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SAMSOK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SAMSOK_CRAWL_DELAY", "2.5")
    monkeypatch.setenv("SAMSOK_FUSION", "rrf")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.models_dir == tmp_path / "models"
    assert settings.crawl_config().delay_seconds == 2.5
    assert settings.index_config().fusion == "rrf"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAMSOK_PORT", "0"),
        ("SAMSOK_FUSION", "average"),
        ("SAMSOK_DENSE_WEIGHT", "1.5"),
        ("SAMSOK_CHUNK_MAX_TOKENS", "5000"),
        ("SAMSOK_CRAWL_DELAY", "-1"),
    ],
)
def test_invalid_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("SAMSOK_").lower()):
        Settings()


def test_default_corpus_paths_come_from_the_package_not_the_checkout() -> None:
    """An installed wheel has no checkout: the defaults must point into `samsok.corpus`."""
    import samsok.corpus

    package = Path(samsok.corpus.__file__).resolve().parent
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sources_file.is_file()
    assert settings.mirror_dir.is_dir()
    assert settings.sources_file.resolve().is_relative_to(package)
    assert settings.mirror_dir.resolve().is_relative_to(package)


def test_serve_loads_the_model_with_serve_threads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`samsok serve` embeds only queries: its model gets SAMSOK_SERVE_THREADS; jobs that
    embed documents keep SAMSOK_THREADS. (Worker processes: tests/api/test_workers.py.)"""
    import uvicorn
    from samsok.api.services import Services

    from tests.fakes import HashingEmbedder

    asked: list[int | None] = []

    def factory(settings: Settings) -> HashingEmbedder:
        asked.append(settings.threads)
        return HashingEmbedder()

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    settings = Settings(data_dir=tmp_path / "d", threads=2, serve_threads=1, serve_workers=1)
    Services(settings, embedder_factory=factory).writer.close()  # an empty index to serve
    assert asked == [2]
    services = Services(settings, embedder_factory=factory)
    try:
        services.serve("127.0.0.1", 8000)
    finally:
        services.close()
    assert asked == [2, 1] and len(served) == 1
    # `demo`: one Services crawls (embedding documents), then serves.
    demo = Services(settings, embedder_factory=factory)
    try:
        demo.writer  # noqa: B018  (opening the writer makes the crawl's embedder)
        demo.serve("127.0.0.1", 8000)
    finally:
        demo.close()
    assert asked == [2, 1, 2, 1] and len(served) == 2

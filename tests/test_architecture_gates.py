"""The gates around the suite: shared data that CI cannot do without, and one way to find it."""

from __future__ import annotations

import ast

import pytest

from tests import paths
from tests.paths import PROJECT_ROOT, shared_data

ABSENT = "no-such-folder-f3c1"


def test_missing_shared_data_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        shared_data("eval", ABSENT)


def test_missing_shared_data_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=ABSENT):
        shared_data("eval", ABSENT)


def test_a_missing_file_inside_present_data_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = PROJECT_ROOT / "tests"  # stands in for ../shared: present, but not what is asked
    monkeypatch.setattr(paths, "find_shared", lambda: shared)
    monkeypatch.setenv("CI", "true")
    assert shared_data("ingest") == shared / "ingest"
    with pytest.raises(pytest.fail.Exception, match=ABSENT):
        shared_data("ingest", needs=("conftest.py", ABSENT))


def _builds_its_own_shared_path(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Constant) and node.value == "shared"
        for node in ast.walk(tree)
        if not isinstance(node, ast.JoinedStr)
    )


def test_tests_find_shared_data_through_tests_paths_only() -> None:
    """A test that builds its own path to ../shared would also decide on its own what a
    missing file means (a `skipif` that skips in CI too): it must ask `shared_data`."""
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted((PROJECT_ROOT / "tests").rglob("*.py"))
        if path.name != "paths.py"
        and path != PROJECT_ROOT / "tests" / "test_architecture_gates.py"
        and _builds_its_own_shared_path(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offenders, f"use tests.paths.shared_data in {offenders}"


def test_the_shared_path_check_sees_a_hand_built_path() -> None:
    tree = ast.parse('NORQUAD = ROOT.parent / "shared" / "eval" / "norquad"')
    assert _builds_its_own_shared_path(tree)
    assert not _builds_its_own_shared_path(ast.parse('x = shared_data("eval", "norquad")'))

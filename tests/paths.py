"""Where the checkout is: tests read the corpus, README and test data from it; and the one rule
for data in ../shared (eval sets, seed pages) that a test needs but the checkout lacks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def find_shared() -> Path:
    """The `shared` folder (eval data, seeds) beside the checkout or beside one of its parents
    (a git worktree sits a level or two deeper than the main checkout); the nearest one
    wins. When there is none, the path beside the checkout (absent)."""
    for folder in PROJECT_ROOT.parents:
        if (folder / "shared").is_dir():
            return folder / "shared"
    return PROJECT_ROOT.parent / "shared"


def in_ci() -> bool:
    """CI=true (set by .ci/run and by CI services): missing shared data is then an error."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def shared_data(*parts: str, needs: tuple[str, ...] = ()) -> Path:
    """The path `parts` under ../shared, for a test that cannot run without it.

    When it (or any of `needs`, names inside it) is absent the test is skipped on a
    developer's machine, but *fails* when CI=true: a quality floor that silently skips in CI
    guards nothing. Call it inside the test or a fixture, never at import time.
    """
    path = find_shared().joinpath(*parts)
    missing = [p for p in (path, *(path / name for name in needs)) if not p.exists()]
    if missing:
        message = f"{missing[0]} is absent (shared data not mounted beside the checkout)"
        if in_ci():
            pytest.fail(f"{message}; CI=true, so a test that needs it cannot be skipped")
        pytest.skip(message)
    return path

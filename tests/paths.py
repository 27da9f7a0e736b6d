"""Where the checkout is: tests read the corpus, README and test data from it."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def find_shared() -> Path:
    """The `shared` folder (eval data, seeds) beside the checkout or beside one of its parents
    (a git worktree sits a level or two deeper than the main checkout); the nearest one
    wins. When there is none, the path beside the checkout (absent)."""
    for folder in PROJECT_ROOT.parents:
        if (folder / "shared").is_dir():
            return folder / "shared"
    return PROJECT_ROOT.parent / "shared"

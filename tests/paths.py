"""Where the checkout is: tests read the corpus, README and test data from it."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

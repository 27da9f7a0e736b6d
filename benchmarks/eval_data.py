"""Where the benchmarks find ../shared/eval: one rule for all of them (tests have theirs in
tests/paths.py, which also decides what a missing file means in CI).

Imported as `from eval_data import NORQUAD`: benchmarks run as scripts, so this folder is
on `sys.path`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samsok.search.evaluation import BeirDataset

ROOT = Path(__file__).resolve().parents[1]

# ../shared/eval beside the checkout, or beside a parent of it (a git worktree sits deeper);
# the nearest one wins, and without one the (absent) path beside the checkout.
SHARED_EVAL = next(
    (p / "shared" / "eval" for p in ROOT.parents if (p / "shared").is_dir()),
    ROOT.parent / "shared" / "eval",
)
NORQUAD = SHARED_EVAL / "norquad"
#: The paraphrase development set's tuning part (the locked sets are read only on request).
DEV_TUNING = ROOT / "tests" / "data" / "devset_tuning.json"
#: Off-topic queries written before the floor was calibrated (docs/retrieval.md).
OFF_HELDOUT = ROOT / "tests" / "data" / "offtopic_heldout.json"
#: The locked third: reported with `retrieval.py --locked`; read several times, no longer unseen.
DEV_LOCKED = ROOT / "tests" / "data" / "locked" / "devset_locked.json"
#: The fresh locked set, written after that (docs/retrieval.md): reported with `--locked` too;
#: read blind once, on 2026-12-03.
DEV_FRESH = ROOT / "tests" / "data" / "locked" / "devset_fresh.json"
#: The second fresh locked set, written after the first had been read (docs/retrieval.md):
#: reported with `--locked`; read blind once, at the end of the session that wrote it.
DEV_FRESH2 = ROOT / "tests" / "data" / "locked" / "devset_fresh2.json"
#: The third fresh locked set, written after the second had been read (docs/retrieval.md):
#: reported with `--locked`; to be read once, at the end of the session that wrote it.
DEV_FRESH3 = ROOT / "tests" / "data" / "locked" / "devset_fresh3.json"


def load_norquad(folder: Path = NORQUAD) -> BeirDataset:
    """NorQuAD's validation split (passages, questions, judgements, answers) in `folder`."""
    from samsok.search.evaluation import load_beir

    return load_beir(
        folder / "corpus.jsonl",
        folder / "queries_validation.jsonl",
        folder / "qrels_validation.tsv",
        folder / "answers_validation.jsonl",
    )


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """What a sweep over the two tuning sets reads: NorQuAD and the three ingested folders
    (`retrieval.py --keep` for NorQuAD; NorQuAD passages plus the mirror; the mirror alone),
    and how many cross-validation folds."""
    parser.add_argument("--norquad", type=Path, default=NORQUAD)
    parser.add_argument("--norquad-folder", type=Path, required=True)
    parser.add_argument("--dev-folder", type=Path, required=True)
    parser.add_argument("--mirror-folder", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)

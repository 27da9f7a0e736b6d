"""Soak the server: 16 HTTP clients while writers crawl an edited mirror, get stopped with
SIGINT and `kill -9`, and run two at once; print requests, p50/p95, reloads and reload time.

    .venv/bin/python benchmarks/soak.py --duration 600 [--clients 16] [--real-model]

The same run as tests/concurrency/test_soak.py (which does one round of each kind), for as long
as `--duration` seconds (rounds are never cut short). It raises on the first broken promise: a
5xx, a hit whose document or /similar does not answer 200, a commit not served within 5 s, a
removed page still found, store chunk ids != FAISS ids. By default every process uses the
model-free hashing embedder; `--real-model` runs the real `samsok` with the configured model
(each writer then loads it: slow on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the soak machinery lives with the tests

from tests.concurrency.soak import run_soak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of writer rounds")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--real-model", action="store_true")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temp one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="samsok-soak-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = run_soak(
            workdir,
            duration=args.duration,
            clients=args.clients,
            seed=args.seed,
            real_model=args.real_model,
        )
    print(report.render())


if __name__ == "__main__":
    main()

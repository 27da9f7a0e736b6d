"""CLI start-up: wall and CPU time of `samsok` commands that do not embed, before → after.

    .venv/bin/python benchmarks/cli_startup.py [--runs 7] [--before c662244 | --before DIR]

Issue 10's target: `samsok --help`, `samsok COMMAND --help`, `samsok status` and `samsok search
--mode lexical …` start in < 1.5 s wall on a quiet machine. Each command runs as a new process
(the entry point `samsok.api.cli.main`, the production embedder factory) on a small index of the
bundled mirror (crawled once, with the tests' hashing embedder: no model needed, and a model
load would fail, because SAMSOK_MODEL names a folder that does not exist). "before" is the same
commands on another version of the code in the same run, interleaved run by run: a git revision
(default: the commit before the lazy imports, extracted with `git archive`) or a checkout
folder. Both run in this interpreter with `samsok` pointed at their folder, so only the code
differs. Figures: median over the runs of the wall time and of the child's CPU time (user +
system, `RUSAGE_CHILDREN`); CPU time hardly moves with other jobs on the machine, wall time
does (the load average is printed).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the hashing embedder lives with the tests

from samsok.api.services import Services  # noqa: E402
from samsok.api.settings import Settings  # noqa: E402

from tests.fakes import HashingEmbedder  # noqa: E402

BEFORE = "c662244"  # the last commit before the CLI's imports were made lazy
TARGET_SECONDS = 1.5

COMMANDS: list[tuple[str, list[str]]] = [
    ("samsok --help", ["--help"]),
    ("samsok search --help", ["search", "--help"]),
    ("samsok status", ["status"]),
    ("samsok search --mode lexical", ["search", "legevakt og jordmor", "--mode", "lexical"]),
]

# Runs `samsok` from the folder given first (its `api/`, `search/`, … are the `samsok` package,
# as the installed package maps them), with the remaining arguments.
LAUNCHER = """
import sys, types
package = types.ModuleType("samsok")
package.__path__ = [sys.argv[1]]
sys.modules["samsok"] = package
sys.argv = ["samsok", *sys.argv[2:]]
from samsok.api.cli import main
main()
"""


@dataclass
class Figures:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def median(self) -> tuple[float, float]:
        return statistics.median(self.wall), statistics.median(self.cpu)


def build_index(data_dir: Path) -> None:
    """The mirror crawled into `data_dir` with the hashing embedder (~300 chunks)."""
    settings = Settings(data_dir=data_dir, log_level="WARNING")  # type: ignore[call-arg]
    services = Services(settings, embedder=HashingEmbedder())
    try:
        report = services.crawl([], mirror=True)
    finally:
        services.close()
    print(f"index: {report.indexing.as_dict()['new']} documents from the bundled mirror")


def source_folder(before: str, cache: Path) -> Path:
    """`before` as a folder of code: an existing checkout, or a git revision extracted."""
    if Path(before).is_dir():
        return Path(before).resolve()
    folder = cache / f"before-{before}"
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", before], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def run_once(code: Path, args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """One `samsok ARGS` process: (wall seconds, CPU seconds of the child)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(code), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"samsok {shlex.join(args)} ({code}) failed:\n{done.stderr}")
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command and version")
    parser.add_argument("--before", default=BEFORE, help="a git revision or a checkout folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="samsok-cli-bench-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        build_index(data_dir)
        versions = {"before": source_folder(args.before, work), "after": ROOT}
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSOK_")}
        env |= {
            "SAMSOK_DATA_DIR": str(data_dir),
            "SAMSOK_MODEL": str(work / "no-such-model"),  # a model load would fail loudly
            "SAMSOK_MODEL_CACHE_DIR": str(work / "models"),
            "SAMSOK_LOG_LEVEL": "WARNING",
        }
        figures = {(v, label): Figures() for v in versions for label, _ in COMMANDS}
        load_start = os.getloadavg()
        for run in range(args.runs + 1):  # run 0 warms the file cache for both and is dropped
            for label, command in COMMANDS:
                for version, code in versions.items():
                    wall, cpu = run_once(code, command, env, work)
                    if run:
                        figures[version, label].wall.append(wall)
                        figures[version, label].cpu.append(cpu)
        load_end = os.getloadavg()

    print(
        f"\nCLI start-up, median of {args.runs} runs per command (a new process each; CPU = "
        f"user + system of the child); before = {args.before}, after = this checkout"
    )
    print(
        f"{os.cpu_count()} CPUs; load average (1/5/15 min) "
        f"{' '.join(f'{x:.2f}' for x in load_start)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in load_end)} at the end\n"
    )
    print(
        f"{'command':30} {'before wall':>11} {'cpu':>7}   {'after wall':>10} {'cpu':>7}"
        f"   {'wall ×':>6} {'cpu ×':>6}   < {TARGET_SECONDS} s"
    )
    for label, _ in COMMANDS:
        before_wall, before_cpu = figures["before", label].median()
        after_wall, after_cpu = figures["after", label].median()
        met = "met" if after_wall < TARGET_SECONDS else "NOT met"
        print(
            f"{label:30} {before_wall:9.2f} s {before_cpu:5.2f} s   {after_wall:8.2f} s "
            f"{after_cpu:5.2f} s   {before_wall / after_wall:5.1f}× {before_cpu / after_cpu:5.1f}×"
            f"   {met}"
        )


if __name__ == "__main__":
    main()

"""What the benchmarks share: a figures table's header, percentiles and a parser of integer
options."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Iterable


def print_header(columns: str) -> None:
    """A table's header and a rule as long as it under it. `columns` is `label:spec|…`, each
    spec a format spec (`<42`, `>7`) for the label, as the rows format their cells."""
    cells = [column.rsplit(":", 1) for column in columns.split("|")]
    header = " ".join(f"{label:{spec}}" for label, spec in cells)
    print(header)
    print("-" * len(header))


def int_options(doc: str, **defaults: int) -> argparse.ArgumentParser:
    """A benchmark's parser, described by its docstring's first line, with an `--name N`
    option per keyword (its default the keyword's value); the caller adds the others."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in defaults.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    return parser


def percentiles(values: Iterable[float], scale: float = 1.0) -> tuple[float, float]:
    """p50 (median) and p95 (the value at the 95 % rank, not interpolated) of `values`, each
    multiplied by `scale` (1000: seconds to milliseconds)."""
    ordered = sorted(v * scale for v in values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

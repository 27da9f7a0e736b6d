"""What the benchmarks share: a figures table's header and a parser of integer options."""

from __future__ import annotations

import argparse


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

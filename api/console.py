"""The terminal side of the CLI: logging that leaves the progress bar alone, bars, tables.

Progress bars own the terminal: library loggers (httpx logs one INFO line per request) are
held at WARNING unless the user asks for DEBUG, and our own log lines are written above the
bar (`tqdm.contrib.logging.logging_redirect_tqdm`) instead of through it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # tqdm loads with the first bar: commands without one start without it
    from tqdm import tqdm

__all__ = ["NOISY_LIBRARIES", "configure_logging", "progress", "table"]

#: Libraries that log per request, per file or per model load at INFO.
NOISY_LIBRARIES = (
    "httpx",
    "httpx2",
    "httpcore",
    "urllib3",
    "filelock",
    "huggingface_hub",
    "sentence_transformers",
    "transformers",
    "faiss",
    "trafilatura",
    "htmldate",
    "charset_normalizer",
    "pypdf",
    "asyncio",
    "multipart",
    "datasketch",
)


def configure_logging(level: str) -> None:
    """Root logging at `level`; noisy libraries at WARNING unless `level` is DEBUG."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(
        level=numeric,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    library_level = logging.DEBUG if numeric == logging.DEBUG else max(numeric, logging.WARNING)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)


@contextmanager
def progress(
    desc: str, *, unit: str, total: int | None = None, enabled: bool = True
) -> Iterator[tqdm]:  # type: ignore[type-arg]
    """A bar with count and rate on stderr; log lines print above it while it runs."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    with (
        logging_redirect_tqdm(),
        tqdm(
            desc=desc,
            unit=unit,
            total=total,
            disable=not enabled,
            leave=False,
            dynamic_ncols=True,
            file=sys.stderr,
        ) as bar,
    ):
        yield bar


def table(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None) -> str:
    """Plain aligned columns: text left, numbers right."""
    body = [[_cell(v) for v in row] for row in rows]
    lines = [list(header)] if header else []
    lines += body
    if not lines:
        return ""
    widths = [max(len(line[i]) for line in lines if i < len(line)) for i in range(len(lines[0]))]
    numeric = [
        all(_is_number(row[i]) for row in body if i < len(row)) and bool(body)
        for i in range(len(widths))
    ]
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if numeric[i] and i else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if header and n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _is_number(text: str) -> bool:
    return text == "-" or text.replace(".", "", 1).replace(" ", "").isdigit()

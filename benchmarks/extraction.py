"""Extraction benchmark: HTML main-content quality and speed, PDF speed.

    .venv/bin/python benchmarks/extraction.py [--aeb DIR] [--pdf DIR] [--limit N]

HTML: every page of the article-extraction benchmark (AEB) through our cascade
(`samsok.ingest.extract.html.extract_html`, which also finds links, dates, language and listing
signals) and through plain `trafilatura.extract` with its defaults, side by side for the tuning
half, the check half (`samsok.ingest.extract.quality.aeb_half`) and all pages: precision / recall /
F1 over word 4-gram shingles (mean over pages) and pages per second (over all pages).
PDF: every file of the pdf-samples set through `samsok.ingest.extract.pdf.extract_pdf`; pages per
second counts the pages read, and the outcome of each file is listed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval_data import SHARED_EVAL
from samsok.ingest.config import ExtractConfig
from samsok.ingest.errors import EmptyContent, PdfError
from samsok.ingest.extract import (
    AEB_HALVES,
    AebPage,
    Score,
    aeb_half,
    extract_html,
    extract_pdf,
    iter_aeb,
    mean_score,
    shingle_score,
)

DEFAULT_EVAL = SHARED_EVAL


def _ours(config: ExtractConfig, stages: Counter[str]) -> Callable[[AebPage], str]:
    def run(page: AebPage) -> str:
        try:
            extracted = extract_html(page.html, page.url, config)
        except EmptyContent:
            stages["empty"] += 1
            return ""
        stages[extracted.metadata.get("extractor", "?")] += 1
        if int(extracted.metadata.get("recall_blocks_added", "0")):
            stages["pages with recall blocks added"] += 1
        return extracted.pages[0].text

    return run


def _plain_trafilatura(page: AebPage) -> str:
    return trafilatura.extract(page.html, url=page.url) or ""


def _run(pages: list[AebPage], extractor: Callable[[AebPage], str]) -> tuple[list[Score], float]:
    started = time.perf_counter()
    outputs = [extractor(page) for page in pages]
    elapsed = time.perf_counter() - started
    scores = [shingle_score(page.expected, text) for page, text in zip(pages, outputs, strict=True)]
    return scores, len(pages) / elapsed


def html_benchmark(root: Path, limit: int | None) -> None:
    pages = list(iter_aeb(root, limit=limit))
    stages: Counter[str] = Counter()
    # Warm up lazy loads (language model, date parser) outside the timing.
    _ours(ExtractConfig(), Counter())(pages[0])
    _plain_trafilatura(pages[0])
    runs = [
        ("samsok cascade", *_run(pages, _ours(ExtractConfig(), stages))),
        ("trafilatura defaults", *_run(pages, _plain_trafilatura)),
    ]
    halves = [aeb_half(page.page_id) for page in pages]
    print(
        f"AEB main-content extraction, {len(pages)} pages (word 4-gram shingles, mean per page);"
        " halves by SHA-256 of the page id, thresholds chosen on the tuning half only"
    )
    print(
        f"{'half':<7} {'pages':>5}  {'extractor':<22} {'precision':>9} {'recall':>7} {'F1':>6}"
        f" {'pages/s':>8}"
    )
    for half in (*AEB_HALVES, "all"):
        chosen = [i for i, h in enumerate(halves) if half in (h, "all")]
        if not chosen:
            continue
        for name, scores, rate in runs:
            score = mean_score(scores[i] for i in chosen)
            print(
                f"{half:<7} {len(chosen):>5}  {name:<22} {score.precision:>9.3f}"
                f" {score.recall:>7.3f} {score.f1:>6.3f} {rate:>8.1f}"
            )
    print("cascade stages used:", ", ".join(f"{k}={v}" for k, v in stages.most_common()))


def pdf_benchmark(root: Path) -> None:
    files = sorted(root.rglob("*.pdf"))
    config = ExtractConfig()
    outcomes: Counter[str] = Counter()
    pages_read = 0
    started = time.perf_counter()
    lines = []
    for path in files:
        try:
            extracted = extract_pdf(path.read_bytes(), path.as_uri(), config)
        except PdfError as exc:
            outcomes[type(exc).__name__] += 1
            lines.append(f"  {path.relative_to(root)}: {type(exc).__name__} ({exc.reason})")
            continue
        outcomes["parsed"] += 1
        pages_read += int(extracted.metadata["pdf_pages"])
    elapsed = time.perf_counter() - started
    print(f"\nPDF extraction, {len(files)} files from {root}")
    print(
        f"{pages_read} pages in {elapsed:.2f} s = {pages_read / elapsed:.1f} pages/s (parsed files)"
    )
    print("outcomes:", ", ".join(f"{k}={v}" for k, v in outcomes.most_common()))
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aeb", type=Path, default=DEFAULT_EVAL / "aeb")
    parser.add_argument("--pdf", type=Path, default=DEFAULT_EVAL / "pdf-samples")
    parser.add_argument("--limit", type=int, default=None, help="AEB pages to use (default all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    if args.aeb.exists():
        html_benchmark(args.aeb, args.limit)
    else:
        print(f"{args.aeb} not found: HTML benchmark skipped")
    if args.pdf.exists():
        pdf_benchmark(args.pdf)
    else:
        print(f"{args.pdf} not found: PDF benchmark skipped")


if __name__ == "__main__":
    main()

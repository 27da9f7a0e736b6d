"""How the listing classifier's thresholds behave: one at a time, around the defaults.

    .venv/bin/python benchmarks/listing_sweep.py [--aeb DIR] [--limit N]

Pages: every AEB page (`../shared/eval/aeb`: real news *articles*, so every "listing" verdict
there is a false positive) and every HTML page of the offline mirror (`corpus/mirror`: the
region's article pages and its index pages). Each page is extracted once with
`samsok.ingest.extract.extract_html`; the listing decision of that extraction is then repeated
with one constant of `samsok.ingest.extract.listing` set to each value of its grid (the others
at their defaults). Printed per constant and value: AEB articles called listings, mirror pages
called listings, and mirror verdicts that differ from the defaults' (with the pages named).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import samsok.ingest.extract.html as html_extractor
import samsok.ingest.extract.listing as listing
from eval_data import ROOT, SHARED_EVAL
from samsok.ingest.config import ExtractConfig
from samsok.ingest.errors import EmptyContent
from samsok.ingest.extract import extract_html, iter_aeb

#: The grid per constant: the default and values on both sides of it.
GRID: dict[str, tuple[float, ...]] = {
    "MIN_TEASER_SHARE": (0.2, 0.3, 0.4, 0.5, 0.6),
    "MIN_UNDATED_TEASERS": (3, 4, 5, 6, 8),
    "MIN_UNDATED_LINK_DENSITY": (0.1, 0.2, 0.3, 0.4, 0.5),
    "MIN_LINKED_SHARE": (0.3, 0.4, 0.5, 0.6, 0.7),
    "MIN_LINKED_LINES": (3, 4, 5, 6, 8),
    "MIN_TEASERS": (2, 3, 4, 5),
}


@dataclass
class Page:
    name: str
    corpus: str  # "aeb" or "mirror"
    verdicts: dict[tuple[str, float], bool]


def _recording_detector(verdicts: dict[tuple[str, float], bool]) -> Any:
    """A `detect_listing` that decides once per grid setting (with the tree as the extractor
    hands it over, before anything after the decision changes it) and returns the default."""
    original = listing.detect_listing

    def detect(tree: Any, blocks: list[str]) -> listing.ListingVerdict:
        default = original(tree, blocks)
        for name, values in GRID.items():
            saved = getattr(listing, name)
            for value in values:
                setattr(listing, name, type(saved)(value))
                try:
                    verdicts[(name, value)] = original(tree, blocks).is_listing
                finally:
                    setattr(listing, name, saved)
        verdicts[("default", 0.0)] = default.is_listing
        return default

    return detect


def _classify(name: str, corpus: str, html: bytes, url: str, config: ExtractConfig) -> Page:
    verdicts: dict[tuple[str, float], bool] = {}
    saved = html_extractor.detect_listing
    html_extractor.detect_listing = _recording_detector(verdicts)
    try:
        extract_html(html, url, config)
    except EmptyContent:
        pass
    finally:
        html_extractor.detect_listing = saved
    return Page(name, corpus, verdicts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aeb", type=Path, default=SHARED_EVAL / "aeb")
    parser.add_argument("--limit", type=int, default=0, help="AEB pages (0: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = ExtractConfig()
    pages: list[Page] = []
    for index, aeb_page in enumerate(iter_aeb(args.aeb)):
        if args.limit and index >= args.limit:
            break
        pages.append(_classify(aeb_page.page_id, "aeb", aeb_page.html, aeb_page.url, config))
    mirror = ROOT / "corpus" / "mirror"
    for path in sorted(mirror.rglob("*.html")):
        name = str(path.relative_to(mirror))
        pages.append(_classify(name, "mirror", path.read_bytes(), f"https://{name}", config))
    pages = [p for p in pages if p.verdicts]  # an empty page never reaches the decision
    aeb = [p for p in pages if p.corpus == "aeb"]
    site = [p for p in pages if p.corpus == "mirror"]
    default = ("default", 0.0)
    print(f"pages decided: {len(aeb)} AEB articles, {len(site)} mirror pages")
    print(
        f"defaults: {sum(p.verdicts[default] for p in aeb)} AEB articles called listings;"
        f" mirror listings: {sorted(p.name for p in site if p.verdicts[default])}"
    )
    print(f"{'constant':<26} {'value':>6} {'AEB listings':>13} {'mirror listings':>16}  changed")
    for name, values in GRID.items():
        for value in values:
            key = (name, value)
            changed = [p.name for p in site if p.verdicts[key] != p.verdicts[default]]
            mark = " (default)" if value == getattr(listing, name) else ""
            print(
                f"{name:<26} {value:>6g} {sum(p.verdicts[key] for p in aeb):>13}"
                f" {sum(p.verdicts[key] for p in site):>16}  {', '.join(changed) or '-'}{mark}"
            )


if __name__ == "__main__":
    main()

"""Is a page a listing (front page, news archive, category index) rather than an article?

A listing's main content is mostly teasers: a linked title, a line or two of lead text and
often a date, repeated. We look for that shape in three independent ways and call the page
a listing when any one is clear:

* DOM: among the children of one parent (outside nav/header/footer/aside), at least
  `MIN_TEASERS` siblings of the same tag and class that each hold a link and are short
  (a teaser, not a section of prose), and together make up at least 40 % of the main text.
  Dated teasers need three; undated ones need five and a link-heavy main region.
* Text: at least three date-only lines in the extracted text with short blocks between
  them (the shape a listing takes once the markup is gone, e.g. a plain-text extract).
* Links: at least half of the extracted text (and five lines or more) consists of lines
  that are exactly the label of a link on the page: an index of documents or pages.

The signals go into `ExtractedPage.metadata["listing_signals"]` so a wrong call can be
debugged from the crawl log.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from lxml.etree import _Element
from samsok.ingest.dates import find_date_strings
from samsok.ingest.html_blocks import is_date_line

__all__ = ["ListingVerdict", "detect_listing"]

MIN_TEASERS = 3
_TEASER_MAX_CHARS = 700
_CHROME_TAGS = ("nav", "header", "footer", "aside", "script", "style", "form", "noscript")
_MAIN_XPATH = ".//main | .//*[@role='main'] | .//*[@id='content'] | .//*[@id='main']"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ListingVerdict:
    is_listing: bool
    teasers: int
    dated_teasers: int
    teaser_share: float
    link_density: float
    date_lines: int
    linked_share: float = 0.0

    def describe(self) -> str:
        return (
            f"teasers={self.teasers} dated={self.dated_teasers} "
            f"teaser_share={self.teaser_share:.2f} link_density={self.link_density:.2f} "
            f"date_lines={self.date_lines} linked_share={self.linked_share:.2f}"
        )


def _text_len(element: _Element) -> int:
    return len(_SPACE.sub(" ", element.text_content()).strip())


def _in_chrome(element: _Element) -> bool:
    if element.tag in _CHROME_TAGS:
        return True
    return any(a.tag in _CHROME_TAGS for a in element.iterancestors())


def _main_region(tree: _Element) -> _Element:
    for candidate in tree.xpath(_MAIN_XPATH):
        if not _in_chrome(candidate) and _text_len(candidate) > 200:
            return candidate
    body = tree.find("body")
    return body if body is not None else tree


def _link_density(region: _Element, chrome: set[_Element]) -> float:
    """Share of the region's non-chrome text that is link text."""
    chrome_roots = [e for e in chrome if e.getparent() not in chrome]
    total = _text_len(region) - sum(_text_len(e) for e in chrome_roots if e is not region)
    linked = sum(_text_len(a) for a in region.iter("a") if a not in chrome)
    return min(1.0, linked / max(total, 1))


def _chrome_elements(region: _Element) -> set[_Element]:
    """Every element inside (or being) nav/header/footer/aside/... in `region`."""
    return {inner for outer in region.iter(*_CHROME_TAGS) for inner in outer.iter()}


def _teaser_groups(region: _Element, chrome: set[_Element]) -> tuple[int, int, int]:
    """(teasers, dated teasers, teaser chars) of the largest group of teaser siblings."""
    best = (0, 0, 0)
    for parent in region.iter():
        if not isinstance(parent.tag, str) or parent in chrome or len(parent) < MIN_TEASERS:
            continue
        groups: dict[tuple[str, str], list[_Element]] = defaultdict(list)
        for child in parent.iterchildren():
            if isinstance(child.tag, str) and child not in chrome:
                groups[(child.tag, child.get("class", ""))].append(child)
        for members in groups.values():
            if len(members) < MIN_TEASERS:
                continue
            teasers = [
                m
                for m in members
                if m.find(".//a[@href]") is not None and 15 < _text_len(m) < _TEASER_MAX_CHARS
            ]
            if len(teasers) < MIN_TEASERS:
                continue
            dated = sum(bool(find_date_strings(m.text_content())) for m in teasers)
            chars = sum(_text_len(m) for m in teasers)
            if (dated, len(teasers)) > (best[1], best[0]):
                best = (len(teasers), dated, chars)
    return best


def _linked_share(region: _Element, blocks: list[str]) -> tuple[float, int]:
    """Share of the extracted text's lines that are link labels (an index of links),
    and how many such lines there are."""
    anchors = {
        label
        for a in region.iter("a")
        if len(label := _SPACE.sub(" ", a.text_content()).strip().lower()) >= 8
    }
    if not anchors:
        return 0.0, 0
    lines = [line.lstrip("#- ").strip() for block in blocks for line in block.split("\n")]
    lines = [line for line in lines if line]
    linked = [line for line in lines if line.lower() in anchors]
    total = sum(len(line) for line in lines) or 1
    return sum(len(line) for line in linked) / total, len(linked)


def _date_lines(blocks: list[str]) -> tuple[int, float]:
    """Date-only lines in the text, and the mean length of the text between them."""
    lines = [line for block in blocks for line in block.split("\n")]
    count = sum(is_date_line(line) for line in lines)
    chars = sum(len(line) for line in lines if not is_date_line(line))
    return count, chars / (count + 1)


def detect_listing(tree: _Element | None, blocks: list[str]) -> ListingVerdict:
    """Decide whether the page is a listing; `blocks` is the extracted main text."""
    date_lines, gap = _date_lines(blocks)
    by_text = date_lines >= MIN_TEASERS and gap < _TEASER_MAX_CHARS
    if tree is None:
        return ListingVerdict(by_text, 0, 0, 0.0, 0.0, date_lines)
    region = _main_region(tree)
    chrome = _chrome_elements(region)
    density = _link_density(region, chrome)
    teasers, dated, teaser_chars = _teaser_groups(region, chrome)
    share = teaser_chars / (_text_len(region) or 1)
    by_dom = share >= 0.4 and (dated >= MIN_TEASERS or (teasers >= 5 and density >= 0.3))
    linked_share, linked_lines = _linked_share(region, blocks)
    by_links = linked_share >= 0.5 and linked_lines >= 5
    return ListingVerdict(
        is_listing=by_text or by_dom or by_links,
        teasers=teasers,
        dated_teasers=dated,
        teaser_share=min(1.0, share),
        link_density=density,
        date_lines=date_lines,
        linked_share=linked_share,
    )

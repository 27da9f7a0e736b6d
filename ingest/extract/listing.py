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

A page can carry its own prose above or beside a list of dated teasers: a project's front
page with its description and a news list below it. Such a page is *not* a listing: its own
text is indexed and the teasers are left out of it (their articles are indexed on their own
pages). The teasers are the members of the teaser group (DOM) or, in a text without markup,
the runs ending in a date line (each: short title lines, one lead paragraph, the date). What is
left is the page's own text; it makes the page a document when it holds at least
`MIN_OWN_PROSE_CHARS` characters of running text in at least `MIN_OWN_PARAGRAPHS` paragraphs
of `MIN_PARAGRAPH_CHARS` or more (a one-line archive intro such as "Her finner du nyheter fra
prosjektet." does not count). See docs/extraction.md for how these were chosen.

The signals go into `ExtractedPage.metadata["listing_signals"]` so a wrong call can be
debugged from the crawl log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from lxml.etree import _Element
from samsok.ingest.extract.dates import find_date_strings
from samsok.ingest.extract.html_blocks import inline_text, is_date_line, letters_only

__all__ = [
    "MIN_OWN_PARAGRAPHS",
    "MIN_OWN_PROSE_CHARS",
    "MIN_PARAGRAPH_CHARS",
    "ListingVerdict",
    "detect_listing",
]

#: Teasers (or date lines) that make a list: fewer is a "related articles" box, not a listing.
#: By hand; 2–5 change no verdict on 181 AEB articles + 40 mirror pages (listing_sweep.py).
MIN_TEASERS = 3
#: DOM signal: the teasers hold at least this share of the main region's text.
#: By hand; 0.2–0.6 change no verdict on the same pages (benchmarks/listing_sweep.py).
MIN_TEASER_SHARE = 0.4
#: DOM signal without dates: this many undated teasers ...
#: By hand; 3–8 change no verdict on the same pages (benchmarks/listing_sweep.py).
MIN_UNDATED_TEASERS = 5
#: ... in a main region whose text is at least this share link text.
#: By hand; 0.1–0.4 same verdicts, 0.5 clears one AEB article: not raised for one page.
MIN_UNDATED_LINK_DENSITY = 0.3
#: Link signal: at least this share of the extracted text is exact link labels ...
#: By hand ("half the text is links"); 0.3–0.7 change no verdict (listing_sweep.py).
MIN_LINKED_SHARE = 0.5
#: ... on at least this many lines (a short page with three links is no index).
#: By hand, as MIN_UNDATED_TEASERS; 3–8 change no verdict (benchmarks/listing_sweep.py).
MIN_LINKED_LINES = 5
#: A group of teasers is "mostly dated" (left out of a page's own text) from this share on.
#: A majority rule, by hand: a featured row with one undated item is still a news row.
DATED_GROUP_SHARE = 0.5
#: Characters of the page's own running text (outside the teasers) that make a page with a
#: teaser list a document rather than a listing.
MIN_OWN_PROSE_CHARS = 350
#: ... spread over at least this many paragraphs ...
MIN_OWN_PARAGRAPHS = 2
#: ... each at least this long (shorter lines are labels, titles, intros).
MIN_PARAGRAPH_CHARS = 80
#: A teaser's title line in a text without markup: at most this long, no full stop at the end.
#: By hand: two lines of a headline; the longest teaser title in the mirror is shorter.
_TITLE_LINE_MAX = 120
#: A teaser holds more than this much text (a bare "Les mer" link is no teaser) ...
#: By hand: below a headline's length.
_TEASER_MIN_CHARS = 15
#: ... and less than this (a title plus a lead of a few sentences; more is a section of prose).
#: By hand: about three lead sentences.
_TEASER_MAX_CHARS = 700
#: A `<main>`-like element is the main region only when it holds more text than this (an empty
#: `<main>` wrapper of a skip link is not). By hand: a short paragraph.
_MAIN_REGION_MIN_CHARS = 200
#: Link labels shorter than this ("Les mer", "Neste") are not compared with text lines.
#: By hand: longer than the common Norwegian navigation labels.
_MIN_LINK_LABEL_CHARS = 8
_CHROME_TAGS = ("nav", "header", "footer", "aside", "script", "style", "form", "noscript")
_MAIN_XPATH = ".//main | .//*[@role='main'] | .//*[@id='content'] | .//*[@id='main']"


@dataclass(frozen=True)
class ListingVerdict:
    is_listing: bool
    teasers: int
    dated_teasers: int
    teaser_share: float
    link_density: float
    date_lines: int
    linked_share: float = 0.0
    #: Characters of the page's own prose outside the teasers (counted when the page has the
    #: shape of a listing).
    own_prose_chars: int = 0
    #: The page's own blocks without the teasers, when it has a listing's shape *and* enough
    #: own prose to be indexed as a document; None otherwise.
    own_blocks: tuple[str, ...] | None = None

    @property
    def has_teasers(self) -> bool:
        """A listing, or a page whose own text sits above/beside a teaser list: either way
        the dates on the page belong to the teasers."""
        return self.is_listing or self.own_blocks is not None

    def describe(self) -> str:
        return (
            f"teasers={self.teasers} dated={self.dated_teasers} "
            f"teaser_share={self.teaser_share:.2f} link_density={self.link_density:.2f} "
            f"date_lines={self.date_lines} linked_share={self.linked_share:.2f} "
            f"own_prose={self.own_prose_chars}"
            + (" own_text_kept" if self.own_blocks is not None else "")
        )


def _text_len(element: _Element) -> int:
    return len(inline_text(element.text_content()))


def _in_chrome(element: _Element) -> bool:
    if element.tag in _CHROME_TAGS:
        return True
    return any(a.tag in _CHROME_TAGS for a in element.iterancestors())


def _main_region(tree: _Element) -> _Element:
    for candidate in tree.xpath(_MAIN_XPATH):
        if not _in_chrome(candidate) and _text_len(candidate) > _MAIN_REGION_MIN_CHARS:
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


def _teaser_groups(region: _Element, chrome: set[_Element]) -> tuple[int, int, int, list[_Element]]:
    """(teasers, dated teasers, teaser chars, teaser elements) of the largest group of teaser
    siblings; the elements also include every other group of mostly dated teasers (a
    "featured" row above the news list), all of which are left out of a page's own text."""
    best: tuple[int, int, int, list[_Element]] = (0, 0, 0, [])
    dated_groups: list[_Element] = []
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
                if m.find(".//a[@href]") is not None
                and _TEASER_MIN_CHARS < _text_len(m) < _TEASER_MAX_CHARS
            ]
            if len(teasers) < MIN_TEASERS:
                continue
            dated = sum(bool(find_date_strings(m.text_content())) for m in teasers)
            chars = sum(_text_len(m) for m in teasers)
            if dated >= DATED_GROUP_SHARE * len(teasers):
                dated_groups.extend(teasers)
            if (dated, len(teasers)) > (best[1], best[0]):
                best = (len(teasers), dated, chars, teasers)
    extra = [m for m in dated_groups if not any(m is b for b in best[3])]
    return best[0], best[1], best[2], [*best[3], *extra]


def _linked_share(region: _Element, blocks: list[str]) -> tuple[float, int]:
    """Share of the extracted text's lines that are link labels (an index of links),
    and how many such lines there are."""
    anchors = {
        label
        for a in region.iter("a")
        if len(label := inline_text(a.text_content()).lower()) >= _MIN_LINK_LABEL_CHARS
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


def _is_title_line(line: str) -> bool:
    bare = line.lstrip("#- ").strip()
    return bool(bare) and len(bare) <= _TITLE_LINE_MAX and not bare.endswith((".", "!", "?"))


def _own_prose(blocks: list[str]) -> tuple[int, int]:
    """(characters, paragraphs) of running text in `blocks`: paragraphs and list items of at
    least `MIN_PARAGRAPH_CHARS`, not headings and not date lines."""
    chars = paragraphs = 0
    for block in blocks:
        if block.startswith("#"):
            continue
        for line in block.split("\n"):
            bare = line.lstrip("- ").strip()
            if len(bare) >= MIN_PARAGRAPH_CHARS and not is_date_line(bare):
                chars += len(bare)
                paragraphs += 1
    return chars, paragraphs


def _text_teaser_span(lines: list[str]) -> tuple[int, int] | None:
    """Line range [start, end) of the teaser list in a text without markup, found from its
    date lines: a teaser is its title lines, one lead paragraph and its date. When the date
    ends each teaser (the text ends at a date or a title), the list starts at the title
    lines and lead right before the first date; otherwise the date opens each teaser and
    the list ends after the title lines and lead right after the last date."""
    dates = [i for i, line in enumerate(lines) if is_date_line(line)]
    if len(dates) < MIN_TEASERS:
        return None
    after_last = [line for line in lines[dates[-1] + 1 :] if line.strip()]
    if all(_is_title_line(line) for line in after_last):  # dates close the teasers
        start = dates[0]
        if start > 0 and not _is_title_line(lines[start - 1]):
            start -= 1  # the lead paragraph
        while start > 0 and _is_title_line(lines[start - 1]):
            start -= 1
        return start, len(lines)
    end = dates[-1] + 1  # dates open the teasers
    while end < len(lines) and _is_title_line(lines[end]):
        end += 1
    if end < len(lines):
        end += 1  # the lead paragraph
    return dates[0], end


def _own_blocks_by_text(blocks: list[str]) -> list[str]:
    """`blocks` without the teaser list found from date lines (a text without markup)."""
    lines = [(index, line) for index, block in enumerate(blocks) for line in block.split("\n")]
    span = _text_teaser_span([line for _, line in lines])
    if span is None:
        return blocks
    kept: dict[int, list[str]] = {}
    for position, (index, line) in enumerate(lines):
        if not span[0] <= position < span[1]:
            kept.setdefault(index, []).append(line)
    return ["\n".join(group) for _, group in sorted(kept.items())]


def _own_blocks_by_dom(blocks: list[str], teasers: list[_Element]) -> list[str]:
    """`blocks` without the lines that come from the teaser elements."""
    texts = [letters_only(teaser.text_content()) for teaser in teasers]
    own = []
    for block in blocks:
        lines = [
            line
            for line in block.split("\n")
            if not (key := letters_only(line.lstrip("#- ")))
            or not any(key in text for text in texts)
        ]
        if lines:
            own.append("\n".join(lines))
    return own


def _with_own_text(verdict: ListingVerdict, own: list[str]) -> ListingVerdict:
    """Keep the page as a document of its own text when that is substantial prose."""
    while own and own[-1].startswith("#"):
        own = own[:-1]  # the label above the teasers ("## Siste nytt") heads no text now
    chars, paragraphs = _own_prose(own)
    enough = chars >= MIN_OWN_PROSE_CHARS and paragraphs >= MIN_OWN_PARAGRAPHS
    return replace(
        verdict,
        is_listing=verdict.is_listing and not enough,
        own_prose_chars=chars,
        own_blocks=tuple(own) if verdict.is_listing and enough else None,
    )


def detect_listing(tree: _Element | None, blocks: list[str]) -> ListingVerdict:
    """Decide whether the page is a listing; `blocks` is the extracted main text.

    A page with a listing's shape but substantial own prose is no listing: the verdict then
    holds that prose, teasers removed, as `own_blocks`."""
    date_lines, gap = _date_lines(blocks)
    by_text = date_lines >= MIN_TEASERS and gap < _TEASER_MAX_CHARS
    if tree is None:
        verdict = ListingVerdict(by_text, 0, 0, 0.0, 0.0, date_lines)
        return _with_own_text(verdict, _own_blocks_by_text(blocks)) if by_text else verdict
    region = _main_region(tree)
    chrome = _chrome_elements(region)
    density = _link_density(region, chrome)
    teasers, dated, teaser_chars, members = _teaser_groups(region, chrome)
    share = teaser_chars / (_text_len(region) or 1)
    by_dom = share >= MIN_TEASER_SHARE and (
        dated >= MIN_TEASERS
        or (teasers >= MIN_UNDATED_TEASERS and density >= MIN_UNDATED_LINK_DENSITY)
    )
    linked_share, linked_lines = _linked_share(region, blocks)
    by_links = linked_share >= MIN_LINKED_SHARE and linked_lines >= MIN_LINKED_LINES
    verdict = ListingVerdict(
        is_listing=by_text or by_dom or by_links,
        teasers=teasers,
        dated_teasers=dated,
        teaser_share=min(1.0, share),
        link_density=density,
        date_lines=date_lines,
        linked_share=linked_share,
    )
    if by_links or not (by_dom or by_text):
        return verdict  # an index of links has no own prose worth a document
    own = _own_blocks_by_dom(blocks, members) if by_dom else blocks
    return _with_own_text(verdict, _own_blocks_by_text(own))

"""Text blocks: the shape of extracted HTML text, and the clean-up applied to it.

An extracted page is a list of blocks, joined with blank lines into `Page.text`:

* a heading is one line starting with markdown hashes: `## Fakta om prosjektet`
  (`#` × level, h2 when the level is unknown); `samsok.ingest.chunk` splits sections on them;
* a list is one block with one `- item` line per item;
* a table is one block with one line per row, cells joined by ` | `;
* anything else (paragraph, quote, code, loose text) is one block of running text.

This module renders trafilatura's XML body into blocks, builds blocks from a DOM
container (the bs4 rescue stage) and from plain text, and drops the chrome that
survives main-content extraction on municipal CMS pages: accessibility widgets
("Tekststørrelse", "Kontrast"), weather/date bars ("18 °C Stjørdal, NO"), ad-slot labels
("Annonse"), cookie notices, "Les forrige sak" teaser tails and "[…]" excerpts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bs4 import Tag
from lxml.etree import _Element
from samsok.ingest.extract.dates import TEMPERATURE, WRITTEN_DATE

__all__ = [
    "blocks_from_plain_text",
    "blocks_from_soup",
    "blocks_from_trafilatura",
    "drop_chrome",
    "heading_level",
    "inline_text",
    "is_date_line",
    "join_blocks",
    "letters_only",
]

_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_ALL_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"\W+")
_HEADING = re.compile(r"^(#{1,6}) +\S")
_WIDGET = re.compile(
    r"^(ico\s+\S+\.(png|gif|svg|jpe?g)\s*)?"
    r"(tekststørrelse|skriftstørrelse|større tekst|mindre tekst|kontrast|høy kontrast|"
    r"lytt( til (teksten|siden))?|les opp|skriv ut|del( på| denne)?( siden)?|"
    r"del på (facebook|twitter|linkedin|e-post)|tips en venn|close|lukk|til toppen|"
    r"meny|søk|hopp til (hovedinnhold|innhold)|text size|contrast|print|share)\s*:?$",
    re.IGNORECASE,
)
#: A line that is only a date (a publication stamp): a written date, or day.month.year with a
#: two-digit year, after an optional label and before an optional time of day.
_DATE_ONLY = re.compile(
    r"^(publisert|oppdatert|dato|published|updated)?:?\s*"
    rf"({WRITTEN_DATE}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2}})(\s*(kl\.?)?\s*\d{{1,2}}[:.]\d{{2}})?$",
    re.IGNORECASE,
)
# Ad-slot labels: "Annonse", "Sponset innhold", "Coop Storlien artikkelnivå" (an
# "article-level" placement name printed under the banner).
_AD_LABEL = re.compile(
    r"^(annonse|reklame|sponset( innhold)?|annonsørinnhold|advertisement)$|\bartikkelnivå$",
    re.IGNORECASE,
)
_COOKIE = re.compile(r"informasjonskapsler|cookies?\b", re.IGNORECASE)
_CONSENT = re.compile(
    r"godta|aksepter|samtykke|bruker vi|vi bruker|personvern|accept|consent|we use",
    re.IGNORECASE,
)
_TEASER_TAIL = re.compile(
    r"^(les (forrige|neste) (sak|artikkel)|(forrige|neste) (sak|artikkel)|"
    r"relaterte (saker|artikler|nyheter)|flere (saker|nyheter)|siste nytt|les også|"
    r"previous (article|post)|next (article|post)|related (articles|stories|posts))\s*:?\s*$",
    re.IGNORECASE,
)
#: The one teaser label that also stands inside articles, between their paragraphs.
_SEE_ALSO = re.compile(r"^les også\s*:?\s*$", re.IGNORECASE)
#: Words in a linked title at most (Norwegian news headlines run 5-12 words).
_TEASER_TITLE_WORDS = 14
_EXCERPT_END = re.compile(r"(\[\s*(…|\.\.\.)\s*\]|\[…\])\s*$")
_INLINE_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def inline_text(text: str) -> str:
    """Markup text as one line: in HTML every run of whitespace is one space."""
    return _ALL_SPACE.sub(" ", text).strip()


def letters_only(text: str) -> str:
    """Letters and digits only, lower-cased: a key to match texts by, since extractors join
    inline elements with or without spaces."""
    return _NON_WORD.sub("", text).lower()


def heading_level(block: str) -> int | None:
    """Level of a heading block (`## x` → 2), None for other blocks."""
    match = _HEADING.match(block)
    return len(match.group(1)) if match else None


def is_date_line(line: str) -> bool:
    return bool(_DATE_ONLY.match(line.strip()))


def join_blocks(blocks: Iterable[str]) -> str:
    return "\n\n".join(block for block in blocks if block.strip())


# --- trafilatura XML ------------------------------------------------------------------


#: trafilatura's block elements: text inside one of them never runs on into the next.
_XML_BREAKS = frozenset(
    ("lb", "p", "item", "list", "head", "quote", "row", "cell", "table", "code")
)


def _xml_text(element: _Element) -> str:
    """Text of an XML element on one line, in document order. A nested block (`<lb/>`, the
    items of a sub-list, the paragraphs of a quote) is set off by spaces so its words are
    not glued to the neighbours' ("…in nowAssess what…"); inline markup (`<hi>`, `<ref>`)
    is not, since it can split a word."""
    parts: list[str] = []
    _xml_collect(element, parts)
    return inline_text("".join(parts))


def _xml_collect(element: _Element, parts: list[str]) -> None:
    if element.tag != "lb" and element.text:
        parts.append(element.text)
    for child in element.iterchildren():
        breaks = child.tag in _XML_BREAKS
        if breaks:
            parts.append(" ")
        _xml_collect(child, parts)
        if breaks:
            parts.append(" ")
        if child.tail:
            parts.append(child.tail)


def _xml_block(element: _Element, out: list[str]) -> None:
    tag = element.tag
    if tag == "head":
        rend = str(element.get("rend") or "h2")
        level = _INLINE_HEADINGS.get(rend, 2)
        text = _xml_text(element)
        if text:
            out.append("#" * level + " " + text)
    elif tag == "list":
        items = [_xml_text(item) for item in element.iterchildren("item")]
        lines = [f"- {item}" for item in items if item]
        if lines:
            out.append("\n".join(lines))
    elif tag == "table":
        rows = []
        for row in element.iter("row"):
            cells = [_xml_text(cell) for cell in row.iterchildren("cell")]
            cells = [cell for cell in cells if cell]
            if cells:
                rows.append(" | ".join(cells))
        if rows:
            out.append("\n".join(rows))
    elif tag in ("p", "quote", "code", "item", "cell", "hi", "ref", "del", "graphic"):
        text = _xml_text(element)
        if text:
            out.append(text)
    else:  # a container (div, main, doc, ...): walk its children
        if element.text and inline_text(element.text):
            out.append(inline_text(element.text))
        for child in element.iterchildren():
            _xml_block(child, out)
    if element.tail and inline_text(element.tail):
        out.append(inline_text(element.tail))


def blocks_from_trafilatura(body: _Element | None) -> list[str]:
    """Blocks of trafilatura's `Document.body` (tags: p, head, list/item, table/row/cell)."""
    if body is None:
        return []
    out: list[str] = []
    if body.text and inline_text(body.text):
        out.append(inline_text(body.text))
    for child in body.iterchildren():
        _xml_block(child, out)
    return out


# --- DOM (bs4) ------------------------------------------------------------------------

_BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "dt", "dd", "tr"]


def blocks_from_soup(container: Tag) -> list[str]:
    """Blocks from a bs4 container: headings, paragraphs, list items, table rows."""
    out: list[str] = []
    for element in container.find_all(_BLOCK_TAGS):
        # Skip elements nested in another block we already take whole (li > p, td > p).
        if element.find_parent(_BLOCK_TAGS) is not None and element.name not in _INLINE_HEADINGS:
            continue
        if element.name == "tr":
            cells = [inline_text(c.get_text(" ")) for c in element.find_all(["td", "th"])]
            text = " | ".join(c for c in cells if c)
        else:
            text = inline_text(element.get_text(" "))
        if not text:
            continue
        if element.name in _INLINE_HEADINGS:
            out.append("#" * _INLINE_HEADINGS[element.name] + " " + text)
        elif element.name == "li":
            out.append(f"- {text}")
        else:
            out.append(text)
    if not out:
        text = inline_text(container.get_text(" "))
        if text:
            out.append(text)
    return _merge_list_items(out)


def _merge_list_items(blocks: list[str]) -> list[str]:
    merged: list[str] = []
    for block in blocks:
        if block.startswith("- ") and merged and merged[-1].startswith("- "):
            merged[-1] += "\n" + block
        else:
            merged.append(block)
    return merged


# --- plain text -----------------------------------------------------------------------


def blocks_from_plain_text(text: str) -> list[str]:
    """Blocks of a text without markup: split on blank lines, bullets become `- ` items."""
    blocks: list[str] = []
    for raw in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [_clean(line) for line in raw.split("\n")]
        lines = [re.sub(r"^[•▪●◦·]\s*", "- ", line) for line in lines if line]
        if lines:
            blocks.append("\n".join(lines))
    return blocks


# --- chrome ---------------------------------------------------------------------------


#: A weather or ad label line is short (by hand: "Trondheim 4 °C, lett regn" fits) ...
_LABEL_LINE_MAX = 60
#: ... and a cookie notice is a paragraph at most (longer text that mentions cookies is
#: content, e.g. a privacy page; by hand).
_COOKIE_NOTICE_MAX = 400


def _is_chrome_line(line: str) -> bool:
    bare = line.lstrip("#- ").strip()
    if not bare or not re.search(r"\w", bare):
        return True
    if _WIDGET.match(bare):
        return True
    if TEMPERATURE.match(bare) and len(bare) < _LABEL_LINE_MAX:
        return True
    if _AD_LABEL.search(bare) and len(bare) < _LABEL_LINE_MAX:
        return True
    return bool(_COOKIE.search(bare) and _CONSENT.search(bare) and len(bare) < _COOKIE_NOTICE_MAX)


def drop_chrome(blocks: list[str]) -> list[str]:
    """Remove widget labels, weather/date bars, cookie notices, teaser tails and excerpts.

    A date-only line right next to a weather line (in the same block or across a block
    boundary) is the header's "today" bar and goes with it. A teaser-tail label ("Les
    forrige sak:", "Relaterte saker") cuts off the rest of the page, but only in the second
    half of the text, so a mid-article "Les også" cannot eat the article; after "Les også"
    itself only the linked titles go, since articles go on after it too.
    """
    flat = [(index, line) for index, block in enumerate(blocks) for line in block.split("\n")]
    bare = [line.lstrip("#- ").strip() for _, line in flat]
    weather = [bool(TEMPERATURE.match(line)) and len(line) < _LABEL_LINE_MAX for line in bare]
    grouped: dict[int, list[str]] = {}
    for position, (index, line) in enumerate(flat):
        near_weather = any(weather[max(0, position - 1) : position + 2])
        if _is_chrome_line(line) or (near_weather and is_date_line(bare[position])):
            continue
        if _EXCERPT_END.search(line):
            continue
        grouped.setdefault(index, []).append(line)
    kept = ["\n".join(lines) for _, lines in sorted(grouped.items())]
    total = sum(len(block) for block in kept) or 1
    seen = 0
    out: list[str] = []
    see_also = False  # inside the titles a "Les også" label links to
    for block in kept:
        label, _, rest = block.partition("\n")
        label = label.lstrip("#- ").strip()
        if seen > total / 2 and _TEASER_TAIL.match(label):
            if not _SEE_ALSO.match(label):
                return out  # a page's teaser tail: what follows is other pages
            # "Les også" also stands inside articles that go on after its links: drop the
            # label and the titles under it, keep the prose after them.
            see_also, block = True, rest
        seen += len(block)
        if see_also:
            lines = block.split("\n")
            while lines and _is_teaser_title(lines[0]):
                lines.pop(0)
            see_also = not lines
            block = "\n".join(lines)
        if block:
            out.append(block)
    return out


def _is_teaser_title(line: str) -> bool:
    """A linked article's title under a "Les også" label: a short line that is neither a
    heading nor a sentence (those are the article going on)."""
    text = line.strip()
    return (
        not text.startswith("#")
        and len(text.split()) <= _TEASER_TITLE_WORDS
        and not text.endswith((".", "!", "?", "…", ":", '"', "»"))
    )

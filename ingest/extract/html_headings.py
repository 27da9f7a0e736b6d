"""Put back the section headings trafilatura leaves out.

When an article sits in a plain `<div>` (no `<article>`/`<main>`, the rule on older
municipal CMSs), trafilatura keeps its paragraphs but drops its `<h2>`–`<h6>`. The chunker
needs those headings to give every chunk its section. So: locate each extracted block in
the page's own sequence of text elements, and re-insert, as `## Heading` blocks, the
headings that sit directly between two extracted blocks with no unextracted text beside
them. Headings elsewhere (menus, sidebars, related-article
boxes) stay out: they are not between extracted text, sit among skipped text, or are links.
"""

from __future__ import annotations

import re

from lxml.etree import _Element
from samsok.ingest.extract.html_blocks import heading_level, inline_text

__all__ = ["restore_headings"]

_TEXT_TAGS = ("h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "dd", "td")
_KEY_CHARS = 40
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_MAX_HEADING = 150
_TEASER_LABEL = re.compile(
    r"^(les også|relatert|relaterte|related|more (on|from)|mer om|flere saker|siste nytt)",
    re.IGNORECASE,
)


def _key(text: str) -> str:
    return inline_text(text).lower()[:_KEY_CHARS]


def _block_key(block: str) -> str:
    return _key(block.split("\n", 1)[0].removeprefix("- "))


def _section_heading(element: _Element, text: str, following: _Element) -> bool:
    """A real section heading of the text that follows it: short, not a teaser label
    ("Related articles", "Les også"), not a link (related-article headlines are), and in
    the same container as the following extracted element (a modal's or a form's title
    is not)."""
    if not text or len(text) > _MAX_HEADING or _TEASER_LABEL.match(text):
        return False
    if any(a.tag == "a" for a in element.iterancestors()):
        return False
    linked = sum(len(a.text_content().strip()) for a in element.iter("a"))
    if linked >= len(text) / 2:
        return False
    parent = element.getparent()
    return parent is not None and any(a is parent for a in following.iterancestors())


def restore_headings(blocks: list[str], tree: _Element) -> list[str]:
    """`blocks` with the page's section headings re-inserted where they belong."""
    if not blocks or any(heading_level(block) for block in blocks):
        return blocks
    elements = [
        (element, inline_text(element.text_content())) for element in tree.iter(*_TEXT_TAGS)
    ]
    keys = [_key(text) for _, text in elements]
    out: list[str] = []
    previous: int | None = None
    cursor = 0
    for block in blocks:
        position = _find(keys, _block_key(block), cursor)
        if position is not None:
            cursor = position + 1
            # Only between two extracted blocks, in a gap made of headings alone: skipped
            # text there means a box of other content (related articles, ads).
            gap = elements[previous + 1 : position] if previous is not None else []
            if all(e.tag in _HEADINGS or not text for e, text in gap):
                following = elements[position][0]
                for element, text in gap:
                    if element.tag in _HEADINGS and _section_heading(element, text, following):
                        out.append("#" * int(element.tag[1]) + " " + text)
            previous = position
        out.append(block)
    return out


#: Shorter heading keys are not matched to a text line: by hand, below this a key like
#: "kontakt" matches too many lines by prefix.
_MIN_MATCH_KEY = 12


def _find(keys: list[str], wanted: str, cursor: int) -> int | None:
    if len(wanted) < _MIN_MATCH_KEY:
        return None
    for index in range(cursor, len(keys)):
        key = keys[index]
        if key and (key.startswith(wanted) or wanted.startswith(key)):
            return index
    return None

"""Put back body prose that sits directly in a container, outside any `<p>`.

trafilatura skips such text in every mode: a lead in `<div class="summary">`, an intro as
the direct text of a `<section>`, paragraphs separated by `<br><br>`. `rescue_orphans`
finds runs of it (own text and inline children of a `div/section/article/main/td/body`,
split at `<br>` and block children) that pass the prose rules of
`samsok.ingest.extract.html_recall`, end like a sentence, hold no URL and at most
`MAX_ORPHAN_LINK_SHARE` link text, and are not extracted yet; and adds them when they sit
*beside* the extracted paragraphs, never after the last one (comments, author boxes and
copyright notices come there).

Thresholds were chosen on the tuning half of the AEB benchmark only (docs/extraction.md).
"""

from __future__ import annotations

import re
from itertools import islice

from lxml.etree import _Element
from samsok.ingest.extract.html_blocks import inline_text, letters_only
from samsok.ingest.extract.html_recall import (
    KEY_CHARS,
    SENTENCE_END,
    SideTexts,
    is_prose,
    side_texts,
)

__all__ = ["MAX_ORPHAN_LINK_SHARE", "rescue_orphans"]


_INLINE = frozenset(
    [
        *("a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "em", "font", "i", "img"),
        *("kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time"),
        *("tt", "u", "var", "wbr"),
    ]
)
_SKIP = frozenset(
    [
        *("script", "style", "noscript", "template", "nav", "header", "footer", "aside"),
        *("form", "button", "select", "option", "figure", "figcaption", "iframe", "svg"),
        "object",
    ]
)
_CONTAINERS = frozenset(("div", "section", "article", "main", "td", "body", "center"))
_MATCH_TAGS = frozenset(
    [
        *("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt"),
        *("td", "div", "section"),
    ]
)
_MATCH_CHARS = 40
_URL = re.compile(r"https?://|www\.\w", re.IGNORECASE)
#: Above this share of link text a run of orphan text is navigation, not prose.
MAX_ORPHAN_LINK_SHARE = 0.3


def _leading_text(element: _Element) -> str:
    """The start of an element's text: enough for a match key, without building the whole
    text of a large container."""
    parts: list[str] = []
    letters = 0
    for piece in element.itertext():
        parts.append(piece)
        letters += len(letters_only(piece))
        if letters > _MATCH_CHARS:
            break
    return "".join(parts)


def _skipped(element: _Element) -> bool:
    chain = (element, *element.iterancestors())
    return any(a.tag in _SKIP for a in chain if isinstance(a.tag, str))


def _runs(container: _Element) -> list[tuple[str, float, _Element | None]]:
    """The runs of text directly in `container` (its own text, inline children, tails),
    split at block children and line breaks; each with its share of link text and the
    block child it follows (None at the start of the container)."""
    runs: list[tuple[str, float, _Element | None]] = []
    parts: list[str] = []
    linked = 0
    after: _Element | None = None

    def flush() -> None:
        nonlocal linked
        text = inline_text("".join(parts))
        if text:
            runs.append((text, linked / len(text), after))
        parts.clear()
        linked = 0

    parts.append(container.text or "")
    for child in container.iterchildren():
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":  # a line break ends a run: "<br><br>" separates paragraphs
            flush()
        elif tag in _INLINE:
            inner = child.text_content()
            parts.append(inner)
            if tag == "a":
                linked += len(inline_text(inner))
            else:
                linked += sum(len(a.text_content()) for a in child.iter("a"))
        elif tag:  # a block child (or skipped element) ends the run
            flush()
            after = child
        parts.append(child.tail or "")
    flush()
    return runs


def rescue_orphans(
    blocks: list[str], tree: _Element, side: SideTexts | None = None
) -> tuple[list[str], int]:
    """Add body prose that sits directly in a container (no `<p>`), which trafilatura skips
    in every mode: a lead in `<div class="summary">`, an intro as the text of a `<section>`,
    paragraphs separated by `<br><br>`. Only beside the extracted paragraphs (its container
    is, or is a child of, one of theirs, their parent or grandparent) and never after the
    last of them (comments, author boxes and notices come there)."""
    if not blocks:
        return blocks, 0
    order = {e: i for i, e in enumerate(tree.iter()) if isinstance(e.tag, str)}
    owner: dict[float, _Element] = {}  # position → the element a text at it belongs to
    first_at: dict[str, float] = {}
    runs: list[tuple[float, _Element, str, float]] = []
    for element, index_in_tree in order.items():
        texts: list[tuple[float, str]] = []
        if element.tag in _MATCH_TAGS:
            texts.append((index_in_tree, _leading_text(element)))
        if element.tag in _CONTAINERS and not _skipped(element):
            for index, (text, link_share, after) in enumerate(_runs(element)):
                # A run sits after everything inside the block child it follows, and after
                # the runs before it (line breaks do not move the position on).
                start = index_in_tree if after is None else _last_position(after, order)
                at = start + 0.5 + index / 10_000
                runs.append((at, element, text, link_share))
                texts.append((at, text))
        for at, text in texts:
            key = letters_only(text)[:_MATCH_CHARS]
            if key and key not in first_at:
                first_at[key] = at
                owner[at] = element
    block_pos: list[float | None] = []
    for block in blocks:
        key = letters_only(block.split("\n", 1)[0].lstrip("#- "))[:_MATCH_CHARS]
        block_pos.append(first_at.get(key) if len(key) >= 12 else None)
    matched = sorted(p for p in block_pos if p is not None)
    if len(matched) < 2:
        return blocks, 0
    anchors: set[_Element] = set()
    for at in matched:
        anchors.add(owner[at])
        anchors.update(islice(owner[at].iterancestors(), 2))
    present = letters_only(" ".join(blocks))
    side = side_texts(tree) if side is None else side
    found: list[tuple[float, str]] = []
    for at, container, text, link_share in runs:
        beside = container in anchors or container.getparent() in anchors
        if at > matched[-1] or not beside:
            continue
        if link_share > MAX_ORPHAN_LINK_SHARE or _URL.search(text):
            continue
        if not SENTENCE_END.search(text) or not is_prose(text, side):
            continue
        if letters_only(text)[:KEY_CHARS] in present:
            continue
        found.append((at, text))
    if not found:
        return blocks, 0
    merged: list[str] = []
    pending = sorted(found)
    for block, block_at in zip(blocks, block_pos, strict=True):
        while pending and block_at is not None and pending[0][0] < block_at:
            merged.append(pending.pop(0)[1])
        merged.append(block)
    merged.extend(text for _, text in pending)
    return merged, len(found)


def _last_position(element: _Element, order: dict[_Element, int]) -> int:
    """Document position of the last element inside `element` (itself when empty)."""
    last = element
    for last in element.iter():  # noqa: B007 - the loop variable is the result
        pass
    return order.get(last, order[element])

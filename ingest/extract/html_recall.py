"""Put back the body paragraphs trafilatura's precision mode drops.

Precision mode keeps our municipal pages free of widgets and teasers, but it also drops real
body text: a paragraph after an embedded tweet or an ad slot, the items of a "deals" post,
a closing paragraph in its own `<div>`. Recall mode keeps those, together with clutter
(related-article links, call-to-action lines, captions, datelines, standfirsts).

So both run, and the precision result is the base: a block that only recall mode found is
added at its place in recall mode's order when it is *body prose*:

* running text (not a heading, list or table) of at least `MIN_PROSE_WORDS` words whose
  last sentence ends in sentence punctuation (a closing quote or bracket may follow);
* not shouting: at most `MAX_UPPER_SHARE` of its letters are capitals (an all-caps line is
  a related-story link or a call to action);
* not a link label and not an image caption or credit on the page (`<figcaption>`, class
  or id tokens with caption/credit/bildetekst/byline).

A short run (at most `MAX_SANDWICH` blocks) between two blocks precision mode kept is body
whatever its length, unless it is clutter by the rules above; a list or table there, or right
after a kept line ending in a colon that announces it, is body unless most of its items are
link labels.

A heading that only recall mode found comes back when the block right after it in recall
mode's order is body (kept by precision mode or added by the rule above): it is that
paragraph's section heading. Not the `<h1>` (the page title, kept apart) and not a sentence
set as a heading (a standfirst: it ends in a full stop, question or exclamation mark).

Body text outside any `<p>` is missed by trafilatura in every mode; `rescue_orphans` puts it
back (see its docstring).

Thresholds were chosen on the tuning half of the AEB benchmark only (docs/extraction.md).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from itertools import islice

from lxml.etree import _Element
from samsok.ingest.extract.html_blocks import heading_level, letters_only

__all__ = [
    "MAX_ORPHAN_LINK_SHARE",
    "MAX_SANDWICH",
    "MAX_UPPER_SHARE",
    "MIN_PROSE_WORDS",
    "merge_recall",
    "rescue_orphans",
    "side_texts",
]

#: Words a recall-only paragraph needs to count as body prose.
MIN_PROSE_WORDS = 8
#: A run of at most this many recall-only blocks between two kept blocks is body.
MAX_SANDWICH = 2
#: Above this share of capital letters a line is shouting (a link or call to action).
MAX_UPPER_SHARE = 0.5

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_STANDFIRST_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_CAPTION_TOKEN = re.compile(r"caption|credit|bildetekst|byline|photographer|fotograf", re.I)
_KEY_CHARS = 60


def _key(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()[:_KEY_CHARS]


def side_texts(tree: _Element) -> set[str]:
    """Keys of link labels, captions and credits on the page."""
    keys = set()
    for anchor in tree.iter("a"):
        keys.add(_key(anchor.text_content()))
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tokens = [*(element.get("class") or "").split(), element.get("id") or ""]
        if element.tag == "figcaption" or any(_CAPTION_TOKEN.search(t) for t in tokens if t):
            keys.add(_key(element.text_content()))
    keys.discard("")
    return keys


def _is_running_text(block: str) -> bool:
    return not (heading_level(block) or block.startswith("- ") or " | " in block or "\n" in block)


def _is_clutter(block: str, side: set[str]) -> bool:
    """Shouting (a related-story link or call to action), a link label or a caption."""
    letters = [c for c in block if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > MAX_UPPER_SHARE * len(letters):
        return True
    key = _key(block)
    if key in side:
        return True
    return len(key) >= 20 and any(
        key.startswith(s) or s.startswith(key) for s in side if len(s) >= 20
    )


def _is_body_list(block: str, side: set[str]) -> bool:
    """A list or table whose items are mostly text of their own, not link labels (a menu)."""
    items = [line.removeprefix("- ").strip() for line in block.split("\n")]
    items = [item for item in items if item]
    if not items or heading_level(block):
        return False
    own = sum(not _is_clutter(item, side) for item in items)
    return own * 2 > len(items)


def _is_prose(block: str, side: set[str]) -> bool:
    if not _is_running_text(block):
        return False
    words = _WORD.findall(block)
    if len(words) < MIN_PROSE_WORDS or not _SENTENCE_END.search(block.rstrip()):
        return False
    return not _is_clutter(block, side)


def _is_section_heading(block: str) -> bool:
    """A heading below the title that names a section: a sentence ("Earnings rose 5 %.")
    set as a heading is a standfirst, and the `<h1>` is the page title, kept apart."""
    level = heading_level(block)
    if level is None or level < 2:
        return False
    return not _STANDFIRST_END.search(block.rstrip())


def merge_recall(
    precise: list[str], recall: list[str], tree: _Element, side: set[str] | None = None
) -> tuple[list[str], int]:
    """`precise` with the body prose only `recall` has, in recall's order; and how many
    blocks were added. `side` is `side_texts(tree)` when the caller has it already."""
    if not recall:
        return precise, 0
    if not precise:
        return precise, 0  # the cascade's next stage handles an empty precision result
    side = side_texts(tree) if side is None else side
    seen = set(precise)
    matcher = SequenceMatcher(a=precise, b=recall, autojunk=False)
    merged: list[str] = []
    added = 0
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        merged.extend(precise[a0:a1])
        if tag not in ("insert", "replace"):
            continue
        extra = recall[b0:b1]
        # A short run of text between two blocks precision mode kept is body, whatever its
        # length ("Webb emerged, naked.", "He said:"), and so is a list or table there
        # unless it is made of link labels.
        sandwiched = tag == "insert" and 0 < a0 < len(precise) and len(extra) <= MAX_SANDWICH
        # A list right after a kept line that announces it ("Målet er:") is body too.
        announced = a0 > 0 and precise[a0 - 1].rstrip().endswith(":")
        keep = [
            _is_prose(block, side)
            or (
                (sandwiched or (announced and index == 0))
                and (
                    _is_body_list(block, side)
                    if not _is_running_text(block)
                    else sandwiched and not _is_clutter(block, side)
                )
            )
            for index, block in enumerate(extra)
        ]
        # After the last extra block comes the next block both modes kept (if any).
        following_is_body = [*keep[1:], b1 < len(recall)]
        for block, prose, body_next in zip(extra, keep, following_is_body, strict=True):
            if block in seen:
                continue
            if prose or (body_next and _is_section_heading(block)):
                merged.append(block)
                seen.add(block)
                added += 1
    return merged, added


# --- orphan prose: text sitting directly in a container, outside any <p> ---------------

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
_NON_WORD = re.compile(r"\W+")
_MATCH_CHARS = 40
_URL = re.compile(r"https?://|www\.\w", re.IGNORECASE)
# Orphan text must end like a sentence; code ("var x = 1;") and labels ("Tags:") do not.
_ORPHAN_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
#: Above this share of link text a run of orphan text is navigation, not prose.
MAX_ORPHAN_LINK_SHARE = 0.3


def _leading_text(element: _Element) -> str:
    """The start of an element's text: enough for a match key, without building the whole
    text of a large container."""
    parts: list[str] = []
    letters = 0
    for piece in element.itertext():
        parts.append(piece)
        letters += len(_NON_WORD.sub("", piece))
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
        text = _SPACE.sub(" ", "".join(parts)).strip()
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
                linked += len(_SPACE.sub(" ", inner).strip())
            else:
                linked += sum(len(a.text_content()) for a in child.iter("a"))
        elif tag:  # a block child (or skipped element) ends the run
            flush()
            after = child
        parts.append(child.tail or "")
    flush()
    return runs


def rescue_orphans(
    blocks: list[str], tree: _Element, side: set[str] | None = None
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
        if not _ORPHAN_END.search(text) or not _is_prose(text, side):
            continue
        if letters_only(text)[:_KEY_CHARS] in present:
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

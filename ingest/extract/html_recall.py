"""Put back the body paragraphs trafilatura's precision mode drops.

Precision mode keeps our municipal pages free of widgets and teasers, but it also drops real
body text: a paragraph after an embedded tweet or an ad slot, the items of a "deals" post,
a closing paragraph in its own `<div>`, a reference URL or a cross-reference headline
inside the article. Recall mode keeps those, together with clutter (related-article links,
call-to-action lines, captions, datelines, standfirsts) that sits mostly *around* the
article.

So both run, and the precision result is the base. Blocks only recall mode found are added
at their place in recall mode's order:

* **Inside the article.** A short run (at most `MAX_SANDWICH` blocks) between two blocks
  precision mode kept is body, whatever it is — a short line ("He said:"), a list, a
  heading, a bare reference URL, an inline "read also" headline — unless it is a caption or
  credit on the page or shouting (an all-caps call to action). A list or table right after
  a kept line ending in a colon that announces it is body unless most of its items are
  link labels.
* **Around the article**, only *body prose*: running text (not a heading, list or table)
  of at least `MIN_PROSE_WORDS` words whose last sentence ends in sentence punctuation,
  not shouting (more than `MAX_UPPER_SHARE` capitals), not a link label and not a caption.
  A heading comes back when the block right after it is body: it is that paragraph's
  section heading. Not the `<h1>` (the page title, kept apart) and not a sentence set as a
  heading (a standfirst: it ends in a full stop, question or exclamation mark).
* **Cut short.** Where precision mode kept a fragment of a block that recall mode has
  whole (text after a `<div>` inside a heading, a line of a paragraph split at `<br>`), the
  whole block replaces the fragment.

Body text outside any `<p>` is missed by trafilatura in every mode;
`samsok.ingest.extract.html_orphans` puts it back.

Thresholds were chosen on the tuning half of the AEB benchmark only (docs/extraction.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property

from lxml.etree import _Element
from samsok.ingest.extract.html_blocks import heading_level, inline_text, letters_only

__all__ = [
    "MAX_SANDWICH",
    "MAX_UPPER_SHARE",
    "MIN_PROSE_WORDS",
    "SideTexts",
    "is_clutter",
    "is_prose",
    "merge_recall",
    "side_texts",
]

#: Words a recall-only paragraph outside the article's span needs to count as body prose.
MIN_PROSE_WORDS = 3
#: A run of at most this many recall-only blocks between two kept blocks is body.
MAX_SANDWICH = 2
#: Above this share of capital letters a line is shouting (a link or call to action).
MAX_UPPER_SHARE = 0.5

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
#: Ends like a sentence (code and labels do not).
SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_CAPTION_TOKEN = re.compile(r"caption|credit|bildetekst|byline|photographer|fotograf", re.I)
KEY_CHARS = 60
#: A fragment (the start or end of a longer recall block) needs this many letters: by hand,
#: "Also:" cut from "Also: See …" is four.
_MIN_FRAGMENT = 4


@dataclass(frozen=True)
class SideTexts:
    """Keys (`text_key`) of the page's link labels and of its captions and credits."""

    links: frozenset[str]
    captions: frozenset[str]

    @cached_property
    def all(self) -> frozenset[str]:
        return self.links | self.captions


def text_key(text: str) -> str:
    return inline_text(text).lower()[:KEY_CHARS]


def side_texts(tree: _Element) -> SideTexts:
    """Link labels, captions and credits on the page."""
    links = {text_key(anchor.text_content()) for anchor in tree.iter("a")}
    captions = set()
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tokens = [*(element.get("class") or "").split(), element.get("id") or ""]
        if element.tag == "figcaption" or any(_CAPTION_TOKEN.search(t) for t in tokens if t):
            captions.add(text_key(element.text_content()))
    links.discard("")
    captions.discard("")
    return SideTexts(frozenset(links), frozenset(captions))


def _is_running_text(block: str) -> bool:
    return not (heading_level(block) or block.startswith("- ") or " | " in block or "\n" in block)


def _is_shouting(block: str) -> bool:
    letters = [c for c in block if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) > MAX_UPPER_SHARE * len(letters)


def _matches(block: str, keys: frozenset[str]) -> bool:
    """The block is one of `keys`' texts (or starts one, or one starts it: keys are cut)."""
    key = text_key(block)
    if key in keys:
        return True
    return len(key) >= 20 and any(
        key.startswith(s) or s.startswith(key) for s in keys if len(s) >= 20
    )


def is_clutter(block: str, side: SideTexts) -> bool:
    """Shouting (a related-story link or call to action), a link label or a caption."""
    return _is_shouting(block) or _matches(block, side.all)


def _is_body_list(block: str, side: SideTexts) -> bool:
    """A list or table whose items are mostly text of their own, not link labels (a menu)."""
    items = [line.removeprefix("- ").strip() for line in block.split("\n")]
    items = [item for item in items if item]
    if not items or heading_level(block):
        return False
    own = sum(not is_clutter(item, side) for item in items)
    return own * 2 > len(items)


def is_prose(block: str, side: SideTexts) -> bool:
    """Running text of `MIN_PROSE_WORDS` words or more ending like a sentence, not clutter."""
    if not _is_running_text(block):
        return False
    words = _WORD.findall(block)
    if len(words) < MIN_PROSE_WORDS or not _SENTENCE_END.search(block.rstrip()):
        return False
    return not is_clutter(block, side)


def _is_section_heading(block: str) -> bool:
    """A heading below the title that names a section: a sentence ("Earnings rose 5 %.")
    set as a heading is a standfirst, and the `<h1>` is the page title, kept apart."""
    level = heading_level(block)
    if level is None or level < 2:
        return False
    return not SENTENCE_END.search(block.rstrip())


def _letters(block: str) -> str:
    return letters_only(block.lstrip("#- "))


def _restore_cut(precise: list[str], recall: list[str]) -> tuple[list[str], list[str]]:
    """Precision blocks of a changed run with every fragment of a longer recall block
    replaced by that whole block (once), and the recall blocks not used that way."""
    whole = [_letters(block) for block in recall]
    out: list[str] = []
    used: set[int] = set()
    for block in precise:
        part = _letters(block)
        owner = next(
            (
                i
                for i, letters in enumerate(whole)
                if len(part) >= _MIN_FRAGMENT
                and len(letters) > len(part)
                and (letters.startswith(part) or letters.endswith(part))
            ),
            None,
        )
        if owner is None:
            out.append(block)
        elif owner not in used:  # the first fragment stands for the whole block
            used.add(owner)
            out.append(recall[owner])
    return out, [block for i, block in enumerate(recall) if i not in used]


def _is_body(block: str, side: SideTexts, sandwiched: bool, announced: bool) -> bool:
    """Whether a recall-only block is body (see the module docstring)."""
    if is_prose(block, side):
        return True
    if not _is_running_text(block) and not heading_level(block):  # a list or a table
        return (sandwiched or announced) and _is_body_list(block, side)
    return sandwiched and not _is_shouting(block) and not _matches(block, side.captions)


def merge_recall(
    precise: list[str], recall: list[str], tree: _Element, side: SideTexts | None = None
) -> tuple[list[str], int]:
    """`precise` with the body only `recall` has, in recall's order; and how many blocks
    were added or made whole. `side` is `side_texts(tree)` when the caller has it."""
    if not recall or not precise:  # an empty precision result: the cascade's next stage
        return precise, 0
    side = side_texts(tree) if side is None else side
    seen = set(precise)
    matcher = SequenceMatcher(a=precise, b=recall, autojunk=False)
    merged: list[str] = []
    added = 0
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        extra = recall[b0:b1]
        if tag == "replace":
            own = precise[a0:a1]
            kept, extra = _restore_cut(own, extra)
            # A whole block that precision mode also kept elsewhere is not repeated.
            made_whole = [block for block in kept if block not in own]
            merged.extend(b for b in kept if b in own or b not in seen)
            added += sum(block not in seen for block in made_whole)
            seen.update(made_whole)
        else:
            merged.extend(precise[a0:a1])
        if tag not in ("insert", "replace") or not extra:
            continue
        # Between two kept blocks we are inside the article: precision mode's doubts there
        # cost body ("Webb emerged, naked.", "He said:", a reference URL), so only captions
        # and shouting stay out.
        sandwiched = a0 > 0 and a1 < len(precise) and len(extra) <= MAX_SANDWICH
        # A list right after a kept line that announces it ("Målet er:") is body too.
        announced = a0 > 0 and precise[a0 - 1].rstrip().endswith(":")
        keep = [
            _is_body(block, side, sandwiched, announced and index == 0)
            for index, block in enumerate(extra)
        ]
        # After the last extra block comes the next block both modes kept (if any).
        following_is_body = [*keep[1:], b1 < len(recall)]
        for block, body, body_next in zip(extra, keep, following_is_body, strict=True):
            if block in seen:
                continue
            # A heading is body only above body: a box's heading over links that stayed
            # out ("Mest besøkt", "Related") is not.
            if heading_level(block) and not body_next:
                continue
            if body or _is_section_heading(block):
                merged.append(block)
                seen.add(block)
                added += 1
    return merged, added

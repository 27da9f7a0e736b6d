"""Clean-up of the raw per-page text pypdf gives: from printed lines back to paragraphs.

Steps, in order:

1. normalise: ligatures (ﬁ, ﬂ, …) to letters, NUL and other control characters out,
   table-of-contents dot leaders to one "…", tabs to spaces, trailing blanks off;
2. running headers/footers: a line among the first or last three of a page whose shape
   (lower-cased, digits as `#`) recurs on at least half of the pages (and on two or more)
   is dropped everywhere it sits at a page edge. Page-number lines ("Side 2 av 5",
   "- 3 -", a bare "3") share one shape, so they go the same way — but only when they
   repeat, so a lone number on a one-page document stays;
3. hyphenation: "helse-\\ntjeneste" → "helsetjeneste" (a lower-case continuation), while
   "helse-\\nog omsorg" keeps the hyphen and gets a space (a suspended compound before a
   conjunction), and "IKT-\\nløsninger" / "Nord-\\nNorge" keep the hyphen, joined;
4. re-flow: lines are joined into paragraphs; a paragraph ends at a blank line, before a
   bullet or numbered item, after a line that ends a sentence and is clearly shorter than a
   full line, after a short line without a sentence end (a heading, a table cell), and
   before a short line that follows a sentence end and does not end with a full stop (a
   heading after a paragraph whose last line happens to be full). Symbol bullets become
   `- ` items, one per line in one paragraph.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

__all__ = ["clean_pages", "join_hyphenated", "reflow"]

_LIGATURES = {c: unicodedata.normalize("NFKC", c) for c in "ﬀﬁﬂﬃﬄﬅﬆ"}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_DOT_LEADER = re.compile(r"(?:[ \t]?[.·…][ \t]?){4,}")  # table-of-contents leaders
_EDGE_LINES = 3
#: A document this long (in pages) has chapters: a numbered edge line on
#: `_CHAPTER_REPEATS` pages is a running chapter header (by hand, from the German thesis in
#: ../shared/eval/pdf-samples).
_CHAPTER_MIN_PAGES = 6
_CHAPTER_REPEATS = 3
#: A full line is this quantile of a page's line lengths (by hand: above short last lines
#: of paragraphs, below the odd over-long table row).
_FULL_LINE_QUANTILE = 0.8
#: A line shorter than this share of a full line ends a paragraph or is a heading (by hand).
_SHORT_LINE_SHARE = 0.6
#: After a sentence end, a line shorter than this share of a full line ends the paragraph
#: (by hand: a last line that reaches the margin is more likely a sentence mid-paragraph).
_LAST_LINE_SHARE = 0.85
_PAGE_NUMBER_SHAPE = "<page number>"
_PAGE_NUMBER = re.compile(
    r"^(side|page|seite|s\.|p\.)?\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*((av|of|von|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^[•▪●◦■□➢►\-–*]\s+")
_NUMBERED = re.compile(r"^(\(?\d{1,2}[.)]|[a-z][.)])\s+")
_SENTENCE_END = re.compile(r"[.!?:…][\"»”’)\]]?$")
_SUSPENDED_BEFORE = {
    "og",
    "eller",
    "samt",
    "enn",
    "til",
    "and",
    "or",
    "nor",
    "und",
    "oder",
    "bzw",
    "sowie",
}


def _normalise(text: str) -> list[str]:
    for ligature, letters in _LIGATURES.items():
        text = text.replace(ligature, letters)
    # A soft hyphen at a line end is a hyphenation point: join before dropping it.
    text = re.sub("\u00ad[ \t]*\n[ \t]*", "", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _DOT_LEADER.sub(" … ", text)
    return [_SPACES.sub(" ", line).strip() for line in text.split("\n")]


def _shape(line: str) -> str:
    """What a running line looks like regardless of its page: digits as `#`; every
    page-number format ("Side 2 av 5", "- 3 -", "3", "Page 3 of 9") is one shape."""
    if _PAGE_NUMBER.match(line):
        return _PAGE_NUMBER_SHAPE
    return re.sub(r"\d+", "#", line.lower()).strip()


def _edge_indexes(lines: list[str]) -> list[int]:
    filled = [i for i, line in enumerate(lines) if line]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    if len(pages) < 2:
        return pages
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_shape(lines[i]) for i in _edge_indexes(lines)})
    threshold = max(2, math.ceil(len(pages) / 2))
    # Chapter headers with page numbers ("7 1.2. METRISCHE RÄUME") repeat within a chapter
    # only, so a numbered edge line seen on three pages of a longer document counts too.
    running = {
        shape
        for shape, count in counts.items()
        if count >= threshold
        or (len(pages) >= _CHAPTER_MIN_PAGES and count >= _CHAPTER_REPEATS and "#" in shape)
    }
    if not running:
        return pages
    cleaned = []
    for lines in pages:
        edges = set(_edge_indexes(lines))
        kept = [
            line for i, line in enumerate(lines) if not (i in edges and _shape(line) in running)
        ]
        if not any(kept):
            # A page made only of repeated lines is a repeated page, not a running header:
            # keep its text, drop only its page number.
            kept = [line for line in lines if _shape(line) != _PAGE_NUMBER_SHAPE]
        cleaned.append(kept)
    return cleaned


def join_hyphenated(first: str, second: str) -> str | None:
    """`first` + `second` when `first` ends in a line-break hyphen, else None."""
    if len(first) < 2 or not first.endswith("-") or not first[-2].isalnum() or not second:
        return None
    next_word = second.split(" ", 1)[0].lower().strip(",.;:")
    last_word = first.rsplit(" ", 1)[-1][:-1]
    if next_word in _SUSPENDED_BEFORE:
        return f"{first} {second}"  # "helse- og omsorg"
    if not second[0].islower() or last_word.isupper() or any(c.isdigit() for c in last_word):
        return first + second  # "Nord-Norge", "IKT-løsninger", "covid-19"
    return first[:-1] + second  # "helse-" + "tjeneste"


def _typical_length(lines: list[str]) -> int:
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return 0
    return lengths[min(len(lengths) - 1, int(_FULL_LINE_QUANTILE * len(lengths)))]


def reflow(lines: list[str], typical: int | None = None) -> list[str]:
    """Paragraphs of one page; consecutive bullet items share a paragraph, one per line.

    `typical` is the length of a full line; pass the document's, as a page with only a
    table of contents or a few headings has no full line of its own.
    """
    if typical is None:
        typical = _typical_length(lines)
    paragraphs: list[str] = []
    current = ""
    previous_line = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current, previous_line = "", ""
            continue
        bullet = bool(_BULLET.match(line))
        if bullet:
            line = _BULLET.sub("- ", line, count=1)
        numbered = bool(_NUMBERED.match(line))
        if not current:
            current, previous_line = line, line
            continue
        joined = join_hyphenated(current, line)
        if joined is not None and not bullet:
            current, previous_line = joined, line
            continue
        ends_sentence = bool(_SENTENCE_END.search(previous_line))
        short = len(previous_line) < _SHORT_LINE_SHARE * typical
        # A short line after a sentence end that does not end one itself is a heading.
        heading_next = (
            ends_sentence and len(line) < _SHORT_LINE_SHARE * typical and not line.endswith(".")
        )
        if bullet and current.split("\n")[-1].startswith("- "):
            current += "\n" + line
        elif (
            bullet
            or numbered
            or heading_next
            or (ends_sentence and len(previous_line) < _LAST_LINE_SHARE * typical)
            or (short and not previous_line.endswith((",", "-")))
        ):
            paragraphs.append(current)
            current = line
        else:
            current = f"{current} {line}"
        previous_line = line
    if current:
        paragraphs.append(current)
    return paragraphs


def clean_pages(raw_pages: list[str]) -> list[str]:
    """Cleaned text per page (same length as the input; a page may become "")."""
    pages = _drop_running_lines([_normalise(text) for text in raw_pages])
    typical = _typical_length([line for lines in pages for line in lines])
    return ["\n\n".join(reflow(lines, typical)) for lines in pages]

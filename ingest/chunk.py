"""Cut a `Document` into `Chunk`s that follow its structure and fit the embedding model.

* Sections: a page's text is a sequence of blank-line separated blocks; a block that is a
  markdown-style heading line (`## Fakta`, see `samsok.ingest.extract.html_blocks`) starts a
  section. A section's heading carries over a page break until the next heading.
* Pages: a chunk never spans two pages, so every chunk has one page number (PDFs) and a
  hit can link to `#page=N`.
* Size: a chunk's `text` (with its context line) is at most `max_tokens` as measured by
  the caller's `count_tokens` (the embedding model's tokenizer). Blocks are packed whole;
  a block too big on its own is split into its lines, then sentences, then words (and a
  "word" longer than a chunk into characters).
* Overlap: when a section needs several chunks, each one after the first starts with the
  last whole sentences (up to `overlap_tokens`) of the previous one. If the last sentence
  alone is longer than that, there is no overlap at that boundary.
* Context: with `include_title` each chunk's text starts with a line "Title — Heading"
  (or just the title) so an embedded passage knows what it is about; the heading is not
  repeated in the body. `Chunk.heading` holds the heading either way.

Deterministic: the same document and config give the same chunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from samsok.ingest.config import ChunkConfig
from samsok.ingest.documents import Chunk, Document

__all__ = ["Chunker", "chunk_document", "estimate_tokens", "split_sentences"]

#: What the index and the evaluation are handed to cut a document: `chunk_document` with its
#: config and token counter bound.
Chunker = Callable[[Document], list[Chunk]]

TokenCounter = Callable[[str], int]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_HEADING = re.compile(r"^(#{1,6}) +(\S.*)$")
_WORD_CHAR = re.compile(r"\w")
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'»”’)\]]*\s+(?=[\"'«“(\[–—-]?[A-ZÆØÅÄÖÜÉ0-9])")
_ABBREVIATIONS = frozenset(
    {
        "f.eks",
        "bl.a",
        "ca",
        "nr",
        "dvs",
        "mv",
        "m.v",
        "osv",
        "jf",
        "jfr",
        "kl",
        "pr",
        "st",
        "dr",
        "prof",
        "mill",
        "mrd",
        "tlf",
        "ref",
        "evt",
        "inkl",
        "ekskl",
        "hhv",
        "etc",
        "e.g",
        "i.e",
        "mr",
        "mrs",
        "ms",
        "vs",
        "no",
        "fig",
        "kap",
        "s",
        "pkt",
        "avd",
        "adm",
        "ass",
        "sek",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "des",
        "dec",
        "oct",
    }
)
_CONTEXT_SHARE = 4  # the context line may take at most 1/4 of a chunk
#: `estimate_tokens`: one extra token per this many letters of a word; checked against
#: multilingual-e5's tokenizer on Norwegian text (within a few percent on average).
_LETTERS_PER_EXTRA_TOKEN = 5
#: A context line over its budget keeps this share of its words per try: few tokenizer calls
#: for a long title, and still word by word near the end (by hand).
_CONTEXT_KEEP = (3, 4)


def estimate_tokens(text: str) -> int:
    """A cheap stand-in for a subword tokenizer: one token per word or punctuation mark,
    plus one per five letters of a word. Within a few percent on average of
    multilingual-e5's count (with its prefix and special tokens) on Norwegian text."""
    return sum(1 + len(token) // _LETTERS_PER_EXTRA_TOKEN for token in _TOKEN.findall(text))


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; abbreviations ("bl.a.", "St. Olavs") and initials do not
    end a sentence."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()].rstrip("\"'»”’)]")
        last_word = before.rsplit(None, 1)[-1] if before.split() else ""
        stem = last_word.rstrip(".").lower()
        if stem in _ABBREVIATIONS or (len(stem) == 1 and stem.isalpha()):
            continue
        sentences.append(text[start : match.start()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


@dataclass(frozen=True)
class _Unit:
    """A piece of a section small enough to fit in a chunk, and how it joins the previous
    piece: "\\n\\n" (new paragraph), "\\n" (next line of a list/table) or " " (same
    paragraph, when a long paragraph was split)."""

    text: str
    joiner: str


class _Packer:
    """Packs one section's blocks into chunk bodies that fit beside the context line."""

    def __init__(self, context: str, config: ChunkConfig, count: TokenCounter) -> None:
        self.context = context
        self._config = config
        self._count = count

    def compose(self, body: str) -> str:
        return f"{self.context}\n{body}" if self.context else body

    def fits(self, body: str) -> bool:
        return self._count(self.compose(body)) <= self._config.max_tokens

    def _hard_split(self, text: str) -> list[str]:
        """Longest word-prefixes that fit, one after another; characters as a last resort."""
        words = text.split()
        pieces: list[str] = []
        while words:
            low, high = 0, len(words)
            while low < high:  # largest k with words[:k] fitting
                mid = (low + high + 1) // 2
                if self.fits(" ".join(words[:mid])):
                    low = mid
                else:
                    high = mid - 1
            if low == 0:
                pieces.extend(self._split_chars(words[0]))
                words = words[1:]
            else:
                pieces.append(" ".join(words[:low]))
                words = words[low:]
        return pieces

    def _split_chars(self, word: str) -> list[str]:
        pieces = []
        while word:
            low, high = 1, len(word)
            while low < high:
                mid = (low + high + 1) // 2
                if self.fits(word[:mid]):
                    low = mid
                else:
                    high = mid - 1
            pieces.append(word[:low])
            word = word[low:]
        return pieces

    def units(self, blocks: list[str]) -> Iterator[_Unit]:
        for block in blocks:
            if self.fits(block):
                yield _Unit(block, "\n\n")
                continue
            for line_no, line in enumerate(block.split("\n")):
                first_joiner = "\n\n" if line_no == 0 else "\n"
                if self.fits(line):
                    yield _Unit(line, first_joiner)
                    continue
                pieces = []
                for sentence in split_sentences(line):
                    pieces.extend([sentence] if self.fits(sentence) else self._hard_split(sentence))
                for index, piece in enumerate(pieces):
                    yield _Unit(piece, first_joiner if index == 0 else " ")

    def _overlap(self, units: list[_Unit]) -> list[_Unit]:
        """Trailing whole sentences of `units` within the overlap budget."""
        budget = self._config.overlap_tokens
        if budget <= 0 or not units:
            return []
        sentences = split_sentences(units[-1].text)
        taken: list[str] = []
        for sentence in reversed(sentences):
            candidate = [sentence, *taken]
            if self._count(" ".join(candidate)) > budget:
                break
            taken = candidate
        # Repeating the whole previous chunk is not overlap but duplication.
        if not taken or (len(units) == 1 and len(taken) == len(sentences)):
            return []
        return [_Unit(" ".join(taken), "\n\n")]

    def pack(self, blocks: list[str]) -> list[str]:
        bodies: list[str] = []
        current: list[_Unit] = []
        for unit in self.units(blocks):
            if current and self.fits(_join([*current, unit])):
                current.append(unit)
                continue
            if current:
                bodies.append(_join(current))
                overlap = self._overlap(current)
                current = [*overlap, unit] if self.fits(_join([*overlap, unit])) else [unit]
            else:
                current = [unit]
        if current:
            bodies.append(_join(current))
        return bodies


def _join(units: list[_Unit]) -> str:
    text = ""
    for index, unit in enumerate(units):
        text += unit.text if index == 0 else unit.joiner + unit.text
    return text


def _sections(text: str, heading: str | None) -> Iterator[tuple[str | None, list[str]]]:
    """(heading, blocks) per section of one page; `heading` is the one in force at its top."""
    blocks: list[str] = []
    for block in (b.strip() for b in text.split("\n\n")):
        if not block:
            continue
        match = _HEADING.match(block) if "\n" not in block else None
        if match:
            if blocks:
                yield heading, blocks
            heading, blocks = match.group(2).strip(), []
        else:
            blocks.append(block)
    if blocks:
        yield heading, blocks
    else:
        yield heading, []  # keeps the last heading in force for the next page


def _context_line(title: str, heading: str | None, config: ChunkConfig, count: TokenCounter) -> str:
    if not config.include_title:
        return ""
    title = title.strip()
    if heading and heading.strip().lower() != title.lower():
        context = f"{title} — {heading.strip()}" if title else heading.strip()
    else:
        context = title
    words = context.split()
    limit = config.max_tokens // _CONTEXT_SHARE
    while words and count(" ".join(words)) > limit:
        keep = len(words) * _CONTEXT_KEEP[0] // _CONTEXT_KEEP[1]
        words = words[: max(0, min(len(words) - 1, keep))]
    return " ".join(words)


def chunk_document(
    doc: Document, config: ChunkConfig, count_tokens: TokenCounter | None = None
) -> list[Chunk]:
    """Chunks of `doc` in reading order, `ordinal` 0, 1, 2, …"""
    count = count_tokens or estimate_tokens
    chunks: list[Chunk] = []
    heading: str | None = None
    for page in doc.pages:
        for section_heading, blocks in _sections(page.text, heading):
            heading = section_heading
            if not blocks:
                continue
            packer = _Packer(_context_line(doc.title, heading, config, count), config, count)
            for body in packer.pack(blocks):
                if len(_WORD_CHAR.findall(body)) < config.min_chunk_chars:
                    continue
                chunks.append(
                    Chunk.of(
                        doc,
                        ordinal=len(chunks),
                        text=body,
                        page=page.number,
                        heading=heading,
                        context=packer.context,
                    )
                )
    return chunks

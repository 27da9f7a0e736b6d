"""Text normalisation shared by the analyzer, the decompounder and the snippet maker.

A *raw token* is a run of letters/digits in the original text, possibly joined by hyphens
("KAD-senger"). Each raw token is folded into one or more *pieces*: lower-case strings of
letters and digits only, so SQLite FTS5's ``unicode61`` tokenizer never splits them again.

Folding, in order, and why:
1. drop soft hyphens (U+00AD): PDFs put them inside words ("helse\\u00adtjeneste");
2. NFKC: ligatures, full-width and superscript forms become plain letters/digits;
3. casefold;
4. ä→æ, ö→ø: Swedish/Danish spellings of the same Norwegian letters;
5. strip combining accents (é→e, ü→u) but keep the ring of å. æ and ø are letters of their
   own in Unicode (no decomposition), so they survive untouched; "Tromsø" stays "tromsø".
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalizer", "RawToken", "TokenLayout", "fold"]

# Letters/digits, plus combining marks and soft hyphens so a decomposed "e\u0301" or a
# PDF-hyphenated word stays one token; they are removed when folding.
_CHAR = r"(?:[^\W_]|[\u0300-\u036f\u00ad])"
_HYPHEN = r"[-\u2010\u2011]"
_TOKEN = re.compile(rf"{_CHAR}+(?:{_HYPHEN}{_CHAR}+)*")
_PIECE = re.compile(r"[^\W_]+")
_RING_ABOVE = "\u030a"
_NORDIC = str.maketrans({"ä": "æ", "ö": "ø"})


def fold(text: str) -> str:
    """Fold a string for matching: NFKC, casefold, ä→æ/ö→ø, accents off except å."""
    text = unicodedata.normalize("NFKC", text.replace("\u00ad", "")).casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_NORDIC))
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            # Only "a" + ring is a Norwegian letter (å); every other mark is an accent.
            if ch == _RING_ABOVE and kept and kept[-1] == "a":
                kept.append(ch)
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


@dataclass(frozen=True, slots=True)
class RawToken:
    """A word as it appears in the text: character span and its folded pieces."""

    start: int
    end: int
    pieces: tuple[str, ...]

    @property
    def joined(self) -> str:
        """The pieces written together: "KAD-senger" → "kadsenger"."""
        return "".join(self.pieces)


@dataclass(frozen=True, slots=True)
class TokenLayout:
    """A text's raw tokens, compact: their folded forms in one string, so finding the words
    that contain some string is one regex scan instead of one per word (snippets)."""

    folded: str  # each token's pieces written together, one space apart
    offsets: array[int]  # where each token starts in `folded`
    starts: array[int]  # each token's span in the original text
    ends: array[int]

    def token_at(self, position: int) -> int:
        """The token whose folded form holds `folded[position]` (not a separating space)."""
        return bisect_right(self.offsets, position) - 1


class Normalizer:
    """Splits text into raw tokens; folding is cached per instance (words repeat a lot)."""

    def __init__(self, cache_size: int = 65536) -> None:
        self._pieces = lru_cache(maxsize=cache_size)(self._pieces_uncached)

    @staticmethod
    def _pieces_uncached(raw: str) -> tuple[str, ...]:
        # Hyphens and anything NFKC turns into punctuation ("½" → "1⁄2") separate pieces.
        return tuple(_PIECE.findall(fold(raw)))

    def pieces(self, raw: str) -> tuple[str, ...]:
        """Folded letter/digit pieces of one raw token (empty if nothing is left)."""
        return self._pieces(raw)

    def tokens(self, text: str) -> list[RawToken]:
        """Raw tokens of `text` in order, with spans into the original string."""
        out: list[RawToken] = []
        for match in _TOKEN.finditer(text):
            pieces = self._pieces(match.group())
            if pieces:
                out.append(RawToken(match.start(), match.end(), pieces))
        return out

    def layout(self, text: str) -> TokenLayout:
        """`tokens(text)` as a `TokenLayout` (the token at index i is the same in both)."""
        offsets, starts, ends = array("i"), array("i"), array("i")
        forms: list[str] = []
        at = 0
        for token in self.tokens(text):
            joined = token.joined
            offsets.append(at)
            starts.append(token.start)
            ends.append(token.end)
            forms.append(joined)
            at += len(joined) + 1  # the separating space
        return TokenLayout(" ".join(forms), offsets, starts, ends)

    def token(self, text: str, layout: TokenLayout, i: int) -> RawToken:
        """The i-th raw token of `text` (whose layout is `layout`), as `tokens` gives it."""
        start, end = layout.starts[i], layout.ends[i]
        return RawToken(start, end, self._pieces(text[start:end]))

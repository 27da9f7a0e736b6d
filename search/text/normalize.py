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
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalizer", "RawToken", "fold"]

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

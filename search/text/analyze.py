"""Norwegian analyzer: text → index terms for FTS5, and queries → safe FTS5 MATCH expressions.

Per word (see `samsok.search.text.normalize` for folding and tokenising):

1. fold: NFKC, casefold, accents off but æ/ø/å kept (ä→æ, ö→ø);
2. drop Norwegian stop words (Snowball list, Bokmål and Nynorsk);
3. stem with the Snowball Norwegian stemmer ("kommunene", "kommuner", "kommune" → "kommun");
4. compounds: the whole word's stem *and* the stems of its parts. Parts come from hyphens
   ("KAD-senger" → "kadseng", "kad", "seng") and from the corpus-trained `Decompounder`
   ("jordmortjeneste" → "jordmortjenest", "jordmor", "tjenest").

Index side, every term is emitted, so a document saying "jordmortjeneste" matches the queries
"jordmor" and "tjeneste". Query side, a compound becomes ``(whole OR NEAR(part1 part2, 10))``
(see `fts5_query`) so "legevaktsamarbeid" also finds "samarbeid om legevakt". Terms are
letters/digits only, which FTS5's ``unicode61 remove_diacritics 0`` tokenizer keeps as they are.

Without a decompounder (none fitted yet) only hyphens split words. Index and query must use
the same decompounder: refit it → rewrite the FTS terms.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import Stemmer
from samsok.search.errors import QueryError
from samsok.search.text.decompound import Decompounder
from samsok.search.text.normalize import Normalizer, RawToken, TokenLayout
from samsok.search.text.stopwords_no import NORWEGIAN_STOPWORDS

__all__ = [
    "DEFAULT_PART_DISTANCE",
    "AnalyzedToken",
    "AnalyzerConfig",
    "EmptyQueryError",
    "NorwegianAnalyzer",
    "QueryTerm",
    "fts5_query",
    "needle_pattern",
]


# Terms apart that still count as one compound: FTS5's own default NEAR distance (stop words
# take no positions). 3 and 10 scored the same on NorQuAD.
DEFAULT_PART_DISTANCE = 10


class EmptyQueryError(QueryError, ValueError):
    """The query has no searchable term (only stop words or punctuation)."""


@dataclass(frozen=True)
class AnalyzerConfig:
    """Switches of the analyzer. How words are split (minimum part length, linking letters)
    is `DecompounderConfig`, saved with the fitted decompounder."""

    stem: bool = True
    stopwords: bool = True
    # Emit compound part stems next to the whole word's stem when indexing.
    decompound_index: bool = True
    # Let a query compound match through its parts: (whole OR NEAR(part part)).
    decompound_query: bool = True
    cache_size: int = 65536


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One query word: matches its whole stem, or (if `parts`) all of its part stems."""

    text: str  # the folded word as typed, for display and debugging
    stem: str
    parts: tuple[str, ...] = ()
    hyphenated: bool = False  # `parts` are the pieces written ("KAD-senger"), not found
    # The word as written in the query ("DMS-et", "ØHD-plasser"): analysed alone it gives
    # this term again, which `text` ("dmset") need not.
    written: str = field(default="", compare=False)

    @property
    def keys(self) -> frozenset[str]:
        """Every index term through which this query word can match."""
        return frozenset((self.stem, *self.parts))


@dataclass(frozen=True, slots=True)
class AnalyzedToken:
    """A word of the original text with its span and every index term it produces."""

    start: int
    end: int
    keys: frozenset[str]


class NorwegianAnalyzer:
    """Turns text into index terms and query terms. Caches belong to the instance."""

    def __init__(
        self, config: AnalyzerConfig | None = None, decompounder: Decompounder | None = None
    ) -> None:
        self.config = config or AnalyzerConfig()
        self.decompounder = decompounder
        self._normalizer = Normalizer(self.config.cache_size)
        self._stemmer = Stemmer.Stemmer("norwegian")
        self._lock = threading.Lock()  # PyStemmer: "must not be called concurrently"
        self._stem = lru_cache(maxsize=self.config.cache_size)(self._stem_uncached)
        self._piece = lru_cache(maxsize=self.config.cache_size)(self._piece_uncached)

    # -- per word ---------------------------------------------------------------------------

    def _stem_uncached(self, word: str) -> str:
        # Numbers and codes ("2030", "covid19") are left as written.
        if not self.config.stem or not word.isalpha():
            return word
        with self._lock:
            return self._stemmer.stemWord(word)

    def stem(self, word: str) -> str:
        """Stem of one folded word (the word itself when stemming is off)."""
        return self._stem(word)

    def is_stopword(self, word: str) -> bool:
        return self.config.stopwords and word in NORWEGIAN_STOPWORDS

    def _piece_uncached(self, piece: str) -> tuple[str | None, tuple[str, ...]]:
        """(stem or None for a stop word, stems of its compound parts other than the stem)."""
        if self.is_stopword(piece):
            return None, ()
        whole = self._stem(piece)
        split = self.decompounder.split(piece) if self.decompounder else ()
        parts = _unique(self._stem(part) for part in split)
        return whole, tuple(p for p in parts if p != whole)

    def _token_forms(self, token: RawToken) -> tuple[str | None, list[tuple[str, tuple[str, ...]]]]:
        """The hyphen-joined stem (None for one piece) and (stem, parts) of each kept piece."""
        pieces = []
        for piece in token.pieces:
            whole, parts = self._piece(piece)
            if whole is not None:
                pieces.append((whole, parts))
        joined = self._stem(token.joined) if len(token.pieces) > 1 else None
        return joined, pieces

    def _analyzed(self, token: RawToken) -> AnalyzedToken:
        """`token`'s span with every term it is indexed under (joined stem, stems, parts)."""
        joined, pieces = self._token_forms(token)
        keys = {joined} if joined else set()
        for whole, parts in pieces:
            keys.add(whole)
            keys.update(parts)
        return AnalyzedToken(token.start, token.end, frozenset(keys))

    # -- public -----------------------------------------------------------------------------

    def index_terms(self, text: str) -> list[str]:
        """Terms to store for `text`, in text order; join with spaces for the FTS5 column."""
        terms: list[str] = []
        for token in self._normalizer.tokens(text):
            joined, pieces = self._token_forms(token)
            forms: list[str] = [joined] if joined else []
            for whole, parts in pieces:
                forms.append(whole)
                if self.config.decompound_index:
                    forms.extend(parts)
            terms.extend(_unique(forms))
        return terms

    def query_terms(self, text: str) -> list[QueryTerm]:
        """Query words with their alternatives; stop words dropped, duplicates removed."""
        out: list[QueryTerm] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for token in self._normalizer.tokens(text):
            joined, pieces = self._token_forms(token)
            parts: tuple[str, ...]
            if joined is not None and _inflected_abbreviation(text, token):
                # "DMS-et" is the word "DMS", which every text writing "DMS-et" is indexed
                # under too (its first piece's stem): as "KAD-en" already was (Snowball).
                stem, parts = self._stem(token.pieces[0]), ()
            elif joined is not None:  # hyphenated: "KAD-senger" = kadseng OR (kad AND seng)
                stem, parts = joined, tuple(_unique(whole for whole, _ in pieces))
            elif pieces:
                stem, parts = pieces[0]
                if not self.config.decompound_query:
                    parts = ()
            else:
                continue  # a stop word
            parts = tuple(p for p in parts if p != stem)
            if len(parts) < 2:
                # One part alone would widen the word to that part ("i-land" → "land").
                parts = ()
            if (stem, parts) not in seen:
                seen.add((stem, parts))
                written = text[token.start : token.end]
                out.append(QueryTerm(token.joined, stem, parts, joined is not None, written))
        return out

    def analyze_tokens(self, text: str) -> list[AnalyzedToken]:
        """Every word with its span and all stems it can match by (for highlighting)."""
        return [self._analyzed(token) for token in self._normalizer.tokens(text)]

    def layout(self, text: str) -> TokenLayout:
        """`text`'s raw tokens, for `candidates_in` (query-independent: callers cache it)."""
        return self._normalizer.layout(text)

    def candidates_in(
        self, text: str, layout: TokenLayout, pattern: re.Pattern[str] | None
    ) -> list[AnalyzedToken]:
        """`analyze_tokens(text)` restricted to the words that can produce one of the needles
        `pattern` finds (`needle_pattern`), given `text`'s `layout`.

        Every index term of a word is a substring of the word's folded pieces written
        together: a stem is a prefix of its piece (the Snowball Norwegian stemmer only removes
        or shortens endings), a compound part is a substring of its piece, and the hyphen-
        joined stem a prefix of the joined pieces. So a word whose folded form contains no
        needle cannot have one among its terms, and is skipped before stemming and
        decompounding, which is most of the cost of highlighting a long chunk. One scan of the
        folded tokens finds the others: needles hold no spaces, so every match lies inside one
        token, and a token holding a needle anywhere gets a match (the scan reaches the
        needle's start unless an earlier match in that token came first)."""
        if pattern is None:
            return []
        out: list[AnalyzedToken] = []
        last = -1
        for match in pattern.finditer(layout.folded):
            i = layout.token_at(match.start())
            if i != last:
                out.append(self._analyzed(self._normalizer.token(text, layout, i)))
                last = i
        return out


def needle_pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """A regex finding any of `needles` (longest first), or None when there are none.
    A needle with a space can be no word's term (words have none): it is left out, so a
    scan of words written one space apart never matches across two of them."""
    wanted = sorted({n for n in needles if n and " " not in n}, key=len, reverse=True)
    if not wanted:
        return None
    return re.compile("|".join(re.escape(n) for n in wanted))


def fts5_query(
    terms: Sequence[QueryTerm],
    operator: Literal["OR", "AND"] = "OR",
    near: int | None = DEFAULT_PART_DISTANCE,
) -> str:
    """A MATCH expression for FTS5: every term quoted, user syntax never passed through.

    ``operator`` joins the query words: "OR" ranks documents by how many words they share
    (bag of words, like BM25 elsewhere); "AND" requires every word, which loses most natural
    questions (NorQuAD nDCG@10 0.32 against 0.94). A compound matches as
    ``("whole" OR NEAR("part1" "part2", near))``: its parts within `near` terms of each other,
    as in "samarbeid om legevakt" for "legevaktsamarbeid"; ``near=None`` only asks for the
    parts anywhere in the chunk, ``("whole" OR ("part1" AND "part2"))``, which let unrelated
    co-occurrences in ("felt" … "tog" for "felttog") and cost more on NorQuAD. Raises
    `EmptyQueryError` when there is nothing to search for.
    """
    if operator not in ("OR", "AND"):
        raise ValueError(f"operator must be 'OR' or 'AND', not {operator!r}")
    if near is not None and near < 0:
        raise ValueError(f"near must be >= 0, got {near}")
    clauses: list[str] = []
    for term in terms:
        if not term.stem:
            continue
        whole = _quote(term.stem)
        parts = [_quote(p) for p in term.parts if p]
        if len(parts) < 2:
            clauses.append(whole)
        elif near is None:
            clauses.append(f"({whole} OR ({' AND '.join(parts)}))")
        else:
            clauses.append(f"({whole} OR NEAR({' '.join(parts)}, {int(near)}))")
    if not clauses:
        raise EmptyQueryError("the query has no searchable words (only stop words or symbols)")
    return f" {operator} ".join(clauses)


def _quote(term: str) -> str:
    # Inside an FTS5 string only '"' is special, escaped by doubling; everything else,
    # including AND/OR/NOT/NEAR, '*', '^', ':' and parentheses, is literal text.
    return '"' + term.replace('"', '""') + '"'


# Norwegian writes an abbreviation's inflection after a hyphen ("DMS-et", "HF-ene", "NAV-s",
# Nynorsk "KAD-ane"): noun endings, definite and plural, with their genitive -s.
ABBREVIATION_ENDINGS = frozenset(
    {"s", "en", "ens", "et", "ets", "a", "as", "er", "ers", "ene", "enes", "ar", "ane", "anes"}
)


def _inflected_abbreviation(text: str, token: RawToken) -> bool:
    """An abbreviation typed in capitals with an inflection ending after a hyphen."""
    if len(token.pieces) != 2 or token.pieces[1] not in ABBREVIATION_ENDINGS:
        return False
    head = text[token.start : token.start + len(token.pieces[0])]
    return len(head) >= 2 and head.isupper()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

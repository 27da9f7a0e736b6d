"""Result snippets: the passage that best shows why a chunk matched, HTML-escaped and marked.

A word of the text matches a query word when one of its index terms (its stem, a hyphen part
or a compound part) is the query word's stem, so "jordmortjenesten" is marked for the query
"jordmor"; a compound query word whose whole is absent matches through all its parts. The passage
is the window of whole words, at most ``max_chars`` visible characters, holding the most
distinct query words (then the most matching words, then the earliest); leftover room is split
between context before and after the matches. Whitespace runs become single spaces, "…" marks
a cut, and everything outside the ``<mark>`` tags is escaped, so a query or document holding
``<script>`` comes back as inert text.

Speed (a snippet is made for every hit of every search): what does not depend on the query
— the text's words and raw tokens (`TextLayout`) — is kept per text in a bounded cache
(`Snippets`); per query, one regex scan over the folded tokens finds the few words that can
match, and only those are stemmed and decompounded.
"""

from __future__ import annotations

import html
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

from samsok.search.text import (
    AnalyzedToken,
    NorwegianAnalyzer,
    QueryTerm,
    TokenLayout,
    needle_pattern,
)

__all__ = ["SnippetQuery", "Snippets", "TextLayout", "make_snippet"]

ELLIPSIS = "…"
_WORD = re.compile(r"\S+")
# Texts whose layout a `Snippets` keeps (least recently used dropped): a layout is a few
# arrays of 32-bit ints, the folded tokens and the spaced words; with the text as its key
# ~3.5 KB for a chunk of 330 characters (the mirror's mean), ~10 KB for 1 500, so 4 096 of
# them stay within ~15–40 MB while holding every chunk a busy server shows again and again.
TEXT_CACHE_SIZE = 4096
# Prepared queries a `Snippets` keeps: a search asks for one per hit, all the same.
QUERY_CACHE_SIZE = 256

# A matching word: the query words it matches and the spans of its matching tokens.
_Match = tuple[frozenset[int], tuple[tuple[int, int], ...]]


@dataclass(frozen=True, slots=True)
class TextLayout:
    """What a snippet needs of a text whatever the query: its words (whitespace-separated
    runs) with their spans, the words one space apart, and its raw tokens. A pure function
    of the text, so a cache keyed by the text can never hand out another text's layout."""

    tokens: TokenLayout
    starts: array[int]  # each word's span
    ends: array[int]
    # edges[k]: where word k starts in `spaced` (the words before it, each with a space);
    # edges[n] is len(spaced) + 1. A window [i, j) of words is edges[j] - edges[i] - 1 long.
    edges: array[int]
    spaced: str  # the words, one space apart: what a snippet shows, before escaping

    @classmethod
    def of(cls, text: str, analyzer: NorwegianAnalyzer) -> TextLayout:
        starts, ends, edges = array("i"), array("i"), array("i", [0])
        words = []
        for match in _WORD.finditer(text):
            starts.append(match.start())
            ends.append(match.end())
            edges.append(edges[-1] + match.end() - match.start() + 1)
            words.append(match.group())
        return cls(analyzer.layout(text), starts, ends, edges, " ".join(words))


@dataclass(frozen=True, slots=True)
class SnippetQuery:
    """A query's words and the pattern that finds the words of a text that may match them."""

    terms: tuple[QueryTerm, ...]
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, query: str | Sequence[QueryTerm], analyzer: NorwegianAnalyzer) -> SnippetQuery:
        terms = analyzer.query_terms(query) if isinstance(query, str) else list(query)
        return cls(tuple(terms), needle_pattern(key for term in terms for key in term.keys))


class Snippets:
    """Snippets over one analyzer, with bounded caches of text layouts (keyed by the text
    itself: a new generation's changed text is a new key, never a stale hit) and of prepared
    queries. `functools.lru_cache` keeps them bounded and safe to share between threads;
    what it caches is immutable."""

    def __init__(
        self,
        analyzer: NorwegianAnalyzer,
        *,
        texts: int = TEXT_CACHE_SIZE,
        queries: int = QUERY_CACHE_SIZE,
    ) -> None:
        self.analyzer = analyzer
        # Not bound methods: no reference cycle, so a replaced view's caches go at once.
        self._layout = lru_cache(maxsize=texts)(partial(TextLayout.of, analyzer=analyzer))
        self._query = lru_cache(maxsize=queries)(partial(SnippetQuery.of, analyzer=analyzer))

    def make(self, text: str, query: str, max_chars: int = 300) -> str:
        """`make_snippet(text, query, analyzer, max_chars)`, from the caches."""
        _check(max_chars)
        return _snippet(text, self._layout(text), self._query(query), self.analyzer, max_chars)

    def cached_texts(self) -> int:
        return self._layout.cache_info().currsize


def _check(max_chars: int) -> None:
    if max_chars < 3:
        raise ValueError(f"max_chars must be at least 3, got {max_chars}")


def _active_keys(terms: Sequence[QueryTerm], tokens: list[AnalyzedToken]) -> list[frozenset[str]]:
    """Per query word, the index terms that count as a match in this text.

    As in the FTS5 expression, a compound query word matches through its whole stem or
    through all of its parts: parts are marked only when the whole is absent and every part
    is present ("Samarbeid om legevakt" for "legevaktsamarbeid"), so "partileder" does not
    mark every "leder" in a text that has "partileder" itself.
    """
    present = frozenset().union(*(token.keys for token in tokens))
    active: list[frozenset[str]] = []
    for term in terms:
        if term.stem not in present and term.parts and present.issuperset(term.parts):
            active.append(frozenset(term.parts))
        else:
            active.append(frozenset((term.stem,)))
    return active


def _matches(
    text: str, layout: TextLayout, query: SnippetQuery, analyzer: NorwegianAnalyzer
) -> dict[int, _Match]:
    """Word index → (query words it matches, its matching tokens' spans), for the words
    that match; every other word matches nothing."""
    # Only words that can match are analysed (stemmed, decompounded): most words of a chunk
    # are no query word.
    tokens = analyzer.candidates_in(text, layout.tokens, query.pattern)
    active = _active_keys(query.terms, tokens)
    found: dict[int, tuple[set[int], list[tuple[int, int]]]] = {}
    for token in tokens:
        hits = {i for i, keys in enumerate(active) if token.keys & keys}
        if hits:
            # Tokens never contain whitespace, so each lies inside exactly one word.
            k = bisect_right(layout.starts, token.start) - 1
            terms, marks = found.setdefault(k, (set(), []))
            terms |= hits
            marks.append((token.start, token.end))
    return {k: (frozenset(terms), tuple(marks)) for k, (terms, marks) in found.items()}


def _best_core(layout: TextLayout, matches: dict[int, _Match], budget: int) -> tuple[int, int]:
    """[i, j) of the best window within `budget` that starts and ends on a matching word."""
    edges = layout.edges
    matching = sorted(matches)
    best, best_span = (0, 0), (0, 0)
    for a, i in enumerate(matching):
        seen: set[int] = set()
        for hits, k in enumerate(matching[a:], start=1):
            if edges[k + 1] - edges[i] - 1 > budget:  # words plus single spaces
                break
            seen.update(matches[k][0])
            score = (len(seen), hits)
            if score > best:
                best, best_span = score, (i, k + 1)
    return best_span


def _expand(layout: TextLayout, i: int, j: int, budget: int) -> tuple[int, int]:
    """Grow [i, j) with context: half of the spare room before, the rest after, then before.

    Each step takes whole words while they fit, one after the other: as every word costs
    room, that is the farthest edge within the room left (a binary search on `edges`)."""
    edges = layout.edges
    length = edges[j] - edges[i] - 1
    spare_before = (budget - length) // 2
    k = bisect_left(edges, edges[i] - spare_before, 0, i)
    length += edges[i] - edges[k]
    i = k
    k = max(j, bisect_right(edges, budget - length + edges[j], j, len(edges)) - 1)
    length += edges[k] - edges[j]
    j = k
    k = bisect_left(edges, edges[i] - (budget - length), 0, i)
    return k, j


def _render(text: str, layout: TextLayout, matches: dict[int, _Match], i: int, j: int) -> str:
    """Words [i, j) escaped, single spaces between them, marks around matching tokens.
    Escaped a stretch at a time, cut from `spaced` (a position inside word k of the text is
    `edges[k] - starts[k]` further on in it)."""
    spaced, edges, starts = layout.spaced, layout.edges, layout.starts
    parts: list[str] = []
    pos = edges[i]
    for k in sorted(k for k in matches if i <= k < j):
        shift = edges[k] - starts[k]
        for start, end in matches[k][1]:
            parts.append(html.escape(spaced[pos : start + shift]))
            parts.append(f"<mark>{html.escape(text[start:end])}</mark>")
            pos = end + shift
    parts.append(html.escape(spaced[pos : edges[j] - 1]))
    return "".join(parts)


def _snippet(
    text: str,
    layout: TextLayout,
    query: SnippetQuery,
    analyzer: NorwegianAnalyzer,
    max_chars: int,
) -> str:
    n = len(layout.starts)
    if not n:
        return ""
    matches = _matches(text, layout, query, analyzer)
    total = layout.edges[n] - 1
    if total <= max_chars:
        i, j = 0, n
    else:
        budget = max_chars - 2  # room for an ellipsis at each end
        i, j = _best_core(layout, matches, budget)
        if i == j:  # no match, or the first match alone is too long: start at the top
            i, j = 0, 0
        i, j = _expand(layout, i, j, budget)
        if i == j:  # a single word longer than the budget (a URL, say): cut it
            cut = text[layout.starts[i] : layout.starts[i] + budget + 1]
            return html.escape(cut) + ELLIPSIS
    body = _render(text, layout, matches, i, j)
    return (ELLIPSIS if i > 0 else "") + body + (ELLIPSIS if j < n else "")


def make_snippet(
    text: str,
    query: str | Sequence[QueryTerm],
    analyzer: NorwegianAnalyzer,
    max_chars: int = 300,
) -> str:
    """Best passage of `text` for `query`, HTML-escaped, matches in ``<mark>``.

    At most `max_chars` visible characters (ellipses included, tags and escapes not).
    Nothing is cached: `Snippets` makes the same snippets from its caches.
    """
    _check(max_chars)
    prepared = SnippetQuery.of(query, analyzer)
    return _snippet(text, TextLayout.of(text, analyzer), prepared, analyzer, max_chars)

"""Result snippets: the passage that best shows why a chunk matched, HTML-escaped and marked.

A word of the text matches a query word when one of its index terms (its stem, a hyphen part
or a compound part) is the query word's stem, so "jordmortjenesten" is marked for the query
"jordmor"; a compound query word whose whole is absent matches through all its parts. The passage
is the window of whole words, at most ``max_chars`` visible characters, holding the most
distinct query words (then the most matching words, then the earliest); leftover room is split
between context before and after the matches. Whitespace runs become single spaces, "…" marks
a cut, and everything outside the ``<mark>`` tags is escaped, so a query or document holding
``<script>`` comes back as inert text.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from samsok.search.text import AnalyzedToken, NorwegianAnalyzer, QueryTerm

__all__ = ["make_snippet"]

ELLIPSIS = "…"
_WORD = re.compile(r"\S+")
_SPACES = re.compile(r"\s+")
_NO_TERMS: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class _Word:
    start: int
    end: int
    terms: frozenset[int]  # indices of the query words it matches
    marks: tuple[tuple[int, int], ...]  # matching token spans inside it, absolute offsets

    @property
    def size(self) -> int:
        return self.end - self.start


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


def _words(text: str, terms: Sequence[QueryTerm], analyzer: NorwegianAnalyzer) -> list[_Word]:
    # Only words that can match are analysed (stemmed, decompounded): a snippet is made for
    # every hit of every search, and most words of a chunk are no query word.
    tokens = analyzer.candidate_tokens(text, (key for term in terms for key in term.keys))
    active = _active_keys(terms, tokens)
    out: list[_Word] = []
    t, n = 0, len(tokens)
    for match in _WORD.finditer(text):
        end = match.end()
        if t >= n or tokens[t].start >= end:  # most words: no candidate token inside
            out.append(_Word(match.start(), end, _NO_TERMS, ()))
            continue
        matched: set[int] = set()
        marks: list[tuple[int, int]] = []
        # Tokens never contain whitespace, so each lies inside exactly one word.
        while t < n and tokens[t].start < end:
            token = tokens[t]
            hits = {i for i, keys in enumerate(active) if token.keys & keys}
            if hits:
                matched |= hits
                marks.append((token.start, token.end))
            t += 1
        out.append(_Word(match.start(), end, frozenset(matched), tuple(marks)))
    return out


def _best_core(words: list[_Word], budget: int) -> tuple[int, int]:
    """[i, j) of the best window within `budget` that starts and ends on a matching word."""
    prefix = [0]
    for word in words:
        prefix.append(prefix[-1] + word.size)
    matching = [k for k, w in enumerate(words) if w.terms]
    best, best_span = (0, 0), (0, 0)
    for a, i in enumerate(matching):
        counts: Counter[int] = Counter()
        for hits, k in enumerate(matching[a:], start=1):
            if prefix[k + 1] - prefix[i] + (k - i) > budget:  # words plus single spaces
                break
            counts.update(words[k].terms)
            score = (len(counts), hits)
            if score > best:
                best, best_span = score, (i, k + 1)
    return best_span


def _expand(words: list[_Word], i: int, j: int, budget: int) -> tuple[int, int]:
    """Grow [i, j) with context: half of the spare room before, the rest after, then before."""
    length = sum(w.size for w in words[i:j]) + (j - i - 1)
    spare_before = (budget - length) // 2
    while i > 0 and words[i - 1].size + 1 <= spare_before:
        i -= 1
        length += words[i].size + 1
        spare_before -= words[i].size + 1
    while j < len(words) and length + words[j].size + 1 <= budget:
        length += words[j].size + 1
        j += 1
    while i > 0 and length + words[i - 1].size + 1 <= budget:
        i -= 1
        length += words[i].size + 1
    return i, j


def _render(text: str, words: Sequence[_Word]) -> str:
    """The words escaped, single spaces between them, marks around matching tokens. Escaped
    a stretch at a time: words are the text's non-space runs, so what lies between two
    marks is the text with its whitespace runs made single spaces."""
    parts: list[str] = []
    pos = words[0].start
    for word in words:
        for start, end in word.marks:
            parts.append(html.escape(_SPACES.sub(" ", text[pos:start])))
            parts.append(f"<mark>{html.escape(text[start:end])}</mark>")
            pos = end
    parts.append(html.escape(_SPACES.sub(" ", text[pos : words[-1].end])))
    return "".join(parts)


def make_snippet(
    text: str,
    query: str | Sequence[QueryTerm],
    analyzer: NorwegianAnalyzer,
    max_chars: int = 300,
) -> str:
    """Best passage of `text` for `query`, HTML-escaped, matches in ``<mark>``.

    At most `max_chars` visible characters (ellipses included, tags and escapes not).
    """
    if max_chars < 3:
        raise ValueError(f"max_chars must be at least 3, got {max_chars}")
    terms = analyzer.query_terms(query) if isinstance(query, str) else list(query)
    words = _words(text, terms, analyzer)
    if not words:
        return ""
    total = sum(w.end - w.start for w in words) + len(words) - 1
    if total <= max_chars:
        i, j = 0, len(words)
    else:
        budget = max_chars - 2  # room for an ellipsis at each end
        i, j = _best_core(words, budget)
        if i == j:  # no match, or the first match alone is too long: start at the top
            i, j = 0, 0
        i, j = _expand(words, i, j, budget)
        if i == j:  # a single word longer than the budget (a URL, say): cut it
            cut = text[words[i].start : words[i].start + budget + 1]
            return html.escape(cut) + ELLIPSIS
    body = _render(text, words[i:j])
    return (ELLIPSIS if i > 0 else "") + body + (ELLIPSIS if j < len(words) else "")

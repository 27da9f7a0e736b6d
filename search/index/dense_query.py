"""The text the dense run embeds for a query: its abbreviations written out (issue 9).

e5-small does not know Norwegian health-care abbreviations ("KAD", "ØHD", "PLO"), while the
lexical run already searches the glossary's other forms of them (`LexicalIndex.expand`). The
dense run therefore embeds the query with each abbreviation the glossary spells out replaced
by its full form ("KAD i Værnes" → "kommunale akutte døgnplasser i Værnes"): the embedding
gets the meaning, the lexical run keeps the literal word. A query without such an
abbreviation embeds exactly as typed. Measured with `benchmarks/dense_glossary_sweep.py`
(docs/retrieval.md, "Glossary on the dense side"): writing the full form *beside* the
abbreviation, or the Bokmål spelling of Nynorsk words, did worse.

An abbreviation's full form is the first form of its glossary group (built-in or mined from
the corpus) that spells it out: it starts with the same letter and holds the abbreviation's
letters in order ("DMS" → "distriktsmedisinsk senter", "ØHD" → "øyeblikkelig hjelp døgn").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from samsok.search.index.lexical import LexicalIndex
from samsok.search.text import Normalizer

__all__ = ["Abbreviation", "DenseQuery", "abbreviations", "dense_text_for", "full_form"]

_NORMALIZER = Normalizer(cache_size=4096)
# A single-letter clipping before a hyphen ("ø-hjelp", "e-resept") abbreviates its first word.
_CLIPPED = re.compile(r"^\w-\w")
# Letter-only forms this short are abbreviations whatever their case ("øhj").
_SHORT = 3


@dataclass(frozen=True)
class Abbreviation:
    """An abbreviation written in a query: its span there, the glossary form it matched and
    that form's full form."""

    start: int
    end: int
    form: str
    full: str


@dataclass(frozen=True)
class DenseQuery:
    """The text to embed for a query and the abbreviations written out in it (none: the
    text is the query itself)."""

    text: str
    written_out: tuple[Abbreviation, ...] = ()


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalpha())


def is_abbreviation(form: str) -> bool:
    """One word with two capitals ("KAD", "SiO"), a clipped first word ("ø-hjelp") or a short
    letter string ("øhj")."""
    if not form or any(c.isspace() for c in form):
        return False
    capitals = sum(c.isupper() for c in form)
    return capitals >= 2 or bool(_CLIPPED.match(form)) or len(_letters(form)) <= _SHORT


def full_form(abbreviation: str, forms: Sequence[str]) -> str | None:
    """The first of `forms` that spells `abbreviation` out (itself no abbreviation), or None
    (not an abbreviation, or no form of its group does)."""
    if not is_abbreviation(abbreviation):
        return None
    short = _letters(abbreviation)
    for form in forms:
        long = _letters(form)
        if is_abbreviation(form) or len(long) <= len(short) or long[:1] != short[:1]:
            continue  # "øhj" is spelled out by "øyeblikkelig hjelp", not by "ø-hjelp"
        rest = iter(long)
        if all(ch in rest for ch in short):
            return form
    return None


def abbreviations(query: str, lexical: LexicalIndex) -> list[Abbreviation]:
    """The abbreviations written in `query` that the glossary spells out, in query order.

    Only where the abbreviation is written as a word or a hyphen-joined piece of one
    ("ØHD-senger"): the lexical run also matches forms as compound parts the decompounder
    splits off, but "lastebil" is no mention of the abbreviation "BIL". A mined abbreviation
    only as typed in capitals ("bil" is a word). Nothing when the query already holds the full
    form, or when query expansion is off."""
    uses = lexical.glossary_uses(query)
    if not uses:
        return []
    used = {u.form.casefold() for u in uses}
    by_word: dict[str, list[tuple[str, str, bool]]] = {}
    for use in uses:
        full = full_form(use.form, use.group)
        if full is not None and full.casefold() not in used:
            by_word.setdefault(use.word, []).append((use.form, full, use.mined))
    found: list[Abbreviation] = []
    for token in _NORMALIZER.tokens(query):
        for form, full, mined in by_word.pop(token.joined, ()):
            want = _NORMALIZER.pieces(form)
            n = len(want)
            if not any(token.pieces[i : i + n] == want for i in range(len(token.pieces) - n + 1)):
                continue
            # Where in the written word (hyphens as typed); folding differences (accents)
            # leave the word as it is rather than replace the wrong letters. The built-in
            # glossary keeps ordinary words out, so "kad" typed in lower case counts; a pair
            # mined from the corpus may be one ("BIL"), so there the capitals must be typed.
            flags = 0 if mined else re.IGNORECASE
            hit = re.search(re.escape(form), query[token.start : token.end], flags)
            if hit is not None:
                start = token.start + hit.start()
                found.append(Abbreviation(start, start + len(hit.group()), form, full))
                break  # one abbreviation per word
    return found


def dense_text_for(query: str, lexical: LexicalIndex) -> DenseQuery:
    """The text the dense run embeds for `query`: each abbreviation the glossary spells out
    replaced by its full form; the query itself when there is none."""
    found = abbreviations(query, lexical)
    if not found:
        return DenseQuery(query)
    pieces: list[str] = []
    last = 0
    for abbr in found:
        pieces.append(query[last : abbr.start] + abbr.full)
        last = abbr.end
    pieces.append(query[last:])
    return DenseQuery("".join(pieces), tuple(found))

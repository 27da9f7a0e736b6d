"""The lexical side of the index: the Norwegian analyzer and its corpus-trained decompounder.

The decompounder learns compound parts from the indexed text itself, so it is (re)fitted as
the corpus grows: whenever the number of chunks has grown by `refit_growth` since the last
fit, it is fitted again and every chunk's FTS terms are rewritten (cost amortised over
geometric growth). The fitted vocabulary lives in the store (`meta.decompounder`, JSON).
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache

from samsok.search.errors import QueryError
from samsok.search.index.config import LexicalConfig
from samsok.search.index.snippets import Snippets
from samsok.search.store import Store
from samsok.search.text import (
    Decompounder,
    EmptyQueryError,
    Glossary,
    NorwegianAnalyzer,
    QueryTerm,
    default_glossary,
    fts5_query,
    mine_abbreviations,
    suspended_compounds,
    variants,
)

__all__ = ["GlossaryUse", "LexicalIndex", "LexicalQuery"]

# What `fit` keeps in the store's meta table, for readers to `load`: the fitted decompounder,
# the chunk count it was fitted at, and the abbreviation pairs mined from the chunks.
_META_KEY = "decompounder"
_META_FITTED_AT = "decompounder_chunks"
_META_ABBREVIATIONS = "mined_abbreviations"
# Expanded queries and query words a `LexicalIndex` keeps (least recently used dropped).
EXPAND_CACHE_SIZE = 4096
# NEAR distance per word of a multi-word glossary form: index terms of compounds take extra
# positions (whole word + parts), so words of one phrase sit a few terms apart.
_FORM_NEAR_PER_WORD = 4
# A glossary form a query contains: (group, form, index of the query word it starts at).
_Hit = tuple[int, str, int]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GlossaryUse:
    """A glossary form found in a query: the query word it starts at (folded, as typed),
    the form, every form of its group, and whether the group was mined from the corpus."""

    word: str
    form: str
    group: tuple[str, ...]
    mined: bool = False


@dataclass(frozen=True)
class LexicalQuery:
    """An FTS5 MATCH expression, the alternative wordings it added to the query, and the
    glossary forms the query contains (`LexicalIndex.glossary_uses`)."""

    match: str
    also: tuple[str, ...] = ()
    uses: tuple[GlossaryUse, ...] = ()


class LexicalIndex:
    def __init__(self, config: LexicalConfig | None = None) -> None:
        self.config = config or LexicalConfig()
        self.analyzer = NorwegianAnalyzer(self.config.analyzer)
        self._fitted_at = 0
        self._glossary = default_glossary()
        self._forms: _Forms | None = None
        self._caches: _Caches | None = None

    def load(self, store: Store) -> None:
        """Use the decompounder saved in the store (none yet: plain stems only)."""
        saved = store.get_meta(_META_KEY)
        decompounder = Decompounder.from_json(saved) if saved else None
        self.analyzer = NorwegianAnalyzer(self.config.analyzer, decompounder)
        self._fitted_at = int(store.get_meta(_META_FITTED_AT) or 0)
        mined = store.get_meta(_META_ABBREVIATIONS)
        self._set_glossary(json.loads(mined) if mined else [])

    def fit(self, store: Store) -> None:
        """Learn compound parts from the store's chunks (all, or a bounded even sample)."""
        decompounder = Decompounder.fit(store.chunk_texts(self.config.fit_max_chunks))
        chunks = store.chunk_count()
        store.set_meta(_META_KEY, decompounder.to_json())
        store.set_meta(_META_FITTED_AT, str(chunks))
        pairs = mine_abbreviations(store.chunk_texts())
        store.set_meta(_META_ABBREVIATIONS, json.dumps(pairs, ensure_ascii=False))
        self.analyzer = NorwegianAnalyzer(self.config.analyzer, decompounder)
        self._fitted_at = chunks
        self._set_glossary(pairs)
        log.info("decompounder fitted on %d chunks", chunks)

    def needs_refit(self, chunk_count: int) -> bool:
        if chunk_count == 0 or self._fitted_at >= self.config.fit_max_chunks:
            return False
        return chunk_count >= max(1, self._fitted_at) * self.config.refit_growth

    def _set_glossary(self, mined: list[list[str]] | list[tuple[str, str]]) -> None:
        base = default_glossary()
        known = {form.casefold() for group in base.groups for form in group.forms}
        pairs = [(a, long) for a, long in mined if a.casefold() not in known]
        self._glossary = base.with_pairs(pairs)
        self._forms = None  # analysed lazily: the analyzer (decompounder) may change

    @property
    def glossary(self) -> Glossary:
        return self._glossary

    def _split(self, word: str) -> tuple[str, ...]:
        decompounder = self.analyzer.decompounder
        return decompounder.split(word) if decompounder else ()

    def index_terms(self, text: str) -> str:
        terms = self.analyzer.index_terms(text)
        # "helse- og omsorgstjenester" also indexes "helsetjenester".
        for word in suspended_compounds(text, self._split):
            terms.extend(self.analyzer.index_terms(word))
        return " ".join(terms)

    def match_expression(self, query: str) -> str:
        return self.expand(query).match

    def _cached(self) -> _Caches:
        """The caches of the current analyzer and glossary: a refit or a load replaces them
        (query words depend on both), so nothing cached under the old ones is served."""
        caches = self._caches
        if caches is None or not caches.serves(self.analyzer, self._glossary):
            caches = self._caches = _Caches(self.analyzer, self._glossary, self._expand)
        return caches

    def expand(self, query: str) -> LexicalQuery:
        """The MATCH expression for `query`, with glossary forms, Nynorsk/Bokmål variants and
        completed suspended compounds added as alternatives (`LexicalConfig.expand`).
        Cached per query (a search expands the query and each of its words)."""
        return self._cached().expand(query)

    def _expand(self, query: str) -> LexicalQuery:
        terms = self.analyzer.query_terms(query)
        if not self.config.expand:
            return LexicalQuery(self._fts5(terms))
        also: list[str] = []
        clauses: list[str] = []
        keys: list[frozenset[str]] = []
        for term in terms:
            extra = self._variant_stems(term)
            base = self._fts5([term])
            clauses.append(f"({base} OR {' OR '.join(_q(s) for s in extra)})" if extra else base)
            keys.append(term.keys | frozenset(extra))
        for word in suspended_compounds(query, self._split):
            added = [t for t in self.analyzer.query_terms(word) if t.stem]
            if added:
                clauses.append(self._fts5(added))
                also.append(word)
        hits = self._form_hits(terms, keys)
        for form, clause in self._glossary_matches(hits):
            clauses.append(clause)
            also.append(form)
        if not clauses:
            raise QueryError("the query has no searchable words (only stop words or symbols)")
        return LexicalQuery(
            " OR ".join(clauses), tuple(dict.fromkeys(also)), self._uses(terms, hits)
        )

    def _fts5(self, terms: list[QueryTerm]) -> str:
        try:
            return fts5_query(terms)
        except EmptyQueryError as exc:
            raise QueryError(str(exc)) from exc

    def _analysed_forms(self) -> _Forms:
        """Every glossary form with its query terms, indexed for `_glossary_matches`."""
        if self._forms is None:
            forms = _Forms()
            for g, group in enumerate(self._glossary.groups):
                for form in group.forms:
                    words = [t for t in self.analyzer.query_terms(form) if t.stem]
                    if words:
                        forms.add(g, form, words)
            self._forms = forms
        return self._forms

    def _glossary_matches(self, hits: list[_Hit]) -> list[tuple[str, str]]:
        """(form, FTS5 clause) for every other form of each glossary group the query uses
        (`hits`: `_form_hits`)."""
        forms = self._analysed_forms()
        hit_groups: dict[int, set[str]] = {}
        for g, form, _ in hits:
            hit_groups.setdefault(g, set()).add(form)
        out = []
        for f in forms.of_groups(hit_groups):
            g, form, words = forms.items[f]
            if form in hit_groups[g]:
                continue
            if any(_overstemmed(w) for w in words):
                continue  # its stem would match far more than the form ("kommunelege" → kommun)
            stems = [w.stem for w in words]
            if len(stems) == 1:
                clause = _q(stems[0])
            else:
                near = _FORM_NEAR_PER_WORD * len(stems)
                clause = f"NEAR({' '.join(_q(s) for s in stems)}, {near})"
            out.append((form, clause))
        return out

    def _form_hits(self, terms: list[QueryTerm], keys: list[frozenset[str]]) -> list[_Hit]:
        """Every glossary form the query contains."""
        forms = self._analysed_forms()
        hits = []
        # Only forms whose first word's stem is one of a query word's keys or parts can
        # match (`_matches`): looked up instead of trying every form at every position.
        for f in sorted(forms.starting_with(terms, keys)):
            g, form, words = forms.items[f]
            n = len(words)
            mined = self._glossary.groups[g].mined
            for i in range(len(keys) - n + 1):
                if all(_matches(words[k], terms[i + k], keys[i + k], mined) for k in range(n)):
                    hits.append((g, form, i))
                    break
        return hits

    def glossary_uses(self, query: str) -> list[GlossaryUse]:
        """The glossary forms `query` contains, each with the query word it starts at and the
        forms of its group (built-in and mined), in query order; none when expansion is off
        or the query has no searchable word. Found by `expand` (and cached with it)."""
        try:
            return list(self.expand(query).uses)
        except QueryError:
            return []

    def _uses(self, terms: list[QueryTerm], hits: list[_Hit]) -> tuple[GlossaryUse, ...]:
        groups, order = self._glossary.groups, {term.text: n for n, term in enumerate(terms)}
        uses = (GlossaryUse(terms[i].text, f, groups[g].forms, groups[g].mined) for g, f, i in hits)
        return tuple(sorted(uses, key=lambda u: order[u.word]))

    def _variant_stems(self, term: QueryTerm) -> list[str]:
        """Stems of the query word's spellings in the other written standard."""
        extra: list[str] = []
        for word in variants(term.text, self._glossary.word_variants):
            for alt in self.analyzer.query_terms(word):
                if alt.stem not in term.keys and alt.stem not in extra:
                    extra.append(alt.stem)
        return extra

    def snippet(self, text: str, query: str, max_chars: int) -> str:
        return self._cached().snippets.make(text, query, max_chars)

    def describe(self) -> dict[str, object]:
        return {
            "analyzer": asdict(self.config.analyzer),
            "decompounder_fitted_on_chunks": self._fitted_at,
        }


class _Caches:
    """Bounded, thread-safe (`functools.lru_cache`) caches of what one analyzer and glossary
    make of queries and texts. Values are immutable; a race only builds a cache twice."""

    def __init__(
        self,
        analyzer: NorwegianAnalyzer,
        glossary: Glossary,
        expand: Callable[[str], LexicalQuery],
    ) -> None:
        self.analyzer = analyzer
        self.glossary = glossary
        self.snippets = Snippets(analyzer)
        # Through a weak reference: the index owns these caches, and a cycle back to it
        # would keep a replaced view's index and caches until the cycle collector runs.
        method = weakref.WeakMethod(expand)

        def expand_once(query: str) -> LexicalQuery:
            bound = method()
            assert bound is not None, "the LexicalIndex owning these caches is gone"
            return bound(query)

        self.expand = lru_cache(maxsize=EXPAND_CACHE_SIZE)(expand_once)

    def serves(self, analyzer: NorwegianAnalyzer, glossary: Glossary) -> bool:
        return analyzer is self.analyzer and glossary is self.glossary


class _Forms:
    """The glossary's forms, analysed: (group, form, its query terms) in glossary order, and
    their positions by group and by the stem of their first word."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str, list[QueryTerm]]] = []
        self._by_group: dict[int, list[int]] = {}
        self._by_first_stem: dict[str, list[int]] = {}

    def add(self, group: int, form: str, words: list[QueryTerm]) -> None:
        self._by_group.setdefault(group, []).append(len(self.items))
        self._by_first_stem.setdefault(words[0].stem, []).append(len(self.items))
        self.items.append((group, form, words))

    def starting_with(self, terms: list[QueryTerm], keys: list[frozenset[str]]) -> set[int]:
        """Forms whose first word could match one of the query's words (`_matches`)."""
        found: set[int] = set()
        for term, term_keys in zip(terms, keys, strict=True):
            for stem in {*term.parts, *term_keys}:
                found.update(self._by_first_stem.get(stem, ()))
        return found

    def of_groups(self, groups: dict[int, set[str]]) -> list[int]:
        """Every form of these groups, in glossary order."""
        return sorted(f for g in groups for f in self._by_group[g])


# A stem this many letters shorter than its word has lost part of the word's meaning
# (Snowball strips "-lege" from "kommunelege"): such a form is not searched for.
_MAX_STEM_LOSS = 4


_MAX_ENDING = 3


def _overstemmed(term: QueryTerm) -> bool:
    return not term.parts and len(term.text) - len(term.stem) > _MAX_STEM_LOSS


def _matches(form: QueryTerm, query: QueryTerm, keys: frozenset[str], mined: bool = False) -> bool:
    """A glossary word matches a query word: as one of its compound parts ("ØHD-plasser"),
    or with the same stem and only the ending differing (incl. its spelling variants). A form
    mined from the corpus is no part the decompounder found: "lastebil" does not mention the
    mined "BIL" (a hyphen piece, "BIL-messen", does)."""
    if form.stem in query.parts and (query.hyphenated or not mined):
        return True
    return form.stem in keys and _same_word(form.text, query.text)


def _same_word(form_word: str, query_word: str) -> bool:
    """Equal stems, and the words differ only in an ending: "kommunane" is not "kommunelege"."""
    prefix = 0
    for a, b in zip(form_word, query_word, strict=False):
        if a != b:
            break
        prefix += 1
    # Inflectional endings are short ("-ene", "-er"): "kommunene" is not "kommunelege".
    return max(len(form_word), len(query_word)) - prefix <= _MAX_ENDING


def _q(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'

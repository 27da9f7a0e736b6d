"""The Norwegian text analyser: normalisation, stop words, stemming, decompounding, glossary.

Callers import from here; the modules behind it are `analyze` (`NorwegianAnalyzer`, query
terms, the FTS5 query), `normalize`, `stopwords_no`, `decompound` and `glossary`. The names
load on first use (PEP 562), like the other search packages'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samsok.ingest.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from samsok.search.text.analyze import (
        DEFAULT_PART_DISTANCE,
        AnalyzedToken,
        AnalyzerConfig,
        EmptyQueryError,
        NorwegianAnalyzer,
        QueryTerm,
        fts5_query,
        needle_pattern,
    )
    from samsok.search.text.decompound import Decompounder, DecompounderConfig
    from samsok.search.text.glossary import (
        Glossary,
        GlossaryGroup,
        default_glossary,
        load_glossary,
        mine_abbreviations,
        suspended_compounds,
        variants,
    )
    from samsok.search.text.normalize import Normalizer, RawToken, TokenLayout, fold
    from samsok.search.text.stopwords_no import NORWEGIAN_STOPWORDS

__all__ = [
    "DEFAULT_PART_DISTANCE",
    "NORWEGIAN_STOPWORDS",
    "AnalyzedToken",
    "AnalyzerConfig",
    "Decompounder",
    "DecompounderConfig",
    "EmptyQueryError",
    "Glossary",
    "GlossaryGroup",
    "Normalizer",
    "NorwegianAnalyzer",
    "QueryTerm",
    "RawToken",
    "TokenLayout",
    "default_glossary",
    "fold",
    "fts5_query",
    "load_glossary",
    "mine_abbreviations",
    "needle_pattern",
    "suspended_compounds",
    "variants",
]

# Each public name and the module it lives in.
_HOMES = {
    "AnalyzedToken": "analyze",
    "AnalyzerConfig": "analyze",
    "DEFAULT_PART_DISTANCE": "analyze",
    "Decompounder": "decompound",
    "DecompounderConfig": "decompound",
    "EmptyQueryError": "analyze",
    "Glossary": "glossary",
    "GlossaryGroup": "glossary",
    "NORWEGIAN_STOPWORDS": "stopwords_no",
    "Normalizer": "normalize",
    "NorwegianAnalyzer": "analyze",
    "QueryTerm": "analyze",
    "RawToken": "normalize",
    "TokenLayout": "normalize",
    "default_glossary": "glossary",
    "fold": "normalize",
    "fts5_query": "analyze",
    "load_glossary": "glossary",
    "mine_abbreviations": "glossary",
    "needle_pattern": "analyze",
    "suspended_compounds": "glossary",
    "variants": "glossary",
}

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

"""The lexical side of the index: the Norwegian analyzer and its corpus-trained decompounder.

The decompounder learns compound parts from the indexed text itself, so it is (re)fitted as
the corpus grows: whenever the number of chunks has grown by `refit_growth` since the last
fit, it is fitted again and every chunk's FTS terms are rewritten (cost amortised over
geometric growth). The fitted vocabulary lives in the store (`meta.decompounder`, JSON).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from samsok.search.analyze import (
    AnalyzerConfig,
    Decompounder,
    EmptyQueryError,
    NorwegianAnalyzer,
    fts5_query,
)
from samsok.search.errors import QueryError
from samsok.search.snippets import make_snippet
from samsok.search.store import Store

__all__ = ["LexicalConfig", "LexicalIndex"]

log = logging.getLogger(__name__)

_META_KEY = "decompounder"
_META_FITTED_AT = "decompounder_chunks"


@dataclass(frozen=True)
class LexicalConfig:
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    refit_growth: float = 1.25  # refit when the chunk count grew by this factor
    # Fit on an even sample of at most this many chunks, and stop refitting once a fit saw
    # that many: each refit rewrites every chunk's terms (O(corpus)), and the vocabulary of
    # parts hardly moves past ~100k chunks of one domain. Bounds the total refit work.
    fit_max_chunks: int = 100_000


class LexicalIndex:
    def __init__(self, config: LexicalConfig | None = None) -> None:
        self.config = config or LexicalConfig()
        self.analyzer = NorwegianAnalyzer(self.config.analyzer)
        self._fitted_at = 0

    def load(self, store: Store) -> None:
        """Use the decompounder saved in the store (none yet: plain stems only)."""
        saved = store.get_meta(_META_KEY)
        decompounder = Decompounder.from_json(saved) if saved else None
        self.analyzer = NorwegianAnalyzer(self.config.analyzer, decompounder)
        self._fitted_at = int(store.get_meta(_META_FITTED_AT) or 0)

    def fit(self, store: Store) -> None:
        """Learn compound parts from the store's chunks (all, or a bounded even sample)."""
        decompounder = Decompounder.fit(store.chunk_texts(self.config.fit_max_chunks))
        chunks = store.chunk_count()
        store.set_meta(_META_KEY, decompounder.to_json())
        store.set_meta(_META_FITTED_AT, str(chunks))
        self.analyzer = NorwegianAnalyzer(self.config.analyzer, decompounder)
        self._fitted_at = chunks
        log.info("decompounder fitted on %d chunks", chunks)

    def needs_refit(self, chunk_count: int) -> bool:
        if chunk_count == 0 or self._fitted_at >= self.config.fit_max_chunks:
            return False
        return chunk_count >= max(1, self._fitted_at) * self.config.refit_growth

    def index_terms(self, text: str) -> str:
        return " ".join(self.analyzer.index_terms(text))

    def match_expression(self, query: str) -> str:
        try:
            return fts5_query(self.analyzer.query_terms(query))
        except EmptyQueryError as exc:
            raise QueryError(str(exc)) from exc

    def snippet(self, text: str, query: str, max_chars: int) -> str:
        return make_snippet(text, query, self.analyzer, max_chars=max_chars)

    def describe(self) -> dict[str, object]:
        return {
            "analyzer": asdict(self.config.analyzer),
            "decompounder_fitted_on_chunks": self._fitted_at,
        }

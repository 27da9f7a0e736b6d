"""Which ranked documents plausibly match a query: the relevance floor (issue 9).

Dense retrieval ranks every chunk, so without a floor `total` is the whole index and a query
about something the corpus does not hold ("skatteoppgjøret 2024") still gets pages of
results. With e5-small, cosines alone cannot tell: on the mirror, off-topic queries' best
documents score 0.82–0.87, paraphrased staff queries' relevant ones 0.83 and up. What does
tell is whether the *corpus knows the query's words*: an off-topic query's rare words occur
in no chunk at all, while a paraphrase shares at least some of its words with the corpus,
if not with its target. So the floor looks at two lexical signals besides the cosine:

- **coverage** (per query): the IDF-weighted share of the query's words that occur in some
  chunk of the index. A word counts with its Nynorsk/Bokmål variants and glossary forms
  (each word's own expansion, `LexicalIndex.expand`), so "KAD" is known when the corpus
  says "kommunale akutte døgnplasser". A word no chunk holds gets the highest IDF: the
  query's information the corpus lacks weighs most.
- **evidence** (per document): the IDF-weighted share of the query's words that one of the
  document's lexical-run chunks contains — a rare word shared counts, a common one
  ("kommunal", "søke") hardly. A chunk holding only *one* of the query's words needs a
  larger share: a place name or a common word alone ("kinoprogram i Orkanger", "værmelding
  for Trondheim") is what an off-topic query shares with a regional corpus, while a
  paraphrase shares two words or more, or its one word is most of what it asks.

A document is kept when its best chunk's cosine is >= `RelevanceFloor.dense` (a close
semantic match whatever the words: typos, synonyms the corpus lacks), or >= `dense_known`
while the query's coverage is >= `min_coverage`, or >= `dense_lexical` with evidence >=
`min_evidence` in a chunk holding two or more query words (>= `one_word_evidence` with one).
Thresholds are per model (`CALIBRATED_FLOORS`), chosen by `benchmarks/floor_sweep.py` on
the read development sets (docs/retrieval.md).

IDF is BM25's, ``log(1 + (N - df + 0.5) / (df + 0.5))`` over chunks; document frequencies
come from the FTS5 index (one count per query word, cached per store generation).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
from samsok.search.embedding import DEFAULT_MODEL
from samsok.search.errors import QueryError
from samsok.search.index.lexical import LexicalIndex
from samsok.search.index.views import read_through
from samsok.search.store import Store
from samsok.search.text import QueryTerm

__all__ = [
    "CALIBRATED_FLOORS",
    "ChunkMatch",
    "QueryEvidence",
    "RelevanceFloor",
    "chunk_evidence",
    "chunk_matches",
    "plausible",
    "query_evidence",
]


@dataclass(frozen=True)
class RelevanceFloor:
    """Which candidates plausibly match a query, so `total` and the page can say "Ingen treff"
    (see the module docstring). Cosines are model-specific: `CALIBRATED_FLOORS` holds the
    floor per model id."""

    dense: float  # best-chunk cosine that counts on its own
    dense_known: float  # … that counts when the corpus knows the query's words
    min_coverage: float  # IDF-weighted share of the query's words found in the corpus
    dense_lexical: float  # … that counts with lexical evidence
    min_evidence: float  # IDF-weighted share of the query's words in one chunk
    # … when that chunk holds just one of the query's words (None: `min_evidence`)
    one_word_evidence: float | None = None

    def __post_init__(self) -> None:
        if not (-1.0 <= self.dense_lexical <= self.dense <= 1.01):
            raise ValueError("floor cosines must satisfy -1 <= dense_lexical <= dense <= 1.01")
        if not (-1.0 <= self.dense_known <= self.dense):
            raise ValueError("floor cosines must satisfy -1 <= dense_known <= dense")
        for name in ("min_coverage", "min_evidence", "one_word_evidence"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value}")

    def evidence_enough(self, match: ChunkMatch) -> bool:
        """Whether one chunk's match of the query's words is evidence enough."""
        if match.words >= 2 or self.one_word_evidence is None:
            return match.share >= self.min_evidence
        return match.words == 1 and match.share >= self.one_word_evidence


# Keyed by model id without its "@version" suffix (backends of one model share it).
CALIBRATED_FLOORS: dict[str, RelevanceFloor] = {
    DEFAULT_MODEL: RelevanceFloor(
        dense=0.88,
        dense_known=0.84,
        min_coverage=0.4,
        dense_lexical=0.70,
        min_evidence=0.1,
        one_word_evidence=0.3,
    ),
}


@dataclass(frozen=True)
class QueryEvidence:
    """Per query word: its FTS5 clause (with its own expansions) and its IDF weight."""

    clauses: tuple[str, ...]
    weights: tuple[float, ...]
    coverage: float  # IDF-weighted share of the words some chunk holds
    dfs: tuple[int, ...] | None = None  # each clause's document frequency, when counted


def idf(df: int, n: int) -> float:
    """BM25's IDF (never negative) of a term in `df` of `n` chunks."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def query_evidence(
    terms: Sequence[QueryTerm], store: Store, lexical: LexicalIndex
) -> QueryEvidence:
    """Each query word's clause, IDF and whether the corpus has it (see the module docstring)."""
    counts = _counts(store)
    n = max(1, counts.chunks)
    clauses: list[str] = []
    weights: list[float] = []
    dfs: list[int] = []
    known = 0.0
    for term in terms:
        try:
            # The word as written: "DMS-et" alone is the abbreviation, "dmset" is not.
            clause = lexical.expand(term.written or term.text).match
        except QueryError:  # nothing searchable in this word alone
            continue
        df = counts.get(store, clause)
        w = idf(df, n)
        clauses.append(clause)
        weights.append(w)
        dfs.append(df)
        known += w if df > 0 else 0.0
    total = sum(weights)
    coverage = known / total if total else 0.0
    return QueryEvidence(tuple(clauses), tuple(weights), coverage, tuple(dfs))


@dataclass(frozen=True)
class ChunkMatch:
    """What one chunk holds of the query's words: their IDF-weighted share, and how many."""

    share: float = 0.0
    words: int = 0


NO_MATCH = ChunkMatch()


def chunk_evidence(
    evidence: QueryEvidence, store: Store, chunk_ids: Sequence[int]
) -> dict[int, float]:
    """Chunk id → IDF-weighted share of the query's words the chunk contains."""
    return {cid: m.share for cid, m in chunk_matches(evidence, store, chunk_ids).items()}


def chunk_matches(
    evidence: QueryEvidence, store: Store, chunk_ids: Sequence[int]
) -> dict[int, ChunkMatch]:
    """Chunk id → the share and number of the query's words the chunk contains."""
    total = sum(evidence.weights)
    shares = dict.fromkeys(chunk_ids, 0.0)
    words = dict.fromkeys(chunk_ids, 0)
    if not total or not chunk_ids:
        return {cid: NO_MATCH for cid in chunk_ids}
    dfs = evidence.dfs or (None,) * len(evidence.clauses)
    counts = _counts(store)
    for clause, w, df in zip(evidence.clauses, evidence.weights, dfs, strict=True):
        matching = counts.matches(store, clause, df)
        found = (
            store.lexical_subset(clause, chunk_ids, df=df)
            if matching is None
            else matching.intersection(chunk_ids)
        )
        for cid in found:
            shares[cid] += w / total
            words[cid] += 1
    return {cid: ChunkMatch(shares[cid], words[cid]) for cid in chunk_ids}


# Below any cosine (-1 … 1): "no dense evidence yet" when taking a document's best chunk.
NO_COSINE = -2.0


class _Ranked(Protocol):
    @property
    def doc_id(self) -> str: ...

    @property
    def chunk_id(self) -> int: ...


R = TypeVar("R", bound=_Ranked)


def plausible(
    grouped: Sequence[R],
    dense: Mapping[int, float],
    lexical_run: Iterable[tuple[int, float]],
    terms: Sequence[QueryTerm],
    qvec: np.ndarray,
    floor: RelevanceFloor,
    store: Store,
    lexical: LexicalIndex,
    model_id: str | None,
    doc_of: Mapping[int, str] | None = None,
    vectors: dict[int, np.ndarray] | None = None,
) -> list[R]:
    """The documents of `grouped` (best chunk per document, in rank order) that pass `floor`.

    `dense`: chunk id → cosine of the dense run's candidates; `lexical_run`: the lexical
    run's (chunk id, score). A document only the lexical run found gets the best cosine of
    its lexical chunks, from the store (an IVF base cannot hand back a vector by id), all
    read in one batch. `doc_of`: chunk id → document id of every chunk of both runs, when
    the caller has looked them up already (grouping has); else looked up here. `vectors`:
    stored vectors by chunk id that a reader's view keeps (its snapshot never changes)."""
    lexical_ids = [cid for cid, _ in lexical_run]
    if doc_of is None:
        doc_of = store.chunk_doc_ids([*dense, *lexical_ids])
    cosine: dict[str, float] = {}
    for cid, cos in dense.items():
        doc = doc_of.get(cid)
        if doc is not None and cos > cosine.get(doc, NO_COSINE):
            cosine[doc] = cos
    by_doc: dict[str, list[int]] = {}
    for cid in lexical_ids:
        doc = doc_of.get(cid)
        if doc is not None:
            by_doc.setdefault(doc, []).append(cid)
    evidence = query_evidence(terms, store, lexical) if terms else QueryEvidence((), (), 0.0)
    matches = chunk_matches(evidence, store, [c for c in lexical_ids if c in doc_of])
    dense_floor = floor.dense_known if evidence.coverage >= floor.min_coverage else floor.dense
    own = {r.doc_id: by_doc.get(r.doc_id, [r.chunk_id]) for r in grouped if r.doc_id not in cosine}
    cosine.update(_best_stored_cosines(own, qvec, store, model_id, vectors))
    kept = []
    for r in grouped:
        cos = cosine[r.doc_id]
        if cos >= dense_floor or (
            cos >= floor.dense_lexical
            and any(
                floor.evidence_enough(matches.get(c, NO_MATCH)) for c in by_doc.get(r.doc_id, ())
            )
        ):
            kept.append(r)
    return kept


def _best_stored_cosines(
    own: Mapping[str, Sequence[int]],
    qvec: np.ndarray,
    store: Store,
    model_id: str | None,
    kept: dict[int, np.ndarray] | None = None,
) -> dict[str, float]:
    """Document id → the best cosine of its listed chunks' stored vectors (-1.0: none stored).

    The vectors `kept` lacks are read in one query (one per document was most of the floor's
    cost on a large index: ~75 queries per hybrid search on the NorQuAD + mirror index) and
    added to it while it holds less than `VECTOR_CACHE_BYTES`."""
    best = dict.fromkeys(own, -1.0)
    if not own or not model_id:
        return best

    def fetch(missing: list[int]) -> dict[int, np.ndarray]:
        ids, vectors = store.vectors_by_chunk_id(model_id, missing)
        return {cid: row.copy() for cid, row in zip(ids.tolist(), vectors, strict=True)}

    wanted = [c for cids in own.values() for c in cids]
    found = read_through(
        kept, wanted, fetch, lambda held: len(held) * qvec.nbytes < VECTOR_CACHE_BYTES
    )
    if not found:
        return best
    order = list(found)
    cosines = dict(zip(order, (np.vstack([found[c] for c in order]) @ qvec).tolist(), strict=True))
    for doc, cids in own.items():
        got = [cosines[c] for c in cids if c in cosines]
        if got:
            best[doc] = max(got)
    return best


# Stored vectors a reader's view keeps for the floor (`View.vectors`): 16 MB is ~10 000
# vectors of 384 dimensions, the mirror or a NorQuAD-sized index whole.
VECTOR_CACHE_BYTES = 16 * 2**20


class _Counts:
    """Document frequencies of clauses in one store generation (bounded cache), and for a
    read-only store (a reader's pinned snapshot) the chunks that rarer clauses match.

    It holds no reference to its store, which is the key of `_CACHE`, a weak-key dictionary:
    a value that referred to its key kept every reader view's store (and its open snapshot,
    which holds back WAL checkpoints) alive after the view was replaced."""

    MAX = 50_000
    # A clause's matches are kept when it has at most this many (read once: ~0.3 µs a row),
    # up to `MAX_MATCHED` ids in all (~60 B each in a frozenset).
    MAX_MATCHES = 5_000
    MAX_MATCHED = 200_000

    def __init__(self, store: Store, generation: int) -> None:
        self.generation = generation
        self.chunks = store.chunk_count()
        self._df: dict[str, int] = {}
        self._matches: dict[str, frozenset[int]] = {}
        self._matched = 0

    def matches(self, store: Store, clause: str, df: int | None) -> frozenset[int] | None:
        """Every chunk `clause` matches, if kept or worth keeping, else None. Only for a
        read-only store: a writer's uncommitted rows change matches within a generation."""
        if df is None or df > self.MAX_MATCHES or not store.read_only:
            return None
        found = self._matches.get(clause)
        if found is None:
            found = frozenset(store.lexical_matches(clause))
            if self._matched + len(found) <= self.MAX_MATCHED:  # a race: a little over
                self._matches[clause] = found
                self._matched += len(found)
        return found

    def get(self, store: Store, clause: str) -> int:
        df = self._df.get(clause)
        if df is None:
            df = store.lexical_count(clause)
            if len(self._df) >= self.MAX:
                self._df.clear()
            self._df[clause] = df
        return df


_CACHE: weakref.WeakKeyDictionary[Store, _Counts] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _counts(store: Store) -> _Counts:
    """The store's counts cache; a writer's store moves on, so it is keyed by generation."""
    generation = store.generation
    with _CACHE_LOCK:
        counts = _CACHE.get(store)
        if counts is None or counts.generation != generation:
            counts = _Counts(store, generation)
            _CACHE[store] = counts
        return counts

"""The index's knobs: `IndexConfig` (ranking and writing, the relevance floor), `DenseConfig`
(the FAISS index kind and segments) and `LexicalConfig` (the analyser and its refits).

Plain dataclasses free of FAISS and numpy, so `Settings` (and every CLI command with it) can
build them without loading the libraries the index itself needs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from samsok.search.text import AnalyzerConfig

if TYPE_CHECKING:  # relevance needs numpy and the store; a config only names its type
    from samsok.search.index.relevance import RelevanceFloor

__all__ = ["FUSIONS", "DenseConfig", "Fusion", "IndexConfig", "LexicalConfig"]

Fusion = Literal["zscore", "minmax", "rrf"]
FUSIONS: tuple[Fusion, ...] = get_args(Fusion)


# The fewest IVF lists: below ~256 vectors a list, sqrt(n) lists would make lists too coarse.
MIN_NLIST = 16


@dataclass(frozen=True)
class DenseConfig:
    """How the vector index is built. Defaults measured with `benchmarks/scale.py` (see
    docs/architecture.md, "How the index scales").

    - `ann_threshold`: below this many vectors the base is exact (flat, 4·dim bytes per
      vector, no training); from it on, IVF + fp16 (2·dim bytes per vector). fp16 rather than
      8-bit: 8-bit codes (dim bytes) lost 0.015–0.04 recall@10 among near-tied neighbours
      (0.965 vs 0.979 at 100k, nprobe 32, same speed) and 2·dim still fits 1 KB a chunk.
    - `ann_nlist`: IVF lists; 0 = sqrt(vectors) (k-means training stays in seconds and a
      list holds ~sqrt(N) vectors), retrained when the corpus grows 4× past it.
    - `ann_nprobe`: lists scanned per query (scaled up for restrictive filters, see `search`).
    - `merge_fraction` / `merge_min`: the delta is folded into a new base once it holds more
      than max(merge_min, merge_fraction · size) changes.

    How chosen (benchmarks/scale.py on 2 shared cores, 384 dimensions): exact search costs
    ~0.27 ms per 1 000 vectors a query (270 ms at 1M), so from ~100k vectors (~25 ms, the
    whole hybrid budget there) IVF pays; below it flat is exact and needs no training. With
    √N lists and fp16 codes, recall@10 against exact search on the 100k synthetic index was
    0.96 / 0.97 / 0.98 at nprobe 32 / 64 / 96 (1M, 8-bit codes, nprobe 32: 0.978); the
    delta limits keep a commit's file ≤ ~8 MB while a fold (a full base write) comes at most
    every 5 % of growth.
    """

    ann_threshold: int = 100_000
    ann_nlist: int = 0
    ann_nprobe: int = 64
    merge_fraction: float = 0.05
    merge_min: int = 5_000

    def __post_init__(self) -> None:
        if self.ann_threshold < 1 or self.ann_nprobe < 1 or self.ann_nlist < 0:
            raise ValueError("ann_threshold and ann_nprobe must be ≥ 1, ann_nlist ≥ 0")
        if not 0.0 < self.merge_fraction <= 1.0 or self.merge_min < 0:
            raise ValueError("merge_fraction must be within (0, 1] and merge_min ≥ 0")

    def nlist_for(self, n: int) -> int:
        return self.ann_nlist or max(MIN_NLIST, int(math.sqrt(n)))


@dataclass(frozen=True)
class LexicalConfig:
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    refit_growth: float = 1.25  # refit when the chunk count grew by this factor
    # Fit on an even sample of at most this many chunks, and stop refitting once a fit saw
    # that many: each refit rewrites every chunk's terms (O(corpus)), and the vocabulary of
    # parts hardly moves past ~100k chunks of one domain. Bounds the total refit work.
    fit_max_chunks: int = 100_000
    # Glossary expansion, Nynorsk/Bokmål variants and suspended compounds at query time.
    expand: bool = True


@dataclass(frozen=True)
class IndexConfig:
    """Ranking knobs. Defaults chosen on NorQuAD validation: benchmarks/retrieval.py, with the
    sweep in docs/retrieval.md.

    Hybrid search takes the best `candidates` chunks of the dense run (FAISS) and of the
    lexical run (FTS5 BM25), both already filtered, and fuses them chunk by chunk:

    - "zscore": each run's scores standardised over its candidates, then
      ``dense_weight * z_dense + (1 - dense_weight) * z_lexical``; a chunk missing from a run
      gets that run's lowest z. The default: it ranked best at every chunk size we tried
      (+0.0026 nDCG@10 over "minmax" on average, best at dense_weight 0.5).
    - "minmax": the same with scores rescaled to [0, 1] per run (missing = 0).
    - "rrf": reciprocal rank fusion with `rrf_k`, weighted the same way; it ignores how far
      ahead a run's best chunk is and ranked 0.01–0.02 nDCG@10 below the score fusions.

    Documents then rank where their best chunk does (fusing per document first made no
    difference beyond noise).
    """

    fusion: Fusion = "zscore"
    # Weight of the dense run; lexical gets 1 - dense_weight. Chosen with the ONNX int8
    # model as the best worse-of-two (NorQuAD, paraphrase dev set) among settings that meet
    # the targets on both tuning sets (docs/retrieval.md).
    dense_weight: float = 0.5
    rrf_k: int = 60
    candidates: int = 200  # chunks taken from each run before fusion
    # Estimated Jaccard of 5-word shingles. On the mirror, republished copies of one story
    # (different lead, chrome and footer) score 0.69 and the closest distinct pages 0.11.
    near_duplicate_threshold: float = 0.5
    # Below this many words a text is merged only when identical: too little evidence.
    near_duplicate_min_words: int = 50
    # Query-dependent weighting: dense_weight + evidence_gamma * (0.5 - evidence), where
    # evidence is the share of the query's words in the best lexical chunk (0 … 1): a query
    # the corpus has the words for leans on the lexical run, one it lacks them for on dense.
    # 0.3: chosen in every leave-one-set-out fold over the four read paraphrase sets (held
    # out: −0.007 / +0.002 / +0.025 / +0.017 nDCG@10; Nynorsk queries +0.016), NorQuAD
    # −0.001 (docs/retrieval.md, "Re-chosen on every read set"). On the first tuning set
    # alone it had not helped, and was off.
    evidence_gamma: float = 0.3
    # The dense run can embed the query with each abbreviation the glossary spells out
    # replaced by its full form ("KAD" → "kommunale akutte døgnplasser"; `dense_query`). Off
    # by default: chosen on the dev tuning set by a margin under the noise line (+0.0035
    # nDCG@10), it then cost both blind fresh sets (−0.014 and −0.020) and was worse in every
    # leave-one-set-out fold over the four read paraphrase sets (docs/retrieval.md, "Re-chosen
    # on every read set").
    dense_glossary: bool = False
    # Relevance floor (hybrid mode), see `RelevanceFloor`. None: the floor
    # calibrated for the embedding model (`CALIBRATED_FLOORS`), none for other models.
    relevance_floor: bool = True
    floor: RelevanceFloor | None = None
    snippet_chars: int = 300
    # Hybrid: the query embedding and dense run on a worker thread while FTS5 ranks (both
    # release the GIL): a search's wall time is the longer run, not their sum.
    concurrent_runs: bool = True
    commit_every: int = 50  # documents between FAISS writes during long ingests
    # How often a reader (the server) asks the store whether a writer published something.
    refresh_seconds: float = 0.5
    dense: DenseConfig = field(default_factory=DenseConfig)  # vector index kind and segments

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within 0..1, got {self.dense_weight}")
        if self.rrf_k <= 0 or self.candidates < 1:
            raise ValueError("rrf_k and candidates must be positive")
        if not 0.0 <= self.evidence_gamma <= 2.0:
            raise ValueError(f"evidence_gamma must be within 0..2, got {self.evidence_gamma}")

    def floor_for(self, model_id: str) -> RelevanceFloor | None:
        # Here, not at the top: this module must stay importable without numpy and the store.
        from samsok.search.index.relevance import CALIBRATED_FLOORS

        if not self.relevance_floor:
            return None
        return self.floor or CALIBRATED_FLOORS.get(model_id.split("@", 1)[0])

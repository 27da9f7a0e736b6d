"""Every evaluation set side by side with the simple baselines, in one run (issue 9).

`side_by_side` scores each system of `SYSTEMS` (the product's hybrid, its single runs, the
old default and the simple baselines: min-max and RRF fusion without glossary or floor, and
bm25s over the same chunks) on every set it is given, through the real `SearchIndex.search`
path, and returns one `ReportRow` per system. `samsok eval` and `benchmarks/retrieval.py`
both print it (`format_rows`).

The sets (docs/retrieval.md):

- a BEIR-layout set (NorQuAD validation) in its own data folder: nDCG@10, R@10;
- development sets of the paraphrase kind (`devset.py`) in a folder holding the crawled
  mirror plus the NorQuAD passages as distractors: nDCG@10, R@10 and the abbreviation
  ("abbr") and Nynorsk ("nn") subsets;
- off-topic queries (each development set's; a file may hold only those) against the
  mirror alone: the share that returns at most `OFF_TOPIC_MAX` documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from samsok.ingest.chunk import Chunker
from samsok.search.embedding import Embedder
from samsok.search.evaluation.baselines import Bm25sBaseline, Bm25sTokens, bm25s_scores
from samsok.search.evaluation.devset import (
    DevSet,
    devset_judgements,
    load_devset,
    off_topic_rate,
    run_devset,
)
from samsok.search.evaluation.metrics import BeirDataset
from samsok.search.evaluation.runner import judgements, run_evaluation
from samsok.search.index import IndexConfig, LexicalConfig, LexicalIndex, SearchIndex
from samsok.search.schemas import SearchMode

__all__ = [
    "SYSTEMS",
    "EvalSets",
    "ReportRow",
    "System",
    "eval_report",
    "format_rows",
    "side_by_side",
]


@dataclass(frozen=True)
class System:
    """One ranking compared: a mode with an index config (None: the product's), with or
    without query expansion; or (`bm25s`) a bm25s baseline over the same chunks."""

    name: str
    mode: SearchMode = SearchMode.HYBRID
    config: IndexConfig | None = None
    expand: bool = True
    bm25s: Bm25sTokens | None = None
    floor: bool = True  # False: the config without its relevance floor


# The old default and the simple baselines run without the glossary and without the floor:
# what issue 9 compared against.
_PLAIN = IndexConfig(fusion="zscore", dense_weight=0.5, evidence_gamma=0.0, relevance_floor=False)
SYSTEMS: tuple[System, ...] = (
    System("hybrid"),
    # The same ranking without the floor: what the floor costs in recall.
    System("hybrid, no floor", floor=False),
    System("dense", SearchMode.DENSE),
    System("lexical", SearchMode.LEXICAL),
    System("before: z-score 0.5 plain", config=_PLAIN, expand=False),
    System("min-max 0.5 plain", config=replace(_PLAIN, fusion="minmax"), expand=False),
    System("RRF k=60 plain", config=replace(_PLAIN, fusion="rrf"), expand=False),
    System("lexical plain", SearchMode.LEXICAL, _PLAIN, expand=False),
    System("bm25s stemmed", bm25s=Bm25sTokens.STEMMED),
)


@dataclass(frozen=True)
class EvalSets:
    """What to score, and the data folders that hold each set's corpus (already ingested)."""

    beir: dict[str, tuple[Path, BeirDataset]] = field(default_factory=dict)  # name → (folder, set)
    dev_folder: Path | None = None  # the mirror plus distractors, for `devsets`
    devsets: dict[str, DevSet] = field(default_factory=dict)
    mirror_folder: Path | None = None  # the mirror alone, for the sets' off-topic queries


@dataclass(frozen=True)
class ReportRow:
    """One system's figures, column name → value (None: the system has no such figure)."""

    system: str
    figures: dict[str, float | None]


def side_by_side(
    sets: EvalSets,
    embedder: Embedder,
    chunker: Chunker,
    product: IndexConfig,
    systems: Sequence[System] = SYSTEMS,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[ReportRow]:
    """Score every system on every set (see the module docstring); rows in `systems` order."""
    rows = []
    for system in systems:
        if progress is not None:
            progress(system.name)
        rows.append(ReportRow(system.name, _score(system, sets, embedder, chunker, product)))
    return rows


def _score(
    system: System, sets: EvalSets, embedder: Embedder, chunker: Chunker, product: IndexConfig
) -> dict[str, float | None]:
    config = system.config or product
    if not system.floor:
        config = replace(config, relevance_floor=False)

    def open_index(folder: Path) -> SearchIndex:
        # Readers: an evaluation writes nothing, and may run beside the writer that ingested.
        lexical = LexicalIndex(LexicalConfig(expand=system.expand))
        return SearchIndex(folder, embedder, chunker, config, lexical, read_only=True)

    out: dict[str, float | None] = {}
    for name, (folder, dataset) in sets.beir.items():
        with open_index(folder) as index:
            if system.bm25s is not None:
                corpus_of, qrels = judgements(index, dataset)
                s = bm25s_scores(index, dataset, qrels, system.bm25s, corpus_of)
            else:
                s = run_evaluation(dataset, [system.mode], index=index, ingest=False)[
                    system.mode.value
                ]
        out[f"{name} nDCG@10"], out[f"{name} R@10"] = s.ndcg_at_10, s.recall_at_10
    if sets.dev_folder is not None and sets.devsets:
        with open_index(sets.dev_folder) as index:
            # bm25s indexes the folder's chunks once for every set and subset scored on it.
            baseline = Bm25sBaseline(index, system.bm25s) if system.bm25s is not None else None
            for name, devset in sets.devsets.items():
                if not devset.queries:  # an off-topic-only set
                    continue
                scored = _dev(index, devset, system.mode, baseline)
                out[f"{name} nDCG@10"], out[f"{name} R@10"] = scored
                for tag in ("abbr", "nn"):
                    subset = DevSet(devset.tagged(tag), ())
                    out[f"{name} {tag}"] = _dev(index, subset, system.mode, baseline)[0]
    off_sets = {n: d for n, d in sets.devsets.items() if d.off_topic}
    if sets.mirror_folder is not None and off_sets:
        # Lexical search returns only matches (there is nothing to floor) and bm25s has no
        # notion of "no match": only ranked modes with a floor are comparable here.
        ranked = system.bm25s is None and system.mode != SearchMode.LEXICAL
        with open_index(sets.mirror_folder) as index:
            for name, devset in off_sets.items():
                key = f"{name} off-topic ≤3"
                out[key] = off_topic_rate(index, devset, system.mode) if ranked else None
    return out


def _dev(
    index: SearchIndex, devset: DevSet, mode: SearchMode, baseline: Bm25sBaseline | None
) -> tuple[float, float]:
    """nDCG@10 and recall@10 of `mode` on `devset`, or of `baseline` when one is given."""
    if not devset.queries:
        return 0.0, 0.0
    if baseline is not None:
        qrels = devset_judgements(index, devset)
        queries = {q.id: q.query for q in devset.queries if q.id in qrels}
        s = baseline.scores(BeirDataset({}, queries, qrels, {}), qrels)
    else:
        s = run_devset(index, devset, [mode])[mode.value]
    return s.ndcg_at_10, s.recall_at_10


def eval_report(
    index: SearchIndex,
    config: IndexConfig,
    folder: Path,
    dataset: BeirDataset,
    devsets: Mapping[str, Path] = MappingProxyType({}),
    dev_folder: Path | None = None,
    mirror_folder: Path | None = None,
) -> list[ReportRow]:
    """`samsok eval`'s side-by-side table: `dataset` (ingested in `folder` by `index`, the
    writer) and each development set file under its name, with `index`'s embedder, chunker
    and ranking config."""
    if devsets and dev_folder is None:
        raise ValueError("development sets need --dev-folder (the mirror plus the passages)")
    index.commit()  # the readers below see everything the writer ingested
    sets = EvalSets(
        beir={"eval set": (folder, dataset)},
        dev_folder=dev_folder,
        devsets={name: load_devset(path) for name, path in devsets.items()},
        mirror_folder=mirror_folder,
    )
    return side_by_side(sets, index.embedder, index.chunker, config)


def format_rows(rows: Sequence[ReportRow]) -> list[str]:
    """A Markdown table: one row per system, one column per figure."""
    columns = list(dict.fromkeys(c for row in rows for c in row.figures))
    lines = [
        "| system | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for row in rows:
        cells = [_cell(row.figures.get(c)) for c in columns]
        lines.append(f"| {row.system} | " + " | ".join(cells) + " |")
    return lines


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"

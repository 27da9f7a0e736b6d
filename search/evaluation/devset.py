"""The paraphrase development set: staff-style queries over the mirror, with judgements, and
scoring it through a `SearchIndex` (`run_devset`, `off_topic_rate`).

Files (JSON, see docs/retrieval.md): ``{"queries": [{"id", "query", "tags", "relevant":
{url: grade}}], "off_topic": [{"id", "query"}]}``; grade 2 = answers the query, 1 = relevant
background. `tests/data/devset_tuning.json` is the tuning part. `tests/data/locked/` holds the
locked third (read twice, so no longer unseen), the fresh locked set written after it, a
second fresh set written after that one was read and a third written after the second was
read; they are read only by an explicit `--locked`/`--fresh` run, never by tuning code.

`keyword_overlap` is the check that a query is a paraphrase and not a keyword copy of its
target: the share of the query's searchable stems found in the target's title.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from samsok.search.evaluation.metrics import BeirDataset, EvalDataError
from samsok.search.evaluation.runner import ModeScores, parse_modes, run_mode
from samsok.search.index import SearchIndex
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.text import NorwegianAnalyzer

__all__ = [
    "FRESH2_LABEL",
    "FRESH3_LABEL",
    "FRESH_LABEL",
    "LOCKED_LABEL",
    "OFF_TOPIC_MAX",
    "DevQuery",
    "DevSet",
    "OffTopicQuery",
    "Query",
    "devset_judgements",
    "keyword_overlap",
    "load_devset",
    "off_topic_rate",
    "run_devset",
]

# How reports name the locked sets, so that no read one is taken for an unseen one: the locked
# third was read several times, the fresh set and the second fresh set once blind each on
# 2026-12-03 (docs/retrieval.md); since the session after, all three are tuning data
# (`benchmarks/fusion_sweep.py --read-sets`). The third fresh set, written in that session,
# is read once, at its end.
FRESH_LABEL = "dev FRESH (read, tuned on since)"
LOCKED_LABEL = "dev LOCKED (read, tuned on since)"
FRESH2_LABEL = "dev FRESH 2 (read, tuned on since)"
FRESH3_LABEL = "dev FRESH 3 (locked, unseen)"


@dataclass(frozen=True)
class Query:
    """A query of the set, by its id."""

    id: str
    query: str


@dataclass(frozen=True)
class DevQuery(Query):
    """A query with the pages that answer it."""

    relevant: dict[str, int]  # URL → grade (1 or 2)
    tags: tuple[str, ...] = ()  # "abbr" (abbreviations), "nn" (Nynorsk)


@dataclass(frozen=True)
class OffTopicQuery(Query):
    """A query nothing in the corpus answers: the relevance floor should return nothing."""


@dataclass(frozen=True)
class DevSet:
    queries: tuple[DevQuery, ...]
    off_topic: tuple[OffTopicQuery, ...]

    def tagged(self, tag: str) -> tuple[DevQuery, ...]:
        return tuple(q for q in self.queries if tag in q.tags)


def load_devset(path: Path) -> DevSet:
    """Read one development-set file; a malformed entry raises `EvalDataError` naming it."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise EvalDataError(f"{path}: cannot read the development set: {exc}") from exc
    queries = []
    for i, raw in enumerate(data.get("queries", []), start=1):
        try:
            relevant = {str(url): int(grade) for url, grade in raw["relevant"].items()}
            if not relevant or any(g <= 0 for g in relevant.values()):
                raise ValueError("needs at least one relevant URL with a positive grade")
            queries.append(
                DevQuery(str(raw["id"]), str(raw["query"]), relevant, tuple(raw.get("tags", ())))
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EvalDataError(f"{path}: query {i} is malformed: {exc}") from exc
    off = []
    for i, raw in enumerate(data.get("off_topic", []), start=1):
        try:
            off.append(OffTopicQuery(str(raw["id"]), str(raw["query"])))
        except (KeyError, TypeError) as exc:
            raise EvalDataError(f"{path}: off-topic query {i} is malformed: {exc}") from exc
    return DevSet(tuple(queries), tuple(off))


def keyword_overlap(query: str, title: str, analyzer: NorwegianAnalyzer) -> float:
    """Share of the query's searchable stems that occur in `title` (0 … 1)."""
    stems = {t.stem for t in analyzer.query_terms(query)}
    if not stems:
        return 0.0
    target: set[str] = set()
    for token in analyzer.analyze_tokens(title):
        target |= token.keys
    return len(stems & target) / len(stems)


# -- scoring it through a SearchIndex ------------------------------------------------------------


def devset_judgements(index: SearchIndex, devset: DevSet) -> dict[str, dict[str, int]]:
    """Query id → {stored document id: grade}; URLs map to their stored copy (duplicates), and
    judged URLs the index does not hold are left out (a page the crawl did not index)."""
    stored: dict[str, str] = {}
    for row in index.document_rows():
        stored[row.url] = row.duplicate_of or row.doc_id
    out: dict[str, dict[str, int]] = {}
    for query in devset.queries:
        rel: dict[str, int] = {}
        for url, grade in query.relevant.items():
            if url in stored:
                rel[stored[url]] = max(grade, rel.get(stored[url], 0))
        if rel:
            out[query.id] = rel
    return out


def run_devset(
    index: SearchIndex,
    devset: DevSet,
    modes: Sequence[SearchMode | str],
) -> dict[str, ModeScores]:
    """Mode value → scores of the development set's queries (a tag's subset: pass
    `DevSet(devset.tagged(tag), ())`)."""
    qrels = devset_judgements(index, devset)
    texts = {q.id: q.query for q in devset.queries}
    judged = [q for q in qrels if q in texts]
    dataset = BeirDataset({}, texts, qrels, {})
    results: dict[str, ModeScores] = {}
    for mode in parse_modes(str(m) for m in modes):
        results[mode.value] = run_mode(index, dataset, judged, mode, {}, qrels, False)
    return results


OFF_TOPIC_MAX: Final = 3  # an off-topic query passes with "Ingen treff" or at most this many


def off_topic_rate(
    index: SearchIndex, devset: DevSet, mode: SearchMode = SearchMode.HYBRID
) -> float:
    """Share of the off-topic queries that return at most `OFF_TOPIC_MAX` documents in all."""
    if not devset.off_topic:
        return 0.0
    passed = sum(
        index.search(SearchRequest(q=q.query, mode=mode)).total <= OFF_TOPIC_MAX
        for q in devset.off_topic
    )
    return passed / len(devset.off_topic)

"""The paraphrase development set: well-formed, big enough, and paraphrases, not keyword copies.

Five files: the tuning part, the locked third (read twice before, so no longer unseen), the
FRESH locked set written later from the documents alone, a second fresh set written after
that one had been read, and a third written after the second had been read (docs/retrieval.md).
Only these format checks may load the fresh files; nothing here searches.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.extract import extract
from samsok.search.evaluation import load_devset
from samsok.search.evaluation.devset import DevSet, Query, keyword_overlap
from samsok.search.evaluation.metrics import EvalDataError
from samsok.search.text import NorwegianAnalyzer

from tests.paths import PROJECT_ROOT

DATA = PROJECT_ROOT / "tests" / "data"
MIRROR = PROJECT_ROOT / "corpus" / "mirror"
FILES = [DATA / "devset_tuning.json", DATA / "locked" / "devset_locked.json"]
FRESH = DATA / "locked" / "devset_fresh.json"
FRESH2 = DATA / "locked" / "devset_fresh2.json"
FRESH3 = DATA / "locked" / "devset_fresh3.json"
HELD_OUT = DATA / "offtopic_heldout.json"
ALL = [*FILES, FRESH, FRESH2, FRESH3]
TAGS = {"nn", "abbr"}
HOSTS = {"arkiv.snillfjord.kommune.no", "www.varnesregionen.no"}  # Orkdal/SiO, Værnes


def test_the_set_has_the_promised_size_and_kinds() -> None:
    sets = [load_devset(path) for path in FILES]
    queries = [q for s in sets for q in s.queries]
    assert len(queries) >= 60
    assert sum("nn" in q.tags for q in queries) >= 10
    assert sum("abbr" in q.tags for q in queries) >= 10
    assert sum(len(s.off_topic) for s in sets) >= 20
    # The locked third is a third, with every kind in it.
    locked = sets[1]
    assert abs(len(locked.queries) - len(queries) / 3) <= 2
    assert locked.tagged("nn") and locked.tagged("abbr") and locked.off_topic
    ids = [q.id for q in queries]
    assert len(ids) == len(set(ids))


@dataclass(frozen=True)
class Promise:
    """What a fresh set's brief promised: its size and its least number of each tag."""

    queries: int
    off_topic: int
    per_tag: int


FRESH_SETS = {
    FRESH: Promise(30, 10, 10),
    FRESH2: Promise(25, 25, 8),
    FRESH3: Promise(40, 30, 12),
}


@pytest.mark.parametrize("path", FRESH_SETS, ids=lambda p: p.name)
def test_a_fresh_set_has_its_promised_size_and_kinds(path: Path) -> None:
    fresh, promise = load_devset(path), FRESH_SETS[path]
    assert len(fresh.queries) == promise.queries and len(fresh.off_topic) == promise.off_topic
    assert all(len(fresh.tagged(tag)) >= promise.per_tag for tag in TAGS)
    assert all(set(q.tags) <= TAGS for q in fresh.queries)
    assert all(set(q.relevant.values()) <= {1, 2} for q in fresh.queries)
    assert all(2 in q.relevant.values() for q in fresh.queries), "every query has an answer"
    # Both regions answer some query, and so do PDF reports and HTML pages.
    answers = [url for q in fresh.queries for url, grade in q.relevant.items() if grade == 2]
    assert {url.split("/")[2] for url in answers} == HOSTS
    assert any(url.endswith(".pdf") for url in answers)
    assert sum(not url.endswith(".pdf") for url in answers) >= len(fresh.queries) / 2
    about = json.loads(path.read_text("utf-8"))["about"]
    assert "FRESH" in about and "2026-12-03" in about


def test_query_ids_are_unique_across_every_file() -> None:
    ids = [q.id for s in (load_devset(p) for p in [*ALL, HELD_OUT]) for q in _all_queries(s)]
    assert len(ids) == len(set(ids))


def _all_queries(devset: DevSet) -> list[Query]:
    return [*devset.queries, *devset.off_topic]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_queries_are_paraphrases_not_title_copies(path: Path) -> None:
    """Most of a query's searchable words must not be its target's title words."""
    analyzer = NorwegianAnalyzer()
    data = json.loads(path.read_text("utf-8"))
    titles = data["documents"]
    copies = []
    for q in load_devset(path).queries:
        for url, grade in q.relevant.items():
            if grade == 2 and keyword_overlap(q.query, titles[url], analyzer) >= 0.4:
                copies.append((q.id, q.query, titles[url]))
    assert not copies


def _stems(text: str, analyzer: NorwegianAnalyzer) -> frozenset[str]:
    return frozenset(t.stem for t in analyzer.query_terms(text))


@pytest.mark.parametrize("path", FRESH_SETS, ids=lambda p: p.name)
def test_a_fresh_set_shares_no_query_with_the_other_files(path: Path) -> None:
    """Not the same query, nor one lightly reworded: at most half of the searchable stems of
    any two queries in common (a fresh set must be new text, not an older set re-spelt; the
    fresh sets are checked against each other too)."""
    analyzer = NorwegianAnalyzer()
    others = [p for p in [*ALL, HELD_OUT] if p != path]
    older = [q.query for other in others for q in _all_queries(load_devset(other))]
    older += [q["query"] for q in json.loads((DATA / "paraphrase_queries.json").read_text())]
    old_stems = [_stems(text, analyzer) for text in older]
    shared = []
    for q in _all_queries(load_devset(path)):
        stems = _stems(q.query, analyzer)
        for text, other in zip(older, old_stems, strict=True):
            if _normal(q.query) == _normal(text) or len(stems & other) / len(stems | other) > 0.5:
                shared.append((q.id, q.query, text))
    assert not shared


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


@cache
def _crawlable_title(url: str) -> str | None:
    """The title extraction gives the mirror's copy of `url`, or None when the crawl would
    not index it (no such file, excluded by the source, or a listing of teasers)."""
    host, _, path = url.split("://", 1)[1].partition("/")
    sources = tomllib.loads((PROJECT_ROOT / "corpus" / "sources.toml").read_text("utf-8"))
    source = next((s for s in sources["source"] if s.get("mirror") == host), None)
    file = MIRROR / host / (path + "index.html" if path.endswith("/") or not path else path)
    if source is None or not file.is_file():
        return None
    if any(re.search(pattern, url) for pattern in source.get("exclude", ())):
        return None
    kind = "application/pdf" if file.suffix == ".pdf" else "text/html"
    page = extract(file.read_bytes(), url, kind, ExtractConfig())
    return None if page.is_listing else page.title


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_judged_url_is_a_document_of_the_mirror(path: Path) -> None:
    """A judged URL the crawl does not index would silently drop out of the scores; and the
    paraphrase check above is only as good as the titles in `documents`."""
    titles = json.loads(path.read_text("utf-8"))["documents"]
    judged = {url for q in load_devset(path).queries for url in q.relevant}
    assert judged <= set(titles)
    wrong = {url: (titles[url], _crawlable_title(url)) for url in judged}
    assert {url: pair for url, pair in wrong.items() if pair[0] != pair[1]} == {}


def test_keyword_overlap_flags_a_copy() -> None:
    analyzer = NorwegianAnalyzer()
    title = "Kommunale akutte døgnplasser ved Orkdal sjukehus"
    assert keyword_overlap("kommunale akutte døgnplasser Orkdal", title, analyzer) == 1.0
    assert keyword_overlap("seks senger drevet av kommunene", title, analyzer) < 0.4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"queries": [{"id": "x", "query": "q", "relevant": {}}]}', "query 1 is malformed"),
        ("{", "cannot read"),
    ],
)
def test_malformed_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, "utf-8")
    with pytest.raises(EvalDataError, match=message):
        load_devset(path)

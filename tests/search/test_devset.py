"""The paraphrase development set: well-formed, big enough, and paraphrases, not keyword copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from samsok.search.evaluation import load_devset
from samsok.search.evaluation.devset import keyword_overlap
from samsok.search.evaluation.metrics import EvalDataError
from samsok.search.text import NorwegianAnalyzer

from tests.paths import PROJECT_ROOT

DATA = PROJECT_ROOT / "tests" / "data"
FILES = [DATA / "devset_tuning.json", DATA / "locked" / "devset_locked.json"]


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


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
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

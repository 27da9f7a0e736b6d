"""The search core stays closed: callers use `SearchIndex`'s public methods (issue 11)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# An index variable reaching behind `SearchIndex`: its store, lexical index, config or any
# private member. (`self.store` inside the store's own classes is not an index.)
REACH_IN = re.compile(
    r"(?<!search\.)\b(?:index|idx|reader|writer)\.(?:store|lexical|config|_\w+)\b"
)
# Callers that must go through public methods. Benchmarks about FAISS and fusion internals
# (scale.py, fusion_sweep.py) and the tests are white-box on purpose.
CALLERS = [
    *sorted((ROOT / "api").rglob("*.py")),
    *sorted(p for p in (ROOT / "search").rglob("*.py") if p.parent.name not in {"index", "store"}),
    ROOT / "benchmarks" / "retrieval.py",
]


def test_no_caller_reaches_into_the_index() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in CALLERS
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if REACH_IN.search(line)
    ]
    assert found == []


def test_the_reach_in_check_can_fail() -> None:
    assert REACH_IN.search("chunks = index.store.chunks_of(doc_id)")
    assert REACH_IN.search("self.index._pending = 0")
    assert not REACH_IN.search("hits = index.hits_for(picks, query)")
    assert not REACH_IN.search("from samsok.search.index.lexical import LexicalIndex")

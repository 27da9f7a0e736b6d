"""Store lookups that must stay sublinear or bounded as the corpus grows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.documents import DocType, Region
from samsok.ingest.errors import IngestError
from samsok.ingest.extract import extract
from samsok.search.store import IN_BATCH, Filters, Store, lsh_rows, signature, similarity

from tests.fakes import page_chunker
from tests.search.test_index import make_doc

MIRROR = Path(__file__).resolve().parents[2] / "corpus" / "mirror"


def mirror_texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted(MIRROR.rglob("*.htm*")):
        url = f"https://{path.relative_to(MIRROR).as_posix()}"
        try:
            page = extract(path.read_bytes(), url, "text/html", ExtractConfig())
        except IngestError:
            continue
        text = "\n".join(p.text for p in page.pages)
        if text.strip():
            out.append((url, text))
    return out


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_lsh_finds_the_same_near_duplicates_as_the_pairwise_scan(
    tmp_path: Path, threshold: float
) -> None:
    texts = mirror_texts()
    assert len(texts) >= 20
    # Republished copies as the crawler meets them: a new lead and footer around one story.
    texts += [
        (f"{url}?kopi", f"Publisert på nytt av kommunen. {text} Del denne saken.")
        for url, text in texts[:10]
    ]
    store = Store(tmp_path / "store.db")
    store.ensure_lsh(lsh_rows(threshold))
    sigs: dict[str, bytes] = {}
    lsh_pairs, scan_pairs = set(), set()
    for url, text in texts:
        sig = signature(text)
        doc = make_doc(url, text)
        for other, other_sig in store.near_duplicate_candidates(sig, doc.doc_id):
            if similarity(sig, other_sig) >= threshold:
                lsh_pairs.add((doc.doc_id, other))
        for other, other_sig in store.signatures(exclude_doc_id=doc.doc_id):
            if similarity(sig, other_sig) >= threshold:
                scan_pairs.add((doc.doc_id, other))
        with store.transaction():
            store.put_document(doc, signature=sig, duplicate_of=None)
        sigs[doc.doc_id] = sig
    assert len(scan_pairs) >= 10  # the copies were found at all
    assert lsh_pairs == scan_pairs
    # Candidates are a small share of the corpus, not all of it.
    probe = signature(texts[0][1])
    assert len(store.near_duplicate_candidates(probe)) < len(texts) / 2
    store.close()


def test_bands_follow_documents_out(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    text = " ".join(f"ord{i}" for i in range(200))
    doc = make_doc("https://x.example/a.html", text)
    with store.transaction():
        store.put_document(doc, signature=signature(text), duplicate_of=None)
    assert [d for d, _ in store.near_duplicate_candidates(signature(text))] == [doc.doc_id]
    with store.transaction():
        store.delete_document(doc.doc_id)
    assert store.near_duplicate_candidates(signature(text)) == []
    store.close()


def test_in_lists_longer_than_sqlite_allows_are_batched(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    n = 40_000  # more than SQLite's parameter limit of old (999) and new (32766) builds
    assert n > 32766 > IN_BATCH
    doc = make_doc("https://x.example/many.html", "tekst")
    chunks = page_chunker(doc) * n
    with store.transaction():
        store.put_document(doc, signature=None, duplicate_of=None)
        ids = store.add_chunks(chunks, ["tekst"] * n)
    assert len(store.chunks(ids)) == n
    assert len(store.chunk_doc_ids(ids)) == n
    assert list(store.documents([doc.doc_id] * n)) == [doc.doc_id]
    assert store.duplicates_of([f"x{i}" for i in range(n)]) == {}
    missing = store.vectors_of_chunks("none", ids)
    assert len(np.atleast_2d(missing)) <= 1
    store.close()


def _full_lexical_query(
    store: Store, match: str, filters: Filters, limit: int
) -> list[tuple[int, float]]:
    """The lexical query without the top-k shortcut: join every match, filter, then sort."""
    where, params = filters.sql()
    rows = store._conn.execute(
        "SELECT c.id, bm25(chunks_fts) AS rank FROM chunks_fts "
        "JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.doc_id = c.doc_id "
        f"WHERE chunks_fts MATCH ? AND {where} ORDER BY rank, c.id LIMIT ?",
        [match, *params, limit],
    ).fetchall()
    return [(int(r[0]), -float(r[1])) for r in rows]


def _lexical_store(path: Path) -> Store:
    """400 documents over both regions and every type, dated and undated, with marked
    duplicates and removed documents (holes in the chunk ids)."""
    store = Store(path)
    words = ["legevakt", "sykehjem", "jordmor", "tjeneste", "kommune", "avtale"]
    rng = np.random.default_rng(4)
    types = [DocType.NEWS, DocType.PAGE, DocType.REPORT]
    for i in range(400):
        text = " ".join(words[j] for j in rng.integers(0, len(words), 12))
        # "sjelden" sits mostly in Orkdal documents, and in the one Værnes document only
        # once in a long text: a Værnes filter meets it at the very end of FTS5's order.
        rare = "sjelden " * (1 + i % 4) if i % 3 else ("sjelden " + text if i == 201 else "")
        doc = make_doc(
            f"https://x.example/{i}",
            f"{text} {rare}sak {i}",
            region=Region.ORKDAL if i % 3 else Region.VAERNES,
            doc_type=DocType.REPORT if i % 17 == 0 else types[i % 2],
            published=None if i % 11 == 0 else date(2010, 1, 1) + timedelta(days=9 * i),
        )
        chunks = page_chunker(doc)
        with store.transaction():
            store.put_document(doc, signature=None, duplicate_of=None)
            store.add_chunks(chunks, [c.text for c in chunks])
    # Documents whose chunks the fast paths meet but must drop: marked duplicates of another.
    with store.transaction():
        store._conn.execute(
            "UPDATE documents SET duplicate_of = (SELECT MIN(doc_id) FROM documents) "
            "WHERE url IN ('https://x.example/3', 'https://x.example/50')"
        )
        for i in range(5, 400, 37):
            doc_id = store._conn.execute(
                "SELECT doc_id FROM documents WHERE url = ?", (f"https://x.example/{i}",)
            ).fetchone()[0]
            store.delete_chunks(doc_id)
    return store


LEXICAL_FILTERS = [
    Filters(None, None, None, None),
    Filters(Region.VAERNES, None, None, None),
    Filters(Region.ORKDAL, None, None, None),
    Filters(None, DocType.REPORT, None, None),  # 6 %: deeper than the first cut
    Filters(Region.VAERNES, DocType.REPORT, None, None),  # 2 %
    Filters(None, None, date(2012, 1, 1), date(2012, 3, 1)),
    Filters(None, None, date(2015, 6, 1), None),
    Filters(None, None, None, date(2010, 2, 1)),
    Filters(Region.ORKDAL, DocType.PAGE, date(2010, 6, 1), date(2013, 1, 1)),
    Filters(None, None, date(2030, 1, 1), None),  # keeps nothing
]
LEXICAL_MATCHES = ['"legevakt"', '"jordmor" OR "avtale"', '"sak"', '"50"', '"3" OR "sak"']


@pytest.mark.parametrize("with_allowed", [False, True])
def test_lexical_search_cuts_before_joining_with_the_same_answer(
    tmp_path: Path, with_allowed: bool
) -> None:
    """Both fast paths (rank-first then join; rank-first then keep the filter's ids) give
    exactly the full query's answer: same ids, scores and order, duplicates dropped."""
    store = _lexical_store(tmp_path / "store.db")
    for f in LEXICAL_FILTERS:
        allowed = store.filtered_chunk_ids(f) if with_allowed else None
        for match in [*LEXICAL_MATCHES, '"sjelden"']:
            for limit in (1, 5, 40, 200):
                got = store.lexical_search(match, f, limit, allowed)
                assert got == _full_lexical_query(store, match, f, limit), (f, match, limit)
    assert store.lexical_search('"50"', LEXICAL_FILTERS[0], 10) == []  # only a duplicate has it


def test_filtered_lexical_search_reads_on_when_the_filter_keeps_few_matches(
    tmp_path: Path,
) -> None:
    """A filter keeping a third of the chunks but only the last of a term's ~260 matches:
    FTS5's first cut (a few times `limit`) holds none of the filter's rows, so the search
    must go on to the full query instead of answering too few (or nothing)."""
    store = _lexical_store(tmp_path / "store.db")
    f = Filters(Region.VAERNES, None, None, None)
    allowed = store.filtered_chunk_ids(f)
    assert np.all(np.diff(allowed) > 0)  # ascending, as the search bisects it
    assert store.lexical_count('"sjelden"') > 200
    got = store.lexical_search('"sjelden"', f, 1, allowed)
    assert len(got) == 1
    assert got == _full_lexical_query(store, '"sjelden"', f, 1)
    assert store.lexical_search('"sjelden"', f, 1, np.array([], dtype=np.int64)) == []

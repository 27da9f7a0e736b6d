"""The closed core's public surface: `hits_for`, the typed manifest, and the bookkeeping
methods callers use instead of reaching into the store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from samsok.search.errors import ReadOnlyIndex
from samsok.search.index import ChunkRef, Manifest, SearchIndex
from samsok.search.index.manifest import MANIFEST_FORMAT
from samsok.search.schemas import SearchRequest

from tests.fakes import HashingEmbedder, page_chunker
from tests.search.test_index import TOPICS, fill


@dataclass(frozen=True)
class _Pick:
    doc_id: str
    chunk_id: int


def test_hits_for_builds_the_same_hit_as_search(index: SearchIndex) -> None:
    fill(index)
    found = index.search(SearchRequest(q="jordmortjeneste", limit=3)).results
    picks: list[ChunkRef] = [_Pick(h.doc_id, h.chunk_id) for h in found]
    again = index.hits_for(picks, "jordmortjeneste")
    assert [h.model_dump(exclude={"score"}) if h else None for h in again] == [
        h.model_dump(exclude={"score"}) for h in found
    ]
    assert all(h is not None and h.score == 0.0 for h in again)


def test_hits_for_marks_unknown_and_mismatched_picks(index: SearchIndex) -> None:
    fill(index, 2)
    hit = index.search(SearchRequest(q="jordmortjeneste", limit=2)).results
    other = next(h for h in hit if h.doc_id != hit[0].doc_id)
    picks = [
        _Pick(hit[0].doc_id, hit[0].chunk_id),
        _Pick("0" * 16, hit[0].chunk_id),  # no such document
        _Pick(hit[0].doc_id, 10**9),  # no such passage
        _Pick(hit[0].doc_id, other.chunk_id),  # another document's passage
    ]
    got = index.hits_for(picks, "")
    assert got[0] is not None and got[1:] == [None, None, None]
    # Without a query the snippet is the passage's opening, escaped, with no marks.
    assert "<mark>" not in got[0].snippet and got[0].snippet.startswith(TOPICS[0][:20])


def test_manifest_is_typed_versioned_and_read_back(index: SearchIndex, tmp_path: Path) -> None:
    fill(index, 2)
    data = tmp_path / "data"
    raw = json.loads((data / "manifest.json").read_text())
    assert raw["format"] == MANIFEST_FORMAT
    assert {"faiss", "numpy", "samsok"} <= raw["versions"].keys()
    manifest = Manifest.read(data)
    assert manifest is not None
    assert manifest.generation == index.generation
    assert manifest.model == index.embedder.model_id and manifest.dim == index.embedder.dim
    assert manifest.faiss_file == f"faiss-{index.generation}.index"


def test_an_old_untyped_manifest_is_still_read(tmp_path: Path) -> None:
    old = {
        "format": 2,
        "model": "test:hashing",
        "dim": 32,
        "generation": 7,
        "faiss_file": "faiss-7.index",
        "faiss_version": "1.8.0",
        "index_config": {"fusion": "zscore"},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(old))
    manifest = Manifest.read(tmp_path)
    assert manifest is not None
    assert (manifest.format, manifest.generation, manifest.dim) == (2, 7, 32)
    assert manifest.versions == {"faiss": "1.8.0"} and manifest.faiss_delta is None


@pytest.mark.parametrize("text", ["{not json", "[]", '{"dim": 3}'])
def test_an_unusable_manifest_is_ignored(tmp_path: Path, text: str) -> None:
    (tmp_path / "manifest.json").write_text(text)
    assert Manifest.read(tmp_path) is None


def test_bookkeeping_answers_without_the_store(index: SearchIndex, tmp_path: Path) -> None:
    docs = fill(index, 2)
    assert index.begin_baseline("test") is False  # the index holds this source already
    assert index.begin_baseline("ny-kilde") is True
    index.finish_baselines()
    rows = index.document_rows()
    assert sorted(r.doc_id for r in rows) == sorted(d.doc_id for d in docs)
    assert index.primary_of([docs[0].doc_id, "missing"]) == {docs[0].doc_id: docs[0].doc_id}
    assert index.has_document(docs[0].doc_id) and not index.has_document("missing")
    chunks = index.chunks_of(docs[0].doc_id)
    assert chunks and all(c.doc_id == docs[0].doc_id for c in chunks)
    texts = list(index.chunk_texts())
    assert len(texts) == index.stats().chunks
    assert {t.doc_id for t in texts} == {d.doc_id for d in docs}
    assert index.changes(since=date(2000, 1, 1)).new == len(docs)
    assert index.last_change(docs[0].doc_id) is not None
    assert len(index.change_events(limit=2)) == 2
    assert index.original(docs[0].doc_id) is None
    kept = index.keep_original(
        docs[0].doc_id,
        data=b"%PDF-1.4 x",
        name="a.pdf",
        content_type="application/pdf",
        max_bytes=1000,
    )
    assert kept.kept and index.original(docs[0].doc_id) == kept
    assert index.originals_stats().documents == 1


def test_a_reader_refuses_writer_bookkeeping(index: SearchIndex, tmp_path: Path) -> None:
    fill(index, 1)
    index.commit()
    with SearchIndex(tmp_path / "data", HashingEmbedder(), page_chunker, read_only=True) as reader:
        assert len(reader.document_rows()) == 2
        with pytest.raises(ReadOnlyIndex):
            reader.begin_baseline("x")
        with pytest.raises(ReadOnlyIndex):
            reader.refit_lexical()


def test_similar_answers_with_the_documents_title(index: SearchIndex) -> None:
    docs = fill(index, 4)
    response = index.similar(docs[0].doc_id, limit=2)
    assert response.query == docs[0].title
    assert docs[0].doc_id not in [h.doc_id for h in response.results]
    assert len(response.results) == 2

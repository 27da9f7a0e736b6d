"""SearchIndex: writes keep SQLite, FTS5 and FAISS in step; queries filter, group and page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from samsok.ingest.documents import DocType, Document, Page, Region
from samsok.search.errors import DocumentNotFound, IndexMismatchError, QueryError
from samsok.search.index import IndexConfig, SearchIndex, UpsertOutcome
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder, page_chunker


def make_doc(
    url: str,
    text: str,
    *,
    region: Region = Region.VAERNES,
    doc_type: DocType = DocType.NEWS,
    published: date | None = date(2012, 3, 1),
    title: str | None = None,
    pages: list[Page] | None = None,
) -> Document:
    return Document(
        url=url,
        source="test",
        region=region,
        doc_type=doc_type,
        title=title or url.rsplit("/", 1)[-1],
        pages=pages or [Page(None, text)],
        published=published,
    )


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def index(tmp_path: Path, fake_embedder: HashingEmbedder) -> Iterator[SearchIndex]:
    idx = SearchIndex(tmp_path / "data", fake_embedder, page_chunker, IndexConfig(candidates=5))
    yield idx
    idx.close()


TOPICS = [
    "Interkommunal jordmortjeneste gir gravide i Tydal og Selbu oppfølging nær hjemmet.",
    "Distriktsmedisinsk senter med intermediære senger ble planlagt på Stjørdal.",
    "Legevaktsamarbeidet dekker Meråker, Selbu, Tydal og Stjørdal om natta.",
    "Folkehelsearbeid og forebygging i skolene skal styrkes i hele regionen.",
    "Rus og psykiatri: en felles enhet med helseforetaket gir bedre overganger.",
    "Brukerkontoret tar imot søknader om helse- og omsorgstjenester for alle kommunene.",
    "IKT-løsninger for elektronisk meldingsutveksling mellom kommune og sykehus.",
    "Ledelse og organisering av helse- og omsorgstjenestene ble utredet i fase fire.",
]


REGION_LINES = {
    Region.ORKDAL: "SiO-prosjektet i Orkdalsregionen drøftet saken med de tretten eierkommunene.",
    Region.VAERNES: "Styringsgruppa i Værnesregionen behandlet saken og ba om en ny utredning.",
}


def fill(index: SearchIndex, n_per_region: int = 8) -> list[Document]:
    docs = []
    for region in Region:
        for i in range(n_per_region):
            text = f"{TOPICS[i % len(TOPICS)]} {REGION_LINES[region]} Sak nummer {i}."
            docs.append(
                make_doc(
                    f"https://{region.value}.example/sak-{i}.html",
                    text,
                    region=region,
                    published=date(2010 + i, 1, 1),
                )
            )
    index.upsert_many(docs)
    index.commit()
    return docs


def test_reingest_is_idempotent_and_embeds_nothing(
    index: SearchIndex, fake_embedder: HashingEmbedder
) -> None:
    docs = fill(index)
    calls = fake_embedder.calls
    outcomes = index.upsert_many(docs)
    assert set(outcomes) == {UpsertOutcome.UNCHANGED}
    assert fake_embedder.calls == calls
    assert index.stats().documents == len(docs)


def test_changed_document_replaces_its_chunks(index: SearchIndex) -> None:
    doc = make_doc("https://x.example/a.html", "Gammel tekst om legevakt i Stjørdal.")
    assert index.upsert(doc) is UpsertOutcome.NEW
    old_ids = [c.id for c in index.store.chunks_of(doc.doc_id)]
    changed = make_doc("https://x.example/a.html", "Ny tekst om jordmortjeneste i Tydal og Selbu.")
    assert index.upsert(changed) is UpsertOutcome.CHANGED
    new_ids = [c.id for c in index.store.chunks_of(doc.doc_id)]
    assert set(old_ids).isdisjoint(new_ids)
    assert index._dense.size == len(new_ids)
    hits = index.search(SearchRequest(q="legevakt", mode=SearchMode.LEXICAL)).results
    assert hits == []


def test_unchanged_text_in_a_new_document_reuses_cached_vectors(
    index: SearchIndex, fake_embedder: HashingEmbedder
) -> None:
    index.upsert(make_doc("https://x.example/a.html", "Samme avsnitt om folkehelse."))
    calls = fake_embedder.calls
    index.upsert(
        make_doc("https://x.example/a.html", "Samme avsnitt om folkehelse.", title="Ny tittel")
    )
    assert fake_embedder.calls == calls


@pytest.mark.parametrize("mode", list(SearchMode))
def test_filters_still_fill_the_page(index: SearchIndex, mode: SearchMode) -> None:
    fill(index)
    # candidates=5 in the fixture: a filter must not starve the page of matching documents.
    response = index.search(
        SearchRequest(q="kommunene helse tjenester sak", region=Region.ORKDAL, limit=6, mode=mode)
    )
    assert {h.region for h in response.results} == {Region.ORKDAL}
    assert len(response.results) == 6
    assert len({h.doc_id for h in response.results}) == 6


def test_date_and_type_filters(index: SearchIndex) -> None:
    fill(index)
    response = index.search(
        SearchRequest(q="sak", date_from=date(2013, 1, 1), date_to=date(2015, 12, 31), limit=50)
    )
    assert response.results
    assert all(date(2013, 1, 1) <= h.published <= date(2015, 12, 31) for h in response.results)
    assert index.search(SearchRequest(q="sak", type=DocType.REPORT)).results == []


def test_paging_is_disjoint_and_total_counts_documents(index: SearchIndex) -> None:
    fill(index)
    first = index.search(SearchRequest(q="sak", limit=5, mode=SearchMode.DENSE))
    second = index.search(SearchRequest(q="sak", limit=5, offset=5, mode=SearchMode.DENSE))
    assert not {h.doc_id for h in first.results} & {h.doc_id for h in second.results}
    assert first.total == 16


def test_remove_deletes_from_both_indexes(index: SearchIndex) -> None:
    docs = fill(index)
    target = docs[0]
    chunk_ids = [c.id for c in index.store.chunks_of(target.doc_id)]
    assert index.remove(target.doc_id)
    assert index.store.document(target.doc_id) is None
    assert index._dense.size == sum(len(index.store.chunks_of(d.doc_id)) for d in docs[1:])
    assert not np.isin(chunk_ids, index.store.filtered_chunk_ids(index_filters())).any()
    lexical = index.search(SearchRequest(q="jordmortjeneste", mode=SearchMode.LEXICAL, limit=50))
    assert target.doc_id not in {h.doc_id for h in lexical.results}
    with pytest.raises(DocumentNotFound):
        index.document(target.doc_id)
    assert not index.remove(target.doc_id)


def index_filters():
    from samsok.search.store import Filters

    return Filters()


def test_stale_faiss_file_is_rebuilt_from_the_store(
    tmp_path: Path, fake_embedder: HashingEmbedder
) -> None:
    data = tmp_path / "data"
    with SearchIndex(data, fake_embedder, page_chunker) as idx:
        fill(idx)
        idx.commit()
        size = idx._dense.size
        # Simulate a crash after a store write but before the FAISS file was written.
        idx.upsert(make_doc("https://x.example/late.html", "Helsekonferansen i Oslo i mai."))
        idx._writer.pending = 0  # type: ignore[union-attr]
        idx.store.close()
    reopened = SearchIndex(data, fake_embedder, page_chunker)
    assert reopened._dense.size == size + 1
    hits = reopened.search(
        SearchRequest(q="Helsekonferansen", mode=SearchMode.DENSE, limit=1)
    ).results
    assert hits[0].url == "https://x.example/late.html"
    reopened.close()


def test_corrupt_faiss_file_is_rebuilt(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    data = tmp_path / "data"
    with SearchIndex(data, fake_embedder, page_chunker) as idx:
        fill(idx)
    manifest = json.loads((data / "manifest.json").read_text())
    (data / str(manifest["faiss_file"])).write_bytes(b"not a faiss index")
    with SearchIndex(data, fake_embedder, page_chunker) as idx:
        assert idx._dense.size == idx.stats().chunks


def test_refuses_an_index_built_with_another_model(
    tmp_path: Path, fake_embedder: HashingEmbedder
) -> None:
    data = tmp_path / "data"
    with SearchIndex(data, fake_embedder, page_chunker) as idx:
        fill(idx, 2)
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["model"] == fake_embedder.model_id and manifest["dim"] == fake_embedder.dim
    other = HashingEmbedder(dim=32, model_id="test:other")
    with pytest.raises(IndexMismatchError, match="samsok reindex"):
        SearchIndex(data, other, page_chunker)
    with SearchIndex(data, other, page_chunker, allow_model_change=True) as idx:
        assert idx.reindex() == idx.stats().chunks
        assert idx._dense.size == idx.stats().chunks
    with SearchIndex(data, other, page_chunker) as idx:
        assert idx.search(SearchRequest(q="jordmortjeneste")).results


def test_near_duplicates_are_stored_once_with_both_urls(index: SearchIndex) -> None:
    story = " ".join(TOPICS)
    a = make_doc("https://www.varnesregionen.no/nyhet.html", story, title="Samhandlingsprisen")
    b = make_doc(
        "https://www.meraker.kommune.no/pressemelding.html",
        story + " Publisert av Meråker kommune.",
        title="Samhandlingsprisen!",
    )
    assert index.upsert(a) is UpsertOutcome.NEW
    assert index.upsert(b) is UpsertOutcome.DUPLICATE
    hits = index.search(SearchRequest(q="jordmortjeneste")).results
    assert [h.doc_id for h in hits] == [a.doc_id]
    assert hits[0].also_published_at == [b.url]
    assert index.document(b.doc_id).also_published_at == [a.url]
    # The first URL disappears: the story stays findable at the other one.
    index.remove(a.doc_id)
    hits = index.search(SearchRequest(q="jordmortjeneste")).results
    assert [h.url for h in hits] == [b.url]
    assert hits[0].also_published_at == []


def test_pdf_hits_link_to_their_page(index: SearchIndex) -> None:
    pages = [
        Page(1, "Innledning om prosjektet."),
        Page(2, "Ståstedsanalyse av sykehjemsplasser i Orkdal."),
        Page(3, "Vedlegg."),
    ]
    doc = make_doc(
        "https://sio.example/rapport.pdf",
        "",
        doc_type=DocType.REPORT,
        pages=pages,
        region=Region.ORKDAL,
    )
    doc.content_type = "application/pdf"
    index.upsert(doc)
    hit = index.search(SearchRequest(q="sykehjemsplasser", mode=SearchMode.LEXICAL)).results[0]
    assert hit.page == 2
    assert hit.page_url == "https://sio.example/rapport.pdf#page=2"
    assert "<mark>" in hit.snippet


def test_lexical_mode_with_only_stopwords_is_a_query_error(index: SearchIndex) -> None:
    fill(index, 1)
    with pytest.raises(QueryError):
        index.search(SearchRequest(q="og i på", mode=SearchMode.LEXICAL))
    # Hybrid still answers from the dense side.
    assert index.search(SearchRequest(q="og i på")).results


def test_similar_prefers_the_other_documents_on_the_same_topic(index: SearchIndex) -> None:
    docs = fill(index)
    orkdal_twin = next(
        d for d in docs if d.region is Region.ORKDAL and d.url.endswith("sak-0.html")
    )
    vaernes = next(d for d in docs if d.region is Region.VAERNES and d.url.endswith("sak-0.html"))
    response = index.similar(orkdal_twin.doc_id, region=Region.VAERNES, limit=3)
    assert response.results[0].doc_id == vaernes.doc_id
    assert all(h.region is Region.VAERNES for h in response.results)
    assert orkdal_twin.doc_id not in {h.doc_id for h in response.results}


def test_a_store_in_another_layout_is_refused(tmp_path: Path) -> None:
    from samsok.search.store import Store

    store = Store(tmp_path / "store.db")
    store.set_meta("schema_version", "0")
    store.close()
    with pytest.raises(IndexMismatchError, match="layout 0"):
        Store(tmp_path / "store.db")

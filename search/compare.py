"""Orkdal | Værnes side by side: the same query answered once per region.

The comparison is two ordinary searches (the request with `region` set to each region in
turn) plus, per region, a keyword-only count. The count matters because dense retrieval
always returns the nearest documents, even when none of them mentions the query: the
keyword count is what tells a reader "Værnes has nothing that names this".
"""

from __future__ import annotations

import time
from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from samsok.ingest.documents import DocType, Region
from samsok.search.errors import QueryError
from samsok.search.schemas import Hit, SearchMode, SearchRequest

if TYPE_CHECKING:  # the index door loads FAISS; this module only receives an open index
    from samsok.search.index import SearchIndex

__all__ = [
    "REGION_LABELS",
    "REGION_NAMES",
    "CompareResponse",
    "RegionColumn",
    "compare",
    "other_region",
]

#: Short names for badges and links.
REGION_LABELS: dict[Region, str] = {Region.ORKDAL: "Orkdal", Region.VAERNES: "Værnes"}
#: Full names for headings.
REGION_NAMES: dict[Region, str] = {
    Region.ORKDAL: "Orkdalsregionen",
    Region.VAERNES: "Værnesregionen",
}


def other_region(region: Region) -> Region:
    return Region.VAERNES if region is Region.ORKDAL else Region.ORKDAL


class RegionColumn(BaseModel):
    """The best documents of one region for the compared query."""

    region: Region = Field(description="Region of every result in this column")
    label: str = Field(description="Short display name of the region, e.g. 'Værnes'")
    name: str = Field(description="Full display name of the region, e.g. 'Værnesregionen'")
    total: int = Field(description="Documents of this region available for paging through")
    keyword_matches: int | None = Field(
        description=(
            "Documents of this region whose text contains the query words (lexical match, "
            "counted up to the candidate cap); 0 means no document names the query, so the "
            "results are only related in meaning; null when the query has only stopwords"
        )
    )
    results: list[Hit] = Field(description="Best documents first, one hit per document")


class CompareResponse(BaseModel):
    """The same query and filters answered for both regions."""

    query: str = Field(description="The normalised query text")
    mode: SearchMode = Field(description="Retrieval mode used for both columns")
    type: DocType | None = Field(description="Document type filter applied to both columns")
    date_from: date | None = Field(description="Earliest publication date applied to both")
    date_to: date | None = Field(description="Latest publication date applied to both")
    limit: int = Field(description="Results per column")
    offset: int = Field(description="Results skipped in each column")
    took_ms: float = Field(description="Time for both columns together")
    columns: list[RegionColumn] = Field(description="Always two columns, Orkdal first, then Værnes")


def compare(index: SearchIndex, request: SearchRequest) -> CompareResponse:
    """Answer `request` for each region. A `region` in the request is ignored: both are shown."""
    started = time.perf_counter()
    with index.reading():  # both columns from one snapshot
        columns = [_column(index, request, region) for region in (Region.ORKDAL, Region.VAERNES)]
    return CompareResponse(
        # The request's filters, echoed (`region` is not: both are answered).
        **request.model_dump(include={"mode", "date_from", "date_to", "limit", "offset"}),
        query=request.q,
        type=request.doc_type,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        columns=columns,
    )


def _column(index: SearchIndex, request: SearchRequest, region: Region) -> RegionColumn:
    # model_copy skips validation, which is fine: only `region` changes and it is an enum.
    regional = request.model_copy(update={"region": region})
    response = index.search(regional)
    if request.mode is SearchMode.LEXICAL:
        keyword_matches: int | None = response.total
    else:
        keyword_matches = _keyword_matches(index, regional)
    return RegionColumn(
        region=region,
        label=REGION_LABELS[region],
        name=REGION_NAMES[region],
        total=response.total,
        keyword_matches=keyword_matches,
        results=response.results,
    )


def _keyword_matches(index: SearchIndex, request: SearchRequest) -> int | None:
    lexical = request.model_copy(update={"mode": SearchMode.LEXICAL, "limit": 1, "offset": 0})
    try:
        return index.search(lexical).total
    except QueryError:
        return None  # e.g. a query of stopwords only: there is no keyword to count

"""Extraction: a fetched body (HTML or PDF) to an `ExtractedPage` of main text and metadata.

`extract` sniffs the real type and dispatches. A closed package: import from here
(docs/architecture.md).
"""

from samsok.ingest.extract.dispatch import ContentKind, extract, sniff
from samsok.ingest.extract.html import extract_html
from samsok.ingest.extract.pdf import extract_pdf
from samsok.ingest.extract.quality import (
    AEB_HALVES,
    AebPage,
    Score,
    aeb_half,
    iter_aeb,
    mean_score,
    shingle_score,
)

__all__ = [
    "AEB_HALVES",
    "AebPage",
    "ContentKind",
    "Score",
    "aeb_half",
    "extract",
    "extract_html",
    "extract_pdf",
    "iter_aeb",
    "mean_score",
    "shingle_score",
    "sniff",
]

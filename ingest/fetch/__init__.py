"""Fetching: one URL politely and defensively (deadlines, caps, politeness, address guard).

A closed package: import from here (docs/architecture.md).
"""

from samsok.ingest.fetch.bodies import (
    PAGE_TYPES,
    PDF_TYPES,
    BodyDecoder,
    sniff_media_type,
)
from samsok.ingest.fetch.client import Fetcher
from samsok.ingest.fetch.netguard import AddressPolicy, ConnectGuard
from samsok.ingest.fetch.politeness import parse_retry_after
from samsok.ingest.fetch.results import FetchResult, HopCheck, Outcome, Redirect, Validators
from samsok.ingest.fetch.transport import RewritingTransport

__all__ = [
    "PAGE_TYPES",
    "PDF_TYPES",
    "AddressPolicy",
    "BodyDecoder",
    "ConnectGuard",
    "FetchResult",
    "Fetcher",
    "HopCheck",
    "Outcome",
    "Redirect",
    "RewritingTransport",
    "Validators",
    "parse_retry_after",
    "sniff_media_type",
]

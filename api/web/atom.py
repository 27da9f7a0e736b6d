"""Atom 1.0 (RFC 4287) feeds of the change log: one entry per logged change, newest first,
with stable `urn:uuid:` ids, `updated` times and a link to the document's page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from samsok.api.web.changes_text import KIND_LABELS, change_summary
from samsok.api.web.forms import link
from samsok.ingest.documents import Region
from samsok.search.compare import REGION_LABELS, REGION_NAMES
from samsok.search.store import ChangeEvent, entry_id

__all__ = ["ATOM_NS", "FEED_ENTRIES", "atom_feed"]

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 100  # newest logged changes per feed
# `updated` of a feed with no entries yet: a fixed instant, so the empty feed never "changes".
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(
    events: list[ChangeEvent], *, base_url: str, region: Region | None, self_url: str
) -> bytes:
    """An Atom 1.0 document (RFC 4287) with one entry per event."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "nb"})
    scope = region.value if region else "all"
    where = REGION_NAMES[region] if region else "Orkdal og Værnes"
    _sub(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, f"samsok:changes:{scope}").urn)
    _sub(feed, "title", f"Samsøk – nytt og endret i {where}")
    _sub(feed, "subtitle", "Nye, endrede og fjernede dokumenter i søket")
    newest = events[0].at if events else EMPTY_FEED_UPDATED
    _sub(feed, "updated", _rfc3339(newest))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    alternate = link("/changes", [("region", region.value if region else "")])
    _sub(feed, "link", rel="alternate", type="text/html", href=base_url + alternate)
    author = _sub(feed, "author")
    _sub(author, "name", "Samsøk")
    _sub(feed, "generator", "Samsøk")
    for event in events:
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(event))
        _sub(entry, "title", f"{KIND_LABELS[event.kind]}: {event.title}")
        _sub(entry, "updated", _rfc3339(event.at))
        _sub(entry, "published", _rfc3339(event.at))
        _sub(
            entry,
            "link",
            rel="alternate",
            type="text/html",
            href=f"{base_url}/documents/{event.doc_id}",
        )
        entry_author = _sub(entry, "author")
        _sub(entry_author, "name", event.source)
        _sub(entry, "category", term=event.kind, label=KIND_LABELS[event.kind])
        _sub(entry, "category", term=event.region.value, label=REGION_NAMES[event.region])
        _sub(
            entry,
            "summary",
            f"{change_summary(event)} {REGION_LABELS[event.region]}, {event.source}.",
            type="text",
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)

"""Conference briefings: the results a user picked, as a model, Markdown and a printable page.

A pick is `<doc_id>:<chunk_id>` — the document and the passage that was shown for it — so a
briefing lives entirely in the URL (repeated `pick=` parameters) and needs no server state.

Everything here is pure except `resolve_picks`, which reads the index.
"""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import quote, urlsplit

from babel.dates import format_date as babel_format_date
from markupsafe import Markup, escape
from pydantic import BaseModel, Field, field_validator
from samsok.ingest.documents import DocType, Region
from samsok.search.compare import REGION_LABELS
from samsok.search.index import SearchIndex
from samsok.search.schemas import MAX_QUERY_CHARS, Hit

__all__ = [
    "MAX_PICKS",
    "TYPE_LABELS",
    "Briefing",
    "BriefingItem",
    "BriefingRequest",
    "Pick",
    "build_briefing",
    "format_date",
    "http_url",
    "markdown_filename",
    "render_markdown",
    "resolve_picks",
    "snippet_markup",
    "snippet_text",
]

MAX_PICKS = 50  # keeps a briefing URL well under common 8 KB request-line limits
TYPE_LABELS: dict[DocType, str] = {
    DocType.NEWS: "Nyhet",
    DocType.REPORT: "Rapport",
    DocType.PAGE: "Nettside",
}
_PICK = re.compile(r"^([0-9a-f]{1,64}):([0-9]{1,12})$")
_MARK = re.compile(r"(</?mark>)")
_EMPTY_MARK = re.compile(r"<mark>\s*</mark>")


class Pick(BaseModel):
    doc_id: str = Field(description="Document id (hex)")
    chunk_id: int = Field(description="Id of the passage shown for the document")

    @classmethod
    def parse(cls, raw: str) -> Pick:
        match = _PICK.match(raw.strip())
        if match is None:
            raise ValueError(f"pick must look like <doc_id>:<chunk_id>, got {raw[:80]!r}")
        return cls(doc_id=match[1], chunk_id=int(match[2]))

    def __str__(self) -> str:
        return f"{self.doc_id}:{self.chunk_id}"


class BriefingRequest(BaseModel):
    """What a briefing URL asks for; invalid input raises ValidationError (HTTP 422)."""

    q: str = Field(default="", max_length=MAX_QUERY_CHARS)
    picks: list[Pick] = Field(default_factory=list, max_length=MAX_PICKS)

    @field_validator("q")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("picks", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, list):
            parsed = [Pick.parse(v) if isinstance(v, str) else v for v in value]
            unique = {str(p): p for p in parsed}  # first occurrence wins, order kept
            return list(unique.values())
        return value


class BriefingItem(BaseModel):
    doc_id: str
    chunk_id: int
    title: str
    region: Region
    region_label: str = Field(description="Display name of the region")
    type: DocType
    type_label: str = Field(description="Display name of the document type (Norwegian)")
    published: date | None
    source: str = Field(description="Source (website) the document came from")
    url: str = Field(description="The document's URL")
    page: int | None = Field(description="PDF page of the picked passage, else null")
    page_url: str = Field(description="Link to the source, straight to the page for PDFs")
    snippet: str = Field(description="The picked passage as plain text")
    snippet_html: str = Field(description="The passage HTML-escaped with <mark> around query terms")
    also_published_at: list[str] = Field(description="Other URLs of the same text")


class Briefing(BaseModel):
    """A conference briefing: the picks in the order they were made."""

    query: str = Field(description="The query the picks were made for (may be empty)")
    created: date = Field(description="Date the briefing was assembled")
    items: list[BriefingItem]
    missing: list[str] = Field(
        description="Picks that are no longer in the index (removed or re-indexed documents)"
    )


def http_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL, else None: nothing else may become a link."""
    if not url:
        return None
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return stripped


def snippet_text(snippet_html: str) -> str:
    """Plain text of a core snippet: drop the <mark> tags, undo the HTML escaping."""
    return html.unescape(_MARK.sub("", snippet_html))


def snippet_markup(snippet_html: str) -> Markup:
    """Safe HTML for a core snippet: only <mark> survives as markup.

    The core escapes snippets already; this re-escapes every text part anyway (unescape then
    escape is the identity on escaped text) so a regression there cannot become an XSS here.
    """
    parts = _MARK.split(snippet_html)
    return Markup("").join(
        Markup(p) if _MARK.fullmatch(p) else escape(html.unescape(p)) for p in parts
    )


def format_date(value: date | None) -> str:
    """'3. desember 2026' (Norwegian Bokmål month names), or 'udatert'."""
    return babel_format_date(value, "d. MMMM y", locale="nb") if value else "udatert"


def resolve_picks(index: SearchIndex, picks: list[Pick], query: str) -> tuple[list[Hit], list[str]]:
    """Turn picks back into hits (with a fresh snippet for `query`); unknown picks are listed."""
    found = index.hits_for(picks, query)
    hits = [hit for hit in found if hit is not None]
    missing = [str(pick) for pick, hit in zip(picks, found, strict=True) if hit is None]
    return hits, missing


def build_briefing(query: str, created: date, hits: list[Hit], missing: list[str]) -> Briefing:
    items = [
        BriefingItem(
            doc_id=h.doc_id,
            chunk_id=h.chunk_id,
            title=h.title,
            region=h.region,
            region_label=REGION_LABELS[h.region],
            type=h.type,
            type_label=TYPE_LABELS[h.type],
            published=h.published,
            source=h.source,
            url=h.url,
            page=h.page,
            page_url=h.page_url,
            snippet=snippet_text(h.snippet),
            snippet_html=h.snippet,
            also_published_at=h.also_published_at,
        )
        for h in hits
    ]
    return Briefing(query=query, created=created, items=items, missing=missing)


def markdown_filename(briefing: Briefing) -> str:
    return f"samsok-briefing-{briefing.created.isoformat()}.md"


# -- Markdown ---------------------------------------------------------------------------------

# Characters that start or end inline markup (emphasis, code, links, raw HTML, tables).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
# Characters that only matter at the start of a line (headings, quotes, lists).
_MD_LINE_START = re.compile(r"^(\s*\d*)([#>+\-=.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    """Escape text so Markdown shows it literally (and raw HTML in it stays text)."""
    text = _MD_INLINE.sub(r"\\\1", " ".join(text.split()))
    # "1." at the start only makes a list when digits precede the dot; "#" etc. only alone.
    return _MD_LINE_START.sub(lambda m: m[1] + "\\" + m[2], text)


def md_link(label: str, url: str | None) -> str:
    """`[label](url)` for http(s) URLs; a non-http URL is shown as plain text, never linked."""
    safe = http_url(url)
    if safe is None:
        return md_escape(label)
    # Percent-encode what would end the link destination early.
    target = quote(safe, safe=":/?#[]@!$&'*+,;=%-._~")
    target = target.replace("(", "%28").replace(")", "%29")
    return f"[{md_escape(label)}]({target})"


def render_markdown(briefing: Briefing) -> str:
    title = f"Briefing: {md_escape(briefing.query)}" if briefing.query else "Briefing"
    lines = [
        f"# {title}",
        "",
        f"Laget med Samsøk {format_date(briefing.created)} ({briefing.created.isoformat()}). "
        f"{len(briefing.items)} utvalgte treff.",
        "",
    ]
    for number, item in enumerate(briefing.items, start=1):
        source_label = f"{item.source}, side {item.page}" if item.page else item.source
        lines += [
            f"## {number}. {md_escape(item.title)}",
            "",
            f"- **Region:** {item.region_label}",
            f"- **Type:** {item.type_label}",
            f"- **Dato:** {item.published.isoformat() if item.published else 'udatert'}",
            f"- **Kilde:** {md_link(source_label, item.page_url)}",
        ]
        also = [md_link(u, u) for u in item.also_published_at if http_url(u)]
        if also:
            lines.append(f"- **Også publisert på:** {', '.join(also)}")
        lines += ["", f"> {md_escape(item.snippet)}", ""]
    if briefing.missing:
        lines += [f"_{len(briefing.missing)} valgte treff finnes ikke lenger i søket._", ""]
    return "\n".join(lines).rstrip() + "\n"

"""How a view becomes a page: the template environment (built by `create_app`, nothing at
import), content negotiation, the security headers, and the error pages every route shares."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from samsok.api.web.briefing import TYPE_LABELS, format_date, http_url, snippet_markup
from samsok.api.web.changes_query import changes_link
from samsok.api.web.changes_text import KIND_LABELS, change_summary, local_time
from samsok.api.web.links import source_href
from samsok.ingest.documents import DocType, Region
from samsok.search.compare import REGION_LABELS, REGION_NAMES, other_region

__all__ = [
    "HTML_TOO",
    "INVALID",
    "SECURITY_HEADERS",
    "STATIC_DIR",
    "TEMPLATE_DIR",
    "TEMPLATE_FILTERS",
    "build_templates",
    "document_not_found_page",
    "invalid_page",
    "not_found_page",
    "render",
    "render_view",
    "static_files",
    "static_version",
    "unavailable_page",
    "wants_html",
]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
INVALID = 422  # what the JSON API answers for the same mistakes
STATIC_HASH_CHARS = 10  # of the hex digest: enough to tell versions apart in a cache-busting URL

# Scripts and styles only from our own origin: an injected tag would not run even if
# escaping ever failed somewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Vary": "Accept",
}
# OpenAPI: a route that answers JSON, or the page for a browser.
HTML_TOO: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "JSON, or the page for Accept: text/html"}
}
_HTML_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "application/json": "json"}


def static_version(folder: Path = STATIC_DIR) -> str:
    """Content hash of the static files, appended to their URLs so caches refresh on change."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:STATIC_HASH_CHARS]


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


# The templates' filters, by the names the templates use.
TEMPLATE_FILTERS: dict[str, Callable[..., Any]] = {
    "date_nb": format_date,
    "href": http_url,
    "source_href": source_href,
    "snippet": snippet_markup,
    "host": _host,
    "local_time": local_time,
}


def build_templates(version: str) -> Jinja2Templates:
    """The pages' Jinja environment with every filter and global the templates use."""
    templates = Jinja2Templates(
        env=Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,  # every value is escaped unless a filter returns Markup
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )
    templates.env.filters.update(TEMPLATE_FILTERS)
    # Classes and helpers are known to the templates by their Python names.
    named = (Region, DocType, other_region, changes_link, change_summary)
    templates.env.globals.update({obj.__name__: obj for obj in named})
    templates.env.globals.update(
        REGION_LABELS=REGION_LABELS,
        REGION_NAMES=REGION_NAMES,
        TYPE_LABELS=TYPE_LABELS,
        KIND_LABELS=KIND_LABELS,
        static_version=version,
    )
    return templates


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML to JSON (browsers); `*/*` alone means JSON."""
    best = {"html": 0.0, "json": 0.0}
    for item in request.headers.get("accept", "").split(","):
        media, *params = [p.strip() for p in item.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        kind = _HTML_TYPES.get(media.lower())
        if kind:
            best[kind] = max(best[kind], q)
    return best["html"] > 0 and best["html"] > best["json"]


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, template, context, status_code=status, headers=SECURITY_HEADERS
    )


def render_view(request: Request, template: str, view: object, status: int = 200) -> HTMLResponse:
    """A view model (a dataclass whose fields are the template's names) as its page."""
    if not is_dataclass(view) or isinstance(view, type):
        raise TypeError(f"a view model is a dataclass instance, not {type(view).__name__}")
    context = {f.name: getattr(view, f.name) for f in fields(view)}
    return render(request, template, context, status)


# -- error pages ------------------------------------------------------------------------------


def _error(
    request: Request, title: str, message: str, status: int, **extra: object
) -> HTMLResponse:
    context: dict[str, Any] = {"title": title, "message": message, "form": None, **extra}
    return render(request, "error.html", context, status)


def invalid_page(request: Request, problems: list[tuple[str, str]]) -> HTMLResponse:
    """The 422 page: which parameter was wrong and why, for mistakes no form can show."""
    message = "Adressen inneholder en verdi som ikke kan brukes:"
    return _error(request, "Ugyldig adresse", message, INVALID, problems=problems)


def not_found_page(request: Request) -> HTMLResponse:
    """No page at this address (no route matched)."""
    return _error(request, "Fant ikke siden", "Det finnes ingen side på denne adressen.", 404)


def document_not_found_page(request: Request) -> HTMLResponse:
    message = "Dokumentet finnes ikke i søket. Det kan være fjernet, eller lenken er feil."
    return _error(request, "Fant ikke dokumentet", message, 404)


def unavailable_page(request: Request, form: object = None) -> HTMLResponse:
    message = "Søket er ikke tilgjengelig akkurat nå. Prøv igjen om litt."
    return _error(request, "Søket er utilgjengelig", message, 503, form=form)

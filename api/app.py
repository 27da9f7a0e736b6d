"""`create_app()`: the ASGI app over one `SearchIndex`, JSON routes and the web page."""

from __future__ import annotations

from fastapi import FastAPI
from samsok.api import originals
from samsok.api.clock import Clock, system_clock
from samsok.api.errors import install_error_handlers
from samsok.api.routes import router
from samsok.api.settings import Settings
from samsok.api.web import build_templates, feeds_router, pages_router, static_files, static_version
from samsok.search.index import SearchIndex

__all__ = ["create_app"]


def create_app(settings: Settings, index: SearchIndex, *, clock: Clock = system_clock) -> FastAPI:
    """Build the app around an already opened index (the caller owns its lifetime).

    `clock` gives the current moment for what users see dated (briefings, the default "since"
    of the changes); tests pass a fixed one. The templates and the static files' hash are made
    here, once per app, not at import."""
    app = FastAPI(
        title="Samsøk",
        summary="Søk i erfaringer fra samhandlingsreformen i Orkdal- og Værnesregionen",
        version="0.1.0",
    )
    app.state.settings = settings
    app.state.index = index
    app.state.clock = clock
    app.state.templates = build_templates(static_version())
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(feeds_router)
    app.include_router(originals.router)
    app.include_router(pages_router)
    app.mount("/static", static_files(), name="static")
    return app

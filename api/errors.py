"""Map the core's exceptions to HTTP responses. The only place that knows status codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from samsok.api.web import describe_error, invalid_page, not_found_page, shown, wants_html
from samsok.search.errors import DocumentNotFound, IndexMismatchError, QueryError, SearchError
from starlette.exceptions import HTTPException

__all__ = ["install_error_handlers", "validation_message"]


def validation_message(errors: list[dict]) -> str:  # type: ignore[type-arg]
    """One readable sentence per problem: `limit: Input should be less than or equal to 100`."""
    parts = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body")]
        field = ".".join(location) or "request"
        parts.append(f"{field}: {error.get('msg', 'invalid value')}")
    return "; ".join(parts)


def _html_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    location = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body")]
    name = ".".join(location) or "request"
    return shown(name), describe_error(name, error.get("input", ""), error)


def _problem(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, **extra})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, exc: RequestValidationError | ValidationError) -> Response:
        # ValidationError: a request model built inside a route (same message either way).
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        if wants_html(request):
            # A browser gets the same verdict as a page: e.g. a malformed id in /documents/….
            problems = [_html_problem(e) for e in exc.errors()]
            return invalid_page(request, problems)
        return _problem(422, validation_message(errors), detail=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        # No route matched (or the method is wrong): a browser gets a page, not JSON.
        if exc.status_code == 404 and wants_html(request):
            return not_found_page(request)
        return await http_exception_handler(request, exc)

    @app.exception_handler(DocumentNotFound)
    async def _not_found(request: Request, exc: DocumentNotFound) -> JSONResponse:
        return _problem(404, str(exc))

    @app.exception_handler(QueryError)
    async def _bad_query(request: Request, exc: QueryError) -> JSONResponse:
        return _problem(422, str(exc))

    @app.exception_handler(IndexMismatchError)
    async def _mismatch(request: Request, exc: IndexMismatchError) -> JSONResponse:
        return _problem(503, str(exc))

    @app.exception_handler(SearchError)
    async def _search_error(request: Request, exc: SearchError) -> JSONResponse:
        return _problem(500, str(exc))

"""Map the core's exceptions to HTTP responses. The only place that knows status codes.

`validation_message` serves the CLI too, so FastAPI, Starlette and the page renderers are
imported when the handlers are installed (by `create_app`), not with this module: a CLI
command that reports a bad parameter does not load the web stack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from samsok.search.errors import DocumentNotFound, IndexMismatchError, QueryError, SearchError

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

__all__ = ["install_error_handlers", "validation_message"]


def validation_message(errors: list[dict]) -> str:  # type: ignore[type-arg]
    """One readable sentence per problem: `limit: Input should be less than or equal to 100`."""
    return "; ".join(f"{_field(e)}: {e.get('msg', 'invalid value')}" for e in errors)


def _field(error: Mapping[str, Any]) -> str:
    """The parameter an error is about (`limit`, `filters.region`), or `request`."""
    location = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body")]
    return ".".join(location) or "request"


def _html_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    from samsok.api.web import describe_error, shown

    name = _field(error)
    return shown(name), describe_error(name, error.get("input", ""), error)


def _problem(status: int, message: str, **extra: object) -> JSONResponse:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content={"error": message, **extra})


def install_error_handlers(app: FastAPI) -> None:
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from samsok.api.web import invalid_page, not_found_page, wants_html
    from starlette.exceptions import HTTPException

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

    # The core's errors by status; Starlette picks the handler of the closest class in the MRO,
    # so SearchError answers for every search error without a status of its own.
    for error_type, status in _STATUS_OF.items():
        app.add_exception_handler(error_type, _status_handler(status))


_STATUS_OF: dict[type[SearchError], int] = {
    DocumentNotFound: 404,
    QueryError: 422,
    IndexMismatchError: 503,
    SearchError: 500,
}


def _status_handler(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def _handle(request: Request, exc: Exception) -> Response:
        return _problem(status, str(exc))

    return _handle

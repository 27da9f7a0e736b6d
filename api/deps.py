"""What every route takes from the app: the one `SearchIndex` it was created with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from samsok.search.index import SearchIndex

__all__ = ["Index", "get_index"]


def get_index(request: Request) -> SearchIndex:
    """The index `create_app` was given (routes and pages alike read it from here)."""
    index: SearchIndex = request.app.state.index
    return index


Index = Annotated[SearchIndex, Depends(get_index)]

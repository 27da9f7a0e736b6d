"""What every route takes from the app: the one `SearchIndex` and the clock it was created with."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from samsok.api.clock import Clock, local_today, system_clock
from samsok.search.index import SearchIndex

__all__ = ["Clock", "Index", "get_index", "system_clock", "today"]


def get_index(request: Request) -> SearchIndex:
    """The index `create_app` was given (routes and pages alike read it from here)."""
    index: SearchIndex = request.app.state.index
    return index


def today(request: Request) -> date:
    """Today in Norway by the app's clock: the date users see (briefings, "since" defaults)."""
    clock: Clock = request.app.state.clock
    return local_today(clock)


Index = Annotated[SearchIndex, Depends(get_index)]

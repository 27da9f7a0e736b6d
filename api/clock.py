"""The clock: what "now" is for dates people see. Passed in (to `create_app`, to the CLI's
`CliDeps`) so tests can set the date; production uses the system clock in Norwegian time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from samsok.search.store import LOCAL_TZ

__all__ = ["Clock", "local_today", "system_clock"]

# The current moment (timezone-aware).
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(LOCAL_TZ)


def local_today(clock: Clock) -> date:
    """Today in Norway by `clock`: the calendar the users and the change log's dates use."""
    return clock().astimezone(LOCAL_TZ).date()

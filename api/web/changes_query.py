"""The `since` and `region` parameters of "Nytt og endret" (`/changes`, its page, the feeds and
`samsok changes`): read once, with a Norwegian reason for the page and an English one for 422."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from fastapi import Request
from samsok.api.deps import today
from samsok.api.web.forms import link
from samsok.ingest.documents import Region
from samsok.search.compare import REGION_LABELS
from samsok.search.store import default_since, parse_since

__all__ = ["EARLIEST_YEAR", "ChangesQuery", "changes_link", "problem", "read_changes_query"]

# A plausibility floor: nothing indexed here is that old, so an earlier year is a typo.
EARLIEST_YEAR = 1900


@dataclass
class ChangesQuery:
    """`since` and `region` as given, what they mean, and what is wrong with them."""

    values: dict[str, str]
    since: date | datetime | None = None
    region: Region | None = None
    errors: dict[str, str] = field(default_factory=dict)  # Norwegian, for the page
    problems: list[dict[str, object]] = field(default_factory=list)  # English, for 422


def read_changes_query(
    raw_since: str | None, raw_region: str | None, days: int, today: date
) -> ChangesQuery:
    """Check the parameters; `today` (the caller's clock) bounds `since` and sets its default."""
    since_text = " ".join((raw_since or "").split())
    region_text = (raw_region or "").strip()
    query = ChangesQuery(values={"since": since_text, "region": region_text})
    if region_text:
        try:
            query.region = Region(region_text)
        except ValueError:
            query.errors["region"] = (
                f"Ukjent region «{region_text}». Velg Orkdal, Værnes eller begge."
            )
            query.problems.append(
                problem("region", f"must be one of {', '.join(r.value for r in Region)}")
            )
    if not since_text:
        query.since = default_since(days, today)
    else:
        try:
            query.since = parse_since(since_text)
        except ValueError as exc:
            query.errors["since"] = (
                f"«{since_text}» er ikke en gyldig dato. Skriv datoen som DD.MM.ÅÅÅÅ "
                "(for eksempel 18.06.2019) eller ÅÅÅÅ-MM-DD."
            )
            query.problems.append(problem("since", str(exc)))
        else:
            start = query.since.date() if isinstance(query.since, datetime) else query.since
            if start > today:
                query.errors["since"] = (
                    f"Datoen {start:%d.%m.%Y} er fram i tid. Velg en dato til og med i dag."
                )
                query.problems.append(problem("since", f"{start} is in the future"))
                query.since = None
            elif start.year < EARLIEST_YEAR:
                query.errors["since"] = f"Velg en dato etter {EARLIEST_YEAR}."
                query.problems.append(problem("since", f"must be after {EARLIEST_YEAR}"))
                query.since = None
    if query.since is not None and not isinstance(query.since, datetime):
        query.values["since"] = f"{query.since:%d.%m.%Y}"  # shown as staff write dates
    return query


def problem(name: str, message: str) -> dict[str, object]:
    """One entry of a 422's `detail`, shaped like FastAPI's own."""
    return {"loc": ("query", name), "msg": message, "type": "value_error"}


def changes_link(request: Request, region: Region, since: str = "") -> tuple[str, str]:
    """(URL, label) of "Nytt i <region> siden …": since the given date, else the default.
    A template global (the compare page links to the changes per region)."""
    start: date | None = None
    if since:
        try:
            parsed = parse_since(since)
            start = parsed.date() if isinstance(parsed, datetime) else parsed
        except ValueError:
            start = None
    if start is None:
        start = default_since(int(request.app.state.settings.changes_days), today(request))
    url = link("/changes", [("since", start.isoformat()), ("region", region.value)])
    return url, f"Nytt i {REGION_LABELS[region]} siden {start:%d.%m.%Y}"

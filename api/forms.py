"""The search form of the pages: raw query parameters in, a checked `SearchRequest` out.

Parameters are read as strings and checked here, not by FastAPI, so that every mistake
becomes a Norwegian sentence next to the field it concerns, and the form can be shown again
exactly as the user filled it in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from pydantic import ValidationError
from samsok.api.briefing import MAX_PICKS, Pick, format_date
from samsok.ingest.models import DocType, Region
from samsok.search.models import MAX_OFFSET, MAX_QUERY_CHARS, SearchMode, SearchRequest

__all__ = ["FORM_FIELDS", "SearchForm", "link", "read_form"]


def link(path: str, params: Iterable[tuple[str, str]]) -> str:
    query = urlencode([(k, v) for k, v in params if v])
    return f"{path}?{query}" if query else path


FORM_FIELDS = ("q", "region", "type", "date_from", "date_to", "page", "mode")


@dataclass
class SearchForm:
    """The form as the user filled it in, the problems found, and the request it makes."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    picks: list[str] = field(default_factory=list)
    page: int = 1
    request: SearchRequest | None = None

    def params(self, *, page: int | None = None, picks: bool = True) -> list[tuple[str, str]]:
        """The form's state as URL parameters (for links that keep filters and picks)."""
        out = [(k, self.values.get(k, "")) for k in ("q", "region", "type", "date_from", "date_to")]
        if page and page > 1:
            out.append(("page", str(page)))
        if picks:
            out += [("pick", p) for p in self.picks]
        return out


def _parse_date(raw: str) -> date:
    """ISO (what date inputs send) or Norwegian DD.MM.ÅÅÅÅ (what people type)."""
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", raw)
    if match:
        return date(int(match[3]), int(match[2]), int(match[1]))
    return date.fromisoformat(raw)


def read_form(
    params: Mapping[str, str], picks: list[str], *, limit: int, regions: bool = True
) -> SearchForm:
    values = {name: " ".join(params.get(name, "").split()) for name in FORM_FIELDS}
    if not regions:
        values["region"] = ""
    form = SearchForm(values=values)
    errors = form.errors
    if len(values["q"]) > MAX_QUERY_CHARS:
        errors["q"] = (
            f"Søket er for langt ({len(values['q'])} tegn). "
            f"Det kan være høyst {MAX_QUERY_CHARS} tegn."
        )
    if values["region"] and values["region"] not in {r.value for r in Region}:
        errors["region"] = f"Ukjent region «{values['region']}». Velg Orkdal, Værnes eller begge."
    if values["type"] and values["type"] not in {t.value for t in DocType}:
        errors["type"] = (
            f"Ukjent dokumenttype «{values['type']}». Velg nyhet, rapport eller nettside."
        )
    if values["mode"] and values["mode"] not in {m.value for m in SearchMode}:
        errors["mode"] = f"Ukjent søkemåte «{values['mode']}». Bruk hybrid, dense eller lexical."
    dates: dict[str, date] = {}
    typed_dates = {name: values[name] for name in ("date_from", "date_to")}
    for name in ("date_from", "date_to"):
        if not values[name]:
            continue
        try:
            dates[name] = _parse_date(values[name])
            values[name] = f"{dates[name]:%d.%m.%Y}"  # shown back as staff write dates
        except ValueError:
            errors[name] = (
                f"«{values[name]}» er ikke en gyldig dato. Skriv datoen som ÅÅÅÅ-MM-DD "
                "(for eksempel 2023-05-17) eller DD.MM.ÅÅÅÅ."
            )
    if "date_from" in dates and "date_to" in dates and dates["date_from"] > dates["date_to"]:
        errors["date_from"] = (
            f"Fra-datoen ({format_date(dates['date_from'])}) er etter til-datoen "
            f"({format_date(dates['date_to'])}). Bytt om datoene eller fjern en av dem."
        )
        values["date_from"] = typed_dates["date_from"]  # a rejected field shows what was typed
    max_page = MAX_OFFSET // limit + 1
    if values["page"]:
        if values["page"].isdigit() and 1 <= int(values["page"]) <= max_page:
            form.page = int(values["page"])
        else:
            errors["page"] = (
                f"«{values['page']}» er ikke et gyldig sidetall. "
                f"Bruk et helt tall fra 1 til {max_page}."
            )
    form.picks, bad_picks = _read_picks(picks)
    if bad_picks:
        errors["pick"] = "Noen valg til briefingen i adressen var ugyldige og er fjernet."
    if values["q"] and not (errors.keys() - {"pick"}):
        data = {
            "q": values["q"],
            "region": values["region"] or None,
            "type": values["type"] or None,
            "date_from": dates.get("date_from"),
            "date_to": dates.get("date_to"),
            "limit": limit,
            "offset": (form.page - 1) * limit,
            "mode": values["mode"] or "hybrid",
        }
        try:
            form.request = SearchRequest.model_validate(data)
        except ValidationError:  # every field was checked above; this is a last resort
            errors["q"] = "Søket kunne ikke tolkes. Prøv andre ord."
    return form


def _read_picks(raw: list[str]) -> tuple[list[str], bool]:
    picks: list[str] = []
    bad = False
    for value in raw:
        try:
            pick = str(Pick.parse(value))
        except ValueError:
            bad = True
            continue
        if pick not in picks and len(picks) < MAX_PICKS:
            picks.append(pick)
    return picks, bad

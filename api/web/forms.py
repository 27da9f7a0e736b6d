"""The search form of the pages: raw query parameters in, a checked `SearchRequest` out.

Parameters are read as strings and checked here, not by FastAPI, so that every mistake
becomes a Norwegian sentence next to the field it concerns, and the form can be shown again
exactly as the user filled it in.

The rules themselves are the JSON API's: numbers, dates and enums go through the same pydantic
types FastAPI uses for the JSON routes (`read_int`, `DocIdPath`, `LimitQuery`, `SearchRequest`),
so a value the API rejects with a 422 is rejected by the pages with a 422 page, never parsed
by a second, looser hand-written rule (`str.isdigit()` accepts `²`, which `int()` does not).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query
from pydantic import Field, TypeAdapter, ValidationError
from samsok.api.web.briefing import MAX_PICKS, Pick, format_date
from samsok.ingest.documents import DocType, Region
from samsok.search.schemas import (
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    SearchMode,
    SearchRequest,
)

__all__ = [
    "DOC_ID_PATTERN",
    "FORM_FIELDS",
    "DocIdPath",
    "LimitQuery",
    "ParamError",
    "SearchForm",
    "describe_error",
    "link",
    "read_form",
    "read_int",
    "shown",
]

# -- the shared parameter rules ---------------------------------------------------------------

DOC_ID_PATTERN = r"^[0-9a-f]{1,64}$"
DocIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=DOC_ID_PATTERN, description="Document id")
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Results, 1-{MAX_LIMIT}")]
SHOWN_CHARS = 80  # an echoed bad value is cut: a 1 MB parameter must not make a 1 MB page


class ParamError(ValueError):
    """One query or path parameter is invalid; `message` is the Norwegian reason."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}")


def shown(raw: str) -> str:
    """A user's value as it may be echoed on a page: printable and not too long."""
    clean = "".join(c if c.isprintable() else "\ufffd" for c in raw)
    return clean if len(clean) <= SHOWN_CHARS else clean[: SHOWN_CHARS - 1] + "…"


@functools.cache
def _int_rule(low: int, high: int) -> TypeAdapter[int]:
    # The same pydantic type FastAPI builds for `Query(ge=low, le=high)` on the JSON routes.
    return TypeAdapter(Annotated[int, Field(ge=low, le=high)])


def describe_error(name: str, raw: object, error: Mapping[str, Any]) -> str:
    """A pydantic error as a Norwegian sentence that names the parameter and the reason."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    value = f"«{shown(str(raw))}»"
    name = shown(name)  # a parameter name is user input too
    if kind in ("int_parsing", "int_from_float", "int_type", "int_parsing_size"):
        return f"{value} er ikke et helt tall (parameteren «{name}»). Bruk bare sifrene 0-9."
    if kind == "greater_than_equal":
        return f"{value} er for lite for «{name}»: det minste tillatte er {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"{value} er for stort for «{name}»: det største tillatte er {ctx.get('le')}."
    if kind.startswith(("date", "datetime")):
        return f"{value} er ikke en gyldig dato (parameteren «{name}»). Skriv ÅÅÅÅ-MM-DD."
    if kind == "enum":
        return f"Ukjent verdi {value} for «{name}». Tillatt: {ctx.get('expected', '')}."
    if kind == "string_too_long":
        return f"«{name}» er for lang: høyst {ctx.get('max_length')} tegn."
    if kind in ("string_pattern_mismatch", "string_too_short"):
        return f"{value} er ikke en gyldig verdi for «{name}»."
    if kind == "missing":
        return f"«{name}» mangler."
    return f"Ugyldig verdi {value} for «{name}»: {error.get('msg', 'ugyldig')}."


def read_int(name: str, raw: str, low: int, high: int) -> int:
    """`raw` as an int in [low, high] by the JSON API's rule, else a `ParamError`."""
    try:
        return _int_rule(low, high).validate_python(raw)
    except ValidationError as exc:
        raise ParamError(name, describe_error(name, raw, exc.errors()[0])) from None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _clean(raw: str) -> str:
    """Whitespace runs collapsed, control characters (NUL, …) dropped: they cannot be searched
    for, and an HTML page that echoes them is not well-formed."""
    return " ".join(_CONTROL.sub("", raw).split())


# -- the search form --------------------------------------------------------------------------


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


_DATE = TypeAdapter(date)  # the JSON API's date rule (pydantic's)


def _parse_date(raw: str) -> date:
    """ISO (what date inputs send, parsed as the JSON API parses it) or Norwegian DD.MM.ÅÅÅÅ
    (what people type)."""
    match = re.fullmatch(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", raw)
    if match:
        return date(int(match[3]), int(match[2]), int(match[1]))
    try:
        return _DATE.validate_python(raw)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


def read_form(
    params: Mapping[str, str], picks: list[str], *, limit: int, regions: bool = True
) -> SearchForm:
    values = {name: _clean(params.get(name, "")) for name in FORM_FIELDS}
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
        errors["region"] = (
            f"Ukjent region «{shown(values['region'])}». Velg Orkdal, Værnes eller begge."
        )
    if values["type"] and values["type"] not in {t.value for t in DocType}:
        errors["type"] = (
            f"Ukjent dokumenttype «{shown(values['type'])}». Velg nyhet, rapport eller nettside."
        )
    if values["mode"] and values["mode"] not in {m.value for m in SearchMode}:
        errors["mode"] = (
            f"Ukjent søkemåte «{shown(values['mode'])}» (parameteren «mode»). "
            "Bruk hybrid, dense eller lexical."
        )
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
                f"«{shown(values[name])}» er ikke en gyldig dato. Skriv datoen som ÅÅÅÅ-MM-DD "
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
        try:
            form.page = read_int("page", values["page"], 1, max_page)
        except ParamError:
            errors["page"] = (
                f"«{shown(values['page'])}» er ikke et gyldig sidetall (parameteren «page»). "
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

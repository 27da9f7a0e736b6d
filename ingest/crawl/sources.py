"""The crawl sources listed in `corpus/sources.toml`.

Each `[[source]]` table becomes one frozen `Source`. The file is validated as a whole when it
is loaded, so a typo (an unknown key, a bad regex, a start URL outside `allowed`) stops the
crawl before any request is made, with the line of the offending table in the message.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from samsok.ingest.documents import Region
from samsok.ingest.errors import SourceConfigError, UnsupportedScheme
from samsok.ingest.urls import HTTP_SCHEMES, normalize_url, url_host

__all__ = ["Source", "SourceKind", "load_sources", "parse_sources"]

_E = TypeVar("_E", bound=StrEnum)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_REQUIRED = ("name", "title", "region", "kind", "start_urls", "allowed")
_OPTIONAL = ("exclude", "include", "sitemap", "mirror", "max_depth", "max_pages")


class SourceKind(StrEnum):
    PROJECT_SITE = "project_site"
    MUNICIPALITY_NEWS = "municipality_news"
    LOCAL_NEWSPAPER = "local_newspaper"


@dataclass(frozen=True)
class Source:
    """One site (or part of a site) to crawl.

    `allowed` are normalised URL prefixes the crawler may follow; `exclude`/`include` are
    regexes searched in the normalised URL (exclude wins; when `include` is given, a page
    URL must match one of them). `max_depth`/`max_pages` of None mean the CrawlConfig default.

    The name is the source's identity in crawl.db: a complete crawl tombstones only pages
    saved under this name (and inside its scope). `legacy_names` are names the same pages may
    still be stored under from an older version: inside the scope they count as the source's
    own (re-saved under the new name when seen, tombstoned when a complete crawl misses them).
    A start URL, prefix or sitemap that is not http(s) raises `UnsupportedScheme`.
    """

    name: str
    title: str
    region: Region
    kind: SourceKind
    start_urls: tuple[str, ...]
    allowed: tuple[str, ...]
    exclude: tuple[re.Pattern[str], ...] = ()
    include: tuple[re.Pattern[str], ...] = ()
    sitemap: str | None = None
    mirror: str | None = None
    max_depth: int | None = None
    max_pages: int | None = None
    hosts: frozenset[str] = field(default=frozenset(), compare=False)
    legacy_names: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for key, urls in (
            ("start_urls", self.start_urls),
            ("allowed", self.allowed),
            ("sitemap", (self.sitemap,) if self.sitemap else ()),
        ):
            for url in urls:
                _require_http(url, f"source {self.name!r}: {key}")
        if not self.hosts:
            hosts = {url_host(u) for u in (*self.allowed, *self.start_urls)}
            object.__setattr__(self, "hosts", frozenset(h for h in hosts if h))

    @classmethod
    def adhoc(
        cls, url: str, region: Region | str, *, kind: SourceKind = SourceKind.PROJECT_SITE
    ) -> Source:
        """A one-off source for `samsok crawl --url URL --region R`.

        The crawl may follow links below the URL's directory: for
        `https://x.no/prosjekt/side.html` that is `https://x.no/prosjekt/`. That normalised
        scope (scheme, host, port, path prefix) is the source's identity, `adhoc:<scope>`, so
        two sites on one host name (two ports) or two sections of one site are two sources and
        a complete crawl of one never tombstones the other's pages. Before, the name was
        `adhoc-<host name>`: pages stored under it belong to the scope that contains them.
        """
        _require_http(url, "--url")
        try:
            start = normalize_url(url)
            parts = urlsplit(start)
            _ = parts.port  # raises ValueError for a bad port
        except ValueError as exc:
            raise SourceConfigError(f"--url {url!r}: not a valid URL ({exc})") from exc
        if not parts.hostname:
            raise SourceConfigError(f"--url {url!r}: not an http(s) URL with a host name")
        directory = parts.path[: parts.path.rfind("/") + 1] or "/"
        scope = f"{parts.scheme}://{parts.netloc}{directory}"
        try:
            region = Region(region)
        except ValueError as exc:
            raise SourceConfigError(
                f"--region {region!r}: expected one of {_choices(Region)}"
            ) from exc
        return cls(
            name=f"adhoc:{scope}",
            title=start,
            region=region,
            kind=kind,
            start_urls=(start,),
            allowed=(scope,),
            legacy_names=(f"adhoc-{parts.hostname}",),
        )


def _require_http(url: str, label: str) -> None:
    """UnsupportedScheme unless `url` is http:// or https:// (file:, ftp:, data:, ...)."""
    scheme = url.strip().split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in HTTP_SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise UnsupportedScheme(
            f"{label} {url!r}: not an http(s) URL ({shown}); only "
            "http:// and https:// URLs can be crawled"
        )


def load_sources(path: Path | str) -> list[Source]:
    """Read and validate every `[[source]]` table of a sources.toml file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceConfigError(f"{path}: cannot read sources file ({exc})") from exc
    return parse_sources(text, origin=str(path))


def parse_sources(text: str, *, origin: str = "sources.toml") -> list[Source]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceConfigError(f"{origin}: invalid TOML: {exc}") from exc
    tables = data.get("source")
    if not isinstance(tables, list) or not tables:
        raise SourceConfigError(f"{origin}: no [[source]] tables")
    lines = _table_lines(text)
    sources: list[Source] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        line = lines[index] if index < len(lines) else None
        where = f"{origin}:{line}" if line else origin
        label = f"{where}: [[source]] #{index + 1}"
        if isinstance(table, Mapping) and isinstance(table.get("name"), str):
            label += f" ({table['name']!r})"
        source = _parse_table(table, label)
        if source.name in seen:
            raise SourceConfigError(f"{label}: duplicate source name {source.name!r}")
        seen.add(source.name)
        sources.append(source)
    return sources


def _table_lines(text: str) -> list[int]:
    """1-based line numbers of the `[[source]]` headers, for error messages."""
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if re.match(r"^\s*\[\[\s*source\s*\]\]", line)
    ]


def _parse_table(table: Any, label: str) -> Source:
    if not isinstance(table, Mapping):
        raise SourceConfigError(f"{label}: expected a table")
    unknown = sorted(set(table) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise SourceConfigError(f"{label}: unknown key(s) {', '.join(unknown)}")
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise SourceConfigError(f"{label}: missing key(s) {', '.join(missing)}")

    name = _string(table, "name", label)
    if not _NAME.match(name):
        raise SourceConfigError(f"{label}: name must match {_NAME.pattern}")
    region = _enum(Region, table, "region", label)
    kind = _enum(SourceKind, table, "kind", label)
    start_urls = tuple(_url(u, "start_urls", label) for u in _strings(table, "start_urls", label))
    allowed = tuple(_url(u, "allowed", label) for u in _strings(table, "allowed", label))
    if not start_urls or not allowed:
        raise SourceConfigError(f"{label}: start_urls and allowed must not be empty")
    for url in start_urls:
        if not any(_same_prefix(url, prefix) for prefix in allowed):
            raise SourceConfigError(f"{label}: start URL {url} is not under any allowed prefix")
    sitemap = table.get("sitemap")
    mirror = table.get("mirror")
    if sitemap is not None:
        sitemap = _url(_string(table, "sitemap", label), "sitemap", label)
    if mirror is not None:
        mirror = _string(table, "mirror", label)
        if "/" in mirror or "\\" in mirror or mirror.startswith("."):
            raise SourceConfigError(f"{label}: mirror must be a folder name, got {mirror!r}")
    return Source(
        name=name,
        title=_string(table, "title", label),
        region=region,
        kind=kind,
        start_urls=start_urls,
        allowed=allowed,
        exclude=_patterns(table, "exclude", label),
        include=_patterns(table, "include", label),
        sitemap=sitemap,
        mirror=mirror,
        max_depth=_count(table, "max_depth", label),
        max_pages=_count(table, "max_pages", label),
    )


def _same_prefix(url: str, prefix: str) -> bool:
    # Scheme-insensitive, like the crawler's scope check (sites mix http and https links).
    return url.split("://", 1)[-1].startswith(prefix.split("://", 1)[-1])


def _string(table: Mapping[str, Any], key: str, label: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise SourceConfigError(f"{label}: {key} must be a non-empty string")
    return value.strip()


def _strings(table: Mapping[str, Any], key: str, label: str) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SourceConfigError(f"{label}: {key} must be a list of non-empty strings")
    return [v.strip() for v in value]


def _url(value: str, key: str, label: str) -> str:
    _require_http(value, f"{label}: {key}:")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError(f"{label}: {key}: {value!r} is not an http(s) URL")
    return normalize_url(value)


def _patterns(table: Mapping[str, Any], key: str, label: str) -> tuple[re.Pattern[str], ...]:
    patterns = []
    for raw in _strings(table, key, label):
        try:
            patterns.append(re.compile(raw))
        except re.error as exc:
            raise SourceConfigError(f"{label}: {key}: bad regex {raw!r} ({exc})") from exc
    return tuple(patterns)


def _count(table: Mapping[str, Any], key: str, label: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SourceConfigError(f"{label}: {key} must be a non-negative integer")
    return value


def _enum(enum: type[_E], table: Mapping[str, Any], key: str, label: str) -> _E:
    value = table[key]
    try:
        return enum(value)
    except ValueError as exc:
        raise SourceConfigError(f"{label}: {key} {value!r} is not one of {_choices(enum)}") from exc


def _choices(enum: type[StrEnum]) -> str:
    return "|".join(member.value for member in enum)

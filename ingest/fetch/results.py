"""What a fetch gives back: `FetchResult` and its parts (shared by `fetch` and `exchange`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from samsok.ingest.documents import HTML_TYPES
from samsok.ingest.errors import FetchError

__all__ = ["FetchResult", "HopCheck", "Outcome", "Redirect", "Transient", "Validators"]


class Outcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def present(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Redirect:
    """One hop of a redirect chain: the URL asked, the status it answered and the `Location`
    it gave (as sent; the client resolves it against `url`)."""

    url: str
    status: int
    location: str


@dataclass(frozen=True)
class FetchResult:
    """What happened to one URL. `outcome` is ok | not_modified | skipped | failed."""

    outcome: Outcome
    url: str
    final_url: str
    status_code: int | None = None
    reason: str = ""
    detail: str = ""
    body: bytes = b""
    media_type: str | None = None
    charset: str | None = None
    validators: Validators = Validators()
    redirects: tuple[Redirect, ...] = ()
    attempts: int = 0
    bytes_read: int = 0
    elapsed: float = 0.0

    @property
    def content_type(self) -> str | None:
        """The (sniffed) media type with the HTTP charset, as extraction wants it."""
        if self.media_type and self.charset and self.media_type in HTML_TYPES:
            return f"{self.media_type}; charset={self.charset}"
        return self.media_type


#: Called for every redirect target: (reason, detail) to stop there, None to follow.
HopCheck = Callable[[str], tuple[str, str] | None]


class Transient(FetchError):
    """A failure worth retrying; `retry_after` is the server's wish in seconds, if any."""

    def __init__(
        self,
        url: str,
        reason: str,
        detail: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(url, reason, detail)
        self.status = status
        self.retry_after = retry_after

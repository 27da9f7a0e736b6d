"""`samsok` with the hashing embedder instead of the model, for tests that run the CLI as a
real process (to see exactly what reaches the terminal): `python -m tests.fake_cli ARGS…`."""

from __future__ import annotations

import functools

from samsok.api import cli, services

from tests.fakes import HashingEmbedder

if __name__ == "__main__":
    cli.Services = functools.partial(services.Services, embedder=HashingEmbedder())  # type: ignore[misc]
    cli.main()

"""`samsok` with the hashing embedder instead of the model, for tests that run the CLI as a
real process (to see exactly what reaches the terminal): `python -m tests.fake_cli ARGS…`."""

from __future__ import annotations

from samsok.api import cli

from tests.fakes import HashingEmbedder

if __name__ == "__main__":
    cli.main(embedder_factory=lambda settings: HashingEmbedder())

"""`python -m tests.concurrency.fakecli …`: the real `samsok` CLI (same `main()`, same signal
handling, same lock) with the model-free `HashingEmbedder`, for tests that run it as an operator
would — in subprocesses, with real signals — without 20 s of model loading per process.

Test hooks (environment):
- `SAMSOK_TEST_EMBED_DELAY`: seconds slept per embedded batch, to make a writer slow enough to be
  interrupted in the middle.
- `SAMSOK_TEST_RUN_AS`: `uid:gid` to drop to before the command runs (the truly read-only case:
  tests run as root, for whom `chmod a-w` changes nothing). Everything the command imports is
  imported first, since the interpreter itself may then be unreadable.
"""

from __future__ import annotations

import faulthandler
import inspect
import os
import pkgutil
import signal
import time
from collections.abc import Sequence

import numpy as np
from samsok.api import cli, services

from tests.fakes import HashingEmbedder

DIM = 256  # wide enough that a made-up word's trigrams find their page in dense search
MODEL_ID = "test:hashing-256"
#: Packages whose every module a reader command may import after `SAMSOK_TEST_RUN_AS` drops
#: root (the model's runtimes are not among them: readers here embed with the fake).
READER_PACKAGES = (
    "samsok.api",
    "samsok.ingest.crawl",
    "samsok.search.index",
    "samsok.search.store",
    "samsok.search.text",
)


def fake_embedder() -> HashingEmbedder:
    """What the fake CLI embeds with; in-process writers in the same tests must use it too."""
    return HashingEmbedder(dim=DIM, model_id=MODEL_ID)


class SlowHashingEmbedder(HashingEmbedder):
    def __init__(self, delay: float) -> None:
        super().__init__(dim=DIM, model_id=MODEL_ID)
        self.delay = delay

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        time.sleep(self.delay)
        return super().embed_documents(texts, show_progress=show_progress)


def factory(settings: object) -> HashingEmbedder:
    """The embedder factory injected into the CLI (module level: `serve`'s worker processes
    import it by name)."""
    delay = float(os.environ.get("SAMSOK_TEST_EMBED_DELAY", "0") or 0)
    return SlowHashingEmbedder(delay) if delay else fake_embedder()


def main() -> None:
    faulthandler.register(signal.SIGUSR1)  # a hung test process can be asked for its stacks
    # An older checkout (SAMSOK_TEST_CLI_PYTHONPATH, see helpers.cli_env) has no factory to
    # inject: it makes its model in `services.make_embedder` or in `open_index` (through
    # `services.Embedder`), so patch those there, and the same tests show the old behaviour.
    injectable = "embedder_factory" in inspect.signature(cli.main).parameters
    if not injectable:
        services.make_embedder = factory  # type: ignore[assignment]
        services.Embedder = factory  # type: ignore[attr-defined, misc]
    run_as = os.environ.get("SAMSOK_TEST_RUN_AS")
    if run_as:
        # What `search`, `similar` and `status` import lazily (the CLI loads each command's
        # modules when it runs), loaded while still readable.
        import encodings.idna  # noqa: F401
        import importlib.readers

        for package in READER_PACKAGES:
            for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
                importlib.import_module(f"{package}.{module.name}")

        uid, gid = (int(part) for part in run_as.split(":"))
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if injectable:
        cli.main(embedder_factory=factory)
    else:
        cli.main()


if __name__ == "__main__":
    main()

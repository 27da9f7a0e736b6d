"""Package doors whose public names load on first use (PEP 562).

A package's `__init__` maps each public name to the module that defines it and hands the map
to `lazy_exports`; importing the package then imports none of its modules, and the first
`from package import Name` imports only `Name`'s module. That keeps the heavy libraries (FAISS,
the model's runtimes, the crawler's HTTP stack) out of everything that only needs a config
class or a constant, such as the CLI's start-up. It lives in `ingest`, the bottom of the
one-way flow, so every layer can use it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` for `package`, whose public names are the keys
    of `homes` and each is defined in the sub-module its value names."""
    module = sys.modules[package]

    def load(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(module, name, value)  # once: later lookups are plain attribute reads
        return value

    def names() -> list[str]:
        return sorted({*vars(module), *homes})

    return load, names

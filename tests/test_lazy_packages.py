"""The packages whose public names load on first use (a PEP 562 `__getattr__` over `_HOMES`):
each name is the object its home module defines, whatever was imported before, and importing
the package alone imports none of its modules (what keeps the CLI's start-up light)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

from tests.test_architecture import CLOSED


def lazy_packages() -> list[str]:
    return sorted(p for p in CLOSED if hasattr(importlib.import_module(p), "_HOMES"))


LAZY = lazy_packages()


def test_the_light_doors_are_lazy() -> None:
    assert {
        "samsok.search.index",
        "samsok.search.embedding",
        "samsok.search.store",
        "samsok.search.text",
        "samsok.search.evaluation",
        "samsok.ingest.crawl",
    } <= set(LAZY)


def _home(package: ModuleType, name: str) -> object:
    home = package._HOMES[name]
    module, attribute = home if isinstance(home, tuple) else (home, name)
    return getattr(importlib.import_module(f"{package.__name__}.{module}"), attribute)


@pytest.mark.parametrize("name", LAZY)
def test_every_public_name_is_its_home_s_object(name: str) -> None:
    package = importlib.import_module(name)
    assert set(package._HOMES) == set(package.__all__)
    # Importing a module binds it on its package: a public name equal to a module's name
    # would then be the module, not the function (so none may be).
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert not modules & set(package.__all__)
    for module in sorted(modules):
        importlib.import_module(f"{name}.{module}")
    wrong = [n for n in package.__all__ if getattr(package, n) is not _home(package, n)]
    assert wrong == []
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        package.nothing_here  # noqa: B018


def test_importing_a_lazy_package_imports_none_of_its_modules() -> None:
    code = (
        "import importlib, json, sys\n"
        f"packages = {LAZY!r}\n"
        "for p in packages: importlib.import_module(p)\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if any(m.startswith(p + '.') for p in packages))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == []

"""The bundled corpus: the source list (`sources.toml`) and the offline mirror (`mirror/<host>/`).

Installed as package data of `samsok.corpus`, so a wheel installed anywhere finds both without a
checkout; `SAMSOK_SOURCES_FILE` and `SAMSOK_MIRROR_DIR` point elsewhere.
"""

from pathlib import Path

__all__ = ["CORPUS_DIR", "MIRROR_DIR", "SOURCES_FILE"]

CORPUS_DIR = Path(__file__).resolve().parent
SOURCES_FILE = CORPUS_DIR / "sources.toml"
MIRROR_DIR = CORPUS_DIR / "mirror"

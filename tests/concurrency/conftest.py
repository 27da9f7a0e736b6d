"""Fixtures for the concurrency tests: a data folder indexed from small local pages."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.documents import Region

from tests.concurrency.fakecli import fake_embedder
from tests.concurrency.helpers import write_pages

TOPICS = [
    "velferdsteknologi og trygghetsalarmer i hjemmetjenesten",
    "kommunale akutte døgnplasser ved Orkdal sjukehus",
    "jordmortjenesten i Værnesregionen følger opp gravide",
    "kvardagsrehabilitering i Surnadal gir eldre mestring",
    "folkehelsekoordinatorene samarbeider i nettverk",
]


def unique_word(rng: random.Random) -> str:
    """A made-up word whose letter trigrams no other page shares (for the hashing embedder)."""
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(12))


def make_pages(folder: Path, count: int, seed: int) -> dict[str, str]:
    """`count` pages in `folder`; returns page name -> its unique word."""
    rng = random.Random(seed)
    words: dict[str, str] = {}
    pages: dict[str, tuple[str, str]] = {}
    for i in range(count):
        name = f"side-{seed}-{i}"
        word = unique_word(rng)
        words[name] = word
        topic = TOPICS[i % len(TOPICS)]
        pages[name] = (
            f"{topic.capitalize()} ({seed}-{i})",
            f"Denne siden handler om {topic}. Kjennetegnet {word} står bare her.\n\n"
            f"Kommunene i regionen deler erfaringer om {topic} og om samhandling med "
            f"spesialisthelsetjenesten; side {i} i serie {seed}.",
        )
    write_pages(folder, pages)
    return words


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A data folder with 15 pages indexed by a writer; returns (data dir, name -> word)."""
    data = tmp_path / "data"
    words = make_pages(tmp_path / "first", 15, seed=1)
    services = Services(Settings(data_dir=data), embedder=fake_embedder())
    try:
        services.ingest_paths([tmp_path / "first"], Region.ORKDAL, "local", None)
    finally:
        services.close()
    return data, words

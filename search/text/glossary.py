"""Health-care vocabulary for the lexical run: glossary groups, mined abbreviations, Nynorsk.

Three sources of alternative wordings, all applied at query time by `QueryExpander`:

1. The built-in glossary (`glossary_no.toml`, package data; see docs/retrieval.md): groups of
   forms that name the same thing ("KAD" = "kommunale akutte døgnplasser" = "ØHD" …). A query
   containing any form (matched on stems, so inflections count) also searches every other
   form of its group: a one-word form as a term, a multi-word form as its words close together.
2. Pairs mined from the indexed text at index time by `mine_abbreviations`: "distriktsmedisinsk
   senter (DMS)" teaches DMS ↔ distriktsmedisinsk senter for abbreviations the glossary lacks.
3. Nynorsk ↔ Bokmål: a word table in the glossary (`[variants]`: kva/hva, heime/hjemme …) and
   spelling rules (`variants`: -ane/-ene, -ar/-er, sjuk/syk, heim/hjem, teneste/tjeneste), each
   added as an alternative of the query word itself, so "kommunane" also matches "kommunene".

Suspended compounds ("helse- og omsorgstjenester" = helsetjenester og omsorgstjenester) are
completed by `suspended_compounds` on both the index and the query side.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from samsok.search.errors import GlossaryError

__all__ = [
    "Glossary",
    "GlossaryGroup",
    "default_glossary",
    "load_glossary",
    "mine_abbreviations",
    "suspended_compounds",
    "variants",
]

_BUILTIN = "glossary_no.toml"


@dataclass(frozen=True)
class GlossaryGroup:
    forms: tuple[str, ...]
    note: str = ""
    # Mined from the corpus, not written by hand: its abbreviation may be an ordinary word
    # ("BIL", Bilimportørenes Landsforening), so it matches whole query words only.
    mined: bool = False


@dataclass(frozen=True)
class Glossary:
    groups: tuple[GlossaryGroup, ...]
    word_variants: dict[str, str] = field(default_factory=dict)  # Nynorsk → Bokmål

    def with_pairs(self, pairs: Iterable[tuple[str, str]]) -> Glossary:
        """This glossary plus mined (abbreviation, long form) pairs, each a group of two."""
        extra = tuple(
            GlossaryGroup((abbr, long), "mined from the corpus", mined=True) for abbr, long in pairs
        )
        return Glossary(self.groups + extra, self.word_variants)


def load_glossary(path: Path | None = None) -> Glossary:
    """Parse a glossary TOML file (the built-in one when `path` is None)."""
    try:
        if path is None:
            text = resources.files("samsok.search.text").joinpath(_BUILTIN).read_text("utf-8")
            where = _BUILTIN
        else:
            text = path.read_text("utf-8")
            where = str(path)
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise GlossaryError(f"cannot read glossary {path or _BUILTIN}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise GlossaryError(f"glossary {path or _BUILTIN} is not valid TOML: {exc}") from exc
    groups = []
    for i, raw in enumerate(data.get("group", []), start=1):
        forms = raw.get("forms") if isinstance(raw, dict) else None
        if (
            not isinstance(forms, list)
            or len(forms) < 2
            or not all(isinstance(f, str) and f.strip() for f in forms)
        ):
            raise GlossaryError(
                f"{where}: group {i} needs `forms`, a list of at least two non-empty strings"
            )
        groups.append(GlossaryGroup(tuple(f.strip() for f in forms), str(raw.get("note", ""))))
    table = data.get("variants", {})
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise GlossaryError(f"{where}: [variants] must map words to words")
    return Glossary(tuple(groups), {k.casefold(): v.casefold() for k, v in table.items()})


@cache
def default_glossary() -> Glossary:
    return load_glossary(None)


# -- Nynorsk / Bokmål spelling rules ------------------------------------------------------------

# (Nynorsk, Bokmål) substrings inside a word, tried both ways.
_INFIXES = (("sjuke", "syke"), ("heime", "hjemme"), ("heim", "hjem"), ("tenest", "tjenest"))
# (Nynorsk, Bokmål) word endings, tried both ways; longest first.
_SUFFIXES = (
    ("arar", "ere"),
    ("ingar", "inger"),
    ("ande", "ende"),
    ("ane", "ene"),
    ("inga", "ingen"),
    ("leg", "lig"),
    ("ar", "er"),
)
_MIN_STEM = 3  # letters that must remain before a replaced ending


def variants(word: str, table: dict[str, str] | None = None) -> list[str]:
    """Other spellings of one folded word in the other written standard (may be empty).

    Rules are cheap guesses; a wrong guess only adds a term that matches nothing or little,
    because the stemmer folds most endings anyway.
    """
    out: list[str] = []
    table = table or {}
    reverse = {v: k for k, v in table.items()}
    for mapping in (table, reverse):
        if word in mapping:
            out.append(mapping[word])
    for forward in (True, False):
        # Every infix rule of one direction together: "sjukeheim" → "sykehjem".
        spelled = word
        for nn, nb in _INFIXES:
            a, b = (nn, nb) if forward else (nb, nn)
            if a in spelled:
                spelled = spelled.replace(a, b)
        for base in dict.fromkeys((word, spelled)):
            if base != word:
                out.append(base)
            for nn, nb in _SUFFIXES:
                a, b = (nn, nb) if forward else (nb, nn)
                if base.endswith(a) and len(base) - len(a) >= _MIN_STEM:
                    out.append(base[: -len(a)] + b)
                    break
    return [w for w in dict.fromkeys(out) if w != word]


# -- suspended compounds --------------------------------------------------------------------------

# "helse- og omsorgstjenester", "pleie-, rehabiliterings- og omsorgstjenester"
_SUSPENDED = re.compile(
    r"((?:\b\w+-\s*,\s*)*\b\w+-)\s+(og|eller|samt|and|or)\s+(\w+)", re.IGNORECASE
)
_LEFT = re.compile(r"(\w+)-")

Splitter = Callable[[str], Sequence[str]]


def suspended_compounds(text: str, split: Splitter) -> list[str]:
    """The words suspended compounds in `text` leave out, written in full.

    "helse- og omsorgstjenester" → ["helsetjenester"]; "pleie-, rehabiliterings- og
    omsorgstjenester" → ["pleietjenester", "rehabiliteringstjenester"]. The shared head is the
    last compound part of the final word, as `split` (the corpus-trained decompounder) gives
    it; a final word it does not split gives nothing (guessing would glue arbitrary letters).
    """
    out: list[str] = []
    for match in _SUSPENDED.finditer(text):
        parts = split(match.group(3).casefold())
        if len(parts) < 2:
            continue
        head = parts[-1]  # parts are substrings of the word: the last one is its ending
        for left in _LEFT.findall(match.group(1)):
            out.append(left.casefold() + head)
    return out


# -- mining "long form (ABBR)" ----------------------------------------------------------------

_PAREN_ABBR = re.compile(r"((?:[\w-]+\s+){1,6})\(([A-ZÆØÅ][A-Za-zÆØÅæøå]{1,7})\)")
_MAX_LONG_WORDS = 6


def mine_abbreviations(texts: Iterable[str]) -> list[tuple[str, str]]:
    """(abbreviation, long form) pairs written as "long form (ABBR)" in `texts`.

    The long form is the shortest run of words just before the parenthesis that starts with
    the abbreviation's first letter and contains all its letters in order ("distriktsmedisinsk
    senter (DMS)", "Samhandlingsreformen i Orkdalsregionen (SiO)"). Abbreviations need at
    least two capitals; a pair is kept once, the first long form seen wins.
    """
    found: dict[str, tuple[str, str]] = {}
    for text in texts:
        for match in _PAREN_ABBR.finditer(text):
            abbr = match.group(2)
            if sum(c.isupper() for c in abbr) < 2 or abbr.casefold() in found:
                continue
            words = match.group(1).split()
            long = _long_form(words[-_MAX_LONG_WORDS:], abbr.casefold())
            if long:
                found[abbr.casefold()] = (abbr, long)
    return list(found.values())


def _long_form(words: Sequence[str], abbr: str) -> str | None:
    for start in range(len(words) - 1, -1, -1):
        candidate = words[start:]
        if candidate[0][:1].casefold() != abbr[0]:
            continue
        if _subsequence(abbr, " ".join(candidate).casefold()) and len("".join(candidate)) > len(
            abbr
        ):
            return " ".join(candidate)
    return None


def _subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)

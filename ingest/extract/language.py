"""Language of a text: ISO 639-1 codes, with Norwegian split into Bokmål and Nynorsk.

py3langid knows `no` (which is mostly Bokmål) and `nn`, and confuses both with Danish on
short texts. We take its ranking over the first few thousand characters, treat `no`/`nn`
(and `da` when Norwegian is close behind) as Norwegian, and then decide Bokmål vs Nynorsk
by a handful of high-frequency function words that differ between the two written
standards (ikke/ikkje, jeg/eg, hva/kva, fra/frå, …) when there are enough of them,
otherwise by the model's own nn-vs-no odds.
"""

from __future__ import annotations

import math
import re

import py3langid

__all__ = ["detect_language"]

_SAMPLE_CHARS = 2500
_WORD = re.compile(r"[a-zæøåéèêóòâô]+")
# Words frequent in one written standard and absent (or rare) in the other.
_NYNORSK = frozenset(
    {
        "ikkje",
        "eg",
        "kva",
        "korleis",
        "kvifor",
        "kvar",
        "kven",
        "frå",
        "berre",
        "mykje",
        "noko",
        "nokon",
        "dei",
        "vere",
        "vore",
        "meir",
        "korkje",
        "sjølv",
        "heile",
        "òg",
        "ein",
        "eit",
        "eigen",
        "eige",
        "fekk",
        "gjekk",
        "ho",
        "hjå",
    }
)
_BOKMAL = frozenset(
    {
        "ikke",
        "jeg",
        "hva",
        "hvordan",
        "hvorfor",
        "hvor",
        "hvem",
        "fra",
        "bare",
        "mye",
        "noe",
        "noen",
        "de",
        "være",
        "vært",
        "mer",
        "verken",
        "selv",
        "hele",
        "også",
        "en",
        "et",
        "egen",
        "fikk",
        "gikk",
        "hun",
        "hos",
    }
)
_NORWEGIAN_MODEL_CODES = ("no", "nn")


#: Languages py3langid ranks that are normalised into probabilities (by hand: the rest
#: carry no weight next to the top ones).
_RANKED_LANGUAGES = 8
#: Bokmål/Nynorsk marker words needed before they decide over the model (by hand: one or
#: two markers occur in quotes and names).
_MIN_MARKER_WORDS = 4
#: Fewer words than this: no language is guessed.
_MIN_WORDS = 3
#: Danish with this much Norwegian probability is Norwegian (the model mixes them on short
#: Bokmål texts; by hand).
_DANISH_AS_NORWEGIAN = 0.25


def _probabilities(text: str) -> dict[str, float]:
    ranked = py3langid.rank(text)
    top = ranked[0][1]
    weights = {code: math.exp(score - top) for code, score in ranked[:_RANKED_LANGUAGES]}
    total = sum(weights.values())
    return {code: weight / total for code, weight in weights.items()}


def _bokmal_or_nynorsk(text: str, p_no: float, p_nn: float) -> str:
    words = _WORD.findall(text.lower())
    nn_hits = sum(word in _NYNORSK for word in words)
    nb_hits = sum(word in _BOKMAL for word in words)
    if nn_hits + nb_hits >= _MIN_MARKER_WORDS:
        return "nn" if nn_hits > nb_hits else "nb"
    return "nn" if p_nn > p_no else "nb"


def detect_language(text: str, min_chars: int = 40) -> str | None:
    """`nb`, `nn`, `en`, … for `text`; None when there is too little text to tell."""
    sample = text[:_SAMPLE_CHARS]
    if len(_WORD.findall(sample.lower())) < _MIN_WORDS or len(sample.strip()) < min_chars:
        return None
    probabilities = _probabilities(sample)
    best = max(probabilities, key=probabilities.__getitem__)
    p_no = probabilities.get("no", 0.0)
    p_nn = probabilities.get("nn", 0.0)
    norwegian = best in _NORWEGIAN_MODEL_CODES or (
        best == "da" and p_no + p_nn > _DANISH_AS_NORWEGIAN
    )
    if norwegian:
        return _bokmal_or_nynorsk(sample, p_no, p_nn)
    return best

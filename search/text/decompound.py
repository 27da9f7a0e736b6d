"""Corpus-driven compound splitting for Norwegian ("jordmortjeneste" → "jordmor" + "tjeneste").

Norwegian writes compounds as one word, so a document about "legevaktsamarbeid" never matches
the query "legevakt" on whole words alone. The `Decompounder` learns which words exist from the
corpus itself (no dictionary to maintain) and splits a word into known words:

- every part is a word seen on its own at least ``min_count`` times, at least ``min_part_len``
  characters long and not a stop word ("for|valtning", "til|syn" are not compounds);
- a non-final part may be followed by a linking morpheme, "s" or "e"
  ("samhandling|s|reformen", "barn|e|hage"); the final part keeps its inflection
  ("tjenesten"), which the stemmer deals with afterwards;
- the last part must reach ``min_part_len`` characters into the word's Snowball stem, so an
  inflection that happens to be a word is no part ("lag|ene", "usikker|heter");
- the split with the fewest parts wins, and among those the one with the highest product of
  part frequencies (dynamic programming over positions, one part count at a time). Fewest
  parts first because frequent short words otherwise take over ("jord|mor|tjeneste");
- frequencies are per lemma (Snowball stem, summed over inflections), and a split is used only
  when *every* part is more frequent than the whole word. So a common word ("sykehus",
  "samarbeid", "ordfører") stays whole while a rare or unknown compound is split. (Koehn &
  Knight's geometric mean scored the same on NorQuAD but let one very common part carry a
  rare one, as in "sam|arbeid" through the name "Sam".)
- names are not split: `fit` notes words the corpus nearly always capitalises ("Sveinung" is
  no "svein|ung", "Melhus" no "mel|hus"); they may still be parts ("trondheim|s|regionen").

Words are folded pieces (see `samsok.search.text.normalize`). The vocabulary and the config
serialise to JSON for the index directory; splits at query time must equal the splits at index
time, so a loaded decompounder uses the config it was saved with.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import Stemmer
from samsok.search.text.normalize import Normalizer
from samsok.search.text.stopwords_no import NORWEGIAN_STOPWORDS

__all__ = ["Decompounder", "DecompounderConfig"]

_FORMAT = "samsok-decompounder"
_VERSION = 1


@dataclass(frozen=True)
class DecompounderConfig:
    min_part_len: int = 3  # keeps "kad", "lov", "lege"; 3, 4, 5 tie on NorQuAD
    min_count: int = 2  # a part seen once may be a typo or a name
    min_word_len: int = 6  # shorter words are never split
    max_word_len: int = 40  # longer runs are codes, URLs or hashes, not words
    max_parts: int = 4
    name_share: float = 0.9  # capitalised at least this often → a name, never split (fit)
    linking: tuple[str, ...] = ("s", "e")
    cache_size: int = 65536

    def __post_init__(self) -> None:
        if self.min_part_len < 1 or self.min_count < 1 or self.max_parts < 2:
            raise ValueError(f"invalid decompounder config: {self}")
        if not 0 < self.name_share <= 1:
            raise ValueError(f"invalid decompounder config: {self}")
        if any(len(link) != 1 or not link.isalpha() for link in self.linking):
            raise ValueError(f"linking morphemes must be single letters: {self.linking!r}")


class Decompounder:
    """Splits folded words into known, more frequent parts. Immutable once built."""

    def __init__(
        self,
        counts: Mapping[str, int],
        config: DecompounderConfig | None = None,
        names: Iterable[str] = (),
    ) -> None:
        self.config = config or DecompounderConfig()
        cfg = self.config
        self._names = frozenset(names)
        # Only alphabetic words of a possible part length matter; rare ones are kept because
        # they still add to the frequency of their lemma.
        self._counts: dict[str, int] = {
            word: int(count)
            for word, count in counts.items()
            if count > 0 and len(word) >= cfg.min_part_len and word.isalpha()
        }
        self._stemmer = Stemmer.Stemmer("norwegian")
        self._lock = threading.Lock()
        # Frequencies are per lemma (Snowball stem), summed over inflections: "ordfører",
        # "ordføreren" and "ordførere" are one word when weighing "ord|fører" against it.
        words = list(self._counts)
        stems = self._stemmer.stemWords(words)
        self._stem_of = dict(zip(words, stems, strict=True))
        lemma: Counter[str] = Counter()
        for word, stem in self._stem_of.items():
            # Stop words would swamp a lemma they collide with ("fører" → "før").
            if word not in NORWEGIAN_STOPWORDS:
                lemma[stem] += self._counts[word]
        self._lemma = dict(lemma)
        # log frequency of every word that may be a part
        self._part_log: dict[str, float] = {
            word: math.log(lemma[self._stem_of[word]])
            for word, count in self._counts.items()
            if count >= cfg.min_count and word not in NORWEGIAN_STOPWORDS
        }
        self._split = lru_cache(maxsize=cfg.cache_size)(self._split_uncached)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def fit(cls, texts: Iterable[str], config: DecompounderConfig | None = None) -> Decompounder:
        """Learn the vocabulary from raw texts (folded the same way the analyzer folds).

        Words written with a capital nearly every time (``name_share``) are taken for names
        and never split: "Sveinung" is no "svein|ung", "Melhus" no "mel|hus". They may still
        be parts ("trondheim|s|regionen").
        """
        cfg = config or DecompounderConfig()
        normalizer = Normalizer()
        counts: Counter[str] = Counter()
        capitalised: Counter[str] = Counter()
        for text in texts:
            for token in normalizer.tokens(text):
                counts.update(token.pieces)
                if len(token.pieces) == 1 and text[token.start].isupper():
                    capitalised[token.pieces[0]] += 1
        names = {w for w, c in capitalised.items() if c >= cfg.name_share * counts[w]}
        return cls(counts, cfg, names)

    @property
    def names(self) -> frozenset[str]:
        """Words never split because the corpus writes them as names."""
        return self._names

    @property
    def counts(self) -> Mapping[str, int]:
        """The pruned vocabulary (word → frequency); merge with new counts to refit."""
        return dict(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    # -- serialisation (JSON, never pickle) -------------------------------------------------

    def to_json(self) -> str:
        payload = {
            "format": _FORMAT,
            "version": _VERSION,
            "config": {**asdict(self.config), "linking": list(self.config.linking)},
            "counts": dict(sorted(self._counts.items())),
            "names": sorted(self._names),
        }
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Decompounder:
        payload = json.loads(text)
        if payload.get("format") != _FORMAT or payload.get("version") != _VERSION:
            raise ValueError(
                f"not a {_FORMAT} v{_VERSION} file "
                f"(format={payload.get('format')!r}, version={payload.get('version')!r})"
            )
        raw = dict(payload["config"])
        raw["linking"] = tuple(raw.get("linking", ()))
        return cls(payload["counts"], DecompounderConfig(**raw), payload.get("names", ()))

    def save(self, path: Path) -> None:
        """Write atomically (temp file, then rename) so a crash never leaves half a file."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Decompounder:
        return cls.from_json(path.read_text(encoding="utf-8"))

    # -- splitting ----------------------------------------------------------------------------

    def split(self, word: str) -> tuple[str, ...]:
        """Parts of a folded word, linking morphemes dropped; () when it should stay whole."""
        return self._split(word)

    def _accept(self, parts: tuple[str, ...], stem: str) -> bool:
        # Split only if every part is a more frequent lemma than the whole word: the
        # geometric mean (Koehn & Knight) let one very common part carry a rare one
        # ("sam|arbeid" through the name "Sam").
        whole = self._lemma.get(stem, 0)
        floor = math.log(whole) if whole else -math.inf
        return all(self._part_log[part] > floor for part in parts)

    def _stem(self, word: str) -> str:
        stem = self._stem_of.get(word)
        if stem is None:
            with self._lock:  # PyStemmer: "must not be called concurrently"
                stem = self._stemmer.stemWord(word)
        return stem

    def _split_uncached(self, word: str) -> tuple[str, ...]:
        cfg = self.config
        n = len(word)
        if n < max(cfg.min_word_len, 2 * cfg.min_part_len) or n > cfg.max_word_len:
            return ()
        if not word.isalpha() or word in self._names:
            return ()
        stem = self._stem(word)
        # The last part must reach min_part_len into the stem: otherwise it is an
        # inflection that happens to be a word ("lag|ene", "usikker|heter", "junge|len").
        last_start_max = len(stem) - cfg.min_part_len
        # Known parts by start: (end, where the next part starts, log frequency); a non-final
        # part may be followed by a linking letter, which moves the next start one further.
        steps: list[list[tuple[int, int, float]]] = [[] for _ in range(n)]
        for j in range(n):
            for i in range(j + cfg.min_part_len, n + 1):
                log_freq = self._part_log.get(word[j:i])
                if log_freq is None:
                    continue
                if i == n:
                    if j <= last_start_max:
                        steps[j].append((i, i, log_freq))
                    continue
                steps[j].append((i, i, log_freq))
                if i < n - 1 and word[i] in cfg.linking:
                    steps[j].append((i, i + 1, log_freq))
        # best[i]: (sum of log frequencies, parts) of the best split of word[:i] into k parts,
        # one k at a time; the first k that reaches the end wins (fewest parts).
        best: dict[int, tuple[float, tuple[str, ...]]] = {0: (0.0, ())}
        for k in range(1, cfg.max_parts + 1):
            nxt: dict[int, tuple[float, tuple[str, ...]]] = {}
            for j, (score, parts) in best.items():
                if j >= n:
                    continue
                for end, resume, log_freq in steps[j]:
                    candidate = (score + log_freq, (*parts, word[j:end]))
                    if candidate[0] > nxt.get(resume, (-math.inf, ()))[0]:
                        nxt[resume] = candidate
            if k >= 2 and n in nxt:
                # Fewest parts wins ("jordmor|tjeneste", not "jord|mor|tjeneste").
                score, parts = nxt[n]
                return parts if self._accept(parts, stem) else ()
            best = {i: v for i, v in nxt.items() if i < n}
            if not best:
                return ()
        return ()

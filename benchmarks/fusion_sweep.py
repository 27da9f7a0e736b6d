"""Choose fusion method, weights and the relevance floor on the two *tuning* sets.

Reads NorQuAD validation and the paraphrase development set's tuning part
(`tests/data/devset_tuning.json`). With `--read-sets`, the locked sets that have been read
(the old third and fresh sets 1 and 2, see `READ_SETS`) join the tuning part, with their
off-topic queries and the held-out off-topic file: a set once read is tuning data, and only
a set never read can tell how a choice holds. Each set's folder is ingested once
(`benchmarks/retrieval.py --keep` for NorQuAD; `--dev-folder` holds NorQuAD passages plus the
crawled mirror, `--mirror-folder` the mirror alone for off-topic queries). Per query the dense
cosine of every chunk and the lexical run (with and without glossary expansion) are computed
once; every setting is then fused offline with `samsok.search.index.fusion`.

Selection: the setting whose *worse* nDCG@10 over the two sets is highest. Cross-validation:
queries of each set split into k folds; for each fold the setting is chosen on the other folds
and scored on it; the held-out mean and the spread over folds are printed.

    .venv/bin/python benchmarks/fusion_sweep.py --norquad-folder DIR --dev-folder DIR \\
        --mirror-folder DIR [--folds 5] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import pickle
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
from eval_data import (
    DEV_FRESH,
    DEV_FRESH2,
    DEV_LOCKED,
    DEV_TUNING,
    OFF_HELDOUT,
    add_sweep_options,
    load_norquad,
)
from samsok.api.settings import Settings
from samsok.ingest.chunk import chunk_document
from samsok.search.embedding import DEFAULT_MODEL, Embedder
from samsok.search.evaluation import (
    BeirDataset,
    judgements,
    load_devset,
    ndcg_at_k,
    recall_at_k,
)
from samsok.search.index import (
    CALIBRATED_FLOORS,
    IndexConfig,
    LexicalIndex,
    RelevanceFloor,
    SearchIndex,
    chunk_matches,
    fuse,
    query_evidence,
)
from samsok.search.store import Filters

DEPTH = 200  # candidates per run, as IndexConfig.candidates
CACHE_VERSION = 4  # bump when QueryData or what computes it (analyzer, floor signals) changes
# The locked sets read by now (docs/retrieval.md): `--read-sets` tunes on them too.
READ_SETS = (DEV_LOCKED, DEV_FRESH, DEV_FRESH2)


@dataclass
class QueryData:
    qid: str
    rel: dict[str, int]
    cos: np.ndarray  # cosine of every chunk (aligned with Corpus.ids)
    lex: list[tuple[int, float]]  # expanded lexical run
    lex_plain: list[tuple[int, float]]  # without expansion (before)
    share: dict[int, float]  # lexical chunk → share of query words it contains
    evidence: float  # share of the best lexical chunk
    dense: list[tuple[int, float]]  # the dense run: top DEPTH chunks
    # The relevance floor's lexical signals (`samsok.search.index.relevance`): IDF-weighted
    # share of the query's words the corpus has, and per lexical chunk the share it holds
    # and how many of the query's words.
    coverage: float = 0.0
    idf_share: dict[int, float] = field(default_factory=dict)
    idf_words: dict[int, int] = field(default_factory=dict)


@dataclass
class Corpus:
    ids: np.ndarray
    doc_of: dict[int, str]
    pos: dict[int, int]


@dataclass(frozen=True)
class Setting:
    method: str  # zscore | minmax | rrf
    w: float  # dense weight
    gamma: float = 0.0  # query-dependent: w_q = w + gamma * (0.5 - evidence)
    expand: bool = True
    k: int = 60  # rrf


def open_folder(folder: Path, embedder: Embedder) -> SearchIndex:
    settings = Settings(data_dir=folder)  # type: ignore[call-arg]
    chunker = partial(
        chunk_document, config=settings.chunk_config(), count_tokens=embedder.count_tokens
    )
    return SearchIndex(folder, embedder, chunker)


def refit(index: SearchIndex) -> None:
    """Rewrite FTS terms with the current analyzer (suspended compounds, mined pairs) once:
    folders ingested before the glossary existed have no mined pairs yet."""
    if index.store.get_meta("mined_abbreviations") is None:
        index.refit_lexical()
        index.commit()


def judged_queries(index: SearchIndex, beir: BeirDataset) -> list[tuple[str, str, dict[str, int]]]:
    """(query id, text, {stored document id: grade}) of every query with a relevant passage."""
    corpus_of, qrels = judgements(index, beir)
    doc_id = {c: d for d, c in corpus_of.items()}
    return [
        (qid, beir.queries[qid], {doc_id[c]: r for c, r in rel.items() if c in doc_id})
        for qid, rel in qrels.items()
        if any(r > 0 for r in rel.values())
    ]


def collect(
    index: SearchIndex, embedder: Embedder, queries: Sequence[tuple[str, str, dict[str, int]]]
) -> tuple[Corpus, list[QueryData]]:
    """Runs of every query, cached beside the index (keyed by queries and store generation)."""
    key = hashlib.sha256(
        json.dumps([queries, index.store.generation, CACHE_VERSION], sort_keys=True).encode()
    ).hexdigest()[:16]
    cache = index.data_dir / f"sweep-{key}.pickle"
    if cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    result = _collect(index, embedder, queries)
    with cache.open("wb") as fh:
        pickle.dump(result, fh)
    return result


def _collect(
    index: SearchIndex, embedder: Embedder, queries: Sequence[tuple[str, str, dict[str, int]]]
) -> tuple[Corpus, list[QueryData]]:
    ids, vectors = index.store.chunk_vectors(embedder.model_id)
    doc_of = index.store.chunk_doc_ids(int(i) for i in ids)
    corpus = Corpus(ids, doc_of, {int(c): i for i, c in enumerate(ids)})
    qvecs = embedder.embed_queries([q for _, q, _ in queries])
    plain = LexicalIndex(index.lexical.config.__class__(expand=False))
    plain.analyzer = index.lexical.analyzer
    texts: dict[int, frozenset[str]] = {}
    out = []
    for (qid, text, rel), qv in zip(queries, qvecs, strict=True):
        cos = vectors @ qv
        lex = index.store.lexical_search(index.lexical.expand(text).match, Filters(), DEPTH)
        lex_plain = index.store.lexical_search(plain.expand(text).match, Filters(), DEPTH)
        terms = index.lexical.analyzer.query_terms(text)
        missing = [cid for cid, _ in lex if cid not in texts]
        for cid, row in index.store.chunks(missing).items():
            texts[cid] = frozenset(index.lexical.index_terms(row.text).split())
        share = {
            cid: sum(bool(t.keys & texts[cid]) for t in terms) / max(1, len(terms))
            for cid, _ in lex
        }
        evidence = share[lex[0][0]] if lex else 0.0
        order = np.argsort(-cos)[:DEPTH]
        dense = [(int(ids[i]), float(cos[i])) for i in order]
        signals = query_evidence(terms, index.store, index.lexical)
        matches = chunk_matches(signals, index.store, [cid for cid, _ in lex])
        out.append(
            QueryData(
                qid,
                rel,
                cos,
                lex,
                lex_plain,
                share,
                evidence,
                dense,
                signals.coverage,
                {cid: m.share for cid, m in matches.items()},
                {cid: m.words for cid, m in matches.items()},
            )
        )
    return corpus, out


def fused_docs(corpus: Corpus, q: QueryData, s: Setting | None, mode: str = "hybrid") -> list[str]:
    dense = q.dense
    lex = q.lex if (s is None or s.expand) else q.lex_plain
    if mode == "dense":
        run = dense
    elif mode == "lexical":
        run = lex
    else:
        assert s is not None
        w = min(1.0, max(0.0, s.w + s.gamma * (0.5 - q.evidence)))
        runs = [dense, lex] if lex else [dense]
        weights = [w, 1.0 - w] if lex else [1.0]
        run = fuse(s.method, runs, weights, k=s.k)
    seen: dict[str, None] = {}
    for cid, _ in run:
        seen.setdefault(corpus.doc_of[cid], None)
    return list(seen)


def scores(corpus: Corpus, qs: list[QueryData], s: Setting | None, mode: str = "hybrid") -> dict:
    nd, rc = {}, {}
    for q in qs:
        docs = fused_docs(corpus, q, s, mode)
        nd[q.qid] = ndcg_at_k(docs, q.rel, 10)
        rc[q.qid] = recall_at_k(docs, q.rel, 10)
    return {"ndcg": nd, "recall": rc}


def mean(values: dict[str, float], keep: set[str] | None = None) -> float:
    vals = [v for k, v in values.items() if keep is None or k in keep]
    return sum(vals) / len(vals) if vals else 0.0


def grid() -> list[Setting]:
    out = []
    for method, w, gamma, expand in product(
        ("zscore", "minmax"), (0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.3, 0.6), (True, False)
    ):
        out.append(Setting(method, w, gamma, expand))
    for k, expand in product((10, 60), (True, False)):
        out.append(Setting("rrf", 0.5, 0.0, expand, k))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_sweep_options(parser)
    parser.add_argument("--refit", action="store_true", help="rewrite FTS terms first")
    parser.add_argument("--json", type=Path, help="write all figures here")
    parser.add_argument(
        "--read-sets",
        action="store_true",
        help="tune on the read locked sets too (READ_SETS, their off-topic queries and the "
        "held-out off-topic file)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = Settings()  # type: ignore[call-arg]
    embedder = Embedder(settings.embed_config())

    beir = load_norquad(args.norquad)
    with open_folder(args.norquad_folder, embedder) as index:
        if args.refit:
            refit(index)
        n_corpus, n_data = collect(index, embedder, judged_queries(index, beir))

    dev = load_devset(DEV_TUNING)
    if args.read_sets:
        read = [load_devset(path) for path in (*READ_SETS, OFF_HELDOUT)]
        dev = replace(
            dev,
            queries=dev.queries + tuple(q for r in read for q in r.queries),
            off_topic=dev.off_topic + tuple(q for r in read for q in r.off_topic),
        )
    with open_folder(args.dev_folder, embedder) as index:
        if args.refit:
            refit(index)
        by_url = {}
        for row in index.store.documents_all():
            by_url[row.url] = row.duplicate_of or row.doc_id
        dq = []
        for q in dev.queries:
            rel = {by_url[u]: g for u, g in q.relevant.items() if u in by_url}
            if rel:
                dq.append((q.id, q.query, rel))
        d_corpus, d_data = collect(index, embedder, dq)
    tags = {q.id: set(q.tags) for q in dev.queries}

    with open_folder(args.mirror_folder, embedder) as index:
        if args.refit:
            refit(index)
        o_corpus, o_data = collect(index, embedder, [(q.id, q.query, {}) for q in dev.off_topic])
        # The dev queries against the mirror alone: for calibrating the floor's recall side.
        by_url = {r.url: r.duplicate_of or r.doc_id for r in index.store.documents_all()}
        m_q = [
            (q.id, q.query, {by_url[u]: g for u, g in q.relevant.items() if u in by_url})
            for q in dev.queries
        ]
        m_corpus, m_data = collect(index, embedder, m_q)

    report: dict[str, Any] = {"single": {}}
    for mode in ("dense", "lexical"):
        for name, c, d in (("norquad", n_corpus, n_data), ("dev", d_corpus, d_data)):
            sc = scores(c, d, Setting("zscore", 0.5), mode)
            report["single"][f"{name} {mode}"] = (mean(sc["ndcg"]), mean(sc["recall"]))
            sc = scores(c, d, Setting("zscore", 0.5, expand=False), mode)
            report["single"][f"{name} {mode} (no expansion)"] = (
                mean(sc["ndcg"]),
                mean(sc["recall"]),
            )
    table = []
    for s in grid():
        a = scores(n_corpus, n_data, s)
        b = scores(d_corpus, d_data, s)
        table.append((s, a, b))
    for name, value in report["single"].items():
        print(f"{name:<34} nDCG@10 {value[0]:.4f}  R@10 {value[1]:.4f}")
    rows = sorted(table, key=lambda r: -min(mean(r[1]["ndcg"]), mean(r[2]["ndcg"])))
    print(f"{'setting':<46} {'norquad':>8} {'dev':>8} {'dev abbr':>8} {'dev nn':>8}")
    abbr = {q for q in tags if "abbr" in tags[q]}
    nn = {q for q in tags if "nn" in tags[q]}
    for s, a, b in rows[:25] + [r for r in rows if r[0] in BASELINES]:
        print(
            f"{_name(s):<46} {mean(a['ndcg']):8.4f} {mean(b['ndcg']):8.4f} "
            f"{mean(b['ndcg'], abbr):8.4f} {mean(b['ndcg'], nn):8.4f}"
        )
    # cross-validation over query folds
    rng = np.random.default_rng(9)
    nf = [q.qid for q in n_data]
    df = [q.qid for q in d_data]
    n_fold = {q: i % args.folds for i, q in enumerate(rng.permutation(nf))}
    d_fold = {q: i % args.folds for i, q in enumerate(rng.permutation(df))}
    held = []
    for f in range(args.folds):
        n_train = {q for q, x in n_fold.items() if x != f}
        d_train = {q for q, x in d_fold.items() if x != f}
        best = max(
            table,
            key=lambda r: min(mean(r[1]["ndcg"], n_train), mean(r[2]["ndcg"], d_train)),
        )
        n_test = set(n_fold) - n_train
        d_test = set(d_fold) - d_train
        held.append((_name(best[0]), mean(best[1]["ndcg"], n_test), mean(best[2]["ndcg"], d_test)))
    print("cross-validation (chosen on k-1 folds, scored on the held-out fold):")
    for name, a, b in held:
        print(f"  {name:<46} norquad {a:.4f}  dev {b:.4f}")
    for label, idx in (("norquad", 1), ("dev", 2)):
        vals = [h[idx] for h in held]
        print(
            f"  {label}: mean {statistics.mean(vals):.4f}  sd {statistics.pstdev(vals):.4f}  "
            f"min {min(vals):.4f}  max {max(vals):.4f}"
        )
    chosen = rows[0][0]
    print("chosen:", _name(chosen))
    # The floor is calibrated for the product's fusion (IndexConfig's defaults).
    product = Setting(
        IndexConfig.fusion, IndexConfig.dense_weight, IndexConfig.evidence_gamma, True
    )
    floor = calibrate(
        product,
        [(n_corpus, n_data), (d_corpus, d_data), (m_corpus, m_data)],
        (o_corpus, o_data),
        {"calibrated (product)": CALIBRATED_FLOORS[DEFAULT_MODEL], "before": PREVIOUS_FLOOR},
    )
    print(
        f"floor for {_name(product)}: off-topic pass {floor.get('off_topic_pass')}, recall cost "
        f"(sum over sets) {floor.get('recall_loss_sum')}, off-topic results "
        f"{floor.get('off_topic_results')}; tied plateau:"
    )
    for p in floor.get("plateau", []):
        print("  ", p)
    for name, figures in floor["checked"].items():
        print(f"{name}: {figures} (recall lost on NorQuAD, dev, dev on the mirror alone)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "single": report["single"],
                    "grid": [
                        {**asdict(s), "norquad": mean(a["ndcg"]), "dev": mean(b["ndcg"])}
                        for s, a, b in table
                    ],
                    "cv": held,
                    "chosen": asdict(chosen),
                    "floor": floor,
                },
                indent=1,
            )
        )


BASELINES = (
    Setting("zscore", 0.5, 0.0, False),
    Setting("minmax", 0.5, 0.0, False),
    Setting("rrf", 0.5, 0.0, False, 60),
)


def _name(s: Setting) -> str:
    base = f"{s.method}" + (f" k={s.k}" if s.method == "rrf" else "")
    return f"{base} w={s.w} gamma={s.gamma} {'expanded' if s.expand else 'plain'}"


def doc_features(
    corpus: Corpus, q: QueryData
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per document: best cosine among the dense candidates (else among its lexical chunks,
    as `relevance.plausible` does), and the best IDF-weighted share of query words in a
    lexical chunk holding two or more of them, and in one holding just one."""
    cos: dict[str, float] = {}
    for cid, v in q.dense:
        d = corpus.doc_of[cid]
        cos[d] = max(cos.get(d, -2.0), v)
    several: dict[str, float] = {}
    one: dict[str, float] = {}
    lex_cos: dict[str, float] = {}
    for cid, _ in q.lex:
        d = corpus.doc_of[cid]
        words = q.idf_words.get(cid, 0)
        best = several if words >= 2 else one if words == 1 else None
        if best is not None:
            best[d] = max(best.get(d, 0.0), q.idf_share.get(cid, 0.0))
        lex_cos[d] = max(lex_cos.get(d, -2.0), float(q.cos[corpus.pos[cid]]))
    for d, v in lex_cos.items():
        cos.setdefault(d, v)
    return cos, several, one


def _arrays(
    docs: list[str], cos: dict[str, float], several: dict[str, float], one: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.array([cos.get(d, 0.0) for d in docs]),
        np.array([several.get(d, 0.0) for d in docs]),
        np.array([one.get(d, 0.0) for d in docs]),
    )


def _grid_point(floor: RelevanceFloor) -> tuple[float, ...]:
    """`floor`'s thresholds in `FLOOR_GRID` order (no one-word rule: `min_evidence`)."""
    one_word = floor.min_evidence if floor.one_word_evidence is None else floor.one_word_evidence
    return (*(getattr(floor, name) for name in list(FLOOR_GRID)[:-1]), one_word)


FLOOR_GRID = {
    "dense": (0.84, 0.85, 0.86, 0.87, 0.88, 0.90, 1.01),
    "dense_known": (0.76, 0.78, 0.80, 0.81, 0.82, 0.83, 0.84),
    "min_coverage": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "dense_lexical": (0.70, 0.74, 0.78),
    "min_evidence": (0.1, 0.2, 0.3, 0.4, 0.5),
    # 1.01: a chunk with one query word is never evidence; equal to min_evidence: no rule.
    "one_word_evidence": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.01),
}


# The floor before the one-word rule (issue 9, chosen on the first tuning sets only).
PREVIOUS_FLOOR = RelevanceFloor(
    dense=0.87, dense_known=0.82, min_coverage=0.6, dense_lexical=0.70, min_evidence=0.2
)


def calibrate(
    s: Setting,
    sets: list[tuple[Corpus, list[QueryData]]],
    off: tuple[Corpus, list[QueryData]],
    also: dict[str, RelevanceFloor] | None = None,
) -> dict[str, Any]:
    """The `RelevanceFloor` (search/index/relevance.py) with the most tuning off-topic queries
    at <= 3 results, among those costing recall@10 <= 0.005 on every set (against the same
    fusion without a floor). Ties: the smaller recall cost, then fewer off-topic results in
    all; the whole tied plateau is returned, so the choice within it can be stated. `also`:
    floors whose cost is reported beside it ("checked"), by name."""
    prepared = []
    for corpus, qs in sets:
        rows = []
        for q in qs:
            docs = fused_docs(corpus, q, s)
            c, e, e1 = _arrays(docs, *doc_features(corpus, q))
            rel = np.array([q.rel.get(d, 0) > 0 for d in docs], dtype=bool)
            rows.append((c, e, e1, q.coverage, rel, max(1, sum(g > 0 for g in q.rel.values()))))
        prepared.append(rows)
    off_rows = []
    for q in off[1]:
        docs = fused_docs(off[0], q, s)
        off_rows.append((*_arrays(docs, *doc_features(off[0], q)), q.coverage))

    def keep(
        c: np.ndarray, e: np.ndarray, e1: np.ndarray, cov: float, p: tuple[float, ...]
    ) -> np.ndarray:
        dense, known, min_cov, lo, m, m1 = p
        return (c >= (known if cov >= min_cov else dense)) | ((c >= lo) & ((e >= m) | (e1 >= m1)))

    def cost(p: tuple[float, ...]) -> tuple[list[float], list[int]]:
        """Recall@10 lost on each set, and each off-topic query's number of results."""
        losses = []
        for rows in prepared:
            lost = 0.0
            for c, e, e1, cov, rel, n in rows:
                lost += (rel[:10].sum() - rel[keep(c, e, e1, cov, p)][:10].sum()) / n
            losses.append(lost / max(1, len(rows)))
        return losses, [int(keep(c, e, e1, cov, p).sum()) for c, e, e1, cov in off_rows]

    def summary(losses: list[float], counts: list[int]) -> dict[str, Any]:
        return {
            "off_topic_pass": sum(n <= 3 for n in counts) / max(1, len(counts)),
            "recall_loss": [round(x, 6) for x in losses],
            "off_topic_results": sum(counts),
        }

    scored = []
    for p in product(*FLOOR_GRID.values()):
        if not (p[3] <= p[1] <= p[0]) or p[5] < p[4]:
            continue
        losses, counts = cost(p)
        if max(losses) > 0.005:
            continue
        passed = sum(n <= 3 for n in counts) / max(1, len(counts))
        scored.append(((passed, -round(sum(losses), 6), -sum(counts)), p, losses))
    checked = {name: summary(*cost(_grid_point(floor))) for name, floor in (also or {}).items()}
    if not scored:
        return {"checked": checked}
    best = max(key for key, _, _ in scored)
    plateau = [dict(zip(FLOOR_GRID, p, strict=True)) for key, p, _ in scored if key == best]
    return {
        "off_topic_pass": best[0],
        "recall_loss_sum": -best[1],
        "off_topic_results": -best[2],
        "plateau": plateau,
        "checked": checked,
    }


if __name__ == "__main__":
    main()

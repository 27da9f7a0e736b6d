"""Does glossary enrichment of the *dense* query text help? (issue 9; docs/retrieval.md)

Reuses `fusion_sweep.py`'s machinery on the same tuning sets (NorQuAD validation, the dev
set's tuning part; never the locked third): its cached lexical runs and raw-query cosines,
plus, per enrichment variant, the cosines of the enriched query text
(`samsok.search.index.dense_query`). A query the glossary does not touch keeps its raw run.

Variants: raw (today); abbreviations (their full forms beside them, at the end, or in their
place: the product's choice, `dense_text_for`); abbreviations + Bokmål
spellings of Nynorsk words (every word a rule applies to, or only in queries with a word the
glossary's Nynorsk table or a Nynorsk-only stem rule knows: "guarded"); and the mean of the raw
and the enriched query vectors. Each is fused at the product's setting and over a grid, scored
by the project's rule (worse of the two sets; 5-fold cross-validation; the relevance floor's
off-topic passes and recall@10).

Query vectors are cached in ``<folder>/densexp-v<N>-<key>.pickle``, apart from
`fusion_sweep.py`'s ``sweep-*.pickle``. Point it at copies of the persistent folders (opening
one as a writer takes its lock).

    nice -n 10 .venv/bin/python benchmarks/dense_glossary_sweep.py --norquad-folder N \\
        --dev-folder D --mirror-folder M [--real-path] [--json F]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import pickle
import re
import statistics
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from eval_data import DEV_TUNING, add_sweep_options, load_norquad
from fusion_sweep import (
    DEPTH,
    Corpus,
    QueryData,
    Setting,
    collect,
    doc_features,
    fused_docs,
    judged_queries,
    mean,
    open_folder,
    scores,
)
from samsok.api.settings import Settings
from samsok.ingest.chunk import chunk_document
from samsok.search.embedding import DEFAULT_MODEL, Embedder
from samsok.search.evaluation import load_devset, ndcg_at_k, recall_at_k
from samsok.search.index import (
    CALIBRATED_FLOORS,
    IndexConfig,
    SearchIndex,
    abbreviations,
    dense_text_for,
)
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.text import Normalizer
from samsok.search.text.glossary import _INFIXES, _MIN_STEM, _SUFFIXES

CACHE_VERSION = 3  # bump when the enrichment texts or this cache's layout change
PRODUCT = Setting(IndexConfig.fusion, IndexConfig.dense_weight, IndexConfig.evidence_gamma, True)
_NORMALIZER = Normalizer()
# Stems only Nynorsk writes (the infix rules of `glossary.variants`).
_NYNORSK_STEMS = ("sjuk", "heim", "tenest")


def looks_nynorsk(query: str, table: dict[str, str]) -> bool:
    """A word of the glossary's Nynorsk table, or a lower-case word with a Nynorsk-only stem
    (capitalised words are names: "Trondheim")."""
    for token in _NORMALIZER.tokens(query):
        word = token.joined
        lower = query[token.start : token.end].islower()
        if word in table or (lower and any(s in word for s in _NYNORSK_STEMS)):
            return True
    return False


def bokmal_form(word: str, table: dict[str, str]) -> str | None:
    """The Bokmål spelling of a folded Nynorsk word by `glossary.variants`' table and rules,
    in that one direction (None: no rule applies)."""
    if word in table:
        return table[word]
    spelled = word
    for nn, nb in _INFIXES:
        spelled = spelled.replace(nn, nb)
    for nn, nb in _SUFFIXES:
        if spelled.endswith(nn) and len(spelled) - len(nn) >= _MIN_STEM:
            spelled = spelled[: -len(nn)] + nb
            break
    return spelled if spelled != word else None


def _edits(query: str, index: SearchIndex, nynorsk: bool) -> list[tuple[int, int, str]]:
    """(start, end, replacement) in `query`: abbreviations → full forms (the product's
    choice, `dense_query.abbreviations`), and with `nynorsk` lower-case words (or a first
    word of the table: "Kva") → their Bokmål spelling."""
    edits = [(a.start, a.end, a.full) for a in abbreviations(query, index.lexical)]
    if nynorsk:
        table = index.lexical.glossary.word_variants
        taken = {a for a, _, _ in edits}
        for n, token in enumerate(_NORMALIZER.tokens(query)):
            written = query[token.start : token.end]
            if len(token.pieces) != 1 or token.start in taken:
                continue
            if written[:1].isupper():
                nb = table.get(token.joined) if n == 0 else None
            else:
                nb = bokmal_form(token.joined, table)
            if nb is not None:
                edits.append((token.start, token.end, nb))
    return sorted(edits)


_WORD_REST = re.compile(r"[\w-]*")


def _styled(query: str, edits: list[tuple[int, int, str]], style: str) -> str:
    if not edits:
        return query
    if style == "end":
        return f"{query} ({'; '.join(e[2] for e in edits)})"
    out, last = [], 0
    for start, end, new in edits:
        if style == "replace":
            out.append(query[last:start] + new)
            last = end
        else:  # inline: the new words in parentheses after the whole word ("ØHD-senger")
            stop = end + len(_WORD_REST.match(query, end).group())  # type: ignore[union-attr]
            out.append(query[last:stop] + f" ({new})")
            last = stop
    out.append(query[last:])
    return "".join(out)


Texts = Callable[[str, SearchIndex], str]


def _text(style: str, nynorsk: str = "") -> Texts:
    """nynorsk: "" (no), "all" (every query) or "guarded" (queries `looks_nynorsk`)."""

    def text(q: str, index: SearchIndex) -> str:
        nn = nynorsk == "all" or (
            nynorsk == "guarded" and looks_nynorsk(q, index.lexical.glossary.word_variants)
        )
        if style == "replace" and not nn:
            return dense_text_for(q, index.lexical).text  # the product's path itself
        return _styled(q, _edits(q, index, nn), style)

    return text


PRODUCT_VARIANT = "abbr, replaced (product)"
# name → (text function, mean with the raw vector)
VARIANTS: dict[str, tuple[Texts, bool]] = {
    "abbr, beside": (_text("inline"), False),
    "abbr, at the end": (_text("end"), False),
    PRODUCT_VARIANT: (_text("replace"), False),
    "abbr+nn, beside": (_text("inline", "all"), False),
    "abbr+nn guarded, beside": (_text("inline", "guarded"), False),
    "abbr+nn guarded, at the end": (_text("end", "guarded"), False),
    "abbr+nn guarded, replaced": (_text("replace", "guarded"), False),
    "mean(raw, abbr beside)": (_text("inline"), True),
    "mean(raw, abbr replaced)": (_text("replace"), True),
    "mean(raw, abbr+nn guarded beside)": (_text("inline", "guarded"), True),
}


def variant_data(
    index: SearchIndex, embedder: Embedder, data: list[QueryData], texts: dict[str, str]
) -> dict[str, list[QueryData]]:
    """Each variant's QueryData: the raw ones where its text is the query's, else new cosines."""
    wanted = {
        name: {q.qid: fn(texts[q.qid], index) for q in data} for name, (fn, _) in VARIANTS.items()
    }
    distinct = sorted({t for per in wanted.values() for t in per.values()} | set(texts.values()))
    key = hashlib.sha256(json.dumps([distinct, CACHE_VERSION]).encode()).hexdigest()[:16]
    cache = index.data_dir / f"densexp-v{CACHE_VERSION}-{key}.pickle"
    if cache.exists():
        with cache.open("rb") as fh:
            vec: dict[str, np.ndarray] = pickle.load(fh)
    else:
        touched = sorted({t for per in wanted.values() for t in per.values()} - set(texts.values()))
        raw_of_touched = sorted(
            {texts[qid] for per in wanted.values() for qid, t in per.items() if t != texts[qid]}
        )
        need = touched + raw_of_touched
        vec = dict(zip(need, embedder.embed_queries(need), strict=True)) if need else {}
        with cache.open("wb") as fh:
            pickle.dump(vec, fh)
    ids, vectors = index.store.chunk_vectors(embedder.model_id)
    out: dict[str, list[QueryData]] = {"raw": data}
    for name, (_, averaged) in VARIANTS.items():
        rows = []
        for q in data:
            text = wanted[name][q.qid]
            if text == texts[q.qid]:
                rows.append(q)
                continue
            qv = vec[text]
            if averaged:
                qv = qv + vec[texts[q.qid]]
                qv = qv / np.linalg.norm(qv)
            cos = vectors @ qv
            order = np.argsort(-cos)[:DEPTH]
            dense = [(int(ids[i]), float(cos[i])) for i in order]
            rows.append(replace(q, cos=cos, dense=dense))
        out[name] = rows
    return out


def grid() -> list[Setting]:
    out = [
        Setting(m, w, g, True)
        for m in ("zscore", "minmax")
        for w in (0.3, 0.4, 0.5, 0.6, 0.7)
        for g in (0.0, 0.3)
    ]
    return [*out, Setting("rrf", 0.5, 0.0, True, 60)]


def floor_check(
    s: Setting, sets: list[tuple[Corpus, list[QueryData]]], off: tuple[Corpus, list[QueryData]]
) -> tuple[list[float], int, int]:
    """The product's floor: recall@10 with it on each set, off-topic queries at <= 3 results
    (and how many off-topic results in all)."""
    f = CALIBRATED_FLOORS[DEFAULT_MODEL]  # the floor calibrated for the default model

    def kept(corpus: Corpus, q: QueryData) -> list[str]:
        docs = fused_docs(corpus, q, s)
        cos, share = doc_features(corpus, q)
        out = []
        for d in docs:
            c, e = cos.get(d, 0.0), share.get(d, 0.0)
            bar = f.dense_known if q.coverage >= f.min_coverage else f.dense
            if c >= bar or (c >= f.dense_lexical and e >= f.min_evidence):
                out.append(d)
        return out

    recalls = []
    for corpus, qs in sets:
        r = 0.0
        for q in qs:
            top = kept(corpus, q)[:10]
            n = max(1, sum(g > 0 for g in q.rel.values()))
            r += sum(q.rel.get(d, 0) > 0 for d in top) / n
        recalls.append(r / max(1, len(qs)))
    counts = [len(kept(off[0], q)) for q in off[1]]
    return recalls, sum(c <= 3 for c in counts), sum(counts)


def folds(qids: list[str], k: int) -> dict[str, int]:
    rng = np.random.default_rng(9)  # as fusion_sweep.py
    return {q: i % k for i, q in enumerate(rng.permutation(qids))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_sweep_options(parser)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--real-path", action="store_true", help="also run SearchIndex.search, glossary off/on"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    embedder = Embedder(Settings().embed_config())  # type: ignore[call-arg]

    beir = load_norquad(args.norquad)
    dev = load_devset(DEV_TUNING)
    sets: dict[str, tuple[Corpus, dict[str, list[QueryData]]]] = {}
    touched: dict[str, dict[str, str]] = {}

    def run(name: str, index: SearchIndex, qs: list[tuple[str, str, dict[str, int]]]) -> None:
        corpus, data = collect(index, embedder, qs)
        texts = {qid: text for qid, text, _ in qs}
        sets[name] = (corpus, variant_data(index, embedder, data, texts))
        touched[name] = {
            qid: f"{texts[qid]!r} → {fn(texts[qid], index)!r}"
            for qid in texts
            for fn, _ in [VARIANTS["abbr+nn guarded, beside"]]
            if fn(texts[qid], index) != texts[qid]
        }

    with open_folder(args.norquad_folder, embedder) as index:
        nq = judged_queries(index, beir)
        run("norquad", index, nq)
    with open_folder(args.dev_folder, embedder) as index:
        by_url = {r.url: r.duplicate_of or r.doc_id for r in index.store.documents_all()}
        dq = [
            (q.id, q.query, {by_url[u]: g for u, g in q.relevant.items() if u in by_url})
            for q in dev.queries
        ]
        run("dev", index, [x for x in dq if x[2]])
    with open_folder(args.mirror_folder, embedder) as index:
        run("offtopic", index, [(q.id, q.query, {}) for q in dev.off_topic])
        by_url = {r.url: r.duplicate_of or r.doc_id for r in index.store.documents_all()}
        mq = [
            (q.id, q.query, {by_url[u]: g for u, g in q.relevant.items() if u in by_url})
            for q in dev.queries
        ]
        run("mirror", index, mq)

    tags = {q.id: set(q.tags) for q in dev.queries}
    abbr = {q for q, t in tags.items() if "abbr" in t}
    nn = {q for q, t in tags.items() if "nn" in t}
    for name, rows in touched.items():
        print(f"{name}: {len(rows)} queries touched by 'abbr+nn guarded, beside'")
    variants = list(sets["norquad"][1])
    report: dict[str, Any] = {}
    nc, dc = sets["norquad"][0], sets["dev"][0]

    print("\nat the product's fusion (" + _name(PRODUCT) + "), nDCG@10:")
    head = f"{'variant':<34} {'norquad':>8} {'dev':>8} {'worse':>8} {'abbr':>7} {'nn':>7}"
    print(head + f" {'dense NQ':>8} {'dense dev':>9} {'d abbr':>7} {'d nn':>7}")
    for v in variants:
        a = scores(nc, sets["norquad"][1][v], PRODUCT)
        b = scores(dc, sets["dev"][1][v], PRODUCT)
        da = scores(nc, sets["norquad"][1][v], None, "dense")
        db = scores(dc, sets["dev"][1][v], None, "dense")
        row = {
            "norquad": mean(a["ndcg"]),
            "dev": mean(b["ndcg"]),
            "abbr": mean(b["ndcg"], abbr),
            "nn": mean(b["ndcg"], nn),
            "norquad_r10": mean(a["recall"]),
            "dev_r10": mean(b["recall"]),
            "dense_norquad": mean(da["ndcg"]),
            "dense_dev": mean(db["ndcg"]),
            "dense_abbr": mean(db["ndcg"], abbr),
            "dense_nn": mean(db["ndcg"], nn),
        }
        report[v] = {"product": row, "per_query": {"norquad": a["ndcg"], "dev": b["ndcg"]}}
        print(
            f"{v:<34} {row['norquad']:8.4f} {row['dev']:8.4f} "
            f"{min(row['norquad'], row['dev']):8.4f} {row['abbr']:7.4f} {row['nn']:7.4f} "
            f"{row['dense_norquad']:8.4f} {row['dense_dev']:9.4f} {row['dense_abbr']:7.4f} "
            f"{row['dense_nn']:7.4f}"
        )

    nf = folds([q.qid for q in sets["norquad"][1]["raw"]], args.folds)
    df = folds([q.qid for q in sets["dev"][1]["raw"]], args.folds)
    tables: dict[str, list[tuple[Setting, dict, dict]]] = {}
    for v in variants:
        tables[v] = [
            (s, scores(nc, sets["norquad"][1][v], s), scores(dc, sets["dev"][1][v], s))
            for s in grid()
        ]
    print("\nbest setting per variant (worse of the two), and 5-fold CV of choosing the setting:")
    for v in variants:
        table = tables[v]
        best = max(table, key=lambda r: min(mean(r[1]["ndcg"]), mean(r[2]["ndcg"])))
        held = _cv(table, nf, df, args.folds)
        fixed = _fixed_folds(tables, v, nf, df, args.folds)
        report[v]["best"] = (_name(best[0]), mean(best[1]["ndcg"]), mean(best[2]["ndcg"]))
        report[v]["cv"] = held
        report[v]["fixed_fold_delta"] = fixed
        nq_cv = [h[1] for h in held]
        dv_cv = [h[2] for h in held]
        print(
            f"{v:<34} best {_name(best[0]):<30} NQ {mean(best[1]['ndcg']):.4f} "
            f"dev {mean(best[2]['ndcg']):.4f} | CV NQ {statistics.mean(nq_cv):.4f} "
            f"(sd {statistics.pstdev(nq_cv):.4f}) dev {statistics.mean(dv_cv):.4f} "
            f"(sd {statistics.pstdev(dv_cv):.4f}) chose {sorted({h[0] for h in held})}"
        )
        print(
            f"{'':<34} product setting, per held-out fold vs raw: NQ "
            f"{' '.join(f'{x:+.4f}' for x in fixed[0])}; dev "
            f"{' '.join(f'{x:+.4f}' for x in fixed[1])}"
        )

    print("\nthe fusion grid, top 5 by the worse of the two (* NorQuAD < 0.95):")
    for v in ("raw", PRODUCT_VARIANT):
        ranked = sorted(tables[v], key=lambda r: -min(mean(r[1]["ndcg"]), mean(r[2]["ndcg"])))
        for s, a, b in ranked[:5]:
            flag = "*" if mean(a["ndcg"]) < 0.95 else " "
            print(
                f"  {v:<26} {_name(s):<24} NQ {mean(a['ndcg']):.4f}{flag} dev {mean(b['ndcg']):.4f}"
            )

    print("\nchoosing the variant as well (5-fold: the worse of the two on four folds):")
    fixed_opts = {v: next(r for r in tables[v] if r[0] == PRODUCT) for v in variants}
    choices = {
        "raw, product setting (today, nothing chosen)": [("raw", fixed_opts["raw"])],
        "raw × fusion grid": [("raw", r) for r in tables["raw"]],
        "any variant, product setting": list(fixed_opts.items()),
        "any variant × fusion grid": [(v, r) for v in variants for r in tables[v]],
    }
    for v in variants[1:]:
        choices[f"raw or {v}, product setting"] = [
            ("raw", fixed_opts["raw"]),
            (v, fixed_opts[v]),
        ]
    report["cv_choice"] = {}
    for label, options in choices.items():
        held = _cv_options(options, nf, df, args.folds)
        report["cv_choice"][label] = held
        nq_cv, dv_cv = [h[1] for h in held], [h[2] for h in held]
        print(
            f"  {label:<52} NQ {statistics.mean(nq_cv):.4f} (sd {statistics.pstdev(nq_cv):.4f})"
            f"  dev {statistics.mean(dv_cv):.4f} (sd {statistics.pstdev(dv_cv):.4f})"
            f"  folds chose {[h[0] for h in held]}"
        )

    print("\nthe product's floor (recall@10 NQ / dev / mirror-only dev; off-topic <= 3 of 17):")
    for v in variants:
        rec, passed, results = floor_check(
            PRODUCT,
            [
                (nc, sets["norquad"][1][v]),
                (dc, sets["dev"][1][v]),
                (sets["mirror"][0], sets["mirror"][1][v]),
            ],
            (sets["offtopic"][0], sets["offtopic"][1][v]),
        )
        plain = [
            mean(scores(c, d, PRODUCT)["recall"])
            for c, d in (
                (nc, sets["norquad"][1][v]),
                (dc, sets["dev"][1][v]),
                (sets["mirror"][0], sets["mirror"][1][v]),
            )
        ]
        report[v]["floor"] = {
            "recall": rec,
            "recall_without_floor": plain,
            "off_topic_pass": passed,
            "results": results,
        }
        print(
            f"{v:<34} {' / '.join(f'{r:.4f}' for r in rec)} (without floor "
            f"{' / '.join(f'{r:.4f}' for r in plain)}); off-topic {passed} ({results} results)"
        )
    if args.real_path:
        report["real_path"] = real_path(
            args, embedder, {"norquad": nq, "dev": [x for x in dq if x[2]]}, dev, abbr, nn
        )
    if args.json:
        args.json.write_text(json.dumps({"report": report, "touched": touched}, indent=1))


def real_path(
    args: argparse.Namespace,
    embedder: Embedder,
    queries: dict[str, list[tuple[str, str, dict[str, int]]]],
    dev: Any,
    abbr: set[str],
    nn: set[str],
) -> dict[str, Any]:
    """The product's own `SearchIndex.search` (hybrid, floor on), dense glossary off and on."""
    print("\nthe real path (SearchIndex.search, hybrid, floor on): nDCG@10 / R@10")
    out: dict[str, Any] = {}
    folders = {"norquad": args.norquad_folder, "dev": args.dev_folder}
    for on in (False, True):
        config = IndexConfig(dense_glossary=on)
        row: dict[str, float] = {}
        for name, qs in queries.items():
            settings = Settings(data_dir=folders[name])  # type: ignore[call-arg]
            chunker = partial(
                chunk_document, config=settings.chunk_config(), count_tokens=embedder.count_tokens
            )
            nd: dict[str, float] = {}
            rc: dict[str, float] = {}
            with SearchIndex(folders[name], embedder, chunker, config, read_only=True) as index:
                for qid, text, rel in qs:
                    hits = index.search(SearchRequest(q=text, mode=SearchMode.HYBRID, limit=10))
                    docs = [h.doc_id for h in hits.results]
                    nd[qid], rc[qid] = ndcg_at_k(docs, rel, 10), recall_at_k(docs, rel, 10)
            row[name], row[f"{name} R@10"] = mean(nd), mean(rc)
            if name == "dev":
                row["dev abbr"], row["dev nn"] = mean(nd, abbr), mean(nd, nn)
        settings = Settings(data_dir=args.mirror_folder)  # type: ignore[call-arg]
        chunker = partial(
            chunk_document, config=settings.chunk_config(), count_tokens=embedder.count_tokens
        )
        with SearchIndex(args.mirror_folder, embedder, chunker, config, read_only=True) as index:
            totals = [index.search(SearchRequest(q=q.query)).total for q in dev.off_topic]
        row["off-topic <= 3"] = sum(t <= 3 for t in totals)
        label = "dense glossary on" if on else "off (today)"
        out[label] = row
        print(f"  {label:<18} " + "  ".join(f"{k} {v:.4f}" for k, v in row.items()))
    return out


def _cv(
    table: list[tuple[Setting, dict, dict]], nf: dict[str, int], df: dict[str, int], k: int
) -> list[tuple[str, float, float]]:
    held = []
    for f in range(k):
        n_train = {q for q, x in nf.items() if x != f}
        d_train = {q for q, x in df.items() if x != f}
        best = max(
            table, key=lambda r: min(mean(r[1]["ndcg"], n_train), mean(r[2]["ndcg"], d_train))
        )
        n_test, d_test = set(nf) - n_train, set(df) - d_train
        held.append((_name(best[0]), mean(best[1]["ndcg"], n_test), mean(best[2]["ndcg"], d_test)))
    return held


def _cv_options(
    options: list[tuple[str, tuple[Setting, dict, dict]]],
    nf: dict[str, int],
    df: dict[str, int],
    k: int,
) -> list[tuple[str, float, float]]:
    """For each fold: the (variant, setting) best by the worse of the two sets on the other
    folds, scored on this one."""
    held = []
    for f in range(k):
        n_train = {q for q, x in nf.items() if x != f}
        d_train = {q for q, x in df.items() if x != f}
        v, (s, a, b) = max(
            options,
            key=lambda o: min(mean(o[1][1]["ndcg"], n_train), mean(o[1][2]["ndcg"], d_train)),
        )
        n_test, d_test = set(nf) - n_train, set(df) - d_train
        held.append((f"{v} / {_name(s)}", mean(a["ndcg"], n_test), mean(b["ndcg"], d_test)))
    return held


def _fixed_folds(
    tables: dict[str, list[tuple[Setting, dict, dict]]],
    v: str,
    nf: dict[str, int],
    df: dict[str, int],
    k: int,
) -> tuple[list[float], list[float]]:
    """Per fold: the variant minus raw at the product's setting (no choice made)."""
    pick = {name: next(r for r in t if r[0] == PRODUCT) for name, t in tables.items()}
    out: tuple[list[float], list[float]] = ([], [])
    for f in range(k):
        n_test = {q for q, x in nf.items() if x == f}
        d_test = {q for q, x in df.items() if x == f}
        out[0].append(mean(pick[v][1]["ndcg"], n_test) - mean(pick["raw"][1]["ndcg"], n_test))
        out[1].append(mean(pick[v][2]["ndcg"], d_test) - mean(pick["raw"][2]["ndcg"], d_test))
    return out


def _name(s: Setting) -> str:
    return f"{s.method} w={s.w} γ={s.gamma}" + (f" k={s.k}" if s.method == "rrf" else "")


if __name__ == "__main__":
    main()

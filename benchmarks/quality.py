"""Quality at scale: the news suite's gold questions asked against the whole BBC corpus indexed
(2,225 files, 2,127 distinct articles), beside the same questions against the suite's own articles.

    .venv/bin/python -m benchmarks.quality [--split dev scale-dev test dev-translated] [--weights 0 0.25 0.5 1 2 10]
                                           [--answer-weights 0.5 1] [--embedder e5]
                                           [--rerank 20:0.02 10:0.01:600] [--answer-rerank 20:0.02]
                                           [--out DIR]

For each split (dev: 50 questions on 12 articles; ``scale-dev``: 171 more dev questions on 60 other
articles, asked of the whole corpus only; test: 63 on 17; ``dev-translated``, asked only when named:
the dev questions in French, German and Spanish, of the dev articles) and each store (``suite``: the split's own
articles, indexed as ``rag eval --suite news`` indexes them; ``bbc``: the whole corpus,
the store ``benchmarks.ingest --corpus bbc`` keeps, built here, untimed, if missing):

* **retrieval**: recall@5 and MRR@10 (:func:`evals.metrics.retrieval_scores`, the eval's own: a
  passage is relevant when it holds a gold evidence quote) of dense search alone, BM25 alone and
  the fused retriever at each dense weight of ``--weights`` (BM25's weight is 1; 0 is BM25 through
  the fusion), and the fused ranking (configured dense weight) reranked by the reader at each
  ``depth:rank_weight[:chars]`` of ``--rerank`` (:class:`rag.retrieval.Reranker`; the configured
  one first); top 10 after the retriever's diversity step, as ``rag eval`` retrieves; over the
  answerable questions, with 95% bootstrap intervals and the paired difference of each fused or
  reranked row minus the better single retriever of that split and store;
* **answers**: :func:`evals.runner.run` (what ``rag eval`` runs) with the default answerer at the
  configured dense weight and at each of ``--answer-weights`` (and with the reranker set as each of
  ``--answer-rerank``): key-fact recall, correct and false
  abstention, citation correctness and evidence cited, with their intervals. ``--out DIR``
  keeps the default answerer's per-question results as ``rag eval --out`` does (one suite per split
  and store), so that two checkouts' answers at scale are compared question by question with
  ``python -m evals.compare BEFORE AFTER``.

``--embedder`` measures stores embedded another way (``benchmarks.common.EMBEDDERS``: e5, passage
headers ...); ``benchmarks.embedders`` builds their BBC store first.

Weights and reranking depths are chosen on the dev splits only (``--split dev scale-dev``); the test split is reported,
never used to choose. Results go to ``benchmarks/results/quality.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import say

SPLITS = ("dev", "scale-dev", "test")
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 10.0)
ANSWER_METRICS = ("key_fact_recall", "correct_abstention", "false_abstention", "citation_correct",
                  "evidence_cited", "recall@5", "mrr@10")


def suite_store(split: str, variant: str = "minilm") -> Path:
    """A store of the news suite's own articles for ``split`` (copied from the BBC corpus as ``rag
    eval`` copies them; made once, kept in the cache), embedded the ``variant`` way."""
    from evals.suite import load_suite
    from rag.build import ingest_paths

    split = "dev" if split == "dev-translated" else split  # the dev questions, translated: the dev articles
    path = common.CACHE / (f"store-news-{split}" + ("" if variant == "minilm" else f"-{variant}"))
    if not common.is_ready(path):
        say(f"indexing the news suite's {split} articles (untimed) ...")
        settings = common.config(path, **common.EMBEDDERS[variant])
        articles = load_suite("news", split).folder(common.CACHE / f"corpus-news-{split}")
        ingest_paths(settings, [articles], progress=False)
        common.mark_ready(path, settings.embedding_backend)
    return path


def retrieval_by_question(retriever: Any, questions: list[dict[str, Any]], mode: str) -> dict[str, dict[str, float]]:
    """Each answerable question's retrieval scores, its top 10 in ``mode`` (follow-ups made
    standalone, as the eval does)."""
    from evals.metrics import retrieval_scores
    from rag.conversation import standalone

    scores = {}
    for q in questions:
        quotes = [e["quote"] for e in q.get("evidence", [])]
        if q["answerable"] and quotes:
            ranked = retriever.retrieve(standalone(q["question"], q.get("history") or None), top_k=10, mode=mode)
            scores[q["id"]] = retrieval_scores([p.text for p in ranked], quotes)
    return scores


def _figure(by_question: dict[str, dict[str, float]], metric: str) -> dict[str, Any]:
    from evals.metrics import bootstrap_ci, mean

    values = [s[metric] for s in by_question.values()]
    return {"mean": mean(values), "ci": bootstrap_ci(values)}


def measure(store: str, split: str, weights: list[float], answer_weights: list[float],
            variant: str = "minilm", reranks: list[tuple[int, float, int]] = (),
            answer_reranks: list[tuple[int, float, int]] = (), kept: list | None = None) -> dict[str, Any]:
    """One split asked of one store; the default answerer's eval report is appended to ``kept``."""
    from dataclasses import replace

    from evals.metrics import paired_difference
    from evals.runner import run as run_eval
    from rag.assistant import build_assistant
    from rag.build import embedder_factory
    from rag.reader import load_reader
    from rag.retrieval import Reranker

    questions = common.news_questions(split)
    if store == "bbc":
        path = common.prepared_store("bbc") if variant == "minilm" else common.embedder_store(variant)
        if not common.is_ready(path):
            raise SystemExit(f"error: no store of the BBC corpus embedded the {variant} way: "
                             f"run python -m benchmarks.embedders --variants {variant} first")
    else:
        path = suite_store(split, variant)
    settings = dict(common.EMBEDDERS[variant])
    config = common.config(path, **settings)
    model = embedder_factory(config)()
    default = config.dense_weight
    assistant = build_assistant(config, embedder=model)
    retriever = assistant.retriever
    configured, retriever.reranker = retriever.reranker, None  # the single and fused rows read no reranker
    say(f"[{store}, {split}] retrieval: dense, keyword, fused at {weights}, reranked at {reranks}")
    rows: dict[str, dict[str, dict[str, float]]] = {
        "dense": retrieval_by_question(retriever, questions, "dense"),
        "keyword (BM25)": retrieval_by_question(retriever, questions, "keyword")}
    for weight in weights:
        retriever.weights["dense"] = weight  # the fusion's only difference between the rows
        rows[f"fused, dense weight {weight:g}"] = retrieval_by_question(retriever, questions, "hybrid")
    retriever.weights["dense"] = default
    if configured is not None:
        reranks = list(dict.fromkeys([(configured.depth, configured.rank_weight, configured.chars), *reranks]))
    reader = load_reader(config.reader_model)  # the pipeline's own (one per process); None for "none"
    for depth, rank_weight, chars in reranks if reader is not None else ():
        same = configured is not None and (depth, rank_weight, chars) == (configured.depth, configured.rank_weight,
                                                                          configured.chars)
        retriever.reranker = configured if same else Reranker(
            reader, depth, rank_weight, chars, idf=getattr(configured, "idf", None))  # read as configured
        rows[f"reranked, depth {depth}, rank weight {rank_weight:g}, windows of {chars} characters"] = \
            retrieval_by_question(retriever, questions, "hybrid")
    retriever.reranker = configured
    single = {name: _figure(rows[name], "recall@5")["mean"] for name in ("dense", "keyword (BM25)")}
    better = max(single, key=lambda name: single[name])
    retrieval = []
    for name, by_question in rows.items():
        entry = {"retriever": name, "recall@5": _figure(by_question, "recall@5"),
                 "mrr@10": _figure(by_question, "mrr@10")}
        if name.startswith(("fused", "reranked")):
            for metric in ("recall@5", "mrr@10"):
                entry[f"{metric} minus {better}"] = paired_difference(
                    {q: s[metric] for q, s in by_question.items()}, {q: s[metric] for q, s in rows[better].items()})
        retrieval.append(entry)
    answers = []
    configured_rerank = (config.rerank_depth, config.rerank_rank_weight)
    runs = [(weight, configured_rerank) for weight in dict.fromkeys([default, *answer_weights])]
    runs += [(default, (depth, rank_weight)) for depth, rank_weight, _ in answer_reranks
             if (depth, rank_weight) != configured_rerank]
    for weight, (depth, rank_weight) in runs:
        say(f"[{store}, {split}] answers at dense weight {weight:g}, reranking depth {depth}")
        scored = build_assistant(config.replace(dense_weight=weight, rerank_depth=depth,
                                                rerank_rank_weight=rank_weight), embedder=model)
        report = run_eval(scored, questions, name=f"dense weight {weight:g}", progress=False, suite="news")
        is_default = (weight, (depth, rank_weight)) == (default, configured_rerank)
        if is_default and kept is not None:  # named by split and store only, so that checkouts pair up
            kept.append(replace(report, suite=f"news, {split}, {_store_name(store)}", name="default"))
        answers.append({"dense_weight": weight, "rerank": [depth, rank_weight], "default": is_default,
                        **{m: {"mean": report.metrics.get(m), "ci": report.intervals.get(m)} for m in ANSWER_METRICS}})
    key = f"{store}-{split}" + ("" if variant == "minilm" else f"-{variant}")
    return {"key": key, "articles": key, "store": store, "split": split, "embedder": variant,
            "indexed_articles": len(retriever.store.articles()), "passages": retriever.store.count(),
            "questions": len(questions), "answerable": sum(q["answerable"] for q in questions),
            "better_single": better, "default_dense_weight": default, "retrieval": retrieval, "answers": answers}


def cell(figure: dict[str, Any] | None) -> str:
    """``mean (low–high)``."""
    if not figure or figure.get("mean") is None:
        return "n/a"
    ci = figure.get("ci")
    return f"{figure['mean']:.2f}" + (f" ({ci[0]:.2f}–{ci[1]:.2f})" if ci else "")


def difference(value: Any) -> str:
    return "" if not value else f"{value[0]:+.3f} ({value[1]:+.2f} to {value[2]:+.2f})"


def _store_name(store: str) -> str:
    return "whole BBC corpus" if store == "bbc" else "suite's own articles"


def _corpus(r: dict[str, Any]) -> str:
    what = _store_name(r["store"])
    embedded = "" if r.get("embedder", "minilm") == "minilm" else f", embedded {r['embedder']}"
    return f"{r['split']}, {what} ({r['indexed_articles']:,} articles, {r['passages']:,} passages{embedded})"


def report_table(results: list[dict[str, Any]]) -> str:
    retrieval_rows, answer_rows = [], []
    for r in results:
        for e in r["retrieval"]:
            better = r["better_single"]
            retrieval_rows.append([_corpus(r), e["retriever"], cell(e["recall@5"]), cell(e["mrr@10"]),
                                   difference(e.get(f"recall@5 minus {better}")),
                                   difference(e.get(f"mrr@10 minus {better}")),
                                   better if e["retriever"].startswith("fused") else ""])
        for a in r["answers"]:
            rerank = f", reranking {a['rerank'][0]}:{a['rerank'][1]:g}" if a.get("rerank") else ""
            answer_rows.append([_corpus(r), f"{a['dense_weight']:g}{rerank}" + (" (default)" if a["default"] else "")]
                               + [cell(a[m]) for m in ANSWER_METRICS])
    first = common.table(["split, store", "retriever", "recall@5", "MRR@10", "recall@5 minus the better single",
                          "MRR@10 minus the better single", "better single"], retrieval_rows)
    second = common.table(["split, store", "dense weight, reranking depth:rank weight", "key-fact recall", "correct abstention",
                           "false abstention", "citation correct", "evidence cited", "recall@5 (fused)",
                           "MRR@10 (fused)"], answer_rows)
    return first + "\n\n" + second


def run(splits: list[str], weights: list[float], answer_weights: list[float],
        stores: tuple[str, ...] = ("suite", "bbc"), variant: str = "minilm",
        reranks: list[tuple[int, float, int]] = (),
        answer_reranks: list[tuple[int, float, int]] = (), out: Path | None = None) -> list[dict[str, Any]]:
    kept: list = []
    results = [measure(store, split, weights, answer_weights, variant, reranks, answer_reranks, kept)
               for split in splits for store in stores
               if not (split == "scale-dev" and store == "suite")]  # written for the whole corpus only
    print("\n## Quality at scale (news questions)\n\n" + report_table(results))
    if out is not None:
        from evals.report import write_reports

        write_reports(kept, out, command="python -m benchmarks.quality")
        say(f"wrote the default answerer's results to {out} (python -m evals.compare BEFORE {out})")
    return results


def _rerank(value: str) -> tuple[int, float, int]:
    import argparse

    from rag.reader import WINDOW_CHARS

    try:
        depth, weight, *chars = value.split(":")
        return int(depth), float(weight), int(chars[0]) if chars else WINDOW_CHARS
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"'{value}' is not DEPTH:RANK_WEIGHT[:CHARS] (e.g. 20:0.02)") from None


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", nargs="+", choices=(*SPLITS, "dev-translated"), default=list(SPLITS))
    p.add_argument("--store", nargs="+", choices=["suite", "bbc"], default=["suite", "bbc"])
    p.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS),
                   help="dense weights of the fused rows (BM25's is 1)")
    p.add_argument("--answer-weights", type=float, nargs="*", default=[],
                   help="dense weights to score answers at besides the configured one")
    p.add_argument("--embedder", choices=list(common.EMBEDDERS), default="minilm",
                   help="how the stores are embedded (benchmarks.embedders builds the BBC store of each)")
    p.add_argument("--rerank", type=_rerank, nargs="*", default=[], metavar="DEPTH:RANK_WEIGHT[:CHARS]",
                   help="reranked rows besides the configured one: how many fused passages the reader reads, "
                   "the weight of their fused place, and the window it reads each passage in, in characters "
                   "(default 400)")
    p.add_argument("--answer-rerank", type=_rerank, nargs="*", default=[], metavar="DEPTH:RANK_WEIGHT",
                   help="reranking settings to score answers at besides the configured one (at the configured "
                   "dense weight)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="also write the default answerer's per-question results here, as rag eval --out does "
                   "(compare two checkouts with python -m evals.compare BEFORE AFTER)")
    common.add_data_option(p)
    args = p.parse_args()
    common.bbc()  # both stores are made of BBC articles: a missing corpus stops the run here
    results = run(args.split, args.weights, args.answer_weights, tuple(args.store), args.embedder, args.rerank,
                  args.answer_rerank, args.out)
    say(f"wrote {common.save('quality', results)}")


if __name__ == "__main__":
    main()

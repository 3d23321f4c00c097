"""Retrieval latency: ``Retriever.retrieve(question, top_k=5, mode=...)`` in the dense, keyword and
fused (hybrid) modes, the fused ranking reranked by the reader (``reranked``: what answering
calls, :class:`rag.retrieval.Reranker`), against the llama-index starter's retriever (top-k 5),
per gold question.

    .venv/bin/python -m benchmarks.retrieval [--articles N ...] [--quick]

For each corpus, the store from ``benchmarks.ingest`` is opened (built, untimed, if missing) the
way ``rag`` opens it (``rag.assistant.build_assistant``: open the store, check its manifest, build the
BM25 index; timed once as "load"). After three warm-up queries, every gold question of
``evals/data/questions.jsonl`` (follow-ups made standalone) goes to each system in turn, the order
rotating from question to question, ``--repeats`` times. Reported: median and p95 per system,
starter/ours ratios, the two parts dense search is made of (embedding the question; Chroma's
nearest-neighbour query for 30 candidates), and recall@5 over the answerable questions from the
same retrievals (``evals.metrics.retrieval_scores``). Every call is a new question: the
retriever's cache of recent question vectors is emptied first, so every mode embeds the question
(the keyword mode too, for the similarity used to diversify).
"""

from __future__ import annotations

from typing import Any, Callable

from benchmarks import common
from benchmarks.common import say, summary

SYSTEMS = ("dense", "keyword", "hybrid", "reranked", "starter")


def run_size(articles: common.Key, repeats: int, limit: int | None) -> dict[str, Any]:
    from rag.assistant import build_assistant

    path = common.prepared_store(articles)
    model = common.embedder(path)
    assistant, load_s = common.timed(lambda: build_assistant(common.config(path), embedder=model))
    retriever = assistant.retriever
    reranker, retriever.reranker = retriever.reranker, None
    queries = common.gold_queries(limit, articles)

    def fresh(q: common.Query, mode: str) -> list:
        retriever.clear_question_cache()
        return retriever.retrieve(q.text, top_k=5, mode=mode)

    def reranked(q: common.Query) -> list:
        retriever.reranker = reranker
        try:
            return fresh(q, "hybrid")
        finally:
            retriever.reranker = None

    systems: dict[str, Callable[[common.Query], list]] = {
        mode: (lambda q, mode=mode: fresh(q, mode)) for mode in SYSTEMS[:3]}
    if reranker is not None:
        systems["reranked"] = reranked
    try:
        starter = common.prepared_starter(articles, assistant.answerer, top_k=5)
        systems["starter"] = lambda q: starter.retrieve(q.text, top_k=5)
    except ImportError as error:
        say(f"starter skipped: {error} (scripts/install.sh installs llama-index)")
    vectors = {q.text: model.embed_query([q.text])[0] for q in queries}
    parts: dict[str, Callable[[common.Query], Any]] = {
        "embed question": lambda q: model.embed_query([q.text]),
        "Chroma query (k=30)": lambda q: retriever.store.search(vectors[q.text], 30),
    }
    ranked: dict[str, dict[str, list[str]]] = {name: {} for name in systems}

    def keep_ranking(name: str, q: common.Query, repeat: int, passages: Any) -> None:
        if name in systems and repeat == 0:
            ranked[name][q.id] = [p.text for p in passages]

    times = common.interleaved({**systems, **parts}, queries, repeats, keep_ranking,
                               label=f"[{articles} articles] retrieval")
    stats = {name: summary(values) for name, values in times.items()}
    return {
        "articles": articles, "passages": retriever.store.count(), "queries": len(queries), "repeats": repeats,
        "load_s": load_s, "latency_ms": stats,
        "recall@5": {name: common.recall_at_5(ranked[name], queries) for name in systems},
        "starter_over_hybrid_median": common.ratio(stats.get("starter", {}).get("median"),
                                                   stats["hybrid"]["median"]),
        "starter_over_dense_median": common.ratio(stats.get("starter", {}).get("median"),
                                                  stats["dense"]["median"]),
    }


def report_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for name, stats in r["latency_ms"].items():
            recall = r["recall@5"].get(name)
            rows.append([r["articles"], r["passages"], name, stats["median"], stats["p95"],
                         common.fmt(recall, 2) if recall is not None else "",
                         common.fmt(r["load_s"], 1) if name == "hybrid" else ""])
    return common.table(["articles", "passages", "retrieval (top-k 5)", "median ms", "p95 ms", "recall@5",
                         "load s (open + BM25 index)"], rows)


def run(article_sizes: list[common.Key], quick: bool = False, repeats: int | None = None) -> list[dict[str, Any]]:
    results = [run_size(n, repeats or (1 if quick else 3), 20 if quick else None) for n in article_sizes]
    print("\n## Retrieval latency\n\n" + report_table(results))
    return results


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=None, help="passes over the questions (default 3; quick 1)")
    args = p.parse_args()
    results = run(common.sizes(args), args.quick, args.repeats)
    say(f"wrote {common.save('retrieval', results)}")


if __name__ == "__main__":
    main()

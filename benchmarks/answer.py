"""Answer latency: ``Assistant.ask`` with the ``extractive`` answerer against the llama-index
starter (same extractive answerer, its top-k 2) per gold question, and time to first token with
the ``local`` answerer (SmolLM2-135M through llama.cpp).

    .venv/bin/python -m benchmarks.answer [--articles N ...] [--quick]

For each corpus, the store from ``benchmarks.ingest`` (built, untimed, if missing) is opened as
``rag`` opens it (``rag.assistant.build_assistant``, timed once as "load"), so latencies are "after
load". After two warm-up questions, each gold question (with its history) is asked of ours and
of the starter, the order rotating, ``--repeats`` times: median and p95 of the whole
``ask``, and of its retrieval part (``answer.timings``). Each ask is a new question to the
retriever (its cache of recent question vectors is emptied first).

With ``local``, for ``--llm-questions`` answerable questions: the time from calling
``Assistant.stream`` to its first event (a checked sentence, or the whole answer when the assistant
abstains or the articles disagree, which calls no LLM), and the time from calling
``LLMAnswerer.stream`` on the retrieved passages to its first text delta (prompt processing plus
one token). Generation is stopped after the first event/delta. The two are measured in separate
passes over the questions, so llama.cpp's prompt cache never holds the same question's prompt.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks import common
from benchmarks.common import say, summary

OURS, STARTER = "ours (extractive)", "starter (extractive, top-k 2)"
NO_RERANKING, NO_READER = "ours without reranking", "ours without the reader"


def run_size(articles: common.Key, repeats: int, limit: int | None, llm_questions: int) -> dict[str, Any]:
    from rag.assistant import build_assistant

    path = common.prepared_store(articles)
    model = common.embedder(path)
    assistant, load_s = common.timed(lambda: build_assistant(common.config(path), embedder=model))
    queries = common.gold_queries(limit, articles)

    def ask(q: common.Query):
        assistant.retriever.clear_question_cache()  # a new question: no cached question vector
        return assistant.ask(q.question, history=list(q.history) or None)

    def asker(**settings: Any):
        other = build_assistant(common.config(path, **settings), embedder=model)

        def ask_other(q: common.Query):
            other.retriever.clear_question_cache()
            return other.ask(q.question, history=list(q.history) or None)
        return ask_other

    # The default (the reader reranks passages and reads sentences), without the reranking, and
    # without the reader at all (the fused ranking and scorer alone), side by side.
    systems = {OURS: ask, NO_RERANKING: asker(rerank_depth=0), NO_READER: asker(reader_model="none")}
    try:
        starter = common.prepared_starter(articles, assistant.answerer, top_k=2)
        systems[STARTER] = lambda q: starter.ask(q.question, history=list(q.history) or None)
    except ImportError as error:
        say(f"starter skipped: {error} (scripts/install.sh installs llama-index)")
    retrieve: dict[str, list[float]] = {name: [] for name in systems}

    def retrieval_part(name: str, q: common.Query, repeat: int, answer: Any) -> None:
        retrieve[name].append(answer.timings.get("retrieve_ms", 0.0))

    total = common.interleaved(systems, queries, repeats, retrieval_part, warm_up=2,
                               label=f"[{articles} articles] extractive answers")
    stats = {name: summary(values) for name, values in total.items()}
    result: dict[str, Any] = {
        "articles": articles, "passages": assistant.retriever.store.count(), "queries": len(queries),
        "repeats": repeats, "load_s": load_s, "answer_ms": stats,
        "retrieve_part_ms": {name: summary(values) for name, values in retrieve.items()},
        "starter_over_ours_median": common.ratio(stats.get(STARTER, {}).get("median"), stats[OURS]["median"]),
        "reader_over_plain_median": common.ratio(stats[OURS]["median"], stats[NO_READER]["median"]),
        "over_without_reranking": {k: common.ratio(stats[OURS][k], stats[NO_RERANKING][k]) for k in ("median", "p95")},
    }
    if llm_questions:
        result["local"] = first_token(path, model, [q for q in queries if q.answerable][:llm_questions])
    return result


def first_token(path, model, queries: list[common.Query]) -> dict[str, Any]:
    """Time to the first ``Assistant.stream`` event and to the first ``LLMAnswerer.stream`` delta."""
    from rag.assistant import build_assistant

    assistant, load_s = common.timed(lambda: build_assistant(common.config(path, llm="local"), embedder=model))
    first_event, first_delta, kinds = [], [], {"sentence": 0, "answer": 0}
    # Two passes, so that llama.cpp's prompt cache never holds the same question's prompt (it keeps
    # the last prompt; only the shared system-prompt prefix is reused, as between real questions).
    for i, q in enumerate(queries):
        say(f"local: first event, question {i + 1}/{len(queries)}")
        assistant.retriever.clear_question_cache()
        began = time.perf_counter()
        events = assistant.stream(q.question, history=list(q.history) or None)
        event = next(events)
        first_event.append((time.perf_counter() - began) * 1000)
        events.close()
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
    retrieved = [assistant.retriever.retrieve(q.text, top_k=assistant.config.top_k) for q in queries]
    for i, (q, passages) in enumerate(zip(queries, retrieved)):
        say(f"local: first delta, question {i + 1}/{len(queries)}")
        began = time.perf_counter()
        pieces = assistant.answerer.stream(q.text, passages)
        next(pieces, None)
        first_delta.append((time.perf_counter() - began) * 1000)
        close = getattr(pieces, "close", None)
        if close:
            close()
    return {"questions": len(queries), "load_s": load_s, "first_event_ms": summary(first_event),
            "first_delta_ms": summary(first_delta), "first_event_kinds": kinds}


def report_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for name, stats in r["answer_ms"].items():
            rows.append([r["articles"], r["passages"], name, stats["median"], stats["p95"],
                         r["retrieve_part_ms"][name]["median"], common.fmt(r["load_s"], 1) if name == OURS else ""])
        local = r.get("local")
        if local:
            rows.append([r["articles"], r["passages"], "local: first `Assistant.stream` event",
                         local["first_event_ms"]["median"], local["first_event_ms"]["p95"], "",
                         common.fmt(local["load_s"], 1)])
            rows.append([r["articles"], r["passages"], "local: first `LLMAnswerer.stream` delta",
                         local["first_delta_ms"]["median"], local["first_delta_ms"]["p95"], "", ""])
    return common.table(["articles", "passages", "answer", "median ms", "p95 ms", "of which retrieval (median ms)",
                         "load s"], rows)


def run(article_sizes: list[common.Key], quick: bool = False, repeats: int | None = None,
        llm_questions: int | None = None) -> list[dict[str, Any]]:
    results = [run_size(n, repeats or (1 if quick else 2), 20 if quick else None,
                        llm_questions if llm_questions is not None else (2 if quick else 20)) for n in article_sizes]
    print("\n## Answer latency (after load)\n\n" + report_table(results))
    return results


def main() -> None:
    p = common.parser(__doc__.splitlines()[0], default_sizes=(0, 1000, 10000))
    p.add_argument("--repeats", type=int, default=None, help="passes over the questions (default 2; quick 1)")
    p.add_argument("--llm-questions", type=int, default=None,
                   help="questions for the local answerer's first token (default 20; quick 2; 0 skips)")
    args = p.parse_args()
    results = run(common.sizes(args), args.quick, args.repeats, args.llm_questions)
    say(f"wrote {common.save('answer', results)}")


if __name__ == "__main__":
    main()

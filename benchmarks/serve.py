"""First-token latency through ``rag serve`` against ``Assistant.stream`` itself, side by side.

    .venv/bin/python -m benchmarks.serve [--articles N ...] [--quick] [--repeats R]

For each corpus (default: the seeds alone), one extractive Assistant is built over its store
(``benchmarks.ingest``'s, built untimed if missing) and served by ``rag serve``'s app
(:func:`ui.serve.start`: uvicorn in a thread of this process, on a free loopback port). Each gold
question (with its history) is then asked both ways, in turn, the order rotating (the
``benchmarks.common.interleaved`` loop, after warm-up questions):

- direct: from calling ``Assistant.stream`` to its first checked sentence (or the answer itself,
  for an abstention);
- endpoint: from calling the official ``openai`` client's ``chat.completions.create(stream=True)``
  to the first chunk with content: the same first sentence, after HTTP, JSON and SSE.

The retriever's cache of question vectors is emptied before each call, so both do the whole work.
Only the time to the first sentence is counted; the rest of each answer is read untimed. Reported:
the median and p95 of each, and the median of the paired differences (endpoint minus direct,
question by question), which is the endpoint's cost.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from benchmarks import common
from benchmarks.common import say, summary


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_size(articles: int, repeats: int, limit: int | None) -> dict[str, Any]:
    from openai import OpenAI

    from rag.assistant import build_assistant
    from ui.pool import Assistants
    from ui.serve import start

    path = common.prepared_store(articles)
    model = common.embedder(path)
    assistant = build_assistant(common.config(path), embedder=model)
    server = start(Assistants(assistant.config, lambda config: assistant, answerers=["extractive"]), "127.0.0.1",
                   port := _port())
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
    queries = common.gold_queries(limit)

    def messages(q: common.Query) -> list[dict[str, str]]:
        turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": text} for i, text in enumerate(q.history)]
        return [*turns, {"role": "user", "content": q.question}]

    def direct(q: common.Query) -> float:
        assistant.retriever.clear_question_cache()
        began = time.perf_counter()
        events = assistant.stream(q.question, history=list(q.history) or None)
        next(e for e in events if e.kind in ("sentence", "answer"))
        elapsed = (time.perf_counter() - began) * 1000
        for _ in events:  # the rest of the answer, untimed (as the endpoint's)
            pass
        return elapsed

    def endpoint(q: common.Query) -> float:
        assistant.retriever.clear_question_cache()
        began = time.perf_counter()
        stream = client.chat.completions.create(model="news-rag", messages=messages(q), stream=True)
        next(c for c in stream if c.choices[0].delta.content)
        elapsed = (time.perf_counter() - began) * 1000
        for _ in stream:
            pass
        return elapsed

    systems = {"Assistant.stream, first sentence": direct, "rag serve, first chunk (openai client)": endpoint}
    times: dict[str, list[float]] = {name: [] for name in systems}
    try:
        common.interleaved(systems, queries, repeats, lambda name, q, repeat, ms: times[name].append(ms),
                           warm_up=3, label=f"[{articles} articles] first token")
    finally:
        server.stop()
    names = list(systems)
    paired = [b - a for a, b in zip(times[names[0]], times[names[1]])]
    return {"articles": articles, "passages": assistant.retriever.store.count(), "queries": len(queries),
            "repeats": repeats, "first_token_ms": {name: summary(values) for name, values in times.items()},
            "endpoint_minus_direct_ms": summary(paired)}


def report_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for name, stats in r["first_token_ms"].items():
            rows.append([r["articles"], r["passages"], name, stats["median"], stats["p95"], ""])
        extra = r["endpoint_minus_direct_ms"]
        rows.append([r["articles"], r["passages"], "endpoint minus direct (paired, per question)", extra["median"],
                     extra["p95"], str(extra["n"])])
    return common.table(["articles", "passages", "first token", "median ms", "p95 ms", "pairs"], rows)


def run(article_sizes: list[int], quick: bool = False, repeats: int | None = None) -> list[dict[str, Any]]:
    results = [run_size(n, repeats or (1 if quick else 3), 20 if quick else None) for n in article_sizes]
    print("\n## First token: rag serve against Assistant.stream\n\n" + report_table(results))
    return results


def main() -> None:
    p = common.parser(__doc__.splitlines()[0], default_sizes=(0,))
    p.add_argument("--repeats", type=int, default=None, help="passes over the questions (default 3; quick 1)")
    args = p.parse_args()
    results = run(common.sizes(args), args.quick, args.repeats)
    say(f"wrote {common.save('serve', results)}")


if __name__ == "__main__":
    main()

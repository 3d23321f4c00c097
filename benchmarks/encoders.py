"""The embedding backends of all-MiniLM-L6-v2 side by side: throughput and recall@5 against torch.

    .venv/bin/python -m benchmarks.encoders [--articles N ...] [--quick] [--passages N]

The backends are the project's own (``index.embedding.load_embedder``, chosen by the
``embedding_backend`` setting), all of the same packaged model folder, all offline:

* ``torch``: ``SentenceTransformerEmbedder`` (sentence-transformers, batch 64).
* ``onnx`` (the project's default): ``OnnxEmbedder``, the model's transformer exported once with
  ``torch.onnx.export`` (into ``cache_dir``/onnx, by default ``~/.cache/rag/onnx``) and run with
  onnxruntime's CPU provider; tokenised with the model's own ``tokenizer.json`` (``tokenizers``),
  truncated at its ``max_seq_length`` (256), batches of 64 sorted by length as
  sentence-transformers does, mean-pooled and L2-normalised.
* ``onnx-int8``: that graph with dynamic int8 quantisation of its weights
  (``onnxruntime.quantization.quantize_dynamic``, per channel, QInt8).

``SentenceTransformer(path, backend="onnx")`` is tried as well and its outcome recorded: it needs
``optimum-onnx``, whose only release pins ``transformers<4.58`` while the project runs on
transformers 5, so ``index/embedding.py`` exports with torch and runs onnxruntime itself instead.

Measured: encoding the same ``--passages`` passage texts of the 1,000-article corpus with each
backend, in rounds with rotating order (median passages/s, ratio to torch); embedding one gold
question at a time, as retrieval does (median ms); agreement with torch
(cosine of each passage's vectors); recall@5, recall@1 and MRR@10 of the gold questions
(``evals.metrics.retrieval_scores``) over a store of each corpus in ``--articles`` (default the
seeds alone, as ``rag eval`` does) built with that backend, hybrid and dense retrieval.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.common import say, summary
from index.embedding import BACKENDS, DEFAULT_MODEL, resolve_model


def sentence_transformers_onnx() -> str:
    """What ``SentenceTransformer(path, backend="onnx")`` does here (it is not used further)."""
    try:
        from sentence_transformers import SentenceTransformer

        SentenceTransformer(resolve_model(DEFAULT_MODEL), backend="onnx", device="cpu", local_files_only=True)
        return "loaded"
    except Exception as error:  # noqa: BLE001 - recorded as the outcome
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"


def recall(backend: str, articles: int, queries: list[common.Query]) -> dict[str, Any]:
    """Retrieval quality of the gold questions over a store of ``corpus(articles)`` built with ``backend``."""
    from evals.metrics import retrieval_scores
    from rag.assistant import build_assistant
    from rag.build import ingest_paths

    embedder = common.encoder(backend)
    with tempfile.TemporaryDirectory(prefix="bench-encoder-") as folder:
        config = common.config(Path(folder) / "store", embedding_backend=backend)
        ingest_paths(config, [common.corpus(articles)], progress=False, embedder=lambda: embedder)
        retriever = build_assistant(config, embedder=embedder).retriever
        scores: dict[str, Any] = {}
        for mode in ("hybrid", "dense"):
            rows = [retrieval_scores([p.text for p in retriever.retrieve(q.text, top_k=10, mode=mode)], q.quotes)
                    for q in queries if q.answerable and q.quotes]
            scores[mode] = {k: sum(r[k] for r in rows) / len(rows) for k in ("recall@5", "recall@1", "mrr@10")}
        return scores


def run(article_sizes: list[int], quick: bool = False, passages: int | None = None,
        rounds: int | None = None) -> list[dict[str, Any]]:
    encoders = {name: common.encoder(name) for name in BACKENDS}
    texts = common.passage_texts(common.corpus(common.QUICK_ARTICLES if quick else 1000), passages or (300 if quick else 2000))
    rounds = rounds or (1 if quick else 3)
    names = list(encoders)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    vectors: dict[str, np.ndarray] = {}
    for name in names:  # warm-up
        encoders[name].embed(texts[:64])
    for round_ in range(rounds):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            say(f"encoders: round {round_ + 1}/{rounds}, {name}")
            vectors[name], took = common.timed(lambda: encoders[name].embed(texts))
            seconds[name].append(took)
    rates = {name: summary(len(texts) / s for s in values) for name, values in seconds.items()}
    queries = common.gold_queries()
    single = common.interleaved({name: (lambda q, e=encoders[name]: e.embed_query([q.text])) for name in names}, queries,
                                repeats=1, warm_up=0, label="encoders: one question at a time, as retrieval does")
    result: dict[str, Any] = {
        "key": "encoders", "passages": len(texts), "rounds": rounds,
        "sentence_transformers_backend_onnx": sentence_transformers_onnx(),
        "passages_per_s": rates, "question_ms": {name: summary(values) for name, values in single.items()},
        "over_torch": {name: common.ratio(rates[name]["median"], rates["torch"]["median"]) for name in names},
        "cosine_to_torch": {name: {"mean": float((vectors[name] * vectors["torch"]).sum(1).mean()),
                                   "min": float((vectors[name] * vectors["torch"]).sum(1).min())} for name in names},
        "retrieval": {},
    }
    for articles in article_sizes:
        for name in names:
            say(f"encoders: recall over {articles} articles with {name}")
            result["retrieval"].setdefault(str(articles), {})[name] = recall(name, articles, queries)
    print("\n## Encoder backends\n\n" + report_table([result]))
    return [result]


def report_table(results: list[dict[str, Any]]) -> str:
    r = results[0]
    rows = []
    for name, rate in r["passages_per_s"].items():
        row = [name, rate["median"], f"{r['over_torch'][name]:.2f}", r["question_ms"][name]["median"], f"{r['cosine_to_torch'][name]['mean']:.4f}",
               f"{r['cosine_to_torch'][name]['min']:.4f}"]
        for articles, by_name in r["retrieval"].items():
            scores = by_name[name]
            row += [f"{scores['hybrid']['recall@5']:.3f}", f"{scores['dense']['recall@5']:.3f}"]
        rows.append(row)
    headers = ["backend", f"passages/s ({r['passages']:,} passages)", "vs torch", "one question, median ms", "cosine to torch (mean)",
               "cosine to torch (min)"]
    for articles in r["retrieval"]:
        label = "seeds" if articles == "0" else f"seeds + {int(articles):,} articles"
        headers += [f"recall@5 hybrid ({label})", f"recall@5 dense ({label})"]
    return common.table(headers, rows)


def main() -> None:
    p = common.parser(__doc__.splitlines()[0], default_sizes=(0,))
    p.add_argument("--passages", type=int, default=None, help="passages encoded per backend (default 2000; quick 300)")
    p.add_argument("--rounds", type=int, default=None, help="timed rounds (default 3; quick 1)")
    args = p.parse_args()
    results = run(common.sizes(args) if args.articles else [0], args.quick, args.passages, args.rounds)
    say(f"wrote {common.save('encoders', results)}")


if __name__ == "__main__":
    main()

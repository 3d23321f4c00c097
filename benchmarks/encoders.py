"""Cheaper encoder paths for all-MiniLM-L6-v2: throughput and recall@5 against the torch backend.

    .venv/bin/python -m benchmarks.encoders [--articles N ...] [--quick] [--passages N]

Backends, all of the same packaged model folder, all offline:

* ``torch``: the project's ``SentenceTransformerEmbedder`` (sentence-transformers, batch 64).
* ``onnx``: the model exported once with ``torch.onnx.export`` (mean pooling in the graph) to
  ``benchmarks/.cache/onnx/model.onnx``, run with onnxruntime's CPU provider; tokenised with the
  model's own ``tokenizer.json`` (``tokenizers``), truncated at the model's 256 tokens, batches of
  64 sorted by length as sentence-transformers does, L2-normalised.
* ``onnx-int8``: that graph with dynamic int8 quantisation of its weights
  (``onnxruntime.quantization.quantize_dynamic``, per channel, QInt8).

``SentenceTransformer(path, backend="onnx")`` is tried first and its outcome recorded: it needs
``optimum-onnx``, whose only release pins ``transformers<4.58`` while the project runs on
transformers 5, so the export is done directly with torch and onnxruntime instead.

Measured: encoding the same ``--passages`` passage texts of the 1,000-article corpus with each
backend, in rounds with rotating order (median passages/s, ratio to torch); embedding one gold
question at a time, as retrieval does (median ms); agreement with torch
(cosine of each passage's vectors); recall@5, recall@1 and MRR@10 of the gold questions
(``evals.metrics.retrieval_scores``) over a store of each corpus in ``--articles`` (default the
seeds alone, as ``rag eval`` does) built with that backend, hybrid and dense retrieval.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.common import CACHE, say, summary
from index.embedding import DEFAULT_MODEL, Embedder, canonical_name, resolve_model

ONNX_DIR = CACHE / "onnx"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)


def export_onnx(folder: Path = ONNX_DIR) -> dict[str, Path]:
    """Export the packaged model to ONNX (fp32, mean pooling in the graph) and an int8 copy; once."""
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    if fp32.exists() and int8.exists():
        return {"onnx": fp32, "onnx-int8": int8}
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    location = resolve_model(DEFAULT_MODEL)
    model = AutoModel.from_pretrained(location).eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    sample = AutoTokenizer.from_pretrained(location)(["a probe", "a longer probe sentence"], padding=True,
                                                     return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"embedding": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(MeanPooled(model), tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return {"onnx": fp32, "onnx-int8": int8}


class OnnxEmbedder(Embedder):
    """all-MiniLM-L6-v2 through onnxruntime (see the module docstring)."""

    def __init__(self, path: Path, batch_size: int = 64):
        import onnxruntime
        from tokenizers import Tokenizer

        self.name, self.dimension, self.batch_size = canonical_name(DEFAULT_MODEL), 384, batch_size
        self.tokenizer = Tokenizer.from_file(str(Path(resolve_model(DEFAULT_MODEL)) / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def _embed(self, texts: list[str]) -> np.ndarray:
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(texts), self.batch_size):
            chosen = order[begin:begin + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in chosen])
            feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                     "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                     "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
            out[chosen] = self.session.run(None, feeds)[0]
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)


def sentence_transformers_onnx() -> str:
    """What ``SentenceTransformer(path, backend="onnx")`` does here (it is not used further)."""
    try:
        from sentence_transformers import SentenceTransformer

        SentenceTransformer(resolve_model(DEFAULT_MODEL), backend="onnx", device="cpu", local_files_only=True)
        return "loaded"
    except Exception as error:  # noqa: BLE001 - recorded as the outcome
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"


def backends() -> tuple[dict[str, Embedder], str]:
    """The torch embedder and, if onnx/onnxruntime are installed, the two ONNX ones."""
    found: dict[str, Embedder] = {"torch": common.embedder()}
    try:
        paths = export_onnx()
    except ImportError as error:
        return found, f"ONNX backends skipped: {error} (pip install -e '.[bench]')"
    found.update({name: OnnxEmbedder(path) for name, path in paths.items()})
    return found, ""


def recall(embedder: Embedder, articles: int, queries: list[common.Query]) -> dict[str, Any]:
    """Retrieval quality of the gold questions over a store of ``corpus(articles)`` built with ``embedder``."""
    from evals.metrics import retrieval_scores
    from rag.build import build_assistant, ingest_paths

    with tempfile.TemporaryDirectory(prefix="bench-encoder-") as folder:
        config = common.config(Path(folder) / "store")
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
    encoders, note = backends()
    if note:
        say(note)
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
    single: dict[str, list[float]] = {name: [] for name in names}  # one question at a time, as retrieval does
    for i, q in enumerate(queries):
        for name in names[i % len(names):] + names[:i % len(names)]:
            began = time.perf_counter()
            encoders[name].embed([q.text])
            single[name].append((time.perf_counter() - began) * 1000)
    result: dict[str, Any] = {
        "key": "encoders", "passages": len(texts), "rounds": rounds, "note": note,
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
            result["retrieval"].setdefault(str(articles), {})[name] = recall(encoders[name], articles, queries)
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

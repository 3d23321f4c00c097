"""Ingest throughput against the raw encoder, the llama-index starter's ingest, and re-ingest of an
unchanged corpus.

    .venv/bin/python -m benchmarks.ingest [--articles N ...] [--quick]

For each corpus (the seeds plus N synthetic articles, or ``--corpus bbc``: the 2,225 BBC News
articles), in rounds whose order rotates so that drift on a shared machine hits all three alike:

* **ours**: ``rag.build.ingest_paths`` into a fresh embedded store (read, clean, chunk, embed,
  write article by article with the all-or-nothing protocol) with the ``--encoder`` backend of
  ``index.embedding`` (default ``onnx``, the project's). The embedding model is loaded beforehand
  and not counted; the time spent inside the encoder is recorded too.
* **raw encoder**: the same backend's encoder alone, same model and batch size (64), normalised,
  on the same passage texts (the first ``--raw-limit`` of them at the large size):
  ``SentenceTransformer.encode`` for ``torch``, the embedder's ``embed`` of the whole list for
  ``onnx`` and ``onnx-int8``.
* **starter**: llama-index's ``VectorStoreIndex.from_documents`` over Chroma with
  ``HuggingFaceEmbedding`` (torch; :mod:`benchmarks.starter`), model loaded beforehand; with
  ``--encoder onnx-int8`` its passages are embedded by our int8 embedder instead.

The kept store and starter index record the backend that embedded them (``.bench-encoder``), so
the other benchmarks open them with a matching configuration (:func:`benchmarks.common.config`).

Then the unchanged corpus is ingested again: in-process (median of 3; the embedding model must not
be asked for) and as ``rag ingest`` in a subprocess (process start to exit, median of 3).
The pipeline's overhead is ours/raw; passages/s counts each system's own passages (the starter's
chunks are ~1,000 tokens, ours ~4 sentences), so the like-for-like comparison is articles/s (files
read: a file whose text is already indexed, as 98 of the BBC corpus are, is read and skipped by
ours and indexed again by the starter). Also the space each kept index takes on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Any

from benchmarks import common
from benchmarks.common import CACHE, say, summary
from index.embedding import BACKENDS, Embedder


class TimedEmbedder(Embedder):
    """Wraps an embedder and adds up the seconds spent encoding."""

    def __init__(self, inner: Embedder):
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.seconds = 0.0

    def _embed(self, texts: list[str]):
        began = time.perf_counter()
        try:
            return self.inner._embed(texts)
        finally:
            self.seconds += time.perf_counter() - began

    def _embed_query(self, texts: list[str]):
        return self.inner._embed_query(texts)  # ingest embeds passages only; questions are not timed


def raw_encode(model: Any, backend: str, texts: list[str]) -> Any:
    """The encoder alone on ``texts``: ``SentenceTransformer.encode`` for ``torch`` (called as the
    project's embedder calls it), the embedder's own ``embed`` for the onnx backends."""
    if backend == "torch":
        return model._model.encode(texts, batch_size=model.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
    return model.embed(texts)


def _refuse() -> Embedder:
    raise AssertionError("re-ingest of an unchanged corpus asked for the embedding model")


def run_size(articles: common.Key, *, rounds: int, raw_limit: int | None, reingest_runs: int, cli_runs: int,
             encoder: str = "onnx") -> dict[str, Any]:
    from rag.build import ingest_paths

    folder = common.corpus(articles)
    files = len(common.corpus_files(folder))
    model = common.encoder(encoder)
    texts = common.passage_texts(folder, raw_limit)
    answerer = None
    try:
        from benchmarks.starter import onnx_embed_model, starter_embed_model
        from rag.answerers import ExtractiveAnswerer

        starter_embed_model()
        build_embed_model = onnx_embed_model(model) if encoder == "onnx-int8" else None
        answerer = ExtractiveAnswerer()
    except ImportError as error:
        say(f"starter skipped: {error} (scripts/install.sh installs llama-index)")

    # Per process and size: benchmarks may run side by side, and chromadb keeps a client per path
    # for the life of the process, so a path must not be deleted and used again.
    work = CACHE / f"work-{os.getpid()}-{articles}"
    shutil.rmtree(work, ignore_errors=True)
    final_store, final_starter = common.store_path(articles), common.starter_path(articles)
    shutil.rmtree(final_store, ignore_errors=True)
    shutil.rmtree(final_starter, ignore_errors=True)
    samples: dict[str, list[float]] = {"ours": [], "raw": [], "starter": [], "encoder_share": []}
    passages = chunks = indexed = 0
    steps = ["ours", "raw"] + (["starter"] if answerer else [])
    for round_ in range(rounds):
        last = round_ == rounds - 1
        store = final_store if last else work / f"store-{round_}"
        starter_dir = final_starter if last else work / f"starter-{round_}"
        for step in steps[round_ % len(steps):] + steps[:round_ % len(steps)]:
            say(f"[{articles} articles] round {round_ + 1}/{rounds}: {step}")
            if step == "ours":
                timed = TimedEmbedder(model)
                report, seconds = common.timed(lambda: ingest_paths(common.config(store, embedding_backend=encoder),
                                                                    [folder], progress=False, embedder=lambda: timed))
                passages, indexed = report.passages_embedded, len(report.added)
                samples["ours"].append(seconds)
                samples["encoder_share"].append(timed.seconds / seconds)
            elif step == "raw":
                _, seconds = common.timed(lambda: raw_encode(model, encoder, texts))
                samples["raw"].append(seconds)
            else:
                from benchmarks.starter import Starter

                starter = Starter(folder, answerer, starter_dir, build=True, build_embed_model=build_embed_model)
                samples["starter"].append(starter.index_seconds)
                chunks = starter.chunks()
    common.mark_ready(final_store, encoder)
    if answerer:
        common.mark_ready(final_starter, "onnx-int8" if build_embed_model else "torch")
    shutil.rmtree(work, ignore_errors=True)

    reingest = []
    for _ in range(reingest_runs):
        report, seconds = common.timed(lambda: ingest_paths(common.config(final_store), [folder], progress=False,
                                                            embedder=_refuse))
        assert report.passages_embedded == 0 and len(report.unchanged) == indexed, report.summary()
        reingest.append(seconds)
    cli = []
    for _ in range(cli_runs):
        command = common.rag_command() + ["--store", str(final_store), "ingest", str(folder), "--no-progress"]
        began = time.perf_counter()
        done = subprocess.run(command, cwd=common.ROOT, env=common.rag_env(final_store), capture_output=True, text=True)
        cli.append(time.perf_counter() - began)
        if done.returncode != 0 or "passages embedded: 0" not in done.stdout:
            raise RuntimeError(f"rag ingest failed or embedded something: {done.stdout}{done.stderr}")

    ours = summary(passages / s for s in samples["ours"])
    raw = summary(len(texts) / s for s in samples["raw"])
    ours_articles = summary(files / s for s in samples["ours"])
    starter_articles = summary(files / s for s in samples["starter"]) if samples["starter"] else None
    return {
        "articles": files, "synthetic_articles": articles, "indexed_articles": indexed, "encoder": encoder,
        "passages": passages, "starter_chunks": chunks, "raw_passages": len(texts),
        "disk_mib": {"ours": common.disk_mib(final_store),
                     "starter": common.disk_mib(final_starter) if answerer else None},
        "rounds": rounds, "model_batch_size": model.batch_size,
        "ours_passages_per_s": ours, "raw_passages_per_s": raw,
        "ours_over_raw": common.ratio(ours.get("median"), raw.get("median")),
        "encoder_share_of_ingest": summary(samples["encoder_share"]),
        "ours_articles_per_s": ours_articles,
        "starter_articles_per_s": starter_articles,
        "starter_chunks_per_s": summary(chunks / s for s in samples["starter"]) if samples["starter"] else None,
        "ours_over_starter_articles": common.ratio(ours_articles.get("median"),
                                                   starter_articles and starter_articles.get("median")),
        "reingest_unchanged_s": summary(reingest), "cli_reingest_unchanged_s": summary(cli),
        "seconds": {k: v for k, v in samples.items() if k != "encoder_share"},
    }


def report_table(results: list[dict[str, Any]]) -> str:
    med = lambda d: d.get("median") if d else None  # noqa: E731
    rows = [[common.fmt(r.get("synthetic_articles", r["articles"])), r.get("encoder", "torch"),
             r["passages"], med(r["ours_passages_per_s"]), med(r["raw_passages_per_s"]),
             f"{r['ours_over_raw']:.2f}", f"{med(r['encoder_share_of_ingest']):.2f}",
             med(r["ours_articles_per_s"]), med(r["starter_articles_per_s"]), r["starter_chunks"],
             common.fmt(r["ours_over_starter_articles"], 2), common.fmt(med(r["reingest_unchanged_s"]), 2),
             common.fmt(med(r["cli_reingest_unchanged_s"]), 1),
             disk(r, "ours"), disk(r, "starter")] for r in results]
    return common.table(["articles", "encoder", "passages", "ours passages/s", "raw encoder passages/s", "ours/raw",
                         "encoder share of ingest", "ours articles/s", "starter articles/s", "starter chunks",
                         "ours/starter (articles/s)", "re-ingest unchanged, in-process s (median)",
                         "`rag ingest` unchanged, process s (median)", "ours on disk MiB",
                         "starter on disk MiB"], rows)


def disk(result: dict[str, Any], name: str) -> str:
    value = (result.get("disk_mib") or {}).get(name)
    return common.fmt(value, 0) if value is not None else "n/a"


def run(article_sizes: list[common.Key], quick: bool = False, rounds: int | None = None,
        raw_limit: int | None = None, encoder: str = "onnx") -> list[dict[str, Any]]:
    results = []
    for n in article_sizes:
        small = not common.is_bbc(n) and n <= 1000  # the BBC corpus (~17,000 passages): one round, every passage
        r = rounds or (1 if quick else 2 if small else 1)
        limit = raw_limit if raw_limit is not None else (None if small or n == "bbc" else 20_000)
        results.append(run_size(n, rounds=r, raw_limit=limit, reingest_runs=3, cli_runs=1 if quick else 3,
                                encoder=encoder))
    print("\n## Ingest\n\n" + report_table(results))
    return results


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=None,
                   help="timed rounds (default 2 up to 1,000 synthetic articles, else 1)")
    p.add_argument("--raw-limit", type=int, default=None,
                   help="passages the raw encoder encodes (default all up to 1,000 synthetic articles and for "
                        "bbc, else 20,000)")
    p.add_argument("--encoder", choices=list(BACKENDS), default="onnx",
                   help="the embedding backend ours indexes with, and the raw baseline's (default onnx, the "
                        "project's; onnx-int8 builds the largest corpus ~2x faster, and the starter's too)")
    args = p.parse_args()
    results = run(common.sizes(args), args.quick, args.rounds, args.raw_limit, args.encoder)
    say(f"wrote {common.save('ingest', results)}")


if __name__ == "__main__":
    main()

"""Embedded Chroma against a Chroma server on loopback, same corpus: ingest and retrieval.

    .venv/bin/python -m benchmarks.chroma_server [--articles N ...] [--quick]

A server is started with ``chroma run --path DIR --host 127.0.0.1 --port PORT`` (stopped at the
end). To compare the stores rather than the encoder, both ingests take their vectors from the
project's embedded store of the same corpus (built by ``benchmarks.ingest``, or here, untimed):
a cached embedder returns the stored vector of each passage text. Timed: ``rag.build.ingest_paths``
(clean, chunk, write with the all-or-nothing protocol) into a fresh embedded store and into the
empty server, alternating which goes first each round; then opening each for retrieval
(``build_assistant``: pages every passage out of Chroma for the BM25 index), and
``Retriever.retrieve(question, top_k=5, mode=...)`` for every gold question in the dense, keyword
and hybrid modes on both, in rotating order: median and p95, server/embedded ratios. The
questions' vectors are cached too, so these latencies leave out embedding the question.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.common import CACHE, say, summary
from index.embedding import Embedder

MODES = ("dense", "keyword", "hybrid")


class CachedEmbedder(Embedder):
    """Returns stored vectors by passage text; texts it doesn't know go to the real model (counted).
    Questions are remembered apart (a model with prompts embeds them otherwise)."""

    def __init__(self, inner: Embedder, vectors: dict[str, np.ndarray]):
        self.inner, self.name, self.dimension, self.vectors, self.misses = inner, inner.name, inner.dimension, vectors, 0
        self.questions: dict[str, np.ndarray] = {}

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, self.vectors, self.inner.embed)

    def _embed_query(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, self.questions, self.inner.embed_query)

    def _cached(self, texts: list[str], vectors: dict[str, np.ndarray], embed) -> np.ndarray:
        missing = [t for t in texts if t not in vectors]
        if missing:
            self.misses += len(missing)
            vectors.update(zip(missing, embed(missing)))
        return np.stack([vectors[t] for t in texts])


def stored_vectors(store: Path, page: int = 5000) -> dict[str, np.ndarray]:
    import chromadb
    from chromadb.config import Settings

    collection = chromadb.PersistentClient(path=str(store), settings=Settings(anonymized_telemetry=False)) \
        .get_collection("articles")
    vectors: dict[str, np.ndarray] = {}
    offset = 0
    while True:
        found = collection.get(limit=page, offset=offset, include=["embeddings", "documents"])
        vectors.update(zip(found["documents"], np.asarray(found["embeddings"], dtype=np.float32)))
        if len(found["ids"]) < page:
            return vectors
        offset += page


class ChromaServer:
    """``chroma run`` on a free loopback port, for the duration of a ``with`` block."""

    def __init__(self, folder: Path):
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def __enter__(self) -> "ChromaServer":
        import chromadb

        shutil.rmtree(self.folder, ignore_errors=True)
        executable = Path(sys.executable).parent / "chroma"
        self.log = open(self.folder.parent / f"{self.folder.name}.log", "w")
        self.process = subprocess.Popen([str(executable), "run", "--path", str(self.folder), "--host", "127.0.0.1",
                                         "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=self.port).heartbeat()
                return self
            except Exception:  # noqa: BLE001 - not up yet
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"chroma run did not start; see {self.log.name}")
                time.sleep(0.5)

    def __exit__(self, *_: Any) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def run_size(articles: common.Key, rounds: int, repeats: int, limit: int | None) -> dict[str, Any]:
    from rag.assistant import build_assistant
    from rag.build import ingest_paths

    folder = common.corpus(articles)
    store = common.prepared_store(articles)
    backend = common.config(store).embedding_backend
    cached = CachedEmbedder(common.encoder(backend), stored_vectors(store))
    work = CACHE / f"work-server-{os.getpid()}-{articles}"  # a path chromadb has seen is never reused
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with ChromaServer(work / "server") as server:
        configs = {"embedded": lambda r: common.config(work / f"embedded-{r}", embedding_backend=backend),
                   "server": lambda r: common.config(work / "unused", embedding_backend=backend,
                                                     chroma_host="127.0.0.1", chroma_port=server.port)}
        ingest: dict[str, list[float]] = {"embedded": [], "server": []}
        passages = 0
        for round_ in range(rounds):
            for kind in (["embedded", "server"] if round_ % 2 == 0 else ["server", "embedded"]):
                say(f"[{articles} articles] {kind} ingest, round {round_ + 1}/{rounds}")
                report, seconds = common.timed(lambda: ingest_paths(configs[kind](round_), [folder], progress=False,
                                                                    rebuild=True, embedder=lambda: cached))
                passages = report.passages_embedded
                ingest[kind].append(seconds)
        assistants, load = {}, {}
        for kind in ("embedded", "server"):
            assistants[kind], load[kind] = common.timed(
                lambda: build_assistant(configs[kind](rounds - 1), embedder=cached))
        queries = common.gold_queries(limit, articles)
        cached.embed_query([q.text for q in queries])  # every question's vector is cached: the stores are compared
        calls = {f"{kind} {mode}": (lambda q, r=assistants[kind].retriever, m=mode: r.retrieve(q.text, top_k=5, mode=m))
                 for kind in ("embedded", "server") for mode in MODES}
        times = common.interleaved(calls, queries, repeats, label=f"[{articles} articles] retrieval")
    shutil.rmtree(work, ignore_errors=True)
    latency = {name: summary(values) for name, values in times.items()}
    rate = {kind: summary(passages / s for s in values) for kind, values in ingest.items()}
    return {
        "articles": articles, "passages": passages, "rounds": rounds, "repeats": repeats, "vector_cache_misses": cached.misses,
        "ingest_passages_per_s": rate, "server_over_embedded_ingest": common.ratio(rate["server"]["median"],
                                                                                  rate["embedded"]["median"]),
        "load_s": load, "latency_ms": latency,
        "server_over_embedded_latency": {m: common.ratio(latency[f"server {m}"]["median"],
                                                         latency[f"embedded {m}"]["median"]) for m in MODES},
    }


def report_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for kind in ("embedded", "server"):
            rows.append([r["articles"], r["passages"], kind, r["ingest_passages_per_s"][kind]["median"],
                         r["load_s"][kind]] + [r["latency_ms"][f"{kind} {m}"]["median"] for m in MODES]
                        + [r["latency_ms"][f"{kind} hybrid"]["p95"]])
        rows.append([r["articles"], r["passages"], "server / embedded", f"{r['server_over_embedded_ingest']:.2f}",
                     f"{r['load_s']['server'] / r['load_s']['embedded']:.2f}"]
                    + [f"{r['server_over_embedded_latency'][m]:.2f}" for m in MODES] + [""])
    return common.table(["articles", "passages", "Chroma", "ingest passages/s (stored vectors)", "open s (incl. BM25)",
                         "dense median ms", "keyword median ms", "hybrid median ms", "hybrid p95 ms"], rows)


def run(article_sizes: list[common.Key], quick: bool = False, rounds: int | None = None,
        repeats: int | None = None) -> list[dict[str, Any]]:
    results = [run_size(n, rounds or (1 if quick else 2), repeats or (1 if quick else 2), 20 if quick else None)
               for n in article_sizes]
    print("\n## Embedded Chroma vs a Chroma server on loopback\n\n" + report_table(results))
    return results


def main() -> None:
    p = common.parser(__doc__.splitlines()[0], default_sizes=(1000,))
    p.add_argument("--rounds", type=int, default=None, help="ingest rounds (default 2; quick 1)")
    p.add_argument("--repeats", type=int, default=None, help="passes over the questions (default 2; quick 1)")
    args = p.parse_args()
    results = run(common.sizes(args), args.quick, args.rounds, args.repeats)
    say(f"wrote {common.save('chroma_server', results)}")


if __name__ == "__main__":
    main()

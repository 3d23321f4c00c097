"""What the benchmark scripts share: corpora, prepared stores and the embedders to open them with,
the gold queries, the interleaved timing loop, statistics, tables and JSON results.

A corpus is named by a key: a number N is the seeds plus N synthetic recombinations of them
(:mod:`benchmarks.corpus`); ``"bbc"`` is the real corpus, the 2,225 BBC News articles of the
public data's ``bbc/`` (:func:`bbc`: ``../shared/data`` beside the project, ``$RAG_DATA`` or
``--data``; its NOTICE: source and terms), asked the news suite's questions; ``"bbc-xN"`` is that
corpus N times over, each copy's titles changed so that no text repeats (for a passage count
beyond one real corpus: speed only, never quality). A run that asks for it without the data stops
before any work, saying what is missing and where it comes from.

Every benchmark reports medians, p95s and ratios of things measured side by side in one run (the
machines are shared and noisy: a single absolute time means little). Corpora and stores live in
``benchmarks/.cache/`` and results in ``benchmarks/results/`` (both git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from rag import public_data

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "results"
QUICK_ARTICLES = 20  # --quick: the seeds plus 20 synthetic articles (~280 passages)
FULL_ARTICLES = (1000, 10000)  # ~10,000 and ~100,000 passages
_READY = ".bench-ready"
_ENCODER = ".bench-encoder"


# ---- arguments -------------------------------------------------------------------------------


Key = int | str  # a corpus: synthetic articles added to the seeds, or "bbc" / "bbc-xN" (module docstring)


def corpus_key(text: str) -> Key:
    """A corpus named on the command line: a number of synthetic articles, ``bbc`` or ``bbc-xN``."""
    if text.isdigit():
        return int(text)
    if text == "bbc" or (text.startswith("bbc-x") and text[5:].isdigit() and int(text[5:]) >= 1):
        return text
    raise argparse.ArgumentTypeError(f"a corpus is a number of synthetic articles, bbc or bbc-xN, not {text!r}")


def is_bbc(key: Key) -> bool:
    return isinstance(key, str)


def bbc_copies(key: Key) -> int:
    """How many times ``key`` holds the BBC corpus (1 for ``bbc``)."""
    return int(key[5:]) if isinstance(key, str) and key.startswith("bbc-x") else 1


class _DataFolder(argparse.Action):
    """``--data DIR``: the public data folder, for this process (sets ``$RAG_DATA``)."""

    def __call__(self, parser, namespace, value, option_string=None) -> None:
        public_data.use(value)
        setattr(namespace, self.dest, value)


def add_data_option(p: argparse.ArgumentParser) -> None:
    """``--data DIR``, where the BBC corpus is found (:func:`bbc`)."""
    p.add_argument("--data", action=_DataFolder, metavar="DIR",
                   help=f"the public data folder holding bbc/ (default: ${public_data.ENV}, else ../shared/data "
                        "beside the project)")


def parser(description: str, default_sizes: Sequence[int] = FULL_ARTICLES) -> argparse.ArgumentParser:
    """``--articles N [N ...]`` (synthetic articles added to the seeds; 0 = the seeds alone; or
    ``bbc`` / ``bbc-xN``), ``--corpus bbc`` (the real corpus: the same as ``--articles bbc``),
    ``--quick`` (the seeds plus 20 articles, fewer repeats: a smoke run) and ``--data DIR``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--articles", type=corpus_key, nargs="+", default=None,
                   help=f"corpus sizes in synthetic articles, or bbc / bbc-xN (default "
                        f"{' '.join(map(str, default_sizes))})")
    p.add_argument("--corpus", choices=["synthetic", "bbc"], default="synthetic",
                   help="bbc: the 2,225 real BBC News articles (the public data's bbc/) and the news suite's questions")
    p.add_argument("--quick", action="store_true", help=f"a smoke run: the seeds plus {QUICK_ARTICLES} articles, fewer repeats")
    add_data_option(p)
    p.set_defaults(default_sizes=list(default_sizes))
    return p


def sizes(args: argparse.Namespace) -> list[Key]:
    """The corpora to run on; when the BBC corpus is one of them and is missing, the run stops here."""
    if args.articles:
        keys = list(args.articles)
    elif getattr(args, "corpus", "synthetic") == "bbc":
        keys = ["bbc"]
    else:
        keys = [QUICK_ARTICLES] if args.quick else list(args.default_sizes)
    if any(map(is_bbc, keys)):
        bbc()
    return keys


# ---- statistics and output -------------------------------------------------------------------


def summary(values: Iterable[float]) -> dict[str, float]:
    """Median, p95 (linear interpolation), min and count."""
    values = [float(v) for v in values]
    if not values:
        return {"n": 0}
    return {"median": float(np.median(values)), "p95": float(np.percentile(values, 95)),
            "min": min(values), "n": len(values)}


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else a / b


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = function()
    return result, time.perf_counter() - began


def interleaved(systems: dict[str, Callable[[Query], Any]], queries: Sequence[Query], repeats: int,
                on_result: Callable[[str, Query, int, Any], None] | None = None, *, label: str,
                warm_up: int = 3) -> dict[str, list[float]]:
    """Milliseconds per call of each system, by name. Untimed, each system first gets the first
    ``warm_up`` queries; then, ``repeats`` times, each query goes to every system in turn, the order
    rotating from query to query and from pass to pass (so drift on a shared machine hits all
    alike). ``on_result(name, query, repeat, result)`` is told each call's result, outside the time;
    ``label`` starts each pass's progress line."""
    for call in systems.values():
        for q in queries[:warm_up]:
            call(q)
    names = list(systems)
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        say(f"{label}, repeat {repeat + 1}/{repeats}")
        for i, q in enumerate(queries):
            shift = (i + repeat) % len(names)
            for name in names[shift:] + names[:shift]:
                began = time.perf_counter()
                result = systems[name](q)
                times[name].append((time.perf_counter() - began) * 1000)
                if on_result:
                    on_result(name, q, repeat, result)
    return times


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (what the README shows)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(cell) if not isinstance(cell, str) else cell for cell in row) + " |"
              for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cores": os.cpu_count(), "memory_gib": round(memory, 1), "python": platform.python_version(),
            "platform": platform.platform()}


def save(name: str, results: list[dict[str, Any]], **extra: Any) -> Path:
    """Merge ``results`` into ``benchmarks/results/<name>.json``: each entry gets the date and the
    command that measured it, and replaces an earlier entry for the same corpus (its ``key``, else
    its ``articles``), so sizes measured by separate commands end up in one file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    stamp = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "command": " ".join(["python -m", f"benchmarks.{Path(sys.argv[0]).stem}", *sys.argv[1:]])}
    key = lambda entry: entry.get("key", entry.get("articles"))  # noqa: E731
    fresh = [{**entry, **stamp} for entry in results]
    kept = []
    if path.exists():
        try:
            kept = json.loads(path.read_text(encoding="utf-8")).get("results", [])
        except ValueError:
            kept = []
    new_keys = {key(entry) for entry in fresh}
    merged = sorted([e for e in kept if key(e) not in new_keys] + fresh, key=lambda e: str(key(e)).zfill(12))
    document = {"benchmark": name, "machine": machine(), "results": merged, **extra}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def load(name: str) -> list[dict[str, Any]]:
    """The entries of ``benchmarks/results/<name>.json`` (none if it was never run)."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))["results"] if path.exists() else []


_STARTED = time.perf_counter()


def say(*parts: Any) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.1f}s]", *parts, file=sys.stderr, flush=True)


# ---- corpora and stores ----------------------------------------------------------------------


def corpus(articles: Key) -> Path:
    """The folder of corpus ``articles``: for a number, a flat folder with the five seeds plus that
    many synthetic articles (deterministic; made once and kept in the cache); for ``bbc``, the
    BBC folder itself (topic subfolders); for ``bbc-xN``, N copies of it (:func:`bbc_corpus`)."""
    if is_bbc(articles):
        return bbc_corpus(bbc_copies(articles))
    folder = CACHE / f"corpus-{articles}"
    if (folder / _READY).exists():
        return folder
    from benchmarks.corpus import write_corpus

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copyfile(seed, folder / seed.name)
    if articles:
        write_corpus(folder, articles, SEEDS)
    (folder / _READY).write_text("ok\n")
    return folder


def bbc() -> Path:
    """The BBC corpus folder of the public data (``rag.public_data``). When it is missing, exits
    with the message that says which folder, where it comes from and how to point at a copy."""
    try:
        return public_data.require("bbc")
    except public_data.DataMissing as error:
        raise SystemExit(f"error: {error}") from None


def bbc_corpus(copies: int = 1) -> Path:
    """The BBC corpus (:func:`bbc`; ``copies`` 1), or a cached folder holding it ``copies`` times:
    ``copy-1/`` is the corpus as it is, and in ``copy-k/`` every article's title line ends with
    " (copy k)", so its text, and hence its id and version, differ (the store indexes a text once)."""
    corpus = bbc()
    if copies == 1:
        return corpus
    folder = CACHE / f"corpus-bbc-x{copies}"
    if (folder / _READY).exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for k in range(1, copies + 1):
        for path in sorted(corpus.glob("*/*.txt")):
            target = folder / f"copy-{k}" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            if k > 1:
                title, newline, rest = data.partition(b"\n")
                data = title.rstrip() + f" (copy {k})".encode() + newline + rest
            target.write_bytes(data)
    (folder / _READY).write_text("ok\n")
    return folder


def corpus_files(folder: Path) -> list[Path]:
    """The article files of a corpus folder, subfolders included, in a stable order."""
    return sorted(folder.rglob("*.txt"))


def config(store: Path, **settings: Any):
    """The default configuration over ``store`` (embedded Chroma), not read from the environment. A
    store whose passages were embedded by ``onnx-int8`` (:func:`stored_with`) gets that
    ``embedding_backend``, which its manifest requires; any other opens with the project's default
    backend (torch and onnx vectors are the same)."""
    from rag.config import Config

    if stored_with(store) == "onnx-int8":
        settings.setdefault("embedding_backend", "onnx-int8")
    return Config(store_path=store, llm=settings.pop("llm", "extractive"), **settings)


def store_path(articles: Key) -> Path:
    return CACHE / f"store-{articles}"


#: Ways to embed the corpus that ``benchmarks.embedders`` compares, by name: the settings each
#: changes (everything else is the project's default).
EMBEDDERS: dict[str, dict[str, Any]] = {
    "minilm": {},
    "minilm-int8": {"embedding_backend": "onnx-int8"},
    "minilm+header": {"passage_header": True},
    "e5": {"embedding_model": "multilingual-e5-small"},
    "e5+header": {"embedding_model": "multilingual-e5-small", "passage_header": True},
}


def embedder_store(variant: str) -> Path:
    """The store of the whole BBC corpus embedded the ``variant`` way (:data:`EMBEDDERS`): the
    default's is ``store_path("bbc")``, the others' are built by ``benchmarks.embedders``."""
    return store_path("bbc") if variant == "minilm" else CACHE / f"store-bbc-{variant}"


def starter_path(articles: Key) -> Path:
    return CACHE / f"starter-{articles}"


def disk_mib(path: Path) -> float:
    """Space the files under ``path`` take on disk (allocated blocks), in MiB."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 2**20


def mark_ready(folder: Path, backend: str | None = None) -> None:
    """Mark a corpus, store or starter index complete; for a store or index, record the embedding
    ``backend`` that computed its passage vectors (read back by :func:`stored_with`)."""
    if backend:
        (folder / _ENCODER).write_text(backend + "\n")
    (folder / _READY).write_text("ok\n")


def is_ready(folder: Path) -> bool:
    return (folder / _READY).exists()


_ENCODERS: dict[str, Any] = {}


def encoder(backend: str) -> Any:
    """all-MiniLM-L6-v2 (batch 64) on ``backend`` (``torch``, ``onnx`` or ``onnx-int8``), loaded by
    ``rag.build.embedder_factory`` (``index.embedding.load_embedder``) as ``rag`` loads it; once per
    process."""
    if backend not in _ENCODERS:
        from rag.build import embedder_factory

        _ENCODERS[backend] = embedder_factory(config(CACHE / "unused", embedding_backend=backend))()
    return _ENCODERS[backend]


def embedder(store: Path | None = None) -> Any:
    """The project's configured embedder (its default backend, onnx), or the one :func:`config`
    opens ``store`` with."""
    return encoder(config(store or CACHE / "unused").embedding_backend)


def stored_with(folder: Path) -> str:
    """Which backend computed the stored passage vectors of a prepared store or starter index
    (torch for one prepared before backends were recorded)."""
    marker = folder / _ENCODER
    return marker.read_text().strip() if marker.exists() else "torch"


def prepared_store(articles: Key) -> Path:
    """The project's store over ``corpus(articles)``: built by ``benchmarks.ingest`` (reused), or
    built here, untimed, when a benchmark needs it first."""
    path = store_path(articles)
    if is_ready(path):
        return path
    from rag.build import ingest_paths

    say(f"building the store for {articles} articles (untimed) ...")
    shutil.rmtree(path, ignore_errors=True)
    settings = config(path)  # the project's default backend
    model = embedder()
    ingest_paths(settings, [corpus(articles)], progress=False, embedder=lambda: model)
    mark_ready(path, settings.embedding_backend)
    return path


def prepared_starter(articles: Key, answerer: Any, top_k: int = 2):
    """The llama-index starter over ``corpus(articles)``, reopened without re-embedding (built,
    untimed, when missing)."""
    from benchmarks.starter import Starter

    path = starter_path(articles)
    build = not is_ready(path)
    if build:
        say(f"building the llama-index starter index for {articles} articles (untimed) ...")
        shutil.rmtree(path, ignore_errors=True)
    starter = Starter(corpus(articles), answerer, path, top_k=top_k, build=build)
    if build:
        mark_ready(path, "torch")  # HuggingFaceEmbedding
    return starter


# ---- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    id: str
    text: str  # the standalone question (follow-ups joined with their previous question)
    question: str
    history: tuple[str, ...]
    answerable: bool
    quotes: tuple[str, ...]


def gold_queries(limit: int | None = None, articles: Key = 0) -> list[Query]:
    """The gold questions about corpus ``articles`` as queries: for the synthetic corpora the seeds'
    (``evals/data/questions.jsonl``), for the BBC ones the news suite's, dev then test
    (:func:`news_questions`)."""
    from evals.runner import load_questions
    from rag.conversation import standalone

    queries = []
    for gold in (news_questions("dev") + news_questions("test") if is_bbc(articles) else load_questions()):
        history = tuple(gold.get("history") or ())
        queries.append(Query(gold["id"], standalone(gold["question"], list(history) or None), gold["question"],
                             history, gold["answerable"], tuple(e["quote"] for e in gold.get("evidence", []))))
    return queries[:limit] if limit else queries


def news_questions(split: str) -> list[dict[str, Any]]:
    """The news suite's gold questions of ``split`` (dev: ``bbc_dev_questions.jsonl``, test:
    ``bbc_questions.jsonl``), or with ``scale-dev`` the dev questions written for the whole corpus
    (``bbc_scale_dev_questions.jsonl``), with ``dev-translated`` the dev questions in French, German
    and Spanish: their articles are all in the BBC corpus."""
    from evals.suite import load_suite, scale_dev_questions, translated_dev_questions

    if split == "scale-dev":
        return scale_dev_questions()
    if split == "dev-translated":
        return translated_dev_questions()
    return load_suite("news", split).questions


def recall_at_5(ranked: dict[str, list[str]], queries: Sequence[Query]) -> float | None:
    """Mean recall@5 (evals.metrics.retrieval_scores) over the answerable queries, from the texts
    each query retrieved."""
    from evals.metrics import retrieval_scores

    values = [retrieval_scores(ranked[q.id], q.quotes)["recall@5"] for q in queries
              if q.answerable and q.quotes and q.id in ranked]
    return sum(values) / len(values) if values else None


def passage_texts(folder: Path, limit: int | None = None) -> list[str]:
    """The passage texts ingest embeds for ``folder`` (same cleaning and default chunking, each text
    once), in file order, without a store; the first ``limit`` of them."""
    from index.chunking import chunk
    from index.cleaning import clean
    from index.ingest import ChunkSettings, article_id, content_version
    from index.loading import read_file

    settings = ChunkSettings()
    texts: list[str] = []
    seen: set[str] = set()
    for path in corpus_files(folder):
        raw = read_file(path, 10_000_000)
        cleaned = clean(raw.text, raw.kind)
        if cleaned.text in seen:  # ingest indexes a text once (the BBC corpus repeats 98 files)
            continue
        seen.add(cleaned.text)
        texts += [p.text for p in chunk(cleaned.text, article_id(raw.source), content_version(cleaned.text),
                                        settings.sentences, settings.overlap, settings.max_chars)]
        if limit and len(texts) >= limit:
            return texts[:limit]
    return texts


def rag_command() -> list[str]:
    """The installed ``rag`` console script next to this Python (or the module, if absent)."""
    script = Path(sys.executable).parent / "rag"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from rag.cli import main; main()"]


def clean_env() -> dict[str, str]:
    """The environment without ``RAG_*`` settings (so a user's settings don't change what is measured)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}


def rag_env(store: Path) -> dict[str, str]:
    """:func:`clean_env` for a ``rag`` process over a prepared store, with the embedding backend
    :func:`config` opens that store with (``RAG_EMBEDDING_BACKEND``)."""
    return {**clean_env(), "RAG_EMBEDDING_BACKEND": config(store).embedding_backend}

"""The one place where components are built from a :class:`~rag.config.Config`.

Everything else receives its collaborators as arguments; nothing reads global state.
:func:`build_pipeline` makes the question-answering pipeline's steps; :class:`rag.Assistant` runs
them (so this module needs nothing from :mod:`rag.assistant`, and imports go one way).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from index.doctor import DoctorReport, doctor
from index.embedding import Embedder, canonical_name, default_cache_dir, load_embedder
from index.ingest import ChunkSettings, IngestReport, ingest
from index.loading import file_size_limit
from index.records import Manifest
from index.store import Store, StoreReader
from rag.analysis import Analyser
from rag.answerers import Answerer, ExtractiveAnswerer, LLMAnswerer
from rag.policy import FusedScorer, Policy, ReaderScorer
from rag.reader import load_reader
from rag.config import Config
from rag.corpus import Corpus
from rag.drafting import Drafter, ModelDrafter, QuotedDrafter
from rag.llms import LLMSettings, build_llm
from rag.question import QuestionReader
from rag.record_answers import RecordAnswerer
from rag.retrieval import Reranker, Retriever


def open_store(config: Config) -> Store:
    """The configured Chroma store, to read and write: a server when ``chroma_host`` is set, else
    the embedded folder."""
    return Store.open(path=config.store_path, host=config.chroma_host, port=config.chroma_port,
                      collection=config.collection)


def open_reader(config: Config) -> StoreReader:
    """The configured Chroma store, to read only (what the answering code and a read-only page get)."""
    return StoreReader.open(path=config.store_path, host=config.chroma_host, port=config.chroma_port,
                            collection=config.collection)


def embedder_factory(config: Config) -> Callable[[], Embedder]:
    """A callable that loads the configured embedding model (once per process)."""
    return lambda: load_embedder(config.embedding_model, config.embedding_backend,
                                 batch_size=config.embedding_batch_size, cache=cache_dir(config) / "onnx")


def cache_dir(config: Config) -> Path:
    """The configured ``cache_dir``, else ``~/.cache/rag`` (``$XDG_CACHE_HOME/rag``)."""
    return Path(config.cache_dir or default_cache_dir()).expanduser()


def keyword_folder(config: Config) -> Path:
    """Where the keyword index is saved: in an embedded store's folder (it travels with the store),
    else under ``cache_dir`` for the server's collection."""
    if config.chroma_host is None:
        return config.store_path / "keyword"
    return cache_dir(config) / "keyword" / f"{config.chroma_host}_{config.chroma_port}_{config.collection}"


def embedding_name(config: Config) -> str:
    """The model name the store's manifest must record for the configured embedder."""
    return canonical_name(config.embedding_model, config.embedding_backend)


def chunk_settings(config: Config) -> ChunkSettings:
    return ChunkSettings(config.chunk_sentences, config.chunk_overlap, config.chunk_max_chars)


def expected_manifest(config: Config, dimension: int) -> Manifest:
    chunking = chunk_settings(config)
    return Manifest(embedding_name(config), dimension, chunking.sentences, chunking.overlap,
                    chunking.max_chars, passage_header=config.passage_header)


def ingest_paths(
    config: Config, paths: list[Path], *, prune: bool | int = False, rebuild: bool = False, progress: bool = True,
    store: Store | None = None, embedder: Callable[[], Embedder] | None = None,
    on_article: Callable[[str, str], None] | None = None,
) -> IngestReport:
    """Index ``paths`` into the configured store (``rebuild`` first deletes what it holds, under
    the writer's lock, and indexes the page's uploads again with ``paths``: see :func:`uploads_to_keep`)."""
    aside = None
    if rebuild and store is None and config.chroma_host is None:
        aside = Store.set_aside_damaged(config.store_path)  # a damaged database: start afresh
    store = store or open_store(config)
    kept = uploads_to_keep(config, paths) if rebuild else None
    report = ingest(
        [*paths, *([kept] if kept else [])], store, embedder or embedder_factory(config), embedding_name(config),
        chunking=chunk_settings(config), max_file_bytes=file_size_limit(config.max_file_mb),
        prune=prune, progress=progress, on_article=on_article, rebuild=rebuild, passage_header=config.passage_header,
    )
    if aside is not None:
        report.notes.append(f"the damaged database was moved to {aside} (delete it when all is well)")
    return report


def uploads_folder(config: Config) -> Path:
    """Where the page keeps uploaded articles (``<store_path>/uploads``)."""
    return Path(config.store_path) / "uploads"


def uploads_to_keep(config: Config, paths: list[Path]) -> Path | None:
    """The uploads folder, when it holds articles that ``paths`` do not include: a rebuild indexes
    them too, since their only copy is there."""
    folder = uploads_folder(config)
    if not folder.is_dir() or not any(p.is_file() and not p.name.startswith(".") and p.suffix != ".json"
                                      for p in folder.iterdir()):
        return None
    inside = folder.resolve()
    if any(inside == given.resolve() or given.resolve() in inside.parents for given in paths):
        return None
    return folder


def doctor_store(config: Config, *, repair: bool = False, deep: bool = False) -> tuple[DoctorReport, dict[str, str]]:
    """Check (and with ``repair``, fix) the configured store; also its articles' titles by id, to name them."""
    store = open_store(config)
    report = doctor(store, embedder_factory(config), embedding_name(config), repair=repair, deep=deep)
    titles = {i: record.display_title() for i, record in store.articles().items()}
    return report, titles


def build_answerer(config: Config, policy: Policy | None = None, analyser: Analyser | None = None) -> Answerer:
    """The configured answerer: extractive (the policy's sentences), or an LLM answerer around a
    llama-index LLM."""
    if config.llm == "extractive":
        return ExtractiveAnswerer(policy, analyser)
    settings = LLMSettings(kind=config.llm, model=config.llm_model, url=config.llm_url, api_key=config.llm_api_key,
                           max_tokens=config.llm_max_tokens, temperature=config.llm_temperature,
                           threads=config.llm_threads, timeout=config.llm_timeout)
    return LLMAnswerer(build_llm(settings), name=config.llm)


@dataclass
class Pipeline:
    """The question-answering pipeline's steps, in the order :class:`rag.Assistant` runs them
    (with the corpus they read and the record answers the policy may send a question to)."""

    corpus: Corpus
    questions: QuestionReader
    retriever: Retriever
    policy: Policy
    drafter: Drafter
    records: RecordAnswerer


def build_pipeline(config: Config, embedder: Embedder | None = None) -> Pipeline:
    """The pipeline over the configured store (its manifest checked first): the one place it is
    built. ``embedder`` reuses a loaded embedding model."""
    store = open_reader(config)
    embedder = embedder or embedder_factory(config)()
    store.check_manifest(expected_manifest(config, embedder.dimension))
    corpus = Corpus(store, keyword_folder=keyword_folder(config))
    corpus.warm()  # build the keyword index now, not during the first question
    reader = load_reader(config.reader_model)
    reranker = Reranker(reader, config.rerank_depth, config.rerank_rank_weight,
                        idf=None if config.rerank_whole_passages else corpus.idf) \
        if reader is not None and config.rerank_depth else None
    retriever = Retriever(corpus, embedder, max_per_article=config.max_per_article, dense_weight=config.dense_weight,
                          reranker=reranker)
    analyser = Analyser(embed=embedder.embed, question_vector=retriever.question_vector)
    fused = FusedScorer(embed=embedder.embed, idf=corpus.idf, article_text=corpus.article_text)
    policy = Policy(fused if reader is None else ReaderScorer(fused, reader), threshold=config.abstain_threshold)
    answerer = build_answerer(config, policy, analyser)
    drafter = QuotedDrafter(answerer) if isinstance(answerer, ExtractiveAnswerer) else \
        ModelDrafter(answerer, reads_chosen=config.llm_reads_chosen())
    return Pipeline(corpus, QuestionReader(analyser, corpus, config.max_question_chars), retriever, policy, drafter,
                    RecordAnswerer(corpus, embedder.embed))

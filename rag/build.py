"""The one place where components are built from a :class:`~rag.config.Config`.

Everything else receives its collaborators as arguments; nothing reads global state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from index.embedding import Embedder, SentenceTransformerEmbedder, canonical_name
from index.ingest import ChunkSettings, IngestReport, ingest
from index.loading import file_size_limit
from index.store import Manifest, Store
from rag.config import Config


def open_store(config: Config) -> Store:
    """The configured Chroma store: a server when ``chroma_host`` is set, else the embedded folder."""
    return Store.open(path=config.store_path, host=config.chroma_host, port=config.chroma_port,
                      collection=config.collection)


def embedder_factory(config: Config) -> Callable[[], Embedder]:
    """A callable that loads the configured embedding model (once per process)."""
    return lambda: SentenceTransformerEmbedder(config.embedding_model, batch_size=config.embedding_batch_size)


def chunk_settings(config: Config) -> ChunkSettings:
    return ChunkSettings(config.chunk_sentences, config.chunk_overlap, config.chunk_max_chars)


def expected_manifest(config: Config, dimension: int) -> Manifest:
    chunking = chunk_settings(config)
    return Manifest(canonical_name(config.embedding_model), dimension, chunking.sentences, chunking.overlap,
                    chunking.max_chars)


def ingest_paths(
    config: Config, paths: list[Path], *, prune: bool = False, rebuild: bool = False, progress: bool = True,
    store: Store | None = None, embedder: Callable[[], Embedder] | None = None,
    on_article: Callable[[str, str], None] | None = None,
) -> IngestReport:
    """Index ``paths`` into the configured store (``rebuild`` first deletes what it holds)."""
    store = store or open_store(config)
    if rebuild:
        store.reset()
    return ingest(
        paths, store, embedder or embedder_factory(config), canonical_name(config.embedding_model),
        chunking=chunk_settings(config), max_file_bytes=file_size_limit(config.max_file_mb),
        prune=prune, progress=progress, on_article=on_article,
    )

"""The llama-index starter pipeline of :mod:`evals.baseline`, made measurable.

:class:`Starter` is :class:`evals.baseline.StarterBaseline` (same components: ``SimpleDirectoryReader``
over the folder, default ``SentenceSplitter``, ``HuggingFaceEmbedding`` of the same model,
``ChromaVectorStore`` over an embedded ``chromadb.PersistentClient``, ``VectorStoreIndex``), with
differences that only concern timing: the embedding model is loaded once per process and outside
the timed indexing; an index already persisted can be reopened without re-embedding
(``build=False``); and the passages may be indexed with another encoder of the same model
(``build_embed_model``: ``benchmarks.ingest --encoder onnx-int8`` passes the project's int8 ONNX
embedder through :func:`onnx_embed_model`, to build the largest corpus in reasonable time;
questions are always embedded by ``HuggingFaceEmbedding``, which is torch). Its ``retrieve`` and
``ask`` are the baseline's own.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from evals.baseline import StarterBaseline

_EMBED_MODEL: list[Any] = []


def starter_embed_model() -> Any:
    """llama-index's ``HuggingFaceEmbedding`` of the packaged all-MiniLM-L6-v2 (loaded once)."""
    if not _EMBED_MODEL:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        from index.embedding import resolve_model

        _EMBED_MODEL.append(HuggingFaceEmbedding(model_name=resolve_model("all-MiniLM-L6-v2")))
    return _EMBED_MODEL[0]


def onnx_embed_model(embedder: Any) -> Any:
    """A llama-index embedding model over one of the project's embedders (``index.embedding``, e.g.
    its ``onnx-int8`` backend), with ``HuggingFaceEmbedding``'s batch size (10): to index a large
    corpus faster, same model."""
    from llama_index.core.embeddings import BaseEmbedding

    class OnnxEmbedding(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed_query([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return OnnxEmbedding(model_name=embedder.name, embed_batch_size=10)


class Starter(StarterBaseline):
    """See the module docstring. ``self.index_seconds`` is the time ``from_documents`` (reading the
    files, chunking, embedding, writing to Chroma) took when ``build`` was true."""

    def __init__(self, folder: Path, answerer: Any, persist_dir: Path, top_k: int = 2, build: bool = True,
                 build_embed_model: Any = None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.answerer = answerer
        self.name = f"llama-index starter ({answerer.name}, top-k {top_k})"
        self.top_k = top_k
        self._folder = None
        self.embed_model = starter_embed_model()
        client = chromadb.PersistentClient(path=str(persist_dir), settings=ChromaSettings(anonymized_telemetry=False))
        self.collection = client.get_or_create_collection("starter")
        vector_store = ChromaVectorStore(chroma_collection=self.collection)
        self.index_seconds = 0.0
        if build:
            began = time.perf_counter()
            # The folder's files, as SimpleDirectoryReader(folder, recursive=True) reads them (listed
            # explicitly because the benchmark cache is a hidden folder, which the reader skips).
            files = sorted(str(p) for p in Path(folder).rglob("*.txt"))
            documents = SimpleDirectoryReader(input_files=files).load_data()
            storage = StorageContext.from_defaults(vector_store=vector_store)
            self.index = VectorStoreIndex.from_documents(
                documents, storage_context=storage, embed_model=build_embed_model or self.embed_model,
                transformations=[SentenceSplitter()],
            )
            self.index_seconds = time.perf_counter() - began
        else:
            self.index = VectorStoreIndex.from_vector_store(vector_store, embed_model=self.embed_model)
        self.retriever = self.index.as_retriever(similarity_top_k=top_k, embed_model=self.embed_model)

    def chunks(self) -> int:
        return self.collection.count()

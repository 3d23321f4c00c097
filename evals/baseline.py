"""The baseline a user would build from llama-index's starter tutorial, scored side by side.

``VectorStoreIndex`` over Chroma, the same embedding model, llama-index's default chunking
(``SentenceSplitter``: 1024 tokens, 200 overlap), the raw files as ``SimpleDirectoryReader`` reads
them (no cleaning), ``similarity_top_k=2``, and the same answerer as the system it is compared
with. Its draft is shown as written: no abstention, no check of the citations.
Every llama-index component is built explicitly; nothing reads the global ``Settings``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

from rag.answer import Answer, Citation
from rag.answerers import Answerer
from rag.retrieval import Passage
from rag.verify import split_draft


class StarterBaseline:
    """``ask`` and ``retrieve`` like :class:`rag.Assistant`, over the llama-index starter pipeline."""

    def __init__(self, folder: Path, answerer: Answerer, embedding_model_path: str, top_k: int = 2,
                 persist_dir: Path | None = None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.answerer = answerer
        self.name = f"llama-index starter ({answerer.name}, top-k {top_k})"
        self.top_k = top_k
        self._folder = tempfile.TemporaryDirectory() if persist_dir is None else None
        path = persist_dir or Path(self._folder.name)
        client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("starter")
        self.embed_model = HuggingFaceEmbedding(model_name=embedding_model_path)
        documents = SimpleDirectoryReader(str(folder)).load_data()
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        self.index = VectorStoreIndex.from_documents(
            documents, storage_context=storage, embed_model=self.embed_model, transformations=[SentenceSplitter()],
        )
        self.retriever = self.index.as_retriever(similarity_top_k=top_k, embed_model=self.embed_model)

    def retrieve(self, question: str, top_k: int | None = None) -> list[Passage]:
        retriever = self.retriever if top_k in (None, self.top_k) else \
            self.index.as_retriever(similarity_top_k=top_k, embed_model=self.embed_model)
        passages = []
        for rank, hit in enumerate(retriever.retrieve(question), 1):
            source = hit.node.metadata.get("file_name", "?")
            start = hit.node.start_char_idx or 0
            passages.append(Passage(
                id=hit.node.node_id, text=hit.node.get_content(), article_id=source, source=source, title=source,
                start=start, end=hit.node.end_char_idx or start + len(hit.node.get_content()), published=None,
                outlet=None, score=float(hit.score or 0.0), similarity=float(hit.score or 0.0), rank=rank,
            ))
        return passages

    def ask(self, question: str, history: Iterable[Any] | None = None, **_: Any) -> Answer:
        """The starter answers every question from its top-k chunks; follow-ups are asked as they
        are (the starter's query engine keeps no conversation)."""
        began = time.perf_counter()
        passages = self.retrieve(question)
        retrieved = time.perf_counter()
        draft = self.answerer.draft(question, passages) if passages else ""
        done = time.perf_counter()
        numbers = sorted({n for claim in split_draft(draft) for n in claim.cited if 1 <= n <= len(passages)})
        citations = [
            Citation(n=n, source=passages[n - 1].source, title=passages[n - 1].title, published=None,
                     quote=passages[n - 1].text, start=passages[n - 1].start, end=passages[n - 1].end,
                     score=passages[n - 1].score, passage=passages[n - 1])
            for n in numbers
        ]
        claims = len(split_draft(draft))
        return Answer(
            question=question, text=draft, abstained=False, citations=citations, supported=(claims, claims),
            answerer=self.name, timings={"retrieve_ms": (retrieved - began) * 1000, "answer_ms": (done - retrieved) * 1000,
                                         "total_ms": (done - began) * 1000},
            passages=passages,
        )

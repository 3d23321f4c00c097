"""Fast, deterministic stand-ins for tests where the model is beside the point.

:class:`HashEmbedder` hashes words into a small vector. It is NOT a semantic model: tests that
use it check bookkeeping (what is stored, skipped, replaced, repaired), never retrieval quality.
Retrieval-quality tests use the real all-MiniLM-L6-v2.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from index.embedding import Embedder


class HashEmbedder(Embedder):
    name = "test-hash-embedder"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def _embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self.dimension
                vectors[row, bucket] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

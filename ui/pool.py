"""The assistants a server shares between its users: one :class:`rag.Assistant` per answerer, built
on first use, all sharing one embedding model; and the limits every front end applies.

    pool = Assistants(load_config())
    pool.assistant(pool.default_answerer()).ask("Who mediated the Geneva talks?")

The chat page (``ui.app.Backend``), the OpenAI-compatible endpoint (:mod:`ui.serve`) and the MCP
server (:mod:`ui.mcp`) all take their assistants from here; started together (``rag chat
--api``) they share one pool, so one embedding model and one store reader.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from index.embedding import Embedder
from index.errors import InputError, ModelError
from rag.assistant import Assistant, build_assistant
from rag.build import embedder_factory
from rag.config import Config
from rag.llm_server import ProbeResult, probe
from rag.llms import default_gguf

#: Questions answered at the same time; more wait in the queue (the work is CPU-bound).
CONCURRENCY = 4
#: Requests that may wait in the queue before new ones are turned away.
QUEUE_SIZE = 200

AssistantFactory = Callable[[Config], Assistant]


#: Why the shipped local model is not offered beside extractive unless asked for (measured:
#: docs/evaluation.md, "What the local model contributes").
SMALL_MODEL = ("the shipped local model (SmolLM2-135M) rarely writes a sentence the articles support, so it is "
               "offered only when chosen: start with --llm local, or set llm_model to a bigger GGUF")


def answerer_problems(config: Config) -> dict[str, str | None]:
    """Each answerer a server could offer, with why it can't be used here (None: it works).
    extractive always works; local when it was chosen (``llm = "local"``, or ``llm_model`` names a
    GGUF) and its GGUF loads and writes in a child process (:func:`rag.llm_server.probe`, once per
    process: a llama.cpp that crashes on this CPU is never offered); the configured server answerer
    (ollama, openai) when a URL is set."""
    problems: dict[str, str | None] = {"extractive": None}
    problems["local"] = None if config.llm == "local" or _chosen_gguf(config) else SMALL_MODEL
    if problems["local"] is None:
        problems["local"] = local_model_probe(config).reason or None
    if config.llm in ("ollama", "openai"):
        problems[config.llm] = None if config.llm_url else f"the {config.llm} answerer needs llm_url (RAG_LLM_URL)"
    return problems


def local_model_probe(config: Config) -> ProbeResult:
    """Whether the local GGUF works here, and how fast it writes (cached per process)."""
    try:
        return probe(_chosen_gguf(config) or default_gguf(), threads=config.llm_threads)
    except ModelError as error:
        return ProbeResult(False, str(error))


def answerer_help(config: Config, answerers: list[str]) -> str:
    """What each offered answerer does, with the local model's name and measured speed."""
    words = ["extractive quotes the articles"]
    if "local" in answerers:
        gguf = (_chosen_gguf(config) or default_gguf()).name
        speed = local_model_probe(config).tokens_per_second
        words.append(f"local writes with {gguf} on this machine" + (f" (~{speed:.0f} tokens/s)" if speed else ""))
    words += [f"{name} writes with the configured model server" for name in answerers if name in ("ollama", "openai")]
    return "; ".join(words)


def available_answerers(config: Config) -> list[str]:
    """The answerers this machine can use (see :func:`answerer_problems`)."""
    return [name for name, problem in answerer_problems(config).items() if problem is None]


def _chosen_gguf(config: Config) -> Path | None:
    """The GGUF the configuration names for the local model (``llm_model`` with ``llm`` local, or
    with extractive: a model offered beside the quotes), or None."""
    if config.llm_model and config.llm in ("local", "extractive"):
        return Path(config.llm_model).expanduser()
    return None


def answerer_config(config: Config, llm: str) -> Config:
    """``config`` with answerer ``llm`` (the model setting belongs to the configured answerer only;
    a GGUF named beside extractive goes to local)."""
    if llm == config.llm:
        return config
    model = str(_chosen_gguf(config)) if llm == "local" and _chosen_gguf(config) else None
    return config.model_copy(update={"llm": llm, "llm_model": model})


class Assistants:
    """One Assistant per answerer, built on first use (a failed build is retried next time) and
    shared; safe to call from several threads. ``answerers`` are the ones offered (default: those
    that work here, :func:`available_answerers`); ``factory(config)`` builds one (default:
    :func:`rag.assistant.build_assistant` with the shared embedding model)."""

    def __init__(self, config: Config, factory: AssistantFactory | None = None, *,
                 embedder: Embedder | None = None, answerers: list[str] | None = None):
        self.config = config
        self.answerers = list(answerers) if answerers is not None else available_answerers(config)
        self._factory = factory or (lambda settings: build_assistant(settings, embedder=self.embedder()))
        self._embedder = embedder
        self._built: dict[str, Assistant] = {}
        self._lock = threading.RLock()  # building assistants, loading the model

    def default_answerer(self) -> str:
        """The configured answerer, else extractive (when the configured one does not work here)."""
        return self.config.llm if self.config.llm in self.answerers else "extractive"

    def assistant(self, llm: str) -> Assistant:
        """The Assistant for answerer ``llm``."""
        if llm not in self.answerers:
            raise InputError(f"answerer '{llm}' is not available here: choose one of {', '.join(self.answerers)}")
        assistant = self._built.get(llm)
        if assistant is None:
            with self._lock:
                assistant = self._built.get(llm)
                if assistant is None:
                    assistant = self._built[llm] = self._factory(answerer_config(self.config, llm))
        return assistant

    def embedder(self) -> Embedder:
        """The embedding model, loaded once (or borrowed from an Assistant already built)."""
        with self._lock:
            if self._embedder is None:
                built = next(iter(self._built.values()), None)
                self._embedder = built.retriever.embedder if built else embedder_factory(self.config)()
            return self._embedder

    def refresh(self) -> None:
        """Tell every Assistant built so far that the store changed."""
        for assistant in list(self._built.values()):
            assistant.refresh()

"""The generative answerers, each built explicitly from settings: the local GGUF model through
llama.cpp, and the OpenAI-compatible path against a real llama.cpp server on loopback."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

import pytest

from index.errors import ModelError
from rag.assistant import build_assistant
from rag.config import Config
from rag.llms import LLMSettings, build_llm, default_gguf
from tests.conftest import free_port, serve


def test_the_default_local_model_is_the_packaged_smollm2() -> None:
    path = default_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()


def test_local_answers_are_checked_against_the_passages(seed_store: Path, real_embedder) -> None:
    assistant = build_assistant(Config(store_path=seed_store, llm="local"), embedder=real_embedder)
    answer = assistant.ask("What did Swiss officials say about the Geneva talks?")
    kept, written = answer.drafted  # the model's own sentences went through the check
    assert written >= 1 and answer.answerer == ("local" if kept else "local->extractive")
    assert not answer.abstained and answer.citations
    assert answer.supported[0] >= 1 and answer.supported[0] <= answer.supported[1]
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.text
    # The model gets no chance on questions the articles don't cover.
    assert assistant.ask("What is the capital of France?").abstained


def test_stream_from_the_local_model_yields_checked_sentences(seed_store: Path, real_embedder) -> None:
    assistant = build_assistant(Config(store_path=seed_store, llm="local"), embedder=real_embedder)
    events = list(assistant.stream("How many prisoners did each side exchange in Istanbul?"))
    assert events[0].kind == "progress" and events[-1].kind == "answer"
    assert {e.kind for e in events[1:-1]} <= {"sentence", "draft", "progress"}
    checking = [e.text for e in events if e.kind == "progress" and e.text.startswith("Checking sentence")]
    written = events[-1].answer.drafted[1]  # each of the model's sentences is said before its check
    assert checking == [f"Checking sentence {k} of the draft against its sources" for k in range(1, written + 1)]
    assert all(e.text in events[-1].answer.text for e in events if e.kind == "sentence")


def test_bad_model_settings_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="GGUF model file .* not found"):
        build_llm(LLMSettings(kind="local", model=str(tmp_path / "missing.gguf")))
    # A file that exists but is no model fails when its server starts: tests/test_llm_isolation.py.
    with pytest.raises(ModelError, match="needs a server URL and a model name"):
        build_llm(LLMSettings(kind="openai"))
    with pytest.raises(ModelError, match="needs a model name"):
        build_llm(LLMSettings(kind="ollama"))


def test_ollama_is_built_from_url_and_model_name() -> None:
    """Construction only: no Ollama server can run here. The llama-index Ollama client is built
    with the configured URL and model; answering through it is covered by the OpenAI-compatible
    test below, which shares the answerer code."""
    llm = build_llm(LLMSettings(kind="ollama", model="llama3.2", url="http://127.0.0.1:11434"))
    assert (type(llm).__name__, llm.model, llm.base_url) == ("Ollama", "llama3.2", "http://127.0.0.1:11434")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory):
    """A real OpenAI-compatible server: llama-cpp-python's, with the SmolLM2 file, on loopback."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_gguf()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096", "--n_threads", "2", "--model_alias", "smollm2"]
    with serve(command, lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2).read(),
               log_path):
        yield f"http://127.0.0.1:{port}/v1", log_path


def test_openai_compatible_server_on_loopback(llama_server, seed_store: Path, real_embedder) -> None:
    url, log_path = llama_server
    config = Config(store_path=seed_store, llm="openai", llm_url=url, llm_model="smollm2", llm_max_tokens=120)
    assistant = build_assistant(config, embedder=real_embedder)
    answer = assistant.ask("How many prisoners did each side exchange in Istanbul?")
    assert answer.answerer in {"openai", "openai->extractive"}
    assert "1,000" in answer.text and answer.citations
    assert "POST /v1/chat/completions" in log_path.read_text()  # the server really was asked


def test_the_local_model_writes_a_sentence_that_survives_the_check(seed_store: Path, real_embedder) -> None:
    """Given only the sentences the policy chose (llm_context = chosen) and greedy decoding, the
    shipped model writes a sentence of its own that the check keeps, on a development question
    where that was measured (docs/evaluation.md, 'What the local model contributes'). Fails if the answer is
    the quoted fallback."""
    question, fact = "What idea, once seen as a potential bridge, has lost legitimacy within Ukraine?", "neutrality"
    config = Config(store_path=seed_store, llm="local", llm_context="chosen", llm_temperature=0.0)
    answer = build_assistant(config, embedder=real_embedder).ask(question)
    assert answer.answerer == "local", (answer.answerer, answer.text, answer.notes)
    assert answer.drafted is not None and answer.drafted[0] >= 1
    assert fact in answer.text and answer.citations

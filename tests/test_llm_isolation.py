"""The local model runs out of process and can never take the caller down: the real SmolLM2 GGUF
served by llama-cpp-python's server, supervised by rag.llm_server; the process is really killed,
stopped or given a file that is not a model. Each time the user gets one clear note and the
extractive answer, and the next question is answered again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from rag.assistant import build_assistant
from rag.config import Config
from rag.llm_server import describe_exit, probe
from rag.llms import default_gguf
from tests.test_ui_app import last
from ui.app import Backend

pytestmark = pytest.mark.slow

ISTANBUL = "How many prisoners did each side exchange in Istanbul?"


@pytest.fixture()
def not_a_model(tmp_path: Path) -> Path:
    path = tmp_path / "notes.gguf"
    path.write_bytes(b"these are meeting notes, not a GGUF model\n" * 200)
    return path


class KillAfterFirstWords:
    """Stands between the answerer and the real client: once the model's first words have arrived
    over HTTP, sends ``sig`` to the model's process (SIGKILL: it dies; SIGSTOP: it hangs)."""

    def __init__(self, assistant, sig: int = signal.SIGKILL):
        self.llm = assistant.answerer.llm
        self.real = self.llm.client
        self.sig = sig
        self.pids: list[int] = []
        self.llm.client = self

    def stream_chat(self, messages):
        for n, chunk in enumerate(self.real.stream_chat(messages)):
            yield chunk
            if n == 0 and not self.pids:
                self.pids.append(self.llm.server.process.pid)
                os.kill(self.pids[0], self.sig)

    def restore(self) -> None:
        self.llm.client = self.real


def test_the_packaged_model_passes_the_probe() -> None:
    result = probe(default_gguf())
    assert result.ok, result.reason


def test_a_file_that_is_not_a_model_is_refused_by_the_probe(not_a_model: Path) -> None:
    result = probe(not_a_model)
    assert not result.ok
    assert "notes.gguf" in result.reason and "does not work here" in result.reason
    assert "GGUF chat model" in result.reason  # what to do
    assert describe_exit(-signal.SIGILL).startswith("killed by SIGILL")


def test_a_model_killed_mid_answer_leaves_a_note_and_the_extractive_answer(seed_store: Path, real_embedder) -> None:
    assistant = build_assistant(Config(store_path=seed_store, llm="local"), embedder=real_embedder)
    killer = KillAfterFirstWords(assistant)
    answer = assistant.ask(ISTANBUL)
    assert killer.pids, "the model wrote nothing, so nothing was killed"
    assert not answer.abstained and "1,000" in answer.text and answer.citations
    notes = " ".join(answer.notes)
    assert "stopped while answering (killed by SIGKILL" in notes and "started again" in notes
    # Either no sentence of the model's was checked before it died, and the extractive answer
    # stands in, or the answer keeps what was checked and says it was cut short.
    if answer.answerer == "local->extractive":
        assert "so this is the quoted answer" in notes
    else:
        assert answer.answerer == "local" and "the answer was cut short" in notes
    killer.restore()
    again = assistant.ask(ISTANBUL)  # a new process serves the next question
    assert not any("stopped" in note for note in again.notes)
    assert assistant.answerer.llm.server.process.pid != killer.pids[0] and assistant.answerer.llm.server.alive()


def test_a_hung_model_times_out_and_is_replaced(seed_store: Path, real_embedder) -> None:
    config = Config(store_path=seed_store, llm="local", llm_timeout=20)
    assistant = build_assistant(config, embedder=real_embedder)
    stopper = KillAfterFirstWords(assistant, signal.SIGSTOP)  # the process freezes mid-answer
    answer = assistant.ask(ISTANBUL)
    assert stopper.pids and "did not answer within 20 s" in " ".join(answer.notes)
    assert "1,000" in answer.text and not answer.abstained
    assert not Path(f"/proc/{stopper.pids[0]}").exists()  # the frozen process was killed and reaped


def test_a_model_that_fails_to_load_still_gets_an_answer(seed_store: Path, real_embedder, not_a_model: Path) -> None:
    assistant = build_assistant(Config(store_path=seed_store, llm="local", llm_model=str(not_a_model)),
                                embedder=real_embedder)
    answer = assistant.ask(ISTANBUL)
    assert answer.answerer == "local->extractive" and "1,000" in answer.text
    (note,) = answer.notes
    assert "notes.gguf' failed to start" in note and "so this is the quoted answer" in note


def test_the_page_offers_only_working_answerers_and_survives_a_killed_model(
        seed_store: Path, real_embedder, not_a_model: Path) -> None:
    broken = Backend(Config(store_path=seed_store, llm="local", llm_model=str(not_a_model)), embedder=real_embedder)
    assert broken.answerers == ["extractive"] and broken.default_answerer() == "extractive"
    assert "The local answerer is not available" in broken.unavailable and "notes.gguf" in broken.unavailable
    chat = last(broken, ISTANBUL, llm="extractive")[0]
    assert "1,000" in chat[-1]["content"]

    page = Backend(Config(store_path=seed_store, llm="local"), embedder=real_embedder)
    assert page.answerers == ["extractive", "local"] and page.unavailable == ""
    KillAfterFirstWords(page.assistant("local"))
    chat = last(page, ISTANBUL, llm="local")[0][-1]["content"]
    assert "Note: the local model" in chat and "stopped while answering" in chat and "1,000" in chat
    assert 'class="error"' not in chat  # an answer with a note, not an error
    follow = last(page, ISTANBUL, llm="extractive")[0][-1]["content"]
    assert "1,000" in follow

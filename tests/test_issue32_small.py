"""Issue 32, items 5 and 7 where no browser or API client is needed: an article removed by
another process is not answered from (real model, a real Chroma server), a model's echo of
its prompt never reaches the page, the status line says nothing is checked before a sentence
is, and the page's "Use via API" describes its endpoints for the people who call them."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from index.store import SERVER_GENERATION_EVERY
from rag.answerers import LLMAnswerer, without_echo
from rag.config import Config
from tests.conftest import SEEDS

pytestmark = pytest.mark.slow


def test_an_article_removed_by_another_process_is_not_answered_from(chroma_server, real_embedder,
                                                                      tmp_path: Path) -> None:
    """Issue 32.5: after the page removed the uploaded PDF, a question about it got unrelated
    sentences (from the uploaded DOCX) instead of "the articles don't say". With a Chroma server,
    a process that did not write (`rag serve` or `rag mcp` beside the page) never learned that the
    store changed: its keyword index, and with it which words any article uses, still held the
    removed article, so its policy answered with loosely related sentences that a fresh process
    abstains on. An embedded store's writes are seen by every process (its generation file)."""
    from rag.assistant import build_assistant
    from rag.build import ingest_paths
    from tests.test_formats import channel_pdf, pilots_docx
    from tests.test_mcp import HELSINKI, OTSO
    from ui.app import Backend

    host, port = chroma_server
    config = Config(chroma_host=host, chroma_port=port, collection="removed_upload", llm="extractive",
                    cache_dir=tmp_path / "cache")
    ingest_paths(config, [SEEDS], progress=False, embedder=lambda: real_embedder)
    page = Backend(config, embedder=real_embedder, uploads_dir=tmp_path / "uploads")
    docx, pdf = tmp_path / "helsinki_channel.docx", tmp_path / "winter_channel.pdf"
    docx.write_bytes(pilots_docx(properties=False, blocks=HELSINKI))
    pdf.write_bytes(channel_pdf(["By Anna Virtanen | Nordic Wire", "March 3, 2026"]))
    for upload in (docx, pdf):
        assert page.add_upload(upload, upload.name, lambda *_: None)[0] == "ok"
    beside = build_assistant(config, embedder=real_embedder)  # another process's, as `rag serve` has
    assert "twice a day" in beside.ask(OTSO).text

    removed = next(row for row in page.articles() if row.source.endswith("winter_channel.pdf"))
    page.remove(removed.id)

    time.sleep(SERVER_GENERATION_EVERY)  # what another process is promised: the change seen within this
    after = beside.ask(OTSO)
    fresh = build_assistant(config, embedder=real_embedder).ask(OTSO)
    assert fresh.abstained, fresh.text
    assert after.abstained and after.text == fresh.text, after.text
    assert "helsinki_channel.docx" not in {Path(c.source).name for c in after.citations}


class _EchoingModel:
    """A llama-index chat model that writes word by word, as SmolLM2 did, the prompt's frame back
    before its answer and then a new round (the model is beside the point: what reaches the page
    of its text is)."""

    def __init__(self, text: str, pause: float = 0.0):
        self.text, self.pause = text, pause

    def stream_chat(self, messages):
        for word in self.text.split(" "):
            time.sleep(self.pause)
            yield SimpleNamespace(delta=word + " ")


ISTANBUL = "How many prisoners did each side exchange in Istanbul?"
EXCHANGE = ("A 1,000-for-1,000 prisoner exchange was agreed in Istanbul in May 2025, the largest of the "
            "conflict. [1]")
ECHOED = f"Question: {ISTANBUL}\nAnswer (cite passages like [1]): {EXCHANGE}\nQuestion: What is the main"


def test_a_model_s_echo_of_the_prompt_is_not_its_answer() -> None:
    """Issue 32.7: the grey draft showed "Question: What is the main": the prompt, written back."""
    model = LLMAnswerer(_EchoingModel(ECHOED), "local")
    passage = SimpleNamespace(text="The exchange.", title="Talks", published=None)
    written = "".join(model.stream(ISTANBUL, [passage]))
    assert written.strip() == EXCHANGE, written
    for pieces in ([ECHOED], list(ECHOED)):  # however the model's text comes in pieces
        assert "".join(without_echo(pieces)).strip() == EXCHANGE
    answers = "Answers differ: the first article says 1,000 [1].\n\nQuestioning that, the second says 900 [2]."
    assert "".join(without_echo(list(answers))) == answers  # words that only begin like a label stay


def test_while_a_model_writes_the_page_shows_no_prompt_and_checks_nothing_before_a_sentence(
        assistant, seed_store: Path) -> None:
    """Issue 32.7: while a local model drafted, the page said "Checking sentences against their
    sources…" before any sentence existed, and its grey draft showed stray prompt text
    ("Question: What is the main"). Every bubble the page shows while it streams is checked."""
    from rag.assistant import Assistant
    from rag.drafting import DRAFT_EVERY, ModelDrafter
    from ui.app import Backend

    model = LLMAnswerer(_EchoingModel(ECHOED, pause=DRAFT_EVERY / 3), "local")
    writing = Assistant(assistant.config, replace(assistant.pipeline, drafter=ModelDrafter(model)))
    page = Backend(Config(store_path=seed_store, llm="extractive"), lambda config: writing)
    bubbles = [step[0][-1]["content"] for step in page.turn(ISTANBUL, [], [], [], "extractive", 5, [], "", "")]
    streaming = [b for b in bubbles if 'class="answer streaming"' in b]
    drafts = [b for b in streaming if '<p class="draft"' in b]
    assert drafts and any("1,000-for-1,000" in b for b in drafts)  # the draft was shown as it was written
    for bubble in streaming:
        assert "Question:" not in bubble and "cite passages" not in bubble, bubble
        if 'class="answer-text"' not in bubble:  # no sentence checked yet
            assert "Checking sentences against their sources" not in bubble, bubble
    assert "Searching the articles…" in streaming[0]
    assert "1,000" in bubbles[-1] and "Question:" not in bubbles[-1]


def test_the_page_s_api_describes_its_endpoints_for_the_people_who_call_them(tmp_path: Path) -> None:
    """Issue 32.7: the page's "Use via API" showed the functions' docstrings (``history`` holds
    …, Gradio's messages format), written for those who change the code."""
    from tests.fakes import HashEmbedder
    from ui.app import build_app

    demo = build_app(Config(store_path=tmp_path / "store", llm="extractive", max_file_mb=5),
                     embedder=HashEmbedder(), uploads_dir=tmp_path / "uploads")
    endpoints = demo.get_api_info()["named_endpoints"]
    assert set(endpoints) == {"/ask", "/upload", "/remove"}
    described = {name: endpoint["description"] for name, endpoint in endpoints.items()}
    assert described["/ask"].startswith("Ask a question about the indexed articles.")
    assert "up to 5 MB each" in described["/upload"]
    assert described["/remove"].startswith("Remove an indexed article")
    for text in described.values():
        assert "`" not in text and "yields" not in text and "Gradio" not in text, text
    assert endpoints["/ask"]["parameters"][0]["label"] == "Question"  # not "parameter_33"

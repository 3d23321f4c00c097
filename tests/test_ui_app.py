"""What the chat page does, without a browser (ui.app.Backend): a question streamed into chat
messages, errors shown as messages after which the page keeps working, the empty index, uploads
and removals. Bookkeeping only, so the hash embedder stands in for the model (tests/fakes.py);
the page itself, with the real model, is tested in test_ui_browser.py."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest

from index.errors import ModelError, StoreError
from rag.config import Config
from tests.conftest import SEEDS, free_port
from tests.fakes import HashEmbedder
from ui import render
from ui.app import Backend


def last(backend: Backend, question: str, llm: str = "extractive", chat: list | None = None,
         history: list | None = None, **controls) -> tuple:
    """The final (chat, history, groups, panel, box) of one question."""
    values = dict(top_k=5, sources=[], after="", before="") | controls
    *_, final = backend.turn(question, chat or [], history or [], [], llm, values["top_k"], values["sources"],
                             values["after"], values["before"])
    return final


@pytest.fixture()
def backend(tmp_path: Path) -> Backend:
    """A page backend over the seeds, indexed with the hash embedder through an upload-free ingest."""
    from rag.build import ingest_paths

    config = Config(store_path=tmp_path / "store", llm="extractive")
    embedder = HashEmbedder()
    shutil.copytree(SEEDS, tmp_path / "seeds")
    ingest_paths(config, [tmp_path / "seeds"], progress=False, embedder=lambda: embedder)
    return Backend(config, embedder=embedder)


def test_a_question_streams_into_the_chat_and_fills_the_sources(backend: Backend) -> None:
    steps = list(backend.turn("How many prisoners did each side exchange in Istanbul?", [], [], [], "extractive",
                              5, [], "", ""))
    assert "Checking sentences" in steps[0][0][-1]["content"]  # shown at once, before any sentence
    chat, history, groups, panel, box = steps[-1]
    assert [m["role"] for m in chat] == ["user", "assistant"] and box == ""
    assert "checked against their sources" in chat[-1]["content"] and len(groups) == 1
    assert 'id="source-1-1"' in panel
    assert history[0] == {"role": "user", "content": "How many prisoners did each side exchange in Istanbul?"}
    follow_up = last(backend, "And where were they held?", chat=chat, history=history)
    assert 'href="#source-2-1"' in follow_up[0][-1]["content"]  # the second turn's chips point to its own sources
    assert list(backend.turn("   ", [], [], [], "extractive", 5, [], "", ""))[-1][0] == []  # nothing asked


def test_errors_are_messages_and_the_page_keeps_working(backend: Backend, tmp_path: Path) -> None:
    bad_date = last(backend, "Who mediated the Geneva talks?", after="June 2025")
    assert 'class="error"' in bad_date[0][-1]["content"] and "YYYY-MM-DD" in bad_date[0][-1]["content"]
    unknown = last(backend, "Who mediated the Geneva talks?", llm="openai")
    assert "answerer 'openai' is not available here" in html.unescape(unknown[0][-1]["content"])

    calls = []

    def factory(config: Config):
        calls.append(config.llm)
        if config.llm == "local":
            raise ModelError("the local model 'model.gguf' failed to start (exit code 1); check that llm_model is "
                             "a GGUF chat model this llama.cpp can load, or use --llm extractive")
        from rag.build import build_assistant

        return build_assistant(config, embedder=backend.embedder())

    page = Backend(backend.config.model_copy(update={"llm": "local", "llm_model": None}), factory,
                   embedder=backend.embedder())
    assert page.answerers == ["extractive", "local"]  # the packaged SmolLM2 passes the probe
    failed = last(page, "Who mediated the Geneva talks?", llm="local")
    assert "failed to start" in failed[0][-1]["content"] and failed[2] == []
    again = last(page, "Who mediated the Geneva talks?", llm="extractive", chat=failed[0])
    assert "checked against their sources" in again[0][-1]["content"] and len(again[0]) == 4
    last(page, "Who mediated the Geneva talks?", llm="local")
    assert calls == ["local", "extractive", "local"]  # a failed build is retried, a good one kept


def test_a_chroma_server_that_is_down_is_explained(tmp_path: Path) -> None:
    page = Backend(Config(chroma_host="127.0.0.1", chroma_port=free_port(), llm="extractive"),
                   embedder=HashEmbedder(), uploads_dir=tmp_path / "uploads")
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        page.articles()
    chat = last(page, "Who mediated the Geneva talks?")[0]
    assert "cannot reach the Chroma server" in chat[-1]["content"] and "chroma run" in chat[-1]["content"]


def test_an_empty_index_says_how_to_add_articles(tmp_path: Path) -> None:
    page = Backend(Config(store_path=tmp_path / "empty", llm="extractive"), embedder=HashEmbedder())
    assert page.articles() == []
    assert "rag ingest seeds/" in render.articles_html(page.articles())
    chat = last(page, "Who mediated the Geneva talks?")[0]
    assert "no articles indexed" in chat[-1]["content"] and "rag ingest seeds/" in chat[-1]["content"]


def test_uploads_are_indexed_refused_and_removed(backend: Backend, tmp_path: Path) -> None:
    progress: list[str] = []
    article = tmp_path / "incoming" / "Talks in Vienna.txt"
    article.parent.mkdir()
    article.write_text("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, "
                       "2031. Both sides agreed to exchange 42 fishing boats.\n", encoding="utf-8")
    before = last(backend, "How many fishing boats did Norland and Sudmark agree to exchange?")  # builds the assistant
    kind, message = backend.add_upload(article, article.name, lambda _, text: progress.append(text))
    assert kind == "ok" and message.startswith("Indexed Talks in Vienna.txt as “Envoys meet in Vienna”"), message
    assert progress[0] == "Saving Talks in Vienna.txt" and len(progress) == 3
    row = next(r for r in backend.articles() if r.title == "Envoys meet in Vienna")
    assert row.file == "Talks in Vienna.txt" and Path(row.source).parent == backend.uploads.folder
    after = last(backend, "How many fishing boats did Norland and Sudmark agree to exchange?")
    assert "42" in after[0][-1]["content"] and "42" not in before[0][-1]["content"]  # the assistant was refreshed

    again = backend.add_upload(article, "copy.txt", lambda *_: None)
    assert again[0] == "error" and "duplicate of" in again[1]
    wrong = tmp_path / "incoming" / "notes.rtf"
    wrong.write_bytes(b"{\\rtf1 notes}")
    assert backend.add_upload(wrong, wrong.name, lambda *_: None) == \
        ("error", "notes.rtf: 'notes.rtf' is not an article file: upload .txt, .md, .html, .pdf, .docx files")
    assert len(list(backend.uploads.folder.glob("*.txt"))) == 1  # refused uploads leave nothing behind

    assert backend.remove(row.source) == "Removed “Envoys meet in Vienna”."
    assert all(r.title != "Envoys meet in Vienna" for r in backend.articles())
    assert list(backend.uploads.folder.glob("*.txt")) == [] and backend.uploads.names() == {}

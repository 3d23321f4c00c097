"""The chat page end to end, in real headless Chromium (Playwright), served in-process on a free
loopback port over a copy of the seed store (real model, real Chroma, extractive answerer; one test
uses the local SmolLM2). Screenshots go to test-artifacts/.

Every page also checks that nothing was requested from outside the server (no analytics, no
fonts from the web) and that no dialog opened.
"""

from __future__ import annotations

import shutil
import threading
import time
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from rag.build import build_assistant
from rag.config import Config
from tests.conftest import ROOT, free_port
from ui.app import CONCURRENCY, available_answerers, launch

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ISTANBUL = "How many prisoners did each side exchange in Istanbul?"
VIENNA = """Envoys from Norland and Sudmark meet in Vienna over the Kessel harbour

Published March 3, 2031

Delegations from Norland and Sudmark met in Vienna on March 3, 2031 to negotiate the reopening of the Kessel
harbour. The talks were chaired by the Austrian mediator Ilse Brandauer.

Both sides agreed to exchange 42 fishing boats seized during the harbour dispute. Norland's envoy said the
boats would return within a month.
"""
HOSTILE = """Quarrel over the Ostrava lighthouse <script>window.__pwned=1</script>

The Ostrava lighthouse keepers union met the city council on Tuesday. <script>window.__pwned=1</script>
The union spokesman Pavel Hruby said the lighthouse lamp was broken. <img src=x onerror="window.__pwned=2">
Read the council minutes <a href="javascript:window.__pwned=3">x</a> for the full lighthouse repair plan.
"""


@dataclass
class Counter:
    """How many questions the assistants were answering at once, at most."""

    active: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> None:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.active -= 1


@dataclass
class Server:
    url: str
    counter: Counter
    store: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seed_store: Path, real_embedder) -> Iterator[Server]:
    """The page over a private copy of the seed store (uploads change it)."""
    store = tmp_path_factory.mktemp("ui") / "store"
    shutil.copytree(seed_store, store)
    counter = Counter()

    def factory(config: Config):
        assistant = build_assistant(config, embedder=real_embedder)
        stream = assistant.stream

        def counted(*args, **kwargs):
            with counter:
                yield from stream(*args, **kwargs)

        assistant.stream = counted  # type: ignore[method-assign]
        return assistant

    port = free_port()
    demo = launch(Config(store_path=store, llm="extractive"), "127.0.0.1", port, block=False,
                  assistant_factory=factory)
    try:
        yield Server(f"http://127.0.0.1:{port}/", counter, store)
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def open_page(browser, url: str) -> Iterator:
    """A desktop-sized page on ``url``; afterwards, nothing may have been requested from elsewhere
    and no dialog may have opened."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((url, "data:", "blob:")) else None)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.wait_for_selector("#question textarea", timeout=60_000)
    yield page
    assert outside == [], f"the page requested outside the server: {outside}"
    assert dialogs == [], f"dialogs opened: {dialogs}"
    context.close()


@pytest.fixture()
def page(browser, server: Server):
    with open_page(browser, server.url) as page:
        yield page


def ask(page, question: str, timeout: float = 60_000) -> None:
    """Type a question, press Enter, wait until its answer is finished (or an error shown)."""
    before = page.locator("#chat .answer:not(.streaming), #chat .error").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .answer:not(.streaming), #chat .error').length > n",
        arg=before, timeout=timeout)


def last_answer(page) -> str:
    return page.locator("#chat .answer, #chat .error").last.inner_text()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def upload(page, path: Path, expected: str) -> None:
    open_tab(page, "Articles")
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_function("text => document.querySelector('#upload-status')?.innerText.includes(text)",
                           arg=expected, timeout=90_000)


def test_an_answer_cites_its_source_and_a_chip_shows_it(page) -> None:
    ask(page, ISTANBUL)
    answer = last_answer(page)
    assert "1,000" in answer and "sentences checked against their sources" in answer
    chip = page.locator("#chat a.chip", has_text="[1]").last
    assert chip.get_attribute("href") == "#source-1-1"
    source = page.locator("#source-1-1")
    assert "1,000" in source.locator("mark").inner_text()  # the quote, highlighted in its passage
    assert len(source.locator(".passage").inner_text()) > len(source.locator("mark").inner_text())
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "chat-answer.png"))

    page.locator("#sources").evaluate("el => el.querySelector('.sources-panel').scrollTop = 10000")
    page.mouse.wheel(0, 600)
    chip.click()
    page.wait_for_function("() => location.hash === '#source-1-1'")
    page.wait_for_timeout(300)
    box, viewport = source.bounding_box(), page.viewport_size
    assert box is not None and viewport is not None and 0 <= box["y"] < viewport["height"]  # brought into view
    assert page.evaluate("() => document.querySelector(':target')?.id") == "source-1-1"
    page.screenshot(path=str(ARTIFACTS / "chip-clicked.png"))

    # A follow-up uses the conversation; an unanswerable question abstains, visibly differently.
    ask(page, "And in which palace were those talks held?")
    assert "Dolmabah" in last_answer(page)
    ask(page, "What is the capital of France?")
    assert page.locator("#chat .abstained").count() == 1 and "Not in the articles" in last_answer(page)
    ask(page, "Who mediated the Geneva talks?")
    assert page.locator("#chat .versions .version").count() >= 2
    assert page.locator("#sources .sources.side-by-side .source").count() >= 2
    page.screenshot(path=str(ARTIFACTS / "chat-disagreement.png"))


def test_an_uploaded_article_is_indexed_answered_from_and_removed(page, tmp_path: Path, server: Server) -> None:
    path = tmp_path / "Vienna harbour talks.txt"
    path.write_text(VIENNA, encoding="utf-8")
    upload(page, path, "Indexed Vienna harbour talks.txt")
    table = page.locator("#articles-table").inner_text()
    assert "Envoys from Norland and Sudmark meet in Vienna" in table and "Vienna harbour talks.txt" in table
    assert "March 3, 2031" in table
    saved = list((server.store / "uploads").glob("*.txt"))
    assert len(saved) == 1 and saved[0].name != path.name  # saved under a generated name
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "articles-upload.png"))

    open_tab(page, "Chat")
    ask(page, "How many fishing boats did Norland and Sudmark agree to exchange in Vienna?")
    assert "42" in last_answer(page)
    assert "Envoys from Norland and Sudmark" in page.locator("#sources .source").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload-answer.png"))

    open_tab(page, "Articles")
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="Envoys from Norland").click()
    page.click("#remove")
    page.wait_for_function("() => document.querySelector('#upload-status')?.innerText.includes('Removed')")
    assert "Norland" not in page.locator("#articles-table").inner_text()
    assert list((server.store / "uploads").glob("*.txt")) == []


def test_hostile_article_text_runs_nothing(page, tmp_path: Path) -> None:
    path = tmp_path / "<img src=x onerror=alert(1)>.txt"
    path.write_text(HOSTILE, encoding="utf-8")
    upload(page, path, "Indexed")
    table = page.locator("#articles-table").inner_text()
    assert "Quarrel over the Ostrava lighthouse <script>window.__pwned=1</script>" in table  # shown as text
    page.locator("#remove-choice input").click()  # the article pickers show it as text too
    assert page.get_by_role("option", name="Quarrel over the Ostrava").count() == 1
    page.keyboard.press("Escape")

    open_tab(page, "Chat")
    ask(page, "What did the union spokesman Pavel Hruby say about the Ostrava lighthouse lamp?")
    sources = page.locator("#sources").inner_text()
    assert 'onerror="window.__pwned=2"' in sources or "<script>window.__pwned=1</script>" in sources
    assert page.locator("#sources script, #sources img, #sources a[href^='javascript'], #chat script, "
                        "#chat img[src='x'], #articles-table script, #articles-table img").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    page.screenshot(path=str(ARTIFACTS / "hostile-article.png"))


def test_twenty_simultaneous_questions_are_all_answered(server: Server) -> None:
    from gradio_client import Client

    questions = [ISTANBUL, "Who mediated the Geneva talks?", "What is the main obstacle to a ceasefire?",
                 "What did Swiss officials say about the Geneva talks?", "Why are the talks failing?"] * 4

    def one(question: str) -> str:
        client = Client(server.url, verbose=False, download_files=False)
        chat, sources, _ = client.predict(question, [], "extractive", 5, [], "", "", api_name="/ask")
        content = chat[-1]["content"]
        return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(one, questions))
    assert len(replies) == 20
    for question, reply in zip(questions, replies):
        assert 'class="answer"' in reply and "Something went wrong" not in reply, (question, reply[:300])
        assert "checked against their sources" in reply or "Not in the articles" in reply
    assert 1 < server.counter.most <= CONCURRENCY  # the queue ran several at once, never more than allowed
    assert time.monotonic() - started < 120


@pytest.mark.skipif("local" not in available_answerers(Config(llm="local")), reason="no local GGUF model")
def test_the_local_answerer_can_be_chosen(page) -> None:
    page.get_by_text("Answer settings").click()
    page.locator("#answerer").get_by_text("local", exact=True).click()
    ask(page, ISTANBUL, timeout=120_000)
    answer = last_answer(page)
    assert "· local" in answer and "checked against their sources" in answer


@pytest.mark.parametrize("setting, problem", [
    ("empty store", "No articles are indexed yet"),
    ("Chroma server down", "cannot reach the Chroma server"),
])
def test_problems_are_explained_in_the_page(browser, tmp_path: Path, real_embedder, setting: str,
                                            problem: str) -> None:
    config = Config(store_path=tmp_path / "store", llm="extractive") if setting == "empty store" else \
        Config(chroma_host="127.0.0.1", chroma_port=free_port(), llm="extractive")
    port = free_port()
    demo = launch(config, "127.0.0.1", port, block=False, embedder=real_embedder, uploads_dir=tmp_path / "uploads")
    try:
        with open_page(browser, f"http://127.0.0.1:{port}/") as page:
            page.wait_for_function("text => document.body.innerText.includes(text)", arg=problem)
            expected = "rag ingest seeds/" if setting == "empty store" else "chroma run --path DIR"
            for _ in range(2):  # the message is readable, and the page keeps working
                ask(page, ISTANBUL)
                assert "Something went wrong" in last_answer(page) and expected in last_answer(page)
            assert page.locator("#chat .error").count() == 2
            page.screenshot(path=str(ARTIFACTS / f"problem-{setting.replace(' ', '-').lower()}.png"))
    finally:
        demo.close()


@pytest.mark.parametrize("failure", ["not a model", "killed mid-answer"])
def test_a_local_model_that_fails_is_one_message_and_the_page_answers(browser, tmp_path: Path, seed_store: Path,
                                                                     real_embedder, failure: str) -> None:
    """The local model's process really fails (a file that is no model; SIGKILL once its first
    words have arrived): the page says so in one message and answers with extractive."""
    from tests.test_llm_isolation import KillAfterFirstWords

    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    notes = tmp_path / "notes.gguf"
    notes.write_bytes(b"these are meeting notes, not a GGUF model\n" * 200)
    config = Config(store_path=store, llm="local", llm_model=str(notes) if failure == "not a model" else None)

    def factory(settings: Config):
        assistant = build_assistant(settings, embedder=real_embedder)
        if settings.llm == "local":
            KillAfterFirstWords(assistant)
        return assistant

    port = free_port()
    demo = launch(config, "127.0.0.1", port, block=False, assistant_factory=factory, uploads_dir=tmp_path / "up")
    try:
        with open_page(browser, f"http://127.0.0.1:{port}/") as page:
            page.get_by_text("Answer settings").click()
            page.locator("#answerer").get_by_text("extractive", exact=True).wait_for()
            offered = page.locator("#answerer").get_by_text("local", exact=True).count()
            if failure == "not a model":
                page.wait_for_function("t => document.body.innerText.includes(t)",
                                       arg="The local answerer is not available")
                assert "notes.gguf" in page.locator(".error").first.inner_text() and offered == 0
            else:
                assert offered == 1  # SmolLM2 passed the probe
                page.locator("#answerer").get_by_text("local", exact=True).click()
            answers = []
            for _ in range(2):  # one clear message, a real answer, and the page keeps answering
                ask(page, ISTANBUL, timeout=120_000)
                answers.append(last_answer(page))
                assert "1,000" in answers[-1] and "checked against their sources" in answers[-1]
                assert "Something went wrong" not in answers[-1]
            if failure == "killed mid-answer":  # the first answer's model was killed; the second had a new one
                assert "stopped while answering (killed by SIGKILL" in answers[0] and "extractive answer" in answers[0]
                assert "stopped while answering" not in answers[1]
            page.screenshot(path=str(ARTIFACTS / f"local-model-{failure.replace(' ', '-')}.png"))
    finally:
        demo.close()

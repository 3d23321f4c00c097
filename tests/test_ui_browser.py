"""The chat page end to end, in real headless Chromium (Playwright), served in-process on a free
loopback port over a copy of the seed store (real model, real Chroma, extractive answerer; one test
uses the local SmolLM2). Screenshots go to test-artifacts/.

Every page also checks that nothing was requested from outside the server (no analytics, no
fonts from the web) and that no dialog opened.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from rag.assistant import build_assistant
from rag.config import Config
from rag.llms import default_gguf
from tests.conftest import ROOT, free_port
from ui.app import launch
from ui.pool import CONCURRENCY, available_answerers

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
    #: While set, the assistants wait this many seconds before each event they stream (to stop one).
    slow: list[float] = field(default_factory=lambda: [0.0])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seed_store: Path, real_embedder) -> Iterator[Server]:
    """The page over a private copy of the seed store (uploads change it)."""
    store = tmp_path_factory.mktemp("ui") / "store"
    shutil.copytree(seed_store, store)
    counter = Counter()
    slow = [0.0]

    def factory(config: Config):
        assistant = build_assistant(config, embedder=real_embedder)
        stream = assistant.stream

        def counted(*args, **kwargs):
            with counter:
                for event in stream(*args, **kwargs):
                    time.sleep(slow[0])
                    yield event

        assistant.stream = counted  # type: ignore[method-assign]
        return assistant

    port = free_port()
    # The local model is offered beside extractive because a GGUF is named for it (the shipped one).
    demo = launch(Config(store_path=store, llm="extractive", llm_model=str(default_gguf())), "127.0.0.1", port,
                  block=False, assistant_factory=factory)
    try:
        yield Server(f"http://127.0.0.1:{port}/", counter, store, slow)
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
def open_page(browser, url: str, **options) -> Iterator:
    """A desktop-sized page on ``url`` (``options`` for the browser context: another viewport, a
    colour scheme, permissions); afterwards, nothing may have been requested from elsewhere and no
    dialog may have opened."""
    context = browser.new_context(**({"viewport": {"width": 1400, "height": 900}} | options))
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


def fill_box(page, selector: str, text: str) -> None:
    """Fill a box of the answer settings. Opening the settings renders their boxes, and a box
    filled within milliseconds of that can be replaced by an empty one (seen: the date box empty
    straight after the fill, 3 runs in 10); a person cannot type that fast. So fill until the box
    holds the text."""
    box = page.locator(selector)
    for _ in range(5):
        if box.input_value() != text:
            box.fill(text)
        page.wait_for_timeout(200)  # still holds it a moment later
        if box.input_value() == text:
            return
    raise AssertionError(f"{selector} did not take {text!r}")


def last_answer(page) -> str:
    return page.locator("#chat .answer, #chat .error").last.inner_text()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def remove(page, title: str) -> None:
    """Remove the article whose title starts with ``title`` in the Articles tab (confirmed), and
    wait for the status line to say so."""
    open_tab(page, "Articles")
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name=title).click()
    page.click("#remove")
    page.click("#remove-confirm")
    page.wait_for_function("() => document.querySelector('#upload-status')?.innerText.includes('Removed')")


def upload(page, path: Path, expected: str) -> None:
    """Upload ``path`` in the Articles tab and wait for ``expected`` in the status line; the
    progress shows in the upload box only, never over the other parts of the page it updates."""
    open_tab(page, "Articles")
    page.evaluate("""() => { window.__progressElsewhere = [];
      new MutationObserver(() => document.querySelectorAll('.progress-text, .eta-bar').forEach(el => {
        const where = el.closest('[id]')?.id;
        if (where !== 'upload' && el.offsetParent !== null) window.__progressElsewhere.push(where);
      })).observe(document.body, {subtree: true, childList: true}); }""")
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_function("text => document.querySelector('#upload-status')?.innerText.includes(text)",
                           arg=expected, timeout=90_000)
    assert page.evaluate("() => window.__progressElsewhere") == []


def test_an_answer_cites_its_source_and_a_chip_shows_it(page) -> None:
    ask(page, ISTANBUL)
    answer = last_answer(page)
    assert "1,000" in answer and "checked against their sources" in answer
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


def test_a_disagreement_shows_each_version_side_by_side(page) -> None:
    ask(page, "How long has the war in Ukraine lasted?")  # four years, or its third year
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
    assert [p.name for p in saved] == [path.name]  # saved under its own name (issue 32.2)
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
    page.click("#remove")  # asks first: Cancel keeps the article
    page.wait_for_selector("#remove-question:has-text('Remove “Envoys from Norland')")
    page.click("#remove-cancel")
    page.wait_for_selector("#remove-confirm", state="hidden")
    assert "Norland" in page.locator("#articles-table").inner_text()
    page.click("#remove")
    page.click("#remove-confirm")
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


def rgb(colour: str) -> tuple[float, ...]:
    """``rgb(r, g, b)`` / ``rgba(r, g, b, a)`` as numbers."""
    return tuple(float(x) for x in re.findall(r"[\d.]+", colour))


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two opaque CSS colours."""

    def luminance(colour: str) -> float:
        channels = [c / 255 for c in rgb(colour)[:3]]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_light_view_shows_authors_readable_titles_and_a_screenshot(page) -> None:
    open_tab(page, "Articles")
    page.wait_for_selector("#articles-table table")
    titles = page.locator("#articles-table tbody td:first-child").all_inner_texts()
    assert "Talks Without Traction" in titles and not any(t.endswith(".txt") for t in titles)  # no file names
    assert "Saad" in page.locator("#articles-table").inner_text()  # the author column
    open_tab(page, "Chat")
    ask(page, ISTANBUL)
    page.locator("#source-1-1").wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "screenshot-light.png"))


def test_a_highlighted_quote_is_readable_in_dark_mode(browser, server: Server) -> None:
    with open_page(browser, server.url, color_scheme="dark") as page:
        page.wait_for_function("() => document.body.classList.contains('dark') || "
                               "document.documentElement.classList.contains('dark')")
        ask(page, ISTANBUL)
        mark = page.locator("#source-1-1 mark")
        colours = mark.evaluate("el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }")
        assert rgb(colours[1])[3:] in ((), (1.0,)), colours  # an opaque highlight
        assert contrast(*colours) >= 4.5, colours
        passage = page.locator("#source-1-1 .passage").evaluate("el => getComputedStyle(el).color")
        assert sum(rgb(passage)[:3]) > 3 * 180  # the page really is dark: its text is light
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "screenshot-dark.png"))


def test_copy_puts_the_answer_text_with_markers_and_sources_on_the_clipboard(browser, server: Server) -> None:
    with open_page(browser, server.url, permissions=["clipboard-read", "clipboard-write"]) as page:
        ask(page, ISTANBUL)
        page.locator("#chat .answer .copy-text").last.click()
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert "1,000" in copied and "[1]" in copied and "\nSources:\n[1] " in copied, copied
        assert "<" not in copied and "class=" not in copied  # text, not HTML
        title = page.locator("#source-1-1 .source-title b").inner_text()
        assert f"[1] {title}" in copied
        page.click("#copy-conversation")
        page.wait_for_function("() => navigator.clipboard.readText().then(t => t.includes('# Conversation'))")
        everything = page.evaluate("() => navigator.clipboard.readText()")
        assert ISTANBUL in everything and "[1]" in everything and title in everything and "<div" not in everything


def test_a_reload_keeps_the_conversation_which_exports_as_markdown(page, tmp_path: Path) -> None:
    ask(page, ISTANBUL)
    ask(page, "Who mediated the Geneva talks?")
    page.wait_for_function("() => document.querySelector('#conversation-tools .copy-source')?.textContent"
                           ".includes('## 2.')")  # kept in the browser once the answer is done
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 2", timeout=30_000)
    assert "1,000" in page.locator("#chat .answer").first.inner_text()
    assert page.locator("#source-1-1").count() == 1  # the sources panel is back too
    ask(page, "And in which palace were the Istanbul talks held?")  # the conversation goes on after it
    assert page.locator("#chat .answer").count() == 3
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == "conversation.md"
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Conversation") and f"## 1. {ISTANBUL}" in markdown
    assert "[1]" in markdown and "**Sources**" in markdown and "\n- [1] " in markdown
    assert markdown.count("\n## ") == 3 and "<div" not in markdown
    page.click("#new-chat")  # New chat forgets it, also after a reload
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 0")
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(1000)
    assert page.locator("#chat .answer").count() == 0


def test_a_conversation_too_big_for_the_browser_keeps_its_latest_turns_and_says_so(page) -> None:
    """Issue 18.8: a few long pastes filled the browser's storage (a QuotaExceededError, which
    Gradio's BrowserState only logs), and from then on the conversation silently no longer
    survived a reload. Now the saved copy keeps what fits, and the page says what it left out."""
    paste = " ".join(f"Please keep the answer short, point {n}." for n in range(30_000))  # about 1,000,000 characters
    for _ in range(3):
        ask(page, f"{ISTANBUL} {paste}", timeout=120_000)
    ask(page, "Who mediated the Geneva talks?")
    page.wait_for_function("() => document.querySelector('#conversation-tools .copy-source')?.textContent"
                           ".includes('## 4.')", timeout=120_000)
    tools = page.locator("#conversation-tools").inner_text()
    assert "kept in this browser" in tools, tools
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length >= 2", timeout=30_000)
    page.wait_for_timeout(500)
    answers = page.locator("#chat .answer")
    assert answers.count() == 4 and "Geneva" in answers.last.inner_text()  # every answer is back
    assert "characters in all" in page.locator("#chat .question").nth(2).inner_text()
    assert "kept in this browser" in page.locator("#conversation-tools").inner_text()
    ask(page, "And where were they held?")  # the conversation goes on after it
    assert page.locator("#chat .answer").count() == answers.count()


def test_regenerate_asks_the_last_question_again(page) -> None:
    ask(page, ISTANBUL)
    first = last_answer(page)
    page.evaluate("() => document.querySelector('#chat .answer').dataset.old = '1'")  # gone when re-rendered
    page.locator("#chat").get_by_role("button", name="Retry").last.click()
    page.wait_for_function("() => document.querySelector('#chat .answer:not(.streaming):not([data-old])') && "
                           "document.querySelectorAll('#chat .answer').length === 1", timeout=60_000)
    page.wait_for_timeout(500)
    assert page.locator("#chat .question").count() == 1  # replaced, not added
    assert "1,000" in last_answer(page) and last_answer(page).split(" · ")[0] == first.split(" · ")[0]
    assert page.locator("#sources .source-group").count() == 1


def test_stop_ends_a_streaming_answer_and_the_page_answers_again(page, server: Server) -> None:
    ask(page, "Who mediated the Geneva talks?")
    server.slow[0] = 1.0
    try:
        page.fill("#question textarea", ISTANBUL)
        page.press("#question textarea", "Enter")
        # The sources panel moves to the new question at once, and fills as sentences are checked.
        page.wait_for_function("() => document.querySelector('#sources .source-group .asked')?.innerText"
                               ".includes('prisoners')")
        page.wait_for_selector("#chat .answer.streaming .answer-text")  # the first sentence is shown
        page.locator("#stop").click()
        page.wait_for_selector("#chat .answer.stopped", timeout=10_000)
        bubble = last_answer(page)
        assert "Stopped: this answer was not finished" in bubble
        assert "1,000" in bubble and "[1]" in bubble, bubble  # the sentence shown so far stays, as text
        assert "'type'" not in bubble and "[{" not in bubble, bubble
        newest = page.locator("#sources .source-group").first
        assert "prisoners" in newest.locator(".asked").inner_text() and newest.locator("article.source").count() >= 1
        page.wait_for_selector("#ask", state="visible")
        page.wait_for_timeout(2500)  # the stopped answer does not come back
        assert page.locator("#chat .answer.stopped").count() == 1 and page.locator("#chat .answer.streaming").count() == 0
    finally:
        server.slow[0] = 0.0
    ask(page, "Who mediated the Geneva talks?")
    assert "checked against their sources" in last_answer(page)


def test_filters_show_as_chips_and_a_filtered_abstention_says_what_they_left_out(page) -> None:
    page.get_by_text("Answer settings").click()
    fill_box(page, "#after textarea", "2025-01-01")
    fill_box(page, "#before textarea", "2025-12-31")
    page.locator("#before textarea").press("Tab")
    page.get_by_text("Answer settings").click()  # closed again: the chips still show the filters
    # Each box's change updates the chips; wait for the reply that read both boxes.
    page.wait_for_function("() => ['January 1', 'December 31'].every("
                           "d => document.querySelector('#active-filters')?.innerText.includes(d))")
    chips = page.locator("#active-filters .filter-chip").all_inner_texts()
    assert chips == ["Published from January 1, 2025", "Published until December 31, 2025", "Undated articles left out"]
    assert page.locator("#active-filters").is_visible()
    ask(page, "Who mediated the Geneva talks?")
    answer = last_answer(page)
    assert "Not in the articles" in answer, answer
    # why, under the abstention: the assistant's explanation (the API and the CLI give it too)
    found = re.search(r"the date filter \(published from January 1, 2025 to December 31, 2025\) left out (\d+) of "
                      r"(\d+) articles \((\d+) with no publication date", answer)
    assert found and int(found[1]) >= 4 and int(found[3]) >= 4 and "widen the dates" in answer, answer
    page.screenshot(path=str(ARTIFACTS / "filters-abstention.png"))
    page.click("#clear-filters")  # one click clears them all
    page.wait_for_function("() => !document.querySelector('#active-filters .filter-chip')")
    assert page.locator("#clear-filters").is_hidden()
    ask(page, ISTANBUL)
    assert "1,000" in last_answer(page)


def test_an_article_filter_is_named_by_the_articles_title_in_its_chip_and_its_note(page) -> None:
    """Issue 19.3: the filter note showed a server path ("source '/tmp/…/003_….txt'") and the chip
    a title cut short with no way to read the rest of it."""
    headline = ("Internationally mediated efforts to end the Russia-Ukraine war reveal persistent diplomatic "
                "obstacles despite renewed dialogue")  # seed 003's title: its first line
    page.get_by_text("Answer settings").click()
    page.locator("#only-articles input").click()
    page.get_by_role("option", name="Internationally mediated efforts").click()
    page.keyboard.press("Escape")
    page.wait_for_selector("#active-filters .filter-chip")
    chip = page.locator("#active-filters .filter-chip").first
    assert chip.inner_text() == "Only “Internationally mediated efforts to end the Russia-Ukraine…”"
    assert chip.get_attribute("title") == headline  # the whole title, on hover
    fill_box(page, "#after textarea", "2025-01-01")  # seed 003 states no date: nothing is left to search
    page.locator("#after textarea").press("Tab")
    page.wait_for_function("() => document.querySelector('#active-filters')?.innerText.includes('January 1')")
    ask(page, "Who mediated the Geneva talks?")
    answer = last_answer(page)
    assert "Not in the articles" in answer, answer
    assert f"the article filter (the article “{headline}”) left out" in answer, answer
    assert "the date filter (published on or after January 1, 2025) left out the 1 article (1 with no publication " \
           "date)" in answer, answer
    assert "003_" not in answer and ".txt" not in answer and "/tmp" not in answer and "source '" not in answer
    page.click("#clear-filters")
    page.wait_for_function("() => !document.querySelector('#active-filters .filter-chip')")


def test_an_abstention_says_why_in_words_under_it(page) -> None:
    """Issue 31.1: the reason, with the confidence, in words under the abstention. Issue 32.4: with
    only a date filter set, that leaves out every article, one message names it and how to widen
    it, where the page said "no passage supports one", "The articles don't cover this question"
    and spoke of "file name or path"."""
    ask(page, "What is the capital of France?")
    bubble = page.locator("#chat .answer").last
    why = bubble.locator(".abstained .why").inner_text()
    assert why.startswith("Why: Not sure enough to answer: the chance that the articles answer this is 0."), why
    assert "below the 0.60 needed. What weighed most:" in why, why
    assert bubble.locator(".supported").inner_text().startswith("Not answered")
    assert "Nothing is cited: the answer says why." in page.locator("#sources .source-group").first.inner_text()
    page.get_by_text("Answer settings").click()
    fill_box(page, "#after textarea", "2040-01-01")
    page.locator("#after textarea").press("Tab")
    page.wait_for_function("() => document.querySelector('#active-filters')?.innerText.includes('January 1, 2040')")
    page.get_by_text("Answer settings").click()  # closed again, the chat in view
    ask(page, "Who mediated the Geneva talks?")
    why = page.locator("#chat .answer").last.locator(".why").inner_text()
    assert why.startswith("Why: Nothing could be searched: the date filter (published on or after January 1, 2040) "
                          "left out all "), why
    assert "To search more, widen the dates" in why, why
    shown = last_answer(page) + page.locator("#sources .source-group").first.inner_text()
    for contradiction in ("file name or path", "no passage supports", "don't cover this question", "article filter"):
        assert contradiction not in shown, shown
    page.screenshot(path=str(ARTIFACTS / "abstention-why.png"))
    page.click("#clear-filters")
    page.wait_for_function("() => !document.querySelector('#active-filters .filter-chip')")


def test_a_question_in_french_is_told_the_articles_and_models_are_english(page) -> None:
    """Issue 19.5: a French question got "The articles don't say" with no hint why."""
    ask(page, "Où ont eu lieu les pourparlers de paix entre la Russie et l'Ukraine ?")
    answer = last_answer(page)
    assert "Not in the articles" in answer, answer
    assert ("the question seems to be in French, but the articles searched and the models here are English: "
            "ask in English") in answer, answer


def test_a_quote_across_list_items_exports_as_one_list_item_without_list_debris(page) -> None:
    """Issue 19.7: a quote spanning list items broke the export's list (`- \\- Territory…`), and
    once on one line it still read "deeply entrenched: - Territory…"."""
    ask(page, "What are the main hurdles to peace?")
    mark = page.locator("#sources .source mark", has_text="Territory and Annexations").first
    assert "deeply entrenched:" in mark.inner_text()  # the cited quote spans the list's intro and its first item
    with page.expect_download() as download:
        page.click("#export")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    sources = markdown.split("**Sources**\n\n")[1].strip().splitlines()
    assert sources and all(line.startswith("- [") for line in sources), markdown  # one list item a source
    listed = next(line for line in sources if "Territory and Annexations" in line)
    assert "The main hurdles to peace are deeply entrenched: Territory and Annexations: Russia seeks" in listed, listed
    assert "\\-" not in markdown and " - Territory" not in markdown and ": -" not in markdown, markdown


def test_an_answer_says_how_it_was_made_in_words_and_keeps_timings_in_its_details(page) -> None:
    ask(page, ISTANBUL)
    bubble = page.locator("#chat .answer").last
    footer = bubble.locator(".supported").inner_text()
    assert "quoted from the articles" in footer and "extractive" not in footer and " ms" not in footer, footer
    details = bubble.locator("details.answer-details")
    assert not details.locator("p").first.is_visible()  # folded away until asked for
    details.locator("summary").click()
    assert "answerer: extractive" in details.inner_text() and " ms" in details.inner_text()


def test_a_date_is_read_as_typed_and_nonsense_is_pointed_out_before_asking(page) -> None:
    page.get_by_text("Answer settings").click()
    assert "June 2025" in page.locator("#after textarea").get_attribute("placeholder")
    fill_box(page, "#before textarea", "June 2025")
    page.locator("#before textarea").press("Tab")  # leaving the box shows the day it was read as
    page.wait_for_function("() => document.querySelector('#before textarea').value === '2025-06-30'")
    fill_box(page, "#after textarea", "last weak")
    page.locator("#after textarea").press("Tab")
    page.wait_for_selector("#active-filters .filter-chip.problem")
    problem = page.locator("#active-filters .filter-chip.problem").inner_text()
    assert "'last weak' is not a date: write it like 2025-06-01, June 2025 or last week" in problem
    assert page.locator("#after textarea").input_value() == "last weak"  # kept, to be corrected
    ask(page, "Who mediated the Geneva talks?")  # asking says the same, not "Something went wrong"
    assert "is not a date" in last_answer(page) and "Something went wrong" not in last_answer(page)
    fill_box(page, "#after textarea", "2025")
    page.locator("#after textarea").press("Tab")
    page.wait_for_function("() => document.querySelector('#after textarea').value === '2025-01-01'")
    page.wait_for_function("() => !document.querySelector('#active-filters .filter-chip.problem')")
    chips = page.locator("#active-filters .filter-chip").all_inner_texts()
    assert chips == ["Published from January 1, 2025", "Published until June 30, 2025", "Undated articles left out"]


def test_enter_on_a_chip_moves_the_keyboard_focus_to_its_source(page) -> None:
    ask(page, ISTANBUL)
    chip = page.locator("#chat a.chip", has_text="[1]").last
    chip.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement?.id === 'source-1-1'")
    page.keyboard.press("Tab")  # the focus goes on from the card (to its link back), not from the page's top
    assert page.evaluate("() => document.activeElement?.closest('#source-1-1')?.id") == "source-1-1"
    page.keyboard.press("Enter")  # and back to the chip
    page.wait_for_function("() => document.activeElement?.classList.contains('chip')")


def test_the_layout_fits_a_laptop_and_a_phone_screen(browser, server: Server) -> None:
    with open_page(browser, server.url, viewport={"width": 1366, "height": 900}) as page:
        examples = page.locator("#examples button")
        assert examples.count() == 3
        bottom = max(box["y"] + box["height"] for box in (examples.nth(i).bounding_box() for i in range(3)))
        assert bottom <= 900, f"the example questions end at {bottom}px, below the 900px screen"
        ask(page, ISTANBUL)
        ask(page, "Who mediated the Geneva talks?")
        # No floating label over the conversation when it is scrolled.
        page.locator("#chat").evaluate("el => el.querySelectorAll('*').forEach(e => { if (e.scrollHeight > "
                                       "e.clientHeight + 20) e.scrollTop = 60; })")
        labels = page.locator("#chat label, #chat [data-testid='block-label']")
        assert all(not labels.nth(i).is_visible() for i in range(labels.count()))
    with open_page(browser, server.url, viewport={"width": 390, "height": 844}, is_mobile=True,
                   has_touch=True) as page:
        buttons = {name: page.locator(f"#{name}").bounding_box() for name in ("ask", "new-chat")}
        line = page.locator("#ask").evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 20")
        assert buttons["new-chat"]["height"] < 2 * line + 16, buttons  # "New chat" on one line
        examples = page.locator("#examples")
        assert examples.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the examples scroll sideways"
        first = page.locator("#examples button").first.bounding_box()
        assert first["y"] + first["height"] <= 844, f"the first example question is below the screen: {first}"


def test_on_a_phone_a_chip_jumps_to_its_source_and_back(browser, server: Server) -> None:
    with open_page(browser, server.url, viewport={"width": 390, "height": 844}, is_mobile=True,
                   has_touch=True) as page:
        ask(page, ISTANBUL)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "screenshot-phone.png"))
        chip = page.locator("#chat a.chip", has_text="[1]").last
        chip.click()
        page.wait_for_function("() => document.activeElement?.id === 'source-1-1'")
        page.wait_for_timeout(300)
        source = page.locator("#source-1-1")
        box = source.bounding_box()
        assert box is not None and 0 <= box["y"] < 844
        page.screenshot(path=str(ARTIFACTS / "phone-source.png"))
        source.locator("a.back-to-answer").click()
        page.wait_for_timeout(300)
        back = chip.bounding_box()
        assert back is not None and 0 <= back["y"] < 844  # back up at the chip
        assert page.evaluate("() => document.activeElement?.classList.contains('chip')")


def test_a_long_question_is_not_cut_silently_and_its_heading_stays_short(page) -> None:
    long = ISTANBUL + " " + " ".join(f"Please keep the answer short, point {n}." for n in range(1000))
    long = long[:20_000]
    page.fill("#question textarea", long)
    assert page.locator("#question textarea").input_value() == long  # the box keeps all of it
    page.press("#question textarea", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#chat .answer:not(.streaming), #chat .error').length",
                           timeout=60_000)
    answer = last_answer(page)
    assert "max_question_chars" in answer and "20,000" in answer, answer  # the note says what was used
    assert "(20,000 characters in all)" in page.locator("#chat .question").inner_text()
    heading = page.locator("#sources .sources-heading").first
    assert len(heading.inner_text()) < 150
    assert heading.locator(".asked").evaluate("el => getComputedStyle(el).fontWeight") == "400"


def test_a_pdf_and_a_docx_are_uploaded_and_asked_about(page, tmp_path: Path) -> None:
    from tests.test_formats import ferry_pdf, pilots_docx

    pdf, docx = tmp_path / "ferries.pdf", tmp_path / "pilots.docx"
    pdf.write_bytes(ferry_pdf())
    docx.write_bytes(pilots_docx())
    upload(page, pdf, "Indexed ferries.pdf")
    upload(page, docx, "Indexed pilots.docx")
    table = page.locator("#articles-table").inner_text()
    assert "Danube ferry crossings resume" in table and "Odesa harbour pilots end their strike" in table
    assert "Ioana Popescu" in table and "Olena Kovalenko" in table

    open_tab(page, "Chat")
    ask(page, "How many lorries a day will the ferry between Izmail and Isaccea carry?")
    assert "240" in last_answer(page)
    card = page.locator("#sources .source").first.inner_text()
    assert "Danube ferry crossings resume" in card and "by Ioana Popescu" in card and "ferries.pdf" in card
    ask(page, "What pay rise did the harbour pilots in Odesa accept?")
    assert "18 percent" in last_answer(page)
    assert "pilots.docx" in page.locator("#sources .source").first.inner_text()


HELSINKI = [("Heading 1", "Helsinki dredges a second channel for the Tallinn ferries"),
            ("Normal", "The port of Helsinki began dredging a second channel at Länsisatama on Monday, so that the "
                       "Tallinn ferries no longer wait for cargo ships to pass."),
            ("Normal", "The dredging will cost 38 million euros and end in the autumn of 2027, the port said.")]
TURKU = [("Heading 1", "Turku extends its ferry quay"),
         ("Normal", "The port of Turku will extend its ferry quay by sixty metres before the summer season, "
                    "the city council decided on Wednesday.")]


def test_an_upload_goes_by_its_uploaded_name_and_a_second_of_that_name_gets_a_number(page, tmp_path: Path,
                                                                                      server: Server) -> None:
    """Issue 32.2: the Articles tab showed helsinki_channel.docx while the file was saved, cited
    and filtered as 3e63fc33….docx (two uploads of one name even showed the same name). One name
    everywhere now, the uploaded one; a second upload of that name is named "… (2)", and told so."""
    from tests.test_formats import pilots_docx

    first, second = tmp_path / "one" / "helsinki_channel.docx", tmp_path / "two" / "helsinki_channel.docx"
    for path, blocks in ((first, HELSINKI), (second, TURKU)):
        path.parent.mkdir()
        path.write_bytes(pilots_docx(properties=False, blocks=blocks))
    upload(page, first, "Indexed helsinki_channel.docx")
    upload(page, second, "named helsinki_channel (2).docx (another article is named helsinki_channel.docx)")
    rows = page.locator("#articles-table tr").all_inner_texts()
    assert any("Helsinki dredges" in row and "helsinki_channel.docx" in row for row in rows), rows
    assert any("Turku extends" in row and "helsinki_channel (2).docx" in row for row in rows), rows
    assert {p.name for p in (server.store / "uploads").glob("helsinki_channel*")} == \
        {"helsinki_channel.docx", "helsinki_channel (2).docx"}

    open_tab(page, "Chat")
    ask(page, "How much will the dredging of the second channel at Länsisatama cost?")
    assert "38 million euros" in last_answer(page)
    card = page.locator("#sources .source").first.inner_text()
    assert "Helsinki dredges" in card and "helsinki_channel.docx" in card, card


def test_an_uploaded_pdf_is_dated_by_its_byline_and_its_source_card_says_so(page, tmp_path: Path) -> None:
    """Issue 32.3: a PDF made today was dated today (the file's creation date), not March 3, 2026
    as its byline says, and a filter for articles published since June let it through. Its own
    byline dates it, names its author and outlet, and its source card says where the date is from."""
    from tests.test_formats import channel_pdf

    pdf = tmp_path / "winter_channel.pdf"
    pdf.write_bytes(channel_pdf(["By Anna Virtanen | Nordic Wire", "March 3, 2026"]))  # created now
    upload(page, pdf, "Indexed winter_channel.pdf")
    row = page.locator("#articles-table tr", has_text="winter_channel.pdf").inner_text()
    assert "March 3, 2026" in row and "Anna Virtanen" in row and "Nordic Wire" in row, row

    open_tab(page, "Chat")
    otso = "How often will the icebreaker Otso clear the channel between Helsinki and Tallinn?"
    ask(page, otso)
    assert "twice a day" in last_answer(page)
    card = page.locator("#sources .source").first.inner_text()
    assert "by Anna Virtanen · Nordic Wire · March 3, 2026 (from the byline)" in card, card
    page.screenshot(path=str(ARTIFACTS / "pdf-dated-by-its-byline.png"))

    page.get_by_text("Answer settings").click()
    fill_box(page, "#after textarea", "2026-06-01")
    page.locator("#after textarea").press("Tab")
    page.wait_for_function("() => document.querySelector('#active-filters')?.innerText.includes('June 1, 2026')")
    ask(page, otso)
    assert "twice a day" not in last_answer(page) and "Not in the articles" in last_answer(page)
    page.click("#clear-filters")
    page.wait_for_function("() => !document.querySelector('#active-filters .filter-chip')")


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
    """Choosing local makes the local model answer: its own checked sentences, or (SmolLM2 may
    write none the articles support) the quoted answer with the note saying the model's text was
    replaced. Never a plain extractive answer, which is what a choice that did not take gives."""
    page.get_by_text("Answer settings").click()
    page.locator("#answerer").get_by_text("local", exact=True).click()
    assert page.locator("#answerer input[value='local']").is_checked()
    ask(page, ISTANBUL, timeout=120_000)
    answer = last_answer(page)
    assert "checked against their sources" in answer
    details = page.locator("#chat .answer details").last.text_content()
    answerer = re.search(r"answerer: (\S+)", details).group(1)
    assert answerer in ("local", "local->extractive"), details
    if answerer == "local":
        assert "written by the local model from the articles' text" in answer
    else:
        assert "the local model's sentences were not supported by the articles, so this is the quoted answer" \
            in answer


def test_the_answer_settings_survive_a_reload(page) -> None:
    saved = "() => localStorage.getItem('rag-settings')"  # BrowserState's copy (encrypted)

    def saving(change) -> None:  # make a change, then wait until the browser has stored it
        before = page.evaluate(saved)
        change()
        page.wait_for_function(f"(before) => ({saved})() !== before", arg=before)

    page.get_by_text("Answer settings").click()
    choices = page.locator("#answerer input[type=radio]")
    values = [choices.nth(i).get_attribute("value") for i in range(choices.count())]
    other = next((v for v in values if v != "extractive"), None)
    if other is not None:
        saving(lambda: page.locator("#answerer").get_by_text(other, exact=True).click())
    slider = page.locator("#settings input[type=range]")

    def slide() -> None:
        slider.fill("7")
        slider.dispatch_event("change")
        # The release saves what the slider holds then: wait until the page has taken the 7 (its
        # number box shows it), or the (encrypted, so always different) copy saved may be the old 5.
        page.wait_for_function("() => document.querySelector('#settings input[type=number]')?.value === '7'")
        slider.dispatch_event("pointerup")

    saving(slide)
    page.reload()
    page.wait_for_selector("#question textarea")
    page.get_by_text("Answer settings").click()
    # The slider appears once the opened accordion renders: until then there is nothing to read.
    page.wait_for_function("() => document.querySelector('#settings input[type=range]')?.value === '7'")
    if other is not None:
        assert page.locator(f"#answerer input[value='{other}']").is_checked()


def test_a_generative_answer_shows_what_it_is_doing_and_its_unchecked_draft(browser, tmp_path: Path,
                                                                           seed_store: Path, real_embedder) -> None:
    """A slow writer (a stand-in model: what it writes is beside the point) shows its progress,
    the seconds it has taken, its draft marked as not checked, and which sentence of it is being
    checked (a check slowed down to be seen); the checked answer replaces it."""
    from dataclasses import replace

    from rag.assistant import Assistant
    from rag.drafting import ModelDrafter
    from rag.verify import Verifier
    from tests.test_assistant import _Typist

    class Deliberate(Verifier):  # a check slowed down to be seen
        def check_claim(self, claim, passages):
            time.sleep(1.5)
            return super().check_claim(claim, passages)

    def factory(settings: Config):
        typist = _Typist("A 1,000-for-1,000 prisoner exchange was agreed in Istanbul in May 2025, the "
                         "largest of the conflict. The moon sings at night.", pause=0.25)
        pipeline = build_assistant(settings, embedder=real_embedder).pipeline
        return Assistant(settings, replace(pipeline, drafter=ModelDrafter(typist, Deliberate())))

    port = free_port()
    demo = launch(Config(store_path=seed_store, llm="extractive"), "127.0.0.1", port, block=False,
                  assistant_factory=factory, uploads_dir=tmp_path / "up")
    try:
        with open_page(browser, f"http://127.0.0.1:{port}/") as page:
            page.fill("#question textarea", ISTANBUL)
            page.press("#question textarea", "Enter")
            page.wait_for_selector("#chat .answer.streaming .draft", timeout=30_000)
            status = page.locator("#chat .answer.streaming .status").inner_text()
            assert "not checked yet" in status, status
            page.wait_for_function("() => /\\d+ s$/.test(document.querySelector('#chat .answer.streaming "
                                   ".status')?.innerText || '')", timeout=15_000)
            # Which sentence is being checked, its draft still shown (issue 19.2)
            page.wait_for_function("() => /^Checking sentence 1 of the draft against its sources… \\d+ s$/.test("
                                   "document.querySelector('#chat .answer.streaming .status')?.innerText || '') "
                                   "&& document.querySelector('#chat .answer.streaming .draft')", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "generative-answer-checking.png"))
            page.wait_for_function("() => (document.querySelector('#chat .answer.streaming .status')?.innerText "
                                   "|| '').startsWith('Checking sentence 2 of the draft')", timeout=30_000)
            page.wait_for_selector("#chat .answer:not(.streaming)", timeout=60_000)
            final = last_answer(page)
            assert "1,000" in final and "moon" not in final and page.locator("#chat .draft").count() == 0
            page.screenshot(path=str(ARTIFACTS / "generative-answer.png"))
    finally:
        demo.close()


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
            expected = "ingest seeds/" if setting == "empty store" else "chroma run --path DIR"
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
                assert "stopped while answering (killed by SIGKILL" in answers[0] and "this is the quoted answer" in answers[0]
                assert "stopped while answering" not in answers[1]
            page.screenshot(path=str(ARTIFACTS / f"local-model-{failure.replace(' ', '-')}.png"))
    finally:
        demo.close()


# ---- issue 32.8: what users of Perplexity and Open WebUI expect ---------------------------------------

ORSA = """<!DOCTYPE html>
<html><head><title>Ferry returns to Lake Orsa after winter repairs</title>
<link rel="canonical" href="https://news.example.org/2031/04/orsa-ferry">
</head><body><article><h1>Ferry returns to Lake Orsa after winter repairs</h1>
<p>The Lake Orsa ferry resumed service on Monday after a winter of repairs, the harbour office said.</p>
<p>Its captain, Lena Sund, said the rebuilt ferry now carries 120 passengers on each crossing of the lake.</p>
</article></body></html>
"""


def conversation_names(page) -> list[str]:
    return page.locator("#conversations label").all_inner_texts()


def test_conversations_are_listed_opened_renamed_and_deleted_and_kept_across_a_reload(page) -> None:
    ask(page, ISTANBUL)
    page.click("#conversations-bar .toggle-button")  # the list, in the sidebar
    page.wait_for_function("q => document.querySelector('#conversations')?.innerText.includes(q)",
                           arg=ISTANBUL[:30])
    page.click("#new-chat")  # the conversation goes into the list; a new one begins
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 0")
    ask(page, "Who mediated the Geneva talks?")
    page.wait_for_function("() => document.querySelectorAll('#conversations label').length === 2 && "
                           "document.querySelector('#conversations').innerText.includes('Who mediated')")
    page.locator("#conversation-name input, #conversation-name textarea").first.fill("Geneva mediators")
    page.click("#rename-conversation")
    page.wait_for_function("() => document.querySelector('#conversations').innerText.includes('Geneva mediators')")
    page.wait_for_timeout(1000)  # the browser stores it
    page.screenshot(path=str(ARTIFACTS / "conversations.png"))

    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 1", timeout=30_000)
    page.click("#conversations-bar .toggle-button")
    assert conversation_names(page)[0] == "Geneva mediators" and ISTANBUL[:30] in conversation_names(page)[1]
    assert page.locator("#conversations input[type=radio]").first.is_checked()  # the current one
    page.locator("#conversations label", has_text=ISTANBUL[:30]).click()  # open the other one
    page.wait_for_function("() => document.querySelector('#chat .answer')?.innerText.includes('1,000')")
    assert page.locator("#source-1-1").count() == 1  # with its sources
    assert page.locator("#chat .question").all_inner_texts() == [ISTANBUL]
    page.click("#delete-conversation")  # asks first
    page.wait_for_selector("#delete-question:has-text('Delete “How many prisoners')")
    page.click("#delete-confirm")
    page.wait_for_function("() => document.querySelectorAll('#conversations label').length === 1")
    assert conversation_names(page) == ["Geneva mediators"]  # the latest of the others opens
    page.wait_for_function("() => document.querySelector('#chat .question')?.innerText.includes('Geneva')")
    page.wait_for_timeout(1000)
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 1", timeout=30_000)
    page.click("#conversations-bar .toggle-button")
    page.wait_for_function("() => document.querySelectorAll('#conversations label').length === 1")
    assert conversation_names(page) == ["Geneva mediators"]


def test_an_earlier_question_is_edited_and_asked_again_in_its_place(page) -> None:
    ask(page, ISTANBUL)
    ask(page, "Who mediated the Geneva talks?")
    page.locator("#chat").get_by_role("button", name="Edit").first.click()
    box = page.locator("#chat textarea")
    page.wait_for_function("q => document.querySelector('#chat textarea')?.value === q", arg=ISTANBUL)  # text, not HTML
    box.fill("In which palace were the Istanbul talks held?")
    page.locator("#chat").get_by_role("button", name="Submit").click()
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 1 && "
                           "document.querySelector('#chat .answer:not(.streaming)')?.innerText.includes('checked')",
                           timeout=60_000)
    assert page.locator("#chat .question").all_inner_texts() == ["In which palace were the Istanbul talks held?"]
    assert "Dolmabah" in last_answer(page)  # answered anew; the Geneva question that followed is gone
    assert page.locator("#sources .source-group").count() == 1 and page.locator("#source-1-1").count() == 1
    page.wait_for_function("() => document.querySelector('#conversation-tools .copy-source')?.textContent"
                           ".includes('palace')")  # kept in the browser as edited
    assert "Geneva" not in page.locator("#conversation-tools .copy-source").text_content()


def test_suggested_follow_ups_under_an_answer_ask_what_the_articles_answer(page) -> None:
    ask(page, ISTANBUL)
    chips = page.locator("#chat .answer .follow-ups button.follow-up")
    chips.first.wait_for(timeout=30_000)
    suggested = chips.all_inner_texts()
    assert 2 <= len(suggested) <= 3 and all(q.endswith("?") for q in suggested), suggested
    chips.first.click()
    page.wait_for_function("() => document.querySelectorAll('#chat .answer:not(.streaming)').length === 2",
                           timeout=60_000)
    assert page.locator("#chat .question").last.inner_text() == suggested[0]
    assert "checked against their sources" in last_answer(page)  # answered, not "Not in the articles"
    page.locator("#chat .answer").last.locator(".follow-ups").wait_for(timeout=30_000)
    assert page.locator("#chat .follow-ups").count() == 1  # only the latest answer offers them
    page.screenshot(path=str(ARTIFACTS / "follow-ups.png"))


def test_a_source_card_links_to_the_original_web_page_in_a_new_tab(page, tmp_path: Path) -> None:
    path = tmp_path / "orsa-ferry.html"
    path.write_text(ORSA, encoding="utf-8")
    upload(page, path, "Indexed orsa-ferry.html")
    open_tab(page, "Chat")
    ask(page, "How many passengers does the rebuilt Lake Orsa ferry carry?")
    assert "120" in last_answer(page)
    link = page.locator("#sources .source a.original").first
    assert link.get_attribute("href") == "https://news.example.org/2031/04/orsa-ferry"
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel").split()
    assert page.locator("#sources .source a.original").count() == page.locator("#sources .source").filter(
        has_text="Lake Orsa").count()  # the seeds are saved as text, with no address: no link on theirs
    remove(page, "Ferry returns to Lake Orsa")  # leave the shared store as it was


# ---- issue 32: a number kept on every surface; the upload limit, bold text, "Use via API" and a
# model's draft as the page shows them ----------------------------------------------------------

SAIMAA = """Saimaa census counts 495 ringed seals

Published May 4, 2031

The spring census on Lake Saimaa counted 495 ringed seals, the Finnish environment agency said on Tuesday.
Volunteers skied across the ice in March to find the seals' snow lairs.

The agency said the population had grown for the ninth year running, helped by a ban on gill nets in the
lake's breeding areas.
"""
SEALS = "How many ringed seals did the Saimaa census count?"


def leading_number(text: str) -> str:
    """The number a text starts with ("495" of "495. [1] The spring census…"), else its start."""
    found = re.match(r"\s*(\d[\d,]*)", text)
    return found.group(1) if found else text[:40]


def test_a_how_many_answer_keeps_its_number_on_every_surface(browser, server: Server, real_embedder,
                                                               tmp_path: Path) -> None:
    """Issue 32, done when: an answer that starts with a number ("495. [1] The spring census…")
    keeps it on the page, in Copy, in the export (as Markdown shows it: "495\\." starts no list,
    and "\\495." would show the backslash), in `rag ask`, in `rag serve` (the openai client) and
    in MCP (the mcp client), all over one store."""
    import asyncio

    from click.testing import CliRunner
    from markdown_it import MarkdownIt
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from openai import OpenAI

    from rag.cli import main
    from ui.pool import Assistants
    from ui.serve import start

    path = tmp_path / "saimaa seals.txt"
    path.write_text(SAIMAA, encoding="utf-8")
    shown: dict[str, str] = {}
    with open_page(browser, server.url, permissions=["clipboard-read", "clipboard-write"]) as page:
        upload(page, path, "Indexed saimaa seals.txt")
        open_tab(page, "Chat")
        ask(page, SEALS)
        shown["page"] = page.locator("#chat .answer .answer-text").last.inner_text()
        page.locator("#chat .answer .copy-text").last.click()
        shown["copy"] = page.evaluate("() => navigator.clipboard.readText()")
        page.wait_for_function("q => document.querySelector('#conversation-tools .copy-source')?.textContent"
                               ".includes(q)", arg=SEALS)
        with page.expect_download() as download:
            page.click("#export")
        rendered = MarkdownIt("commonmark").render(Path(download.value.path()).read_text(encoding="utf-8"))
        shown["export"] = re.sub(r"<[^>]+>", "", rendered.split("</h2>", 1)[1]).strip()  # what follows the question

        printed = CliRunner().invoke(main, ["ask", "--llm", "extractive", SEALS, "--store", str(server.store)])
        assert printed.exit_code == 0, printed.output
        shown["cli"] = printed.output
        pool = Assistants(Config(store_path=server.store, llm="extractive"),
                          lambda config: build_assistant(config, embedder=real_embedder), answerers=["extractive"])
        port = free_port()
        api = start(pool, "127.0.0.1", port, mcp=True)
        try:
            client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
            reply = client.chat.completions.create(model="news-rag", messages=[{"role": "user", "content": SEALS}])
            shown["api"] = reply.choices[0].message.content

            async def mcp_answer() -> str:
                async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write, *_), \
                        ClientSession(read, write) as session:
                    await session.initialize()
                    return (await session.call_tool("ask", {"question": SEALS})).structured_content["answer"]

            with ThreadPoolExecutor(1) as thread:  # its own event loop, apart from Playwright's
                shown["mcp"] = thread.submit(lambda: asyncio.run(asyncio.wait_for(mcp_answer(), 120))).result()
        finally:
            api.stop()

        remove(page, "Saimaa census counts")  # leave the shared store as it was
    assert {surface: leading_number(text) for surface, text in shown.items()} == dict.fromkeys(shown, "495"), shown
    assert all("495 ringed seals" in text for text in shown.values()), shown


def test_a_file_over_the_upload_limit_is_refused_in_the_unit_the_upload_box_states(page, tmp_path: Path,
                                                                                      server: Server) -> None:
    """Issue 32.7: the upload box said "up to 10 MB" and the refusal "9.5 Mb" (Gradio's own check,
    in binary units). Chosen or dropped, a file over the limit is refused in the box's unit and in
    the server's words, and nothing of it is uploaded."""
    from index.errors import InputError
    from ui.uploads import check_upload

    open_tab(page, "Articles")
    assert "up to 10 MB" in page.locator("#upload").inner_text()
    big = tmp_path / "big report.txt"
    big.write_bytes(b"Big report\n\n" + b"word " * 2_100_000)  # 10.5 MB
    with pytest.raises(InputError) as refused:
        check_upload(big.name, big.stat().st_size, 10)
    page.set_input_files("#upload input[type=file]", str(big))
    page.wait_for_selector("#upload-refused")
    assert page.locator("#upload-refused").inner_text() == f"big report.txt: {refused.value}"
    assert "is 10.5 MB, over the 10 MB limit" in str(refused.value)
    page.evaluate("""() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(12_000_000)], "scan.pdf", {type: "application/pdf"}));
      const target = document.querySelector('#upload .upload-container') || document.querySelector('#upload');
      target.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
    }""")
    page.wait_for_function("() => document.querySelector('#upload-refused')?.innerText.startsWith('scan.pdf: ')")
    assert "'scan.pdf' is 12.0 MB, over the 10 MB limit" in page.locator("#upload-refused").inner_text()
    page.wait_for_timeout(1000)  # Gradio's own refusal would be a toast by now
    assert "Mb" not in page.inner_text("body") and "exceed the maximum" not in page.inner_text("body")
    assert not [p for p in (server.store / "uploads").glob("*") if p.name.startswith(("big", "scan"))]


def platform_fonts(page, selector: str) -> list[dict]:
    """The fonts Chromium drew the text of ``selector`` with (family, PostScript name, glyphs)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def test_bold_text_is_set_in_the_font_of_the_body_text(page) -> None:
    """Issue 32.7: the semibold file Gradio's theme names holds two letters, so a bold heading was
    set in two fonts ("A" in Source Sans, "sk the news articles" in the system's bold)."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    style = "s => { const c = getComputedStyle(document.querySelector(s)); return [c.fontFamily, c.fontWeight]; }"
    (heading_family, weight), (body_family, _) = page.evaluate(style, "h2"), page.evaluate(style, ".prose p")
    assert heading_family == body_family and int(weight) >= 600
    heading, body = platform_fonts(page, "h2"), platform_fonts(page, ".prose p")
    assert [f["familyName"] for f in heading] == [body[0]["familyName"]], heading  # one font, the body's family
    assert "Bold" in heading[0]["postScriptName"] and body[0]["postScriptName"] != heading[0]["postScriptName"]
    page.locator("h2").screenshot(path=str(ARTIFACTS / "bold-heading.png"))


def test_use_via_api_describes_the_endpoints_to_those_who_call_them(page) -> None:
    """Issue 32.7: the page's "Use via API" showed the functions' docstrings (``history`` holds …)."""
    page.get_by_text("Use via API").click()
    page.wait_for_function("() => document.body.innerText.includes('API name: /ask')", timeout=30_000)
    shown = page.inner_text("body")
    assert "Ask a question about the indexed articles." in shown and "Index article files" in shown
    assert "Remove an indexed article" in shown
    for developer_words in ("``", "yields", "Gradio's messages format", "One question, streamed"):
        assert developer_words not in shown, developer_words
    assert 'provided in the "Question" Textbox' in shown


def test_while_a_model_writes_the_page_says_so_and_shows_none_of_the_prompt(browser, tmp_path: Path,
                                                                             seed_store: Path, real_embedder) -> None:
    """Issue 32.7: while a local model drafted, the page said "Checking sentences against their
    sources…" before any sentence existed, and the grey draft showed stray prompt text
    ("Question: What is the main"). A stand-in model writes what SmolLM2 did (the prompt's frame,
    the answer, a new round); every state of the streaming bubble is recorded."""
    from dataclasses import replace

    from rag.answerers import LLMAnswerer
    from rag.assistant import Assistant
    from rag.drafting import DRAFT_EVERY, ModelDrafter
    from tests.test_issue32_small import ECHOED, _EchoingModel

    def factory(settings: Config):
        built = build_assistant(settings, embedder=real_embedder)
        model = LLMAnswerer(_EchoingModel(ECHOED, pause=DRAFT_EVERY / 2), "local")
        return Assistant(built.config, replace(built.pipeline, drafter=ModelDrafter(model)))

    port = free_port()
    demo = launch(Config(store_path=seed_store, llm="extractive"), "127.0.0.1", port, block=False,
                  assistant_factory=factory, uploads_dir=tmp_path / "up")
    try:
        with open_page(browser, f"http://127.0.0.1:{port}/") as page:
            page.evaluate("""() => { window.__bubbles = [];
              new MutationObserver(() => document.querySelectorAll('#chat .answer.streaming').forEach(b => {
                const seen = [!!b.querySelector('.answer-text'), b.innerText];
                if (JSON.stringify(window.__bubbles.at(-1)) !== JSON.stringify(seen)) window.__bubbles.push(seen);
              })).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
            ask(page, ISTANBUL)
            bubbles = page.evaluate("() => window.__bubbles")
            final = last_answer(page)
    finally:
        demo.close()
    assert bubbles and bubbles[0][1].startswith("Searching the articles…"), bubbles
    assert any("1,000-for-1,000" in text and "not checked yet" in text for _, text in bubbles), bubbles  # the draft
    for checked, text in bubbles:  # ``checked``: a checked sentence is shown
        assert "Question:" not in text and "cite passages" not in text, text
        assert checked or "Checking sentences against their sources" not in text, text
    assert "1,000" in final and "Question:" not in final

"""The chat page: a Gradio app around :class:`rag.Assistant` and the store (``rag chat``).

    from rag import load_config
    from ui.app import launch
    launch(load_config(), "127.0.0.1", 7860)

:class:`Backend` is what the page does, without Gradio: one Assistant per answerer, built on
first use and shared by every visitor (the embedding model takes seconds to load, so it is loaded
once and shared too); uploads and removals, one at a time. :func:`build_app` lays out the page and
connects it to the backend; all HTML comes from the pure functions of :mod:`ui.render`. The Gradio
queue bounds how many questions are answered at once (:data:`CONCURRENCY`); the rest wait their
turn. Gradio analytics are off, and the page loads nothing from outside the server.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import gradio as gr

from index.cleaning import clean
from index.embedding import Embedder
from index.errors import InputError, RagError
from index.ingest import article_id
from index.loading import article_key, file_size_limit, read_file
from index.store import Store, StoreReader
from rag.answer import Answer
from rag.assistant import Assistant
from rag.build import ingest_paths, open_reader, open_store, uploads_folder
from rag.config import Config
from rag.dates import EXAMPLES as DATE_EXAMPLES, parse_day, parse_range
from rag.public import public_answer, public_text, served_folders
from rag.retrieval import Filters
from rag.suggest import follow_ups
from ui import conversations as saved_list, render
from ui.guard import Guard, LoginLimiter
from ui.pool import CONCURRENCY, QUEUE_SIZE, AssistantFactory, Assistants, answerer_help, answerer_problems
from ui.script import SCRIPT
from ui.serve import forwarded_allow_ips
from ui.style import CSS
from ui.uploads import ALLOWED, Uploads, display_name, upload_name

log = logging.getLogger(__name__)

#: The API names of the page's events that change the store (a read-only page has neither).
UPLOAD_API, REMOVE_API = "upload", "remove"
#: What the page's "Use via API" says of each of its endpoints, to the people who call them (not
#: the functions' docstrings, which are for those who change the code). ``{mb}``: the size limit.
API_DESCRIPTIONS = {
    "ask": "Ask a question about the indexed articles. The answer comes back in the conversation, every "
           "sentence with the number [n] of the passage it quotes, checked against it, and the sources beside "
           "it; give the conversation so far to ask a follow-up. Optional: the answerer, how many passages it "
           "reads, only some articles (their ids, as the article list gives them), and the days the articles "
           "were published from and until (2025-06-01, June 2025 or last week). For plain text and JSON, "
           "rag serve (OpenAI-compatible) and rag mcp answer the same questions.",
    UPLOAD_API: "Index article files (.txt, .md, .html, .pdf or .docx, up to {mb} MB each), saved under the "
                "names they are uploaded with; returns what was indexed (or why not) and the articles now indexed.",
    REMOVE_API: "Remove an indexed article, by its id (as the article list gives it), and its file if it was "
                "uploaded; returns what was done and the articles now indexed.",
}
EXAMPLES = [
    "How many prisoners did each side exchange in Istanbul?",
    "Who mediated the Geneva talks?",
    "What is the main obstacle to a ceasefire?",
]


def make_filters(sources: Sequence[str] | None, after: str | None, before: str | None) -> Filters | None:
    """The page's filter controls as :class:`Filters` (None when none is set). Dates are read as
    people type them (:func:`rag.dates.parse_day`)."""
    first, last = parse_range(after, before)
    filters = Filters(sources=tuple(sources or ()), published_after=first, published_before=last)
    return None if filters.is_empty() else filters


def normalised_day(text: str, end: bool = False) -> str:
    """A date box's text after the person leaves it: the day it names, as YYYY-MM-DD ("June 2025"
    becomes 2025-06-01 in "from", 2025-06-30 in "until"); text that names no day is left as typed,
    for the chips to point out."""
    try:
        day = parse_day(text, end=end)
    except InputError:
        return text
    return day.isoformat() if day else ""


def rewritten_day(text: str, end: bool = False):
    """:func:`normalised_day` for the box, or no update (``gr.skip()``) when it reads the same."""
    day = normalised_day(text, end)
    return gr.skip() if day == text else day


def forget_last(chat: list, history: list, groups: list, turns: list) -> tuple[str, list, list, list, list]:
    """The last question, and the conversation without it: its two chat messages, and (if it was
    answered) its two history messages and its sources group."""
    chat, history, groups, turns = list(chat or []), list(history or []), list(groups or []), list(turns or [])
    if not turns:
        return "", chat, history, groups, turns
    last = turns.pop()
    if last.get("answered"):
        history, groups = history[:-2], groups[:-1]
    return str(last.get("question", "")), chat[:-2], history, groups, turns


def earlier_turns(chat: list, history: list, groups: list, turns: list, count: int) -> tuple[list, list, list, list]:
    """The conversation's first ``count`` questions and answers, as editing question ``count + 1``
    leaves it: their chat messages, and the history messages and sources groups of those answered."""
    chat, history, groups, turns = list(chat or []), list(history or []), list(groups or []), list(turns or [])
    count = max(0, min(count, len(turns)))
    answered = sum(1 for turn in turns[:count] if turn.get("answered"))
    return chat[:2 * count], history[:2 * answered], groups[:answered], turns[:count]


def linked(answer: Answer, records: Iterable[Any]) -> Answer:
    """``answer`` with each citation's ``url`` (the original article's address) from its article's
    record where the citation has none."""
    urls = {record.source: record.url for record in records if getattr(record, "url", None)}
    if not any(c.url is None and c.source in urls for c in answer.citations):
        return answer
    return replace(answer, citations=[c if c.url or c.source not in urls else replace(c, url=urls[c.source])
                                      for c in answer.citations])


def stop(chat: list, turns: list) -> tuple[list, list]:
    """The conversation after "Stop": the answer that was streaming is marked stopped (its
    sentences so far stay), and so is its turn's text."""
    chat, turns = list(chat or []), list(turns or [])
    if chat and chat[-1].get("role") == "assistant":
        stopped = render.stopped(chat[-1].get("content"))
        if stopped != render.message_text(chat[-1].get("content")):
            chat[-1] = {"role": "assistant", "content": stopped}
            if turns and not turns[-1].get("answered"):
                turns[-1] = {**turns[-1], "answer": (turns[-1].get("answer", "") + f" ({render.STOPPED})").strip()}
    return chat, turns


#: The most the browser is asked to keep of a conversation (its JSON, in UTF-8 bytes). Gradio's
#: BrowserState stores it encrypted (as base64: a third more) in localStorage, which Chromium and
#: Firefox cap at about 5 million characters per site; past that the browser refuses
#: (QuotaExceededError), Gradio only logs it, and a reload brings back an older copy, or none.
SAVED_BYTES = 1_500_000


def saved_conversation(chat: list, history: list, groups: list, turns: list) -> dict:
    """What the browser keeps of the conversation (Gradio's BrowserState, so a reload keeps it):
    what fits in :data:`SAVED_BYTES`. Long questions are cut to :data:`ui.render.SAVED_QUESTION_CHARS`
    (their turn marked ``cut``); if it is still too big, the earliest questions and answers give
    way to a placeholder (their turn marked ``dropped``), never the latest."""
    chat, history, groups = list(chat or []), [_kept_message(m) for m in history or []], list(groups or [])
    turns = [_kept_turn(turn) for turn in turns or []]
    saved = {"version": 1, "chat": chat, "history": history, "groups": groups, "turns": turns}
    if len(chat) != 2 * len(turns):
        return saved  # not a conversation this page made: kept as it is
    for index in range(len(turns) - 1):
        if len(json.dumps(saved, ensure_ascii=False).encode("utf-8")) <= SAVED_BYTES:
            break
        if turns[index].get("dropped"):
            continue
        if turns[index].get("answered"):  # its two history messages and its sources group go too
            position = sum(1 for turn in turns[:index] if turn.get("answered"))
            del history[2 * position:2 * position + 2], groups[position]
        turns[index] = {"question": "", "answer": "", "answered": False, "dropped": True}
        chat[2 * index:2 * index + 2] = render.dropped_turn()
    return saved


def _kept_turn(turn: dict) -> dict:
    question = str(turn.get("question", ""))
    if len(question) <= render.SAVED_QUESTION_CHARS:
        return turn
    return {**turn, "question": question[:render.SAVED_QUESTION_CHARS] + "…", "cut": turn.get("cut", len(question))}


def _kept_message(message: dict) -> dict:
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str) or len(content) <= render.SAVED_QUESTION_CHARS:
        return message
    return {**message, "content": content[:render.SAVED_QUESTION_CHARS]}


def restored_conversation(saved: dict | None) -> tuple[list, list, list, list]:
    """(chat, history, groups, turns) from :func:`saved_conversation`'s value (empty if unusable)."""
    if not isinstance(saved, dict) or saved.get("version") != 1:
        return [], [], [], []
    parts = [saved.get(key) for key in ("chat", "history", "groups", "turns")]
    if not all(isinstance(part, list) for part in parts):
        return [], [], [], []
    return parts[0], parts[1], parts[2], parts[3]


def describe(error: Exception, folders: Sequence[str | Path] = ()) -> str:
    """A one-line message for the page: our errors say what to do; anything else is named. No
    server path or process id in it (:func:`rag.public.public_text`; ``folders`` are the store's,
    shown as ``<store>``): the page may be served to others; the server log and the CLI keep them."""
    if isinstance(error, RagError):
        log.info("shown in the page: %s", error)
        return public_text(str(error), folders)
    log.exception("unexpected error in the chat page")
    return public_text(f"unexpected {type(error).__name__}: {error}. The page still works: try again, or check the "
                     "server log.", folders)


class Backend:
    """What the page does, shared by every visitor and safe to call from the queue's threads."""

    def __init__(self, config: Config, assistant_factory: AssistantFactory | None = None, *,
                 embedder: Embedder | None = None, uploads_dir: Path | None = None):
        self.config = config
        problems = answerer_problems(config)
        self.answerers = [name for name, problem in problems.items() if problem is None]
        self.uploads = Uploads(uploads_dir or uploads_folder(config), config.max_file_mb)
        #: The server folders a message may name, shown in the page as ``<store>`` (see :func:`describe`).
        self.folders = served_folders(config)
        #: Why the configured answerer is not offered (shown on the page), else "".
        self.unavailable = "" if config.llm in self.answerers else self.public(
            f"The {config.llm} answerer is not available: {problems.get(config.llm)}. Answers use extractive.")
        #: The assistants, one per answerer, sharing one embedding model (and shared with the
        #: OpenAI-compatible endpoint and the MCP server under ``rag chat --api``).
        self.pool = Assistants(config, assistant_factory, embedder=embedder, answerers=self.answerers)
        self._store: StoreReader | None = None
        self._lock = threading.RLock()  # opening the store
        self._writing = threading.Lock()  # one upload or removal at a time

    def describe(self, error: Exception) -> str:
        """``error`` as the page shows it (:func:`describe`)."""
        return describe(error, self.folders)

    def public(self, text: str) -> str:
        """``text`` without server paths or process ids (:func:`rag.public.public_text`)."""
        return public_text(text, self.folders)

    def default_answerer(self) -> str:
        return self.pool.default_answerer()

    def assistant(self, llm: str) -> Assistant:
        """The Assistant for answerer ``llm``, built on first use (a failed build is retried next time)."""
        return self.pool.assistant(llm)

    def embedder(self) -> Embedder:
        """The embedding model, loaded once (or borrowed from an Assistant already built)."""
        return self.pool.embedder()

    def store(self) -> StoreReader:
        """The store, to read: a read-only page's is a :class:`StoreReader`, which cannot write."""
        with self._lock:
            if self._store is None:
                self._store = open_reader(self.config) if self.config.read_only else open_store(self.config)
            return self._store

    def writer(self) -> Store:
        """The store, to write (refused on a read-only page)."""
        self._check_writable()
        store = self.store()
        assert isinstance(store, Store)  # a writable page opened a Store
        return store

    def articles(self) -> list[render.ArticleRow]:
        return render.article_rows(self.store().articles().values(), self.uploads.names())

    def sources_of(self, article_ids: Sequence[str] | None) -> list[str]:
        """The sources of the articles the page's pickers name by id (it never shows server paths)."""
        if not article_ids:
            return []
        known = self.store().articles()
        missing = [i for i in article_ids if i not in known]
        if missing:
            raise InputError("an article chosen in 'Only these articles' is no longer indexed: reload the page "
                             "and choose again")
        return [known[i].source for i in article_ids]

    def refresh(self) -> None:
        """Tell every Assistant built so far that the store changed."""
        self.pool.refresh()

    def turn(self, question: str, chat: list, history: list, groups: list, llm: str, top_k: float,
             sources: list[str] | None, after: str, before: str,
             turns: list | None = None) -> Iterator[tuple[list, list, list, str, str, list]]:
        """One question, streamed: yields (chat messages shown, history for the assistant, sources
        groups, the sources panel, the emptied question box, turns). ``chat`` holds our HTML;
        ``history`` holds the plain questions and answers (Gradio's messages format) for
        follow-ups; ``turns`` one ``{"question", "answer", "answered"}`` per question, the answer
        as text with its sources (for copy and export; ``answered``: it added to ``history`` and
        ``groups``)."""
        chat, history, groups, turns = list(chat or []), list(history or []), list(groups or []), list(turns or [])
        # Only the latest answer offers follow-up questions.
        chat = [{**m, "content": render.without_follow_ups(m.get("content"))} if isinstance(m, dict) else m
                for m in chat]
        question = (question or "").strip()
        if not question:
            yield chat, history, groups, render.sources_panel(groups), "", turns
            return
        turn = len(chat) // 2 + 1  # numbers this answer's source anchors: #source-<turn>-<n>
        chat += [{"role": "user", "content": render.question_html(question)},
                 {"role": "assistant", "content": render.streaming_html([], turn)}]
        turns.append({"question": question, "answer": "", "answered": False})
        waiting = render.citations_html(question, [], turn, streaming=True)  # the panel moves to this question now
        yield list(chat), history, groups, render.sources_panel([*groups, waiting]), "", list(turns)
        try:
            filters = make_filters(self.sources_of(sources), after, before)
            sentences: list[str] = []
            answer = None
            names = self.uploads.names()
            # The status line says what a model is doing (reading, checking sentence k, given up
            # on) until it writes more; its unchecked draft stays shown while it is being checked.
            status, draft, cited = "", "", waiting
            for event in self.assistant(llm).stream(question, history=history, filters=filters, top_k=int(top_k)):
                if event.kind in ("sentence", "draft", "progress"):
                    if event.kind == "sentence":
                        sentences.append(event.text)
                        turns[-1] = {**turns[-1], "answer": " ".join(sentences)}
                        cited = render.citations_html(question, event.citations, turn, names, streaming=True)
                        draft = ""
                    elif event.kind == "progress":
                        status = event.text
                    else:  # more of the draft ("Writing…"), or none: the model was given up on
                        draft, status = event.text, ""
                    chat[-1] = {"role": "assistant", "content": render.streaming_html(sentences, turn, draft, status)}
                    yield list(chat), history, groups, render.sources_panel([*groups, cited]), "", list(turns)
                elif event.answer is not None:
                    answer = event.answer
            assert answer is not None, "the assistant's stream ends with the answer"
            answer = public_answer(answer, self.folders)
            records = self.store().articles().values()
            answer = linked(answer, records)
            authors = {r.source: r.author for r in records if r.author}
            dated = {r.source: r.published_from for r in records if r.published_from}
            text = render.answer_text(answer, authors)
            suggested = self.follow_ups(answer, llm, [str(t.get("question", "")) for t in turns[:-1]])
            chat[-1] = {"role": "assistant", "content": render.answer_html(answer, turn, copy=text,
                                                                           follow_ups=suggested)}
            groups.append(render.sources_html(answer, turn, names, authors, dated))
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
            turns[-1] = {"question": question, "answer": text, "answered": True}
        except Exception as error:  # noqa: BLE001 - a readable message; the page keeps working
            label = "Check the question or the filters" if isinstance(error, InputError) else "Something went wrong"
            chat[-1] = {"role": "assistant", "content": render.error_html(self.describe(error), label)}
            turns[-1] = {"question": question, "answer": f"{label}: {self.describe(error)}", "answered": False}
        yield chat, history, groups, render.sources_panel(groups), "", turns

    def retry(self, chat: list, history: list, groups: list, turns: list, llm: str, top_k: float,
              sources: list[str] | None, after: str, before: str) -> Iterator[tuple[list, list, list, str, str, list]]:
        """Ask the last question again (the page's regenerate): its answer, its sources and its
        place in the history are dropped first."""
        question, chat, history, groups, turns = forget_last(chat, history, groups, turns)
        yield from self.turn(question, chat, history, groups, llm, top_k, sources, after, before, turns)

    def edit(self, edited: dict | None, chat: list, history: list, groups: list, turns: list, llm: str,
             top_k: float, sources: list[str] | None, after: str, before: str
             ) -> Iterator[tuple[list, list, list, str, str, list]]:
        """Ask an earlier question again as edited (the page's Edit on a question): the
        conversation from that question on gives way to its new answer. ``edited`` is
        ``{"index", "value", "previous"}``: the question's place among the chat messages, its new
        text and what the message showed (an unchanged or emptied question is asked again whole)."""
        edited = edited if isinstance(edited, dict) else {}
        index, turns = edited.get("index"), list(turns or [])
        if not isinstance(index, int) or index < 0 or index % 2 or index // 2 >= len(turns):
            groups = list(groups or [])
            yield list(chat or []), list(history or []), groups, render.sources_panel(groups), "", turns
            return
        position = index // 2
        question = render.question_text(edited.get("value"))
        if not question or question == render.question_text(edited.get("previous")):
            question = str(turns[position].get("question", "")) or question
        chat, history, groups, turns = earlier_turns(chat, history, groups, turns, position)
        yield from self.turn(question, chat, history, groups, llm, top_k, sources, after, before, turns)

    def follow_ups(self, answer: Answer, llm: str, asked: Sequence[str] = ()) -> list[str]:
        """Two or three questions the articles ``answer`` cites can answer (:func:`rag.suggest.follow_ups`,
        reading them through the corpus of the assistant ``llm`` that answered), not ``asked``
        before, for the chips under it; none when they cannot be worked out (the answer stands
        without them)."""
        try:
            return follow_ups(answer, self.assistant(llm).corpus.article_text, asked=asked)
        except Exception:  # noqa: BLE001 - suggestions are extra; a failure costs only them
            log.exception("no follow-up questions for %r", answer.question)
            return []

    def add_upload(self, temporary: Path, name: str, report: Callable[[float, str], None]) -> tuple[str, str]:
        """Save and index one uploaded file; ``(kind, message)`` with kind ``ok`` or ``error``. It is
        saved, cited and filtered under the name it was uploaded with; a name already taken in the
        store gets a number (:mod:`ui.uploads`), and the message says so."""
        shown = display_name(name)
        saved: Path | None = None
        try:
            self._check_writable()
            with self._writing:
                report(0.05, f"Saving {shown}")
                saved = self.uploads.save(temporary, name, self._taken_names())
                report(0.2, f"Indexing {shown}: cleaning, splitting into passages, embedding")
                result = ingest_paths(self.config, [saved], progress=False, store=self.writer(), embedder=self.embedder)
                if result.skipped:
                    self.uploads.forget(saved)
                    return "error", self.public(f"{shown} was not indexed: {result.skipped[0].reason}")
                report(0.9, "Updating the search index")
                self.refresh()
                record = self.store().article(article_id(article_key(saved)))
                title = record.display_title() if record else shown
                passages = record.passages if record else 0
                wanted = upload_name(name)
                named = "" if saved.name == shown else f", named {saved.name}" + (
                    f" (another article is named {wanted})" if saved.name != wanted else "")
                return "ok", (f"Indexed {shown} as “{title}” ({passages} passage{'s' if passages != 1 else ''})"
                              f"{named}. Ask about it in the Chat tab.")
        except Exception as error:  # noqa: BLE001 - shown in the page, which keeps working
            if saved is not None:
                self.uploads.forget(saved)
            return "error", f"{shown}: {self.describe(error)}"

    def adopt_upload_names(self) -> list[str]:
        """Give the uploads saved before uploads kept their names (as ``<hex>.<ext>``, the uploaded
        name only in ``names.json``: :meth:`ui.uploads.Uploads.legacy`) the name they were uploaded
        under, and index each again under it, so that every way in cites and filters it by that
        name. Returns what was done, a line for each. Nothing happens on a read-only page: those
        uploads keep their generated name (the page still shows the uploaded one beside it). An
        upload whose file can no longer be read or cleaned keeps its generated name and its record."""
        legacy = [] if self.config.read_only else self.uploads.legacy()
        done: list[str] = []
        if not legacy:
            return done
        with self._writing:
            store = self.writer()
            self.embedder()  # loaded before anything is removed: a model that fails to load removes nothing
            for saved, uploaded in legacy:
                try:
                    read = read_file(saved, file_size_limit(self.config.max_file_mb))
                    clean(read.text, read.kind, read.properties)
                except InputError as error:
                    done.append(f"{saved.name} kept its name: it cannot be indexed again ({error})")
                    continue
                key = article_key(saved)
                old = next((r for r in store.articles().values() if article_key(r.location()) == key), None)
                renamed = self.uploads.rename(saved, uploaded, self._taken_names())
                if old is not None:
                    store.remove_article(old.id)
                result = ingest_paths(self.config, [renamed], progress=False, store=store, embedder=self.embedder)
                problem = f": {result.skipped[0].reason}" if result.skipped else ""
                done.append(f"{saved.name} is now {renamed.name}" + (f", not indexed{problem}" if problem else ""))
            self.refresh()
        return done

    def _taken_names(self) -> set[str]:
        """The file names of the indexed articles (an upload's name is unique among them)."""
        return {Path(record.source).name for record in self.store().articles().values()}

    def remove(self, article_id: str) -> str:
        """Remove the article ``article_id`` (and its file, if it was uploaded)."""
        self._check_writable()
        with self._writing:
            record = self.store().articles().get(article_id)
            if record is None:
                raise InputError("that article is no longer indexed: reload the page")
            self.writer().remove_article(record.id)
            self.uploads.forget(record.source)
            self.refresh()
            return f"Removed “{record.display_title()}”."

    def _check_writable(self) -> None:
        if self.config.read_only:
            raise InputError("this page is read-only (read_only is set): add or remove articles with `rag ingest`")


def build_app(config: Config, assistant_factory: AssistantFactory | None = None, *,
              embedder: Embedder | None = None, uploads_dir: Path | None = None,
              backend: Backend | None = None) -> gr.Blocks:
    """The page. ``assistant_factory(config)`` builds an Assistant for a configuration whose
    ``llm`` is the chosen answerer (default: :func:`rag.assistant.build_assistant` sharing one
    embedding model, ``embedder`` if given). Uploads are saved in ``uploads_dir`` (default
    ``<store_path>/uploads``). ``backend`` is a :class:`Backend` built beforehand, to share its
    assistants (``rag chat --api``)."""
    backend = backend or Backend(config, assistant_factory, embedder=embedder, uploads_dir=uploads_dir)
    writable = not config.read_only
    if writable:
        try:
            for line in backend.adopt_upload_names():
                log.info("an upload saved under a generated name: %s", line)
        except Exception:  # noqa: BLE001 - the page serves anyway; those uploads keep their generated names
            log.exception("uploads saved under generated names could not be given their uploaded names")

    def articles_view(status: str = "") -> tuple:
        """The Articles table, the two article pickers, the empty-index notice, and ``status`` (a
        read-only page has no remove picker and no status)."""
        try:
            rows = backend.articles()
        except Exception as error:  # noqa: BLE001
            problem = render.error_html(backend.describe(error))
            values = (problem, gr.Dropdown(choices=[], value=[]), gr.Dropdown(choices=[], value=None), problem, status)
        else:
            choices = render.article_choices(rows)
            notice = "" if rows else render.notice_html(render.EMPTY_INDEX)
            if backend.unavailable:
                notice = render.error_html(backend.unavailable) + notice
            values = (render.articles_html(rows), gr.Dropdown(choices=choices, value=[]),
                      gr.Dropdown(choices=choices, value=None), notice, status)
        return values if writable else (values[0], values[1], values[3])

    def upload(files: list[str] | str | None, progress: gr.Progress = gr.Progress()) -> tuple:
        paths = [files] if isinstance(files, str) else list(files or [])
        lines = []
        for number, path in enumerate(paths):
            def report(fraction: float, text: str, number: int = number) -> None:
                progress((number + fraction) / len(paths), desc=text)

            try:
                lines.append(backend.add_upload(Path(path), Path(path).name, report))
            finally:  # our copy is in the store's uploads folder: leave none in Gradio's shared temp folder
                Path(path).unlink(missing_ok=True)
        return None, *articles_view(render.status_html(lines))

    def ask_remove(article_id: str | None) -> tuple:
        """First step of a removal: ask to confirm (nothing is removed yet)."""
        if not article_id:
            return gr.Row(visible=False), "", render.status_html([("error", "Choose an article to remove first.")])
        title = next((row.title for row in backend.articles() if row.id == article_id), None)
        if title is None:
            return gr.Row(visible=False), "", render.status_html([("error", "that article is no longer indexed: "
                                                                            "reload the page")])
        return gr.Row(visible=True), render.confirm_html(title), ""

    def remove(article_id: str | None) -> tuple:
        if not article_id:
            return gr.Row(visible=False), *articles_view(render.status_html(
                [("error", "Choose an article to remove first.")]))
        try:
            line = ("ok", backend.remove(article_id))
        except Exception as error:  # noqa: BLE001
            line = ("error", backend.describe(error))
        return gr.Row(visible=False), *articles_view(render.status_html([line]))

    def chips(article_ids: list[str] | None, after: str, before: str) -> tuple:
        chosen = []
        if article_ids:
            try:
                known = {row.id: row for row in backend.articles()}
            except Exception:  # noqa: BLE001 - the chips are a summary; the question reports errors
                known = {}
            chosen = [known.get(i) for i in article_ids]
        days = []
        for text, end in ((after, False), (before, True)):
            try:
                days.append(parse_day(text, end=end))
            except InputError as error:
                days.append(str(error))
        shown = render.filter_chips(chosen, *days)
        return shown, gr.Button(visible=bool(shown))

    def restore(saved: dict | None, archive: dict | None) -> tuple:
        """The page as this browser left it: its current conversation and the list of the others."""
        chat, history, groups, turns = restored_conversation(saved)
        saved = saved if isinstance(saved, dict) else {}
        current = {"id": str(saved.get("id") or saved_list.new_id()), "title": str(saved.get("title") or "")}
        shelf = [c for c in saved_list.shelf_from(archive) if c["id"] != current["id"]]
        return (chat, history, groups, turns, render.sources_panel(groups), render.conversation_tools(turns),
                current, shelf, listed(current, turns, shelf), current["title"])

    # --- the saved conversations (ui.conversations): new, open, rename, delete ---------------------

    def listed(current: dict, turns: list, shelf: list, dropped: int = 0) -> Any:
        return gr.Radio(choices=saved_list.choices(current, turns, shelf), value=current["id"],
                        info=saved_list.list_note(dropped))

    def kept(chat: list, history: list, groups: list, turns: list, current: dict) -> dict:
        """The current conversation as the browser keeps it, with its id and name."""
        return {**saved_conversation(chat, history, groups, turns), "id": current["id"],
                "title": current.get("title", "")}

    def opened(conversation: dict | None, shelf: list, dropped: int = 0) -> tuple:
        """The page showing ``conversation`` (a new one when None), the others on the shelf."""
        conversation = conversation or {**saved_conversation([], [], [], []), "id": saved_list.new_id(), "title": ""}
        chat, history, groups, turns = restored_conversation(conversation)
        current = {"id": conversation["id"], "title": conversation.get("title", "")}
        return (chat, history, groups, turns, render.sources_panel(groups), conversation,
                render.conversation_tools(turns), current, shelf, saved_list.archived(shelf),
                listed(current, turns, shelf, dropped), current["title"])

    def start_new(chat: list, history: list, groups: list, turns: list, current: dict, shelf: list) -> tuple:
        """New chat: the current conversation goes into the list (if it asked anything), a new one begins."""
        shelf, dropped = saved_list.shelve(shelf, kept(chat, history, groups, turns, current))
        return opened(None, shelf, dropped)

    def switch(chosen: str | None, chat: list, history: list, groups: list, turns: list, current: dict,
               shelf: list) -> tuple:
        """Open the conversation chosen in the list; the current one goes into the list."""
        conversation, others = saved_list.take(shelf, chosen or "")
        if conversation is None:  # the current one, or one this browser no longer has
            return opened(kept(chat, history, groups, turns, current), shelf)
        others, dropped = saved_list.shelve(others, kept(chat, history, groups, turns, current))
        return opened(conversation, others, dropped)

    def rename(name: str, chat: list, history: list, groups: list, turns: list, current: dict, shelf: list) -> tuple:
        current = {**current, "title": " ".join((name or "").split())[:200]}
        return current, kept(chat, history, groups, turns, current), listed(current, turns, shelf)

    def ask_delete(turns: list, current: dict) -> tuple:
        title = render.conversation_title(turns, current.get("title", ""))
        return gr.Row(visible=True), render.delete_conversation_html(title)

    def delete(shelf: list) -> tuple:
        """Delete the current conversation; the latest of the others (or a new one) opens."""
        return (*opened(shelf[0] if shelf else None, list(shelf[1:])), gr.Row(visible=False))

    def restored_settings(chosen: dict | None) -> tuple:
        """The answerer and passage count this browser chose before (each only if still valid here)."""
        chosen = chosen if isinstance(chosen, dict) else {}
        answerer = chosen.get("llm") if chosen.get("llm") in backend.answerers else backend.default_answerer()
        k = chosen.get("top_k")
        return answerer, k if isinstance(k, (int, float)) and 1 <= k <= 20 else config.top_k

    def keep(chat: list, history: list, groups: list, turns: list, current: dict, shelf: list) -> tuple:
        # Copy and export give what the browser keeps, as after a reload (and a long paste is not
        # sent back to the browser, whole, in every answer's tools). The list names a new
        # conversation by its first question.
        saved = kept(chat, history, groups, turns, current)
        return saved, render.conversation_tools(saved["turns"]), listed(current, saved["turns"], shelf)

    def edit_started(data: gr.EditData) -> tuple:
        """Which question was edited and to what (for the answer that follows), and Stop shown."""
        index = data.index if isinstance(data.index, int) else -1
        edited = {"index": index, "value": render.message_text(data.value),
                  "previous": render.message_text(data.previous_value)}
        return edited, gr.Button(visible=False), gr.Button(visible=True)

    # delete_cache: Gradio's copies of uploads and other temporary files go after an hour.
    with gr.Blocks(title="News RAG: ask the articles", analytics_enabled=False, delete_cache=(600, 3600)) as demo:
        gr.Markdown("## Ask the news articles\nEvery sentence of an answer cites the passage it comes from, "
                    "and is checked against it.")
        notice = gr.HTML(js_on_load=None)
        history = gr.State([])
        groups = gr.State([])
        turns = gr.State([])
        # The conversation, kept in this browser (encrypted in localStorage) so a reload keeps it.
        saved = gr.BrowserState(saved_conversation([], [], [], []), storage_key="rag-conversation")
        # The answer settings a person chose, kept in this browser like the conversation.
        preferred = gr.BrowserState({}, storage_key="rag-settings")
        # The other conversations, kept in this browser too (ui.conversations), and which one is shown.
        archive = gr.BrowserState(saved_list.archived([]), storage_key="rag-conversations")
        shelf = gr.State([])
        current = gr.State({"id": "", "title": ""})
        edited = gr.State({})
        with gr.Sidebar(label="Conversations", open=False, elem_id="conversations-bar"):
            conversations = gr.Radio([], label="Conversations", elem_id="conversations",
                                     info=saved_list.list_note())
            name = gr.Textbox(label="Name", placeholder="its first question", max_lines=1,
                              elem_id="conversation-name")
            with gr.Row():
                rename_button = gr.Button("Rename", size="sm", elem_id="rename-conversation")
                delete_button = gr.Button("Delete…", size="sm", variant="stop", elem_id="delete-conversation")
            with gr.Row(visible=False, elem_id="delete-confirmation") as delete_row:
                delete_text = gr.HTML(js_on_load=None, elem_id="delete-question")
                delete_confirm = gr.Button("Yes, delete it", size="sm", variant="stop", elem_id="delete-confirm")
                delete_cancel = gr.Button("Cancel", size="sm", elem_id="delete-cancel")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5, min_width=300):
                        # No Gradio copy buttons: they copy a message's HTML. Each answer has its own
                        # "Copy" (text, [n] markers and sources), and the tools below copy or export all.
                        # editable: a question can be edited and asked again (Backend.edit).
                        chat = gr.Chatbot(label="Conversation", show_label=False, height=440, render_markdown=False,
                                          sanitize_html=True, feedback_options=None, elem_id="chat", buttons=[],
                                          placeholder="Ask a question about the indexed articles.", editable="user")
                        tools = gr.HTML(js_on_load=None, elem_id="conversation-tools")
                        with gr.Row(equal_height=True, elem_id="filters-row"):
                            active = gr.HTML(js_on_load=None, elem_id="active-filters")
                            clear_filters = gr.Button("Clear filters", size="sm", scale=0, visible=False,
                                                      elem_id="clear-filters", min_width=90)
                        with gr.Row():
                            # No max_length: a long paste is sent whole, and the answer's note says
                            # how much of it the assistant used (max_question_chars).
                            question = gr.Textbox(label="Question", show_label=False,
                                                  placeholder="Ask a question, then press Enter",
                                                  scale=5, elem_id="question", container=False, min_width=160)
                            ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="ask", min_width=60)
                            stop_button = gr.Button("Stop", variant="stop", scale=1, elem_id="stop", min_width=60,
                                                    visible=False)
                            clear = gr.Button("New chat", scale=1, elem_id="new-chat", min_width=60)
                        gr.Examples([[q] for q in EXAMPLES], inputs=[question], label="Example questions", elem_id="examples")
                        with gr.Accordion("Answer settings", open=False, elem_id="settings"):
                            with gr.Row():
                                llm = gr.Radio(backend.answerers, value=backend.default_answerer(), label="Answerer",
                                               info=answerer_help(config, backend.answerers), elem_id="answerer")
                                top_k = gr.Slider(1, 20, value=config.top_k, step=1, label="Passages",
                                                  info="how many passages the answer is drawn from")
                            # The pickers' choices are filled when a browser loads the page; API clients
                            # (gradio_client) never load it, so any id is accepted here and checked by the backend.
                            pick = gr.Dropdown(multiselect=True, label="Only these articles", choices=[],
                                               info="leave empty to search them all", elem_id="only-articles",
                                               allow_custom_value=True)
                            with gr.Row():
                                after = gr.Textbox(label="Published from", placeholder=DATE_EXAMPLES,
                                                   elem_id="after")
                                before = gr.Textbox(label="Published until", placeholder=DATE_EXAMPLES,
                                                    info="articles with no date are left out when a date is set",
                                                    elem_id="before")
                    with gr.Column(scale=4, min_width=300):
                        sources = gr.HTML(render.sources_panel([]), label="Sources", elem_id="sources",
                                          js_on_load=None)
            with gr.Tab("Articles", id="articles"):
                table = gr.HTML(js_on_load=None, elem_id="articles-table")
                if writable:  # read-only: no upload or removal at all, so the page's API has none either
                    files = gr.File(label=f"Upload articles ({', '.join(ALLOWED)}; up to {config.max_file_mb:g} MB)",
                                    file_types=list(ALLOWED), file_count="multiple", type="filepath",
                                    elem_id="upload")
                    status = gr.HTML(js_on_load=None, elem_id="upload-status")
                    with gr.Row():
                        chosen = gr.Dropdown(label="Remove an article", choices=[], scale=4, elem_id="remove-choice",
                                             allow_custom_value=True)
                        remove_button = gr.Button("Remove…", variant="stop", scale=1, elem_id="remove")
                    with gr.Row(visible=False, elem_id="remove-confirmation") as confirm_row:
                        confirm_text = gr.HTML(js_on_load=None, elem_id="remove-question")
                        confirm_button = gr.Button("Yes, remove it", variant="stop", scale=0, elem_id="remove-confirm")
                        cancel_button = gr.Button("Cancel", scale=0, elem_id="remove-cancel")

        view = [table, pick, chosen, notice, status] if writable else [table, pick, notice]
        conversation = [chat, history, groups, turns]
        settings = [llm, top_k, pick, after, before]
        streamed = [chat, history, groups, sources, question, turns]
        asked = dict(fn=backend.turn, inputs=[question, chat, history, groups, *settings, turns], outputs=streamed,
                     concurrency_id="questions")
        buttons = [ask_button, stop_button]
        streaming = lambda: (gr.Button(visible=False), gr.Button(visible=True))  # noqa: E731 - Stop while it streams
        done = lambda: (gr.Button(visible=True), gr.Button(visible=False))  # noqa: E731
        keeping = dict(fn=keep, inputs=[*conversation, current, shelf], outputs=[saved, tools, conversations],
                       api_visibility="private")
        running = []

        def answered(started: Any, event: dict) -> None:
            """After ``started`` (Stop shown), the answer ``event`` streams; then Ask comes back at
            once, and the conversation is kept in the browser: keeping it goes through the queue, so
            a question asked meanwhile must not have its Stop hidden after."""
            answering = started.then(**event)
            running.append(answering)
            answering.then(done, outputs=buttons, queue=False, api_visibility="private").then(**keeping)

        for trigger, event in ((question.submit, dict(asked, api_name="ask", api_description=API_DESCRIPTIONS["ask"])),
                               (ask_button.click, dict(asked, api_visibility="private")),
                               (chat.retry, dict(asked, fn=backend.retry, inputs=[*conversation, *settings],
                                                 api_visibility="private"))):
            answered(trigger(streaming, outputs=buttons, queue=False, api_visibility="private"), event)
        # Edit on an earlier question: it is asked again as edited, in its place (what followed it goes).
        answered(chat.edit(edit_started, outputs=[edited, *buttons], queue=False, api_visibility="private"),
                 dict(asked, fn=backend.edit, inputs=[edited, *conversation, *settings], api_visibility="private"))
        stop_button.click(None, cancels=running, api_visibility="private", queue=False).then(
            stop, inputs=[chat, turns], outputs=[chat, turns], api_visibility="private", queue=False).then(
            **keeping).then(done, outputs=buttons, api_visibility="private", queue=False)
        # The saved conversations: New chat keeps the current one in the list; the list opens one.
        switched = [*conversation, sources, saved, tools, current, shelf, archive, conversations, name]
        for trigger in (clear.click, chat.clear):
            trigger(start_new, inputs=[*conversation, current, shelf], outputs=switched, api_visibility="private")
        conversations.input(switch, inputs=[conversations, *conversation, current, shelf], outputs=switched,
                            api_visibility="private")
        gr.on([rename_button.click, name.submit], rename, inputs=[name, *conversation, current, shelf],
              outputs=[current, saved, conversations], api_visibility="private")
        delete_button.click(ask_delete, inputs=[turns, current], outputs=[delete_row, delete_text],
                            api_visibility="private", queue=False)
        delete_confirm.click(delete, inputs=[shelf], outputs=[*switched, delete_row], api_visibility="private")
        delete_cancel.click(lambda: gr.Row(visible=False), outputs=[delete_row], api_visibility="private",
                            queue=False)
        # A date box shows the day it was read as once the person leaves it (only that box is
        # written, so a reply cannot undo typing in the other one, and only when the day reads
        # differently: writing back the value sent on leaving could replace newer typing); the
        # chips follow every change, one listener at a time so that the last values win.
        for box, end in ((after, False), (before, True)):
            gr.on([box.blur, box.submit], lambda text, end=end: rewritten_day(text, end), inputs=[box], outputs=[box],
                  api_visibility="private", queue=False)
        gr.on([pick.change, after.change, before.change], chips, inputs=[pick, after, before],
              outputs=[active, clear_filters], api_visibility="private", trigger_mode="always_last",
              concurrency_limit=None)
        clear_filters.click(lambda: ([], "", ""), outputs=[pick, after, before], api_visibility="private", queue=False)
        if writable:
            # The progress shows once, where the file was dropped (not over every part it updates).
            files.upload(upload, inputs=[files], outputs=[files, *view], concurrency_limit=1,
                         concurrency_id="store-writes", api_name=UPLOAD_API, show_progress_on=[files],
                         api_description=API_DESCRIPTIONS[UPLOAD_API].format(mb=f"{config.max_file_mb:g}"))
            remove_button.click(ask_remove, inputs=[chosen], outputs=[confirm_row, confirm_text, status],
                                api_visibility="private")
            confirm_button.click(remove, inputs=[chosen], outputs=[confirm_row, *view], concurrency_limit=1,
                                 concurrency_id="store-writes", api_name=REMOVE_API,
                                 api_description=API_DESCRIPTIONS[REMOVE_API])
            cancel_button.click(lambda: gr.Row(visible=False), outputs=[confirm_row], api_visibility="private",
                                queue=False)
        demo.load(articles_view, outputs=view, api_visibility="private")
        demo.load(restore, inputs=[saved, archive],
                  outputs=[*conversation, sources, tools, current, shelf, conversations, name],
                  api_visibility="private")
        demo.load(restored_settings, inputs=[preferred], outputs=[llm, top_k], api_visibility="private", queue=False)
        gr.on([llm.input, top_k.release], lambda answerer, k: {"llm": answerer, "top_k": k}, inputs=[llm, top_k],
              outputs=[preferred], api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def launch(config: Config, host: str = "127.0.0.1", port: int = 7860, *, open_browser: bool = False,
           block: bool = True, **options: Any) -> gr.Blocks:
    """Serve the page on ``host:port`` (loopback by default). ``block=False`` returns at once with
    the server running (call ``.close()`` on the result); ``options`` go to :func:`build_app`."""
    from starlette.middleware import Middleware

    demo = build_app(config, **options)
    logins = config.logins()
    # In front of Gradio's routes: a back-off for wrong logins, and no file uploads to a read-only page.
    guard = Middleware(Guard, limiter=LoginLimiter() if logins else None, read_only=config.read_only,
                       writes=(UPLOAD_API, REMOVE_API))
    with _forwarded_allow_ips(forwarded_allow_ips(config)):
        demo.launch(server_name=host, server_port=port, inbrowser=open_browser, prevent_thread_lock=not block,
                    auth=logins or None, auth_message="Log in to ask the news articles." if logins else None,
                    css=CSS, head=SCRIPT, theme=gr.themes.Default(), ssr_mode=False, show_error=False,
                    quiet=not block, max_file_size=file_size_limit(config.max_file_mb),
                    app_kwargs={"middleware": [guard]})
    return demo


@contextmanager
def _forwarded_allow_ips(trusted: str) -> Iterator[None]:
    """Gradio makes its uvicorn server's settings itself, with uvicorn's default of trusting
    ``X-Forwarded-For`` from any loopback client (:func:`ui.serve.forwarded_allow_ips` says why
    that will not do); the ``FORWARDED_ALLOW_IPS`` variable, read as those settings are made (in
    ``launch``, before it returns), is the one way to change it. Set for that time only."""
    before = os.environ.get("FORWARDED_ALLOW_IPS")
    os.environ["FORWARDED_ALLOW_IPS"] = trusted
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("FORWARDED_ALLOW_IPS", None)
        else:
            os.environ["FORWARDED_ALLOW_IPS"] = before

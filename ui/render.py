"""Answers, sources and articles as HTML for the chat page: pure functions, no Gradio, no I/O.

Everything that comes from an article (titles, outlets, quotes, passages, file names) or from a
user (questions, error messages that quote input) goes through :func:`html.escape` before it is
put into HTML, and nothing here is ever rendered as Markdown. An article that contains
``<script>``, an ``onerror=`` attribute or a ``javascript:`` link therefore shows as that text and
runs nothing. The only markup is ours: fixed tags and class names, and ``#source-<turn>-<n>``
links from each ``[n]`` in an answer to its source in the sources panel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html import escape, unescape
from pathlib import Path
from urllib.parse import quote, urlsplit
from typing import Any, Iterable, Mapping, Sequence

from index.cleaning import DATE_ORIGINS, made_from_sentence, one_line, paired_quotes, truncate_words
from index.records import ArticleRecord
from rag.answer import Answer, Citation
from rag.dates import human_date

#: An ``[n]`` citation marker in an answer's text.
MARKER = re.compile(r"\[(\d{1,3})\]")
_BLANK_LINES = re.compile(r"\n\s*\n")

EMPTY_INDEX = (
    "No articles are indexed yet. Index some from a terminal with <code>rag ingest seeds/</code> "
    "(or any folder of .txt, .md, .html, .pdf and .docx files), or upload one in the <b>Articles</b> tab."
)
SOURCES_PLACEHOLDER = "The passages an answer cites appear here, with the quoted words highlighted."


def _e(text: object) -> str:
    """Escape text for HTML element content and quoted attribute values."""
    return escape(str(text), quote=True)


def answer_anchor(turn: int) -> str:
    """The element id of answer number ``turn`` in the chat (where a source card's "back" link goes)."""
    return f"answer-{turn}"


def copy_button(text: str, label: str, title: str, elem_id: str = "") -> str:
    """A button that puts ``text`` on the clipboard: the page's script copies the text of the
    hidden ``.copy-source`` beside it (Gradio's sanitizer drops ``data-`` attributes)."""
    ident = f' id="{_e(elem_id)}"' if elem_id else ""
    return (f'<span class="copy-wrap"><button type="button" class="copy-text"{ident} title="{_e(title)}">'
            f'{_e(label)}</button><span class="copy-source" hidden>{_e(text)}</span></span>')


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary with an ellipsis when longer than ``limit``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return truncate_words(text, limit).rstrip(" ,;:") + "…"


def source_anchor(turn: int, n: int) -> str:
    """The element id of citation ``n`` of answer number ``turn`` in the sources panel."""
    return f"source-{turn}-{n}"


def with_chips(text: str, turn: int, cited: Iterable[int] | None = None) -> str:
    """``text`` escaped, each ``[n]`` turned into a chip linking to its source.

    ``cited`` limits the chips to the citations the answer has (so a literal "[7]" quoted from an
    article stays text); None (while streaming, before the citations are known) links every marker.
    """
    known = set(cited) if cited is not None else None

    def chip(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if known is not None and n not in known:
            return match.group(0)
        return (f'<a class="chip" href="#{source_anchor(turn, n)}" title="Show source {n}" '
                f'data-n="{n}">[{n}]</a>')

    return MARKER.sub(chip, _e(text))


def supported_line(answer: Answer) -> str:
    """How much of the answer passed the check, in words: ``k of n sentences checked against their sources``."""
    if answer.abstained:
        return "Not answered"  # why is said under the answer (its explanation), once
    checked, total = answer.supported
    noun = "sentence" if total == 1 else "sentences"
    return f"{checked} of {total} {noun} checked against their sources"


def answer_html(answer: Answer, turn: int, copy: str = "", follow_ups: Sequence[str] = ()) -> str:
    """The chat bubble of a finished answer: an abstention with why (its explanation: the reason
    in words, and under filters what they left out and how to widen them), the versions of a
    disagreement side by side, or the answer with its chips; then the assistant's notes and the
    checked-sentences line with a Copy button that copies ``copy`` (the answer as text, see
    :func:`answer_text`); last, the suggested ``follow_ups`` (:func:`follow_ups_html`)."""
    cited = [c.n for c in answer.citations]
    if answer.abstained:
        why = f'<p class="why">Why: {_e(answer.explanation)}</p>' if answer.explanation else ""
        body = ('<div class="abstained"><div class="abstained-label">Not in the articles</div>'
                f'<p>{_e(answer.text)}</p>{why}</div>')
    elif answer.disagreement:
        cards = "".join(
            f'<div class="version">{_source_label(c)}<p>“{_e(one_line(c.quote))}” '
            f'{with_chips(f"[{c.n}]", turn, cited)}</p></div>'
            for c in answer.citations
        )
        body = ('<div class="disagreement"><div class="disagreement-label">The articles differ on this</div>'
                f'<div class="versions">{cards}</div></div>')
    else:
        body = f'<p class="answer-text">{with_chips(one_line(answer.text), turn, cited)}</p>'
    notes = "".join(f'<p class="note">Note: {_e(note)}</p>' for note in answer.notes)
    status = "unanswered" if answer.abstained else "checked"
    how = answered_how(answer.answerer)
    extra = f" · {_e(how)}" if how else ""
    button = copy_button(copy, "Copy", "Copy this answer as text, with its sources") if copy else ""
    footer = (f'<p class="supported {status}">{_e(supported_line(answer))}<span class="dim">{extra}</span>'
              f"{button}</p>")
    return (f'<div class="answer" id="{answer_anchor(turn)}">{body}{notes}{footer}{details_html(answer)}'
            f"{follow_ups_html(follow_ups)}</div>")


def follow_ups_html(questions: Sequence[str]) -> str:
    """Suggested follow-up questions (:func:`rag.suggest.follow_ups`) as buttons under an answer:
    the page's script asks the one clicked. Nothing when there are none."""
    if not questions:
        return ""
    buttons = "".join(f'<button type="button" class="follow-up">{_e(q)}</button>' for q in questions)
    return (f'<div class="follow-ups" role="group" aria-label="Suggested follow-up questions">'
            f'<span class="dim">Ask next:</span>{buttons}</div>')


_FOLLOW_UPS = re.compile(r'<div class="follow-ups".*?</div>', re.S)


def without_follow_ups(content: str | list | dict | None) -> str | list | dict | None:
    """A chat message without its suggested follow-ups (only the latest answer offers them);
    any other message is returned as it is."""
    text = message_text(content)
    return _FOLLOW_UPS.sub("", text) if 'class="follow-ups"' in text else content


def question_text(content: str | list | dict | None) -> str:
    """The question a chat message shows (:func:`question_html`), as text: what a person edits
    (a long question's shown part, without its length)."""
    text = re.sub(r'<span class="dim">\([\d,]+ characters in all\)</span>', "", message_text(content))
    return unescape(re.sub(r"<[^>]*>", "", text)).strip()


def answered_how(answerer: str) -> str:
    """How an answer was made, in a reader's words (``Answer.answerer`` is a name for programs:
    ``extractive``, ``local->extractive``, ``extractive+sources-differ``, ``article-record`` ...)."""
    base, _, fallback = answerer.partition("->")
    base = base.partition("+")[0]
    if answerer == "abstained":
        return ""
    if answerer == "article-record":
        return "from the article's byline and dates"
    if base == "extractive" or fallback:  # a fallback's note says why the model's text was replaced
        return "quoted from the articles"
    model = {"local": "the local model", "ollama": "an Ollama model", "openai": "a model server"}.get(base, base)
    return f"written by {model} from the articles' text"


def details_html(answer: Answer) -> str:
    """The technical line, folded away: the answerer's name, its confidence and the time each
    step took; for an answer, also why it answered (an abstention says why above it)."""
    steps = {"analyse_ms": "analysing", "retrieve_ms": "searching", "decide_ms": "deciding", "answer_ms": "answering",
             "first_sentence_ms": "first sentence", "total_ms": "in all"}
    times = [f"{label} {answer.timings[key]:,.0f} ms" for key, label in steps.items() if key in answer.timings]
    parts = [f"answerer: {answer.answerer}"]
    if answer.confidence is not None:
        parts.append(f"confidence {answer.confidence:.2f}")
    parts += times
    why = f'<p class="dim why">{_e(answer.explanation)}</p>' if answer.explanation and not answer.abstained else ""
    return (f'<details class="answer-details"><summary>Details</summary>'
            f'<p class="dim">{_e(" · ".join(parts))}</p>{why}</details>')


#: A streaming answer's status line when nothing more precise is said: the search, until its first
#: sentence has been checked (a model says meanwhile that it reads, writes, checks sentence n), then the check.
SEARCHING, CHECKING = "Searching the articles", "Checking sentences against their sources"


def streaming_html(sentences: Sequence[str], turn: int, draft: str = "", status: str = "") -> str:
    """The chat bubble while an answer streams: the sentences checked so far, then what a model
    has written but not had checked yet (``draft``, marked as such), then what is happening
    (``status``; by default: the search, until a sentence has been checked; then the check) with
    the seconds since the answer began (kept by the page's script)."""
    text = " ".join(sentences)
    shown = f'<p class="answer-text">{with_chips(text, turn)}</p>' if text else ""
    if draft:
        shown += (f'<p class="draft" title="Written by the model, not checked against the articles yet">'
                  f'{_e(draft)}</p>')
        status = status or "Writing; the grey text is not checked yet"
    status = status or (CHECKING if sentences else SEARCHING)
    line = f'<p class="supported dim status">{_e(status)}…<span class="elapsed"></span></p>'
    return f'<div class="answer streaming" id="{answer_anchor(turn)}">{shown}{line}</div>'


STOPPED = "Stopped: this answer was not finished."
_UNFINISHED = re.compile(r'<p class="draft".*?</p>|<p class="supported dim status">.*?</p>', re.S)


def stopped(bubble: str | list | dict) -> str:
    """A streaming bubble (:func:`streaming_html`) as stopped: the checked sentences shown so far
    stay, the unchecked draft goes, and the status line says it was stopped. Any other bubble is
    returned as it is. The bubble may come back from the browser as Gradio's message parts
    (``[{"type": "text", "text": ...}]``)."""
    bubble = message_text(bubble)
    if 'class="answer streaming"' not in bubble:
        return bubble
    bubble = _UNFINISHED.sub("", bubble.replace('class="answer streaming"', 'class="answer stopped"'))
    return bubble.removesuffix("</div>") + f'<p class="supported dim">{STOPPED}</p></div>'


def message_text(content: str | list | dict | None) -> str:
    """A chat message's content as one string, whether Gradio gives it as a string, a part
    (``{"type": "text", "text": ...}``) or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    return "".join(message_text(part) for part in content)


def error_html(message: str, label: str = "Something went wrong") -> str:
    """A readable error (``str(RagError)`` says what to do)."""
    return f'<div class="error"><div class="error-label">{_e(label)}</div><p>{_e(message)}</p></div>'


#: A longer question is shown cut (the whole of it is sent; the assistant says how much it used).
QUESTION_SHOWN = 1500
#: A longer question is kept cut in the browser's saved copy of the conversation (ui.app.saved_conversation;
#: the assistant reads only the first max_question_chars of it anyway).
SAVED_QUESTION_CHARS = 4000


def question_html(question: str) -> str:
    """The user's own message, shown as text (a very long one cut, saying how long it was)."""
    if len(question) <= QUESTION_SHOWN:
        return f'<p class="question">{_e(question)}</p>'
    return (f'<p class="question">{_e(question[:QUESTION_SHOWN])}… '
            f'<span class="dim">({len(question):,} characters in all)</span></p>')


def highlight(citation: Citation) -> str:
    """The cited passage with the quote marked: ``quote == article[start:end]`` and the passage
    starts at ``passage.start``, so the quote is at ``start - passage.start`` in its text. If the
    passage does not hold the quote there, it is searched for; failing that (or with no passage)
    the quote is shown alone."""
    passage, quote = citation.passage, citation.quote
    marked = f"<mark>{_e(quote)}</mark>"
    if passage is None:
        return marked
    offset = citation.start - passage.start
    if not (0 <= offset and passage.text[offset:offset + len(quote)] == quote):
        offset = passage.text.find(quote)
        if offset < 0:
            return marked
    before, after = passage.text[:offset], passage.text[offset + len(quote):]
    return f"{_e(_tight(before))}{marked}{_e(_tight(after))}"


def _tight(text: str) -> str:
    """Paragraph breaks as single line breaks (the passage is shown with its line breaks)."""
    return _BLANK_LINES.sub("\n", text)


#: How much of the question the sources heading repeats.
HEADING_CHARS = 90


def sources_html(answer: Answer, turn: int, names: Mapping[str, str] | None = None,
                 authors: Mapping[str, str] | None = None, dated: Mapping[str, str] | None = None) -> str:
    """The sources of one answer: each cited passage with its title, author, outlet, date (and
    where the date was read) and file (``authors``: article source -> author; ``dated``: article
    source -> a key of :data:`index.cleaning.DATE_ORIGINS`), the quote highlighted in its
    surrounding text. Disagreeing sources are laid out side by side. The heading repeats the
    question only up to :data:`HEADING_CHARS` characters."""
    return citations_html(answer.question, answer.citations, turn, names, authors, dated, abstained=answer.abstained,
                          disagreement=answer.disagreement)


def citations_html(question: str, citations: Sequence[Citation], turn: int, names: Mapping[str, str] | None = None,
                   authors: Mapping[str, str] | None = None, dated: Mapping[str, str] | None = None, *,
                   abstained: bool = False, disagreement: bool = False, streaming: bool = False) -> str:
    """:func:`sources_html` from its parts; ``streaming``: the sources cited so far by an answer
    still being written (or stopped)."""
    heading = (f'<div class="sources-heading">Sources for '
               f'<span class="asked">“{_e(shorten(question, HEADING_CHARS))}”</span></div>')
    if not citations:
        reason = "Nothing is cited: the answer says why." if abstained else \
            "Finding the passages…" if streaming else "Nothing is cited."
        return f'<section class="source-group">{heading}<p class="dim">{reason}</p></section>'
    layout = "sources side-by-side" if disagreement else "sources"
    cards = "".join(_source_card(c, turn, names or {}, (authors or {}).get(c.source), (dated or {}).get(c.source))
                    for c in citations)
    label = '<p class="disagreement-label">The sources disagree: compare them side by side.</p>' \
        if disagreement else ""
    return f'<section class="source-group">{heading}{label}<div class="{layout}">{cards}</div></section>'


def sources_panel(groups: Sequence[str]) -> str:
    """The whole sources panel: the newest answer's sources first."""
    if not groups:
        return f'<div class="sources-panel"><p class="dim">{SOURCES_PLACEHOLDER}</p></div>'
    return '<div class="sources-panel">' + "".join(reversed(groups)) + "</div>"


def _source_label(citation: Citation, author: str | None = None, dated_from: str | None = None) -> str:
    """The card's title line: the title, then by whom, the outlet, and when (with where that date
    was read: "March 3, 2026 (from the byline)", "(from the file's metadata)")."""
    when = human_date(citation.published)
    if when and dated_from in DATE_ORIGINS:
        when = f"{when} ({DATE_ORIGINS[dated_from]})"
    details = [d for d in (f"by {author}" if author else "", citation.outlet, when) if d]
    meta = f'<span class="meta">{_e(" · ".join(details))}</span>' if details else ""
    return f'<div class="source-title"><b>{_e(paired_quotes(citation.title))}</b>{meta}</div>'


def _source_card(citation: Citation, turn: int, names: Mapping[str, str], author: str | None,
                 dated_from: str | None = None) -> str:
    """One source card; focusable (a chip moves the keyboard focus here), with a link back up to
    its answer (on a phone the sources are far below it)."""
    file = display_name(citation.source, names)
    return (
        f'<article class="source" id="{source_anchor(turn, citation.n)}" tabindex="-1" '
        f'aria-label="Source {citation.n}: {_e(citation.title)}">'
        f'<div class="source-head"><span class="chip static">[{citation.n}]</span>'
        f"{_source_label(citation, author, dated_from)}</div>"
        f'<blockquote class="passage">{highlight(citation)}</blockquote>'
        f'<div class="source-foot"><span class="source-file dim">{_e(file)}</span>{original_link(citation.url)}'
        f'<a class="back-to-answer" href="#{answer_anchor(turn)}" data-turn="{turn}" data-n="{citation.n}">'
        "↑ Back to the answer</a></div>"
        "</article>"
    )


def original_link(url: str | None) -> str:
    """A link to the original article, opened in a new tab (``rel="noopener"``: the page it
    opens cannot reach this one); nothing unless ``url`` is an ``http``/``https`` address."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return (f'<a class="original" href="{_e(url)}" target="_blank" rel="noopener noreferrer" '
            f'title="{_e(url)}">Original article ↗</a>')


def display_name(source: str, names: Mapping[str, str]) -> str:
    """What to call an article's file: its file name (an upload's is the name it was uploaded
    with), or for an upload saved under a generated name by an earlier version and not renamed
    since (a read-only page: :mod:`ui.uploads`), the uploaded name ``names`` keeps for it."""
    return names.get(Path(source).name) or Path(source).name


# ---- articles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleRow:
    """One line of the Articles table (plain text; :func:`articles_html` escapes it)."""

    id: str
    source: str
    title: str
    author: str
    outlet: str
    published: str
    passages: int
    file: str


def article_rows(records: Iterable[ArticleRecord], names: Mapping[str, str] | None = None) -> list[ArticleRow]:
    """The indexed articles as table rows, sorted by title."""
    rows = [
        ArticleRow(id=r.id, source=r.source, title=paired_quotes(r.display_title()), author=r.author or "", outlet=r.outlet or "",
                   published=human_date(r.published), passages=r.passages, file=display_name(r.source, names or {}))
        for r in records
    ]
    return sorted(rows, key=lambda row: (row.title.casefold(), row.file))


def article_choices(rows: Iterable[ArticleRow]) -> list[tuple[str, str]]:
    """``(label, article id)`` pairs for the article pickers (Gradio shows labels as text; the page
    never sends server paths to the browser)."""
    return [(f"{row.title} ({row.file})" if row.file != row.title else row.title, row.id) for row in rows]


def articles_html(rows: Sequence[ArticleRow]) -> str:
    """The Articles table, or how to add articles when there are none."""
    if not rows:
        return f'<div class="notice">{EMPTY_INDEX}</div>'
    total = sum(row.passages for row in rows)
    body = "".join(
        f"<tr><td>{_e(r.title)}</td><td>{_e(r.author)}</td><td>{_e(r.outlet)}</td><td>{_e(r.published)}</td>"
        f'<td class="num">{r.passages}</td><td>{_e(r.file)}</td></tr>'
        for r in rows
    )
    return (
        f'<p class="dim">{len(rows)} article{"s" if len(rows) != 1 else ""}, {total} passages.</p>'
        '<table class="articles"><thead><tr><th>Title</th><th>Author</th><th>Outlet</th><th>Published</th>'
        f'<th class="num">Passages</th><th>File</th></tr></thead><tbody>{body}</tbody></table>'
    )


def notice_html(message: str) -> str:
    """A neutral notice (e.g. the empty index); ``message`` is our own markup."""
    return f'<div class="notice">{message}</div>'


def status_html(lines: Sequence[tuple[str, str]]) -> str:
    """Upload results: ``(kind, text)`` lines, kind ``ok`` or ``error``; the text is escaped."""
    return "".join(f'<p class="status {_e(kind)}">{_e(text)}</p>' for kind, text in lines)


# ---- the conversation as text ------------------------------------------------------------------


def source_line(citation: Citation, author: str | None = None) -> str:
    """``[n] Title — by Author, Outlet, June 12, 2025: “quote”`` (plain text)."""
    details = ", ".join(d for d in (f"by {author}" if author else "", citation.outlet or "",
                                    human_date(citation.published)) if d)
    quote = one_line(citation.quote)  # a quote across paragraphs or list items: one line, no item marks
    return f"[{citation.n}] {paired_quotes(citation.title)}" + (f" — {details}" if details else "") + f": “{quote}”"


def answer_text(answer: Answer, authors: Mapping[str, str] | None = None) -> str:
    """The answer as plain text, as "Copy" puts it on the clipboard: its text with the ``[n]``
    markers (a disagreement: each version), why (an abstention), its notes, then its sources, one
    a line."""
    if answer.disagreement and not answer.abstained:
        body = "The articles differ on this:\n" + "\n".join(f"- “{one_line(c.quote)}” [{c.n}]"
                                                             for c in answer.citations)
    else:
        body = ("Not in the articles. " if answer.abstained else "") + one_line(answer.text)
    lines = [body]
    if answer.abstained and answer.explanation:
        lines.append(f"Why: {answer.explanation}")
    lines += [f"Note: {note}" for note in answer.notes]
    if answer.citations:
        lines += ["", "Sources:"] + [source_line(c, (authors or {}).get(c.source)) for c in answer.citations]
    return "\n".join(lines)


def transcript_markdown(turns: Sequence[Mapping[str, str]]) -> str:
    """The conversation as Markdown: each question as a heading, its answer (with ``[n]`` markers)
    and its sources as a list. ``turns`` are ``{"question", "answer"}`` with the answer as
    :func:`answer_text` gives it."""
    parts = ["# Conversation with the news articles", ""]
    for number, turn in enumerate(turns, 1):
        if turn.get("dropped"):
            parts += [f"## {number}. (not kept in this browser)", ""]
            continue
        answer = turn.get("answer", "")
        body, _, sources = answer.partition("\n\nSources:\n")
        parts += [f"## {number}. {_md_line(turn.get('question', ''))}", "", *_md_body(body), ""]
        if sources:
            parts += ["**Sources**", ""] + [f"- {_md_line(line)}" for line in sources.splitlines()] + [""]
    return "\n".join(parts).rstrip() + "\n"


def _md_body(body: str) -> list[str]:
    """An answer's text and notes as Markdown lines, each line of :func:`answer_text` a paragraph
    of its own, and the versions of a disagreement (its ``- “quote” [n]`` lines) a list."""
    lines: list[str] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        version = line.startswith("- ")
        if lines and not (version and lines[-1].startswith("- ")):
            lines.append("")
        lines.append(f"- {_md_line(line[2:])}" if version else _md_line(line))
    return lines


def _md_line(text: str) -> str:
    """One line of Markdown that shows ``text`` as it is (no markup from the articles' text)."""
    return _md_text(" ".join(text.split()))


_MD_SPECIAL = re.compile(r"([\\`*_{}<>#|!]|^[-+])", re.MULTILINE)
#: A number that would start an ordered list ("495. [1] The census…"): its dot or parenthesis is
#: escaped ("495\."), which Markdown shows as written (a backslash before the digits would show).
_MD_NUMBERED = re.compile(r"^(\d+)([.)])", re.MULTILINE)


def _md_text(text: str) -> str:
    return _MD_NUMBERED.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text))


def conversation_tools(turns: Sequence[Mapping[str, Any]]) -> str:
    """"Copy conversation" and "Export as Markdown" for the conversation so far (nothing while it
    is empty), and what the browser's copy of it leaves out (see :func:`ui.app.saved_conversation`).
    The export is a ``data:`` link, so the file is made in the browser."""
    if not turns:
        return ""
    markdown = transcript_markdown(turns)
    link = "data:text/markdown;charset=utf-8," + quote(markdown)
    note = kept_note(turns)
    return ('<div class="conversation-tools">'
            + copy_button(markdown, "Copy conversation", "Copy the whole conversation as text, with its sources",
                          "copy-conversation")
            + f'<a class="export" id="export" href="{_e(link)}" download="conversation.md">Export as Markdown</a>'
            + (f'<p class="note" id="kept-note">{_e(note)}</p>' if note else "")
            + "</div>")


def kept_note(kept: Sequence[Mapping[str, Any]]) -> str:
    """What the browser's saved copy of the conversation leaves out ("" when nothing)."""
    dropped = sum(1 for turn in kept if turn.get("dropped"))
    cut = sum(1 for turn in kept if turn.get("cut") and not turn.get("dropped"))
    notes = []
    if dropped:
        notes.append(f"Only the latest {len(kept) - dropped} of {len(kept)} questions and answers are kept in this "
                     "browser (a browser keeps only so much per site): the earlier ones are gone after a reload.")
    if cut:
        notes.append(f"{cut} long question{'s are' if cut > 1 else ' is'} kept in this browser cut to "
                     f"{'their' if cut > 1 else 'its'} first {SAVED_QUESTION_CHARS:,} characters.")
    return " ".join(notes)


#: How much of its name (or first question) the conversation list shows.
CONVERSATION_TITLE_CHARS = 60
NEW_CONVERSATION = "New conversation"


def conversation_title(turns: Sequence[Mapping[str, Any]], title: str = "") -> str:
    """What the conversation list calls a conversation: the name it was given, else its first
    question kept in this browser, else "New conversation" (plain text: Gradio shows it as text)."""
    if title and title.strip():
        return shorten(title, CONVERSATION_TITLE_CHARS)
    for turn in turns:
        question = str(turn.get("question", ""))
        if question.strip() and not turn.get("dropped"):
            return shorten(question, CONVERSATION_TITLE_CHARS)
    return NEW_CONVERSATION


def delete_conversation_html(title: str) -> str:
    """The question "Delete…" asks before it deletes a conversation."""
    return (f'<p class="confirm">Delete “{_e(title)}” from this browser? Its questions and answers go; '
            "this cannot be undone.</p>")


def dropped_turn() -> list[dict[str, str]]:
    """What stands in the chat for a question and answer the browser could not keep (see :func:`kept_note`)."""
    return [{"role": "user", "content": '<p class="question dim">(an earlier question, not kept in this browser)</p>'},
            {"role": "assistant", "content": '<p class="note">This earlier answer was not kept in this browser: '
                                             "the conversation grew too big to keep whole.</p>"}]


# ---- filters -----------------------------------------------------------------------------------


#: How much of an article's title a filter chip shows (the whole title is its tooltip).
CHIP_TITLE_CHARS = 60


def article_chip(row: ArticleRow | None) -> tuple[str, str]:
    """What the filter chip of one chosen article says, and its tooltip: the article's title
    (cut to :data:`CHIP_TITLE_CHARS`; the tooltip has all of it), or, for an article whose title is
    only its first sentence (it states none, see :func:`index.cleaning.made_from_sentence`), its
    outlet and date when it states them. ``None``: an article that is no longer indexed."""
    if row is None:
        return "Only an article no longer indexed", ""
    if made_from_sentence(row.title) and (row.outlet or row.published):
        where = ", ".join(d for d in (row.outlet, row.published) if d)
        return f"Only the article {'from' if row.outlet else 'of'} {where}", row.title
    shown = shorten(row.title, CHIP_TITLE_CHARS)
    return f"Only “{shown}”", row.title if shown != row.title else ""


def filter_chips(articles: Sequence[ArticleRow | None], after: date | str | None, before: date | str | None) -> str:
    """The active filters as chips above the question box (nothing when none is set): each chosen
    article (see :func:`article_chip`; ``None`` for one no longer indexed), then each date as the
    day it was read as, or the message saying why the text typed is not one (a warning chip)."""
    chips = [("", *article_chip(row)) for row in articles]
    for label, bound in (("Published from", after), ("Published until", before)):
        if isinstance(bound, date):
            chips.append(("", f"{label} {human_date(bound)}", ""))
        elif bound:
            chips.append((" problem", f"{label}: {bound}", ""))
    if isinstance(after, date) or isinstance(before, date):
        chips.append(("", "Undated articles left out", ""))
    if not chips:
        return ""
    return ('<div class="filter-chips" role="status" aria-label="Active filters"><span class="dim">Filters:</span>'
            + "".join(f'<span class="filter-chip{kind}"{_tooltip(tip)}>{_e(chip)}</span>' for kind, chip, tip in chips)
            + "</div>")


def _tooltip(text: str) -> str:
    return f' title="{_e(text)}"' if text else ""


def confirm_html(title: str) -> str:
    """The question a removal asks before it removes anything."""
    return (f'<p class="confirm">Remove “{_e(title)}” from the index? Its passages go, and an uploaded '
            "file is deleted too. This cannot be undone.</p>")

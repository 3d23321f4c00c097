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
from html import escape
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from index.store import ArticleRecord
from rag.answer import Answer, Citation

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


def human_date(iso: str | None) -> str:
    """``2025-06-12`` as ``June 12, 2025`` (anything that is not an ISO date is returned as is)."""
    if not iso:
        return ""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.strftime('%B')} {day.day}, {day.year}"


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
        return "No answer: no passage supports one"
    checked, total = answer.supported
    noun = "sentence" if total == 1 else "sentences"
    return f"{checked} of {total} {noun} checked against their sources"


def answer_html(answer: Answer, turn: int) -> str:
    """The chat bubble of a finished answer: an abstention, the versions of a disagreement side by
    side, or the answer with its chips; then any notes and the checked-sentences line."""
    cited = [c.n for c in answer.citations]
    if answer.abstained:
        body = ('<div class="abstained"><div class="abstained-label">Not in the articles</div>'
                f'<p>{_e(answer.text)}</p></div>')
    elif answer.disagreement:
        cards = "".join(
            f'<div class="version">{_source_label(c)}<p>“{_e(c.quote)}” {with_chips(f"[{c.n}]", turn, cited)}</p>'
            "</div>"
            for c in answer.citations
        )
        body = ('<div class="disagreement"><div class="disagreement-label">The articles differ on this</div>'
                f'<div class="versions">{cards}</div></div>')
    else:
        body = f'<p class="answer-text">{with_chips(answer.text, turn, cited)}</p>'
    notes = "".join(f'<p class="note">Note: {_e(note)}</p>' for note in answer.notes)
    status = "unanswered" if answer.abstained else "checked"
    timing = answer.timings.get("total_ms")
    extra = f" · {_e(answer.answerer)}" + (f" · {timing:,.0f} ms" if timing is not None else "")
    footer = f'<p class="supported {status}">{_e(supported_line(answer))}<span class="dim">{extra}</span></p>'
    return f'<div class="answer">{body}{notes}{footer}</div>'


def streaming_html(sentences: Sequence[str], turn: int) -> str:
    """The chat bubble while an answer streams: the sentences checked so far."""
    text = " ".join(sentences)
    shown = f'<p class="answer-text">{with_chips(text, turn)}</p>' if text else ""
    checking = '<p class="supported dim">Checking sentences against their sources…</p>'
    return f'<div class="answer streaming">{shown}{checking}</div>'


def error_html(message: str) -> str:
    """A readable error (``str(RagError)`` says what to do)."""
    return f'<div class="error"><div class="error-label">Something went wrong</div><p>{_e(message)}</p></div>'


def question_html(question: str) -> str:
    """The user's own message, shown as text."""
    return f'<p class="question">{_e(question)}</p>'


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


def sources_html(answer: Answer, turn: int, names: Mapping[str, str] | None = None) -> str:
    """The sources of one answer: each cited passage with its title, outlet, date and file, the
    quote highlighted in its surrounding text. Disagreeing sources are laid out side by side."""
    heading = f'<div class="sources-heading">Sources for “{_e(answer.question)}”</div>'
    if not answer.citations:
        reason = "The articles don't cover this question, so nothing is cited." if answer.abstained else \
            "Nothing is cited."
        return f'<section class="source-group">{heading}<p class="dim">{reason}</p></section>'
    layout = "sources side-by-side" if answer.disagreement else "sources"
    cards = "".join(_source_card(c, turn, names or {}) for c in answer.citations)
    label = '<p class="disagreement-label">The sources disagree: compare them side by side.</p>' \
        if answer.disagreement else ""
    return f'<section class="source-group">{heading}{label}<div class="{layout}">{cards}</div></section>'


def sources_panel(groups: Sequence[str]) -> str:
    """The whole sources panel: the newest answer's sources first."""
    if not groups:
        return f'<div class="sources-panel"><p class="dim">{SOURCES_PLACEHOLDER}</p></div>'
    return '<div class="sources-panel">' + "".join(reversed(groups)) + "</div>"


def _source_label(citation: Citation) -> str:
    details = [d for d in (citation.outlet, human_date(citation.published)) if d]
    meta = f'<span class="meta">{_e(" · ".join(details))}</span>' if details else ""
    return f'<div class="source-title"><b>{_e(citation.title)}</b>{meta}</div>'


def _source_card(citation: Citation, turn: int, names: Mapping[str, str]) -> str:
    file = display_name(citation.source, names)
    return (
        f'<article class="source" id="{source_anchor(turn, citation.n)}">'
        f'<div class="source-head"><span class="chip static">[{citation.n}]</span>{_source_label(citation)}</div>'
        f'<blockquote class="passage">{highlight(citation)}</blockquote>'
        f'<div class="source-file dim">{_e(file)}</div>'
        "</article>"
    )


def display_name(source: str, names: Mapping[str, str]) -> str:
    """What to call an article's file: the original name of an upload, else its file name."""
    return names.get(Path(source).name) or Path(source).name


# ---- articles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleRow:
    """One line of the Articles table (plain text; :func:`articles_html` escapes it)."""

    id: str
    source: str
    title: str
    outlet: str
    published: str
    passages: int
    file: str


def article_rows(records: Iterable[ArticleRecord], names: Mapping[str, str] | None = None) -> list[ArticleRow]:
    """The indexed articles as table rows, sorted by title."""
    rows = [
        ArticleRow(id=r.id, source=r.source, title=r.display_title(), outlet=r.outlet or "",
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
        f"<tr><td>{_e(r.title)}</td><td>{_e(r.outlet)}</td><td>{_e(r.published)}</td>"
        f'<td class="num">{r.passages}</td><td>{_e(r.file)}</td></tr>'
        for r in rows
    )
    return (
        f'<p class="dim">{len(rows)} article{"s" if len(rows) != 1 else ""}, {total} passages.</p>'
        '<table class="articles"><thead><tr><th>Title</th><th>Outlet</th><th>Published</th>'
        f'<th class="num">Passages</th><th>File</th></tr></thead><tbody>{body}</tbody></table>'
    )


def notice_html(message: str) -> str:
    """A neutral notice (e.g. the empty index); ``message`` is our own markup."""
    return f'<div class="notice">{message}</div>'


def status_html(lines: Sequence[tuple[str, str]]) -> str:
    """Upload results: ``(kind, text)`` lines, kind ``ok`` or ``error``; the text is escaped."""
    return "".join(f'<p class="status {_e(kind)}">{_e(text)}</p>' for kind, text in lines)

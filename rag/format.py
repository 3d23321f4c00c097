"""Answers rendered for those outside: plain text for the CLI (the web page has its own, in
``ui/``), and the data the OpenAI-compatible API and the MCP server send beside the text."""

from __future__ import annotations

import textwrap
from typing import Any

from index.cleaning import one_line, paired_quotes
from rag.answer import Answer

#: What travels beside the text, as :meth:`Answer.to_dict` gives it (:func:`details`).
DETAILS = ("citations", "abstained", "reason", "explanation", "confidence", "notes", "answerer")


def format_answer(answer: Answer, width: int = 100) -> str:
    """The answer, then why it abstained (for an abstention), its notes, its numbered sources
    (title, date, quote), then what was checked. A quote that spans paragraphs or list items is
    shown on one line, as the page shows it (:func:`index.cleaning.one_line`: "entrenched:
    Territory … · Security …", no item marks)."""
    lines = [textwrap.fill(one_line(answer.text), width)]
    if answer.abstained and answer.explanation:
        lines.append(textwrap.fill(f"Why: {answer.explanation}", width))
    for note in answer.notes:
        lines.append(textwrap.fill(f"Note: {note}", width))
    if answer.citations:
        lines += ["", "Sources:"]
        for citation in answer.citations:
            published = f", published {citation.published}" if citation.published else ""
            lines.append(f"[{citation.n}] {paired_quotes(citation.title)} ({citation.source}{published})")
            lines.append(textwrap.fill(f"“{one_line(citation.quote)}”", width, initial_indent="    ",
                                       subsequent_indent="    "))
    supported, total = answer.supported
    timing = answer.timings.get("total_ms")
    status = "not answered" if answer.abstained else \
        f"{supported} of {total} sentences checked against their sources · {answer.answerer}"
    lines += ["", f"({status}" + (f" · {timing:.0f} ms)" if timing is not None else ")")]
    return "\n".join(lines)


def details(answer: Answer) -> dict[str, Any]:
    """What travels beside the text (``rag serve``, MCP): the citations, whether it abstained, why
    (the reason and its words), how sure it is, the notes and the answerer, each as in
    :meth:`Answer.to_dict`."""
    data = answer.to_dict()
    return {key: data[key] for key in DETAILS}

"""Answers rendered for those outside: plain text for the CLI (the web page has its own, in
``ui/``), and the data the OpenAI-compatible API and the MCP server send beside the text."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from index.cleaning import one_line, paired_quotes
from rag.answer import Answer, Citation


def format_answer(answer: Answer, width: int = 100) -> str:
    """The answer, then its numbered sources (title, date, quote), then what was checked. A quote
    that spans paragraphs or list items is shown on one line, as the page shows it
    (:func:`index.cleaning.one_line`: "entrenched: Territory … · Security …", no item marks)."""
    lines = [textwrap.fill(one_line(answer.text), width)]
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
    status = "abstained: no passage supports an answer" if answer.abstained else \
        f"{supported} of {total} sentences checked against their sources"
    lines += ["", f"({status} · {answer.answerer}" + (f" · {timing:.0f} ms)" if timing is not None else ")")]
    return "\n".join(lines)


def citation_dict(citation: Citation) -> dict[str, Any]:
    """A citation for clients: the source is the file name only, never a server path."""
    return {"n": citation.n, "title": citation.title, "source": Path(citation.source).name,
            "published": citation.published, "outlet": citation.outlet, "quote": citation.quote,
            "start": citation.start, "end": citation.end, "score": round(citation.score, 4)}


def details(answer: Answer) -> dict[str, Any]:
    """What travels beside the text: the citations, whether it abstained, and why."""
    return {"citations": [citation_dict(c) for c in answer.citations], "abstained": answer.abstained,
            "confidence": None if answer.confidence is None else round(answer.confidence, 4),
            "notes": list(answer.notes), "answerer": answer.answerer}

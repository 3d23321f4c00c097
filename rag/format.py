"""Plain-text rendering of answers, for the CLI (the web page has its own, in ``ui/``)."""

from __future__ import annotations

import textwrap

from index.cleaning import one_line, paired_quotes
from rag.answer import Answer


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

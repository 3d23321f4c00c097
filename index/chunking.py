"""Sentence-aware passages with exact character offsets into the cleaned article.

The cleaned text is read as :func:`index.text.units`: its sentences, headings and list items,
each with its offsets (:mod:`index.text` says how a heading is told from a list item).

Passages are runs of up to ``max_sentences`` sentences (and about ``max_chars`` characters; one
long sentence is never cut), consecutive passages sharing ``overlap`` sentences. A heading always
starts a passage, so a passage never ends on a dangling heading and sections do not bleed into
each other. A list item that is no sentence ("- 450 observers") does not count against
``max_sentences``, so a list of those stays in one passage up to ``max_chars``. A list stays with
the sentence that introduces it: the two start a passage together when the whole list fits in a
passage of its own but not in the one before, or when not even the lead-in and the first item
fit there; no passage overlaps into a list or out of one. Every character of the text that is not white space is in some
passage: headings with no sentence after them make a passage of their own.
``text[passage.start:passage.end] == passage.text`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from index.text import Unit, is_sentence_line, units


@dataclass(frozen=True)
class Chunk:
    """A run of sentences of one article version, as ingest stores it (a passage once stored;
    :class:`rag.retrieval.Passage` is one retrieved, with its scores). ``id`` is stable across runs."""

    id: str
    article_id: str
    version: str
    index: int
    start: int
    end: int
    text: str
    section: str = ""  # the heading the passage sits under, when it does not start with it


def passage_id(article_id: str, version: str, start: int, end: int) -> str:
    """Derived from the article, its content version and the offsets: the same input always gives
    the same id, and a new version of an article never reuses an old version's ids."""
    return f"{article_id}:{version[:12]}:{start}-{end}"


def chunk(
    text: str,
    article_id: str,
    version: str,
    max_sentences: int = 4,
    overlap: int = 1,
    max_chars: int = 900,
) -> list[Chunk]:
    """Split cleaned article ``text`` into passages (see the module docstring)."""
    if overlap >= max_sentences:
        raise ValueError("overlap must be smaller than max_sentences")
    items = units(text)
    lists = _lists(items)
    # What counts against max_sentences: a sentence, but not a list item that is no sentence
    # ("- 450 observers"); a list of those is bounded by max_chars alone.
    weight = [0 if u.heading else int(not u.item or is_sentence_line(text[u.start:u.end])) for u in items]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(items):
        j, sentences, counted, fresh_start = i, 0, 0, False
        while j < len(items):
            item = items[j]
            if item.heading and sentences:
                fresh_start = True
                break
            too_long = item.end - items[i].start > max_chars
            full = counted + weight[j] > max_sentences
            if not item.heading and sentences:
                first, last = lists.get(j, (j, j))
                if j == first and j in lists and _starts_list_afresh(items, weight, i, first, last, max_sentences,
                                                                      max_chars):
                    fresh_start = True
                    break
                if full or too_long:
                    break
            sentences += not item.heading
            counted += weight[j]
            j += 1
        if sentences or j >= len(items):  # headings with no sentence after them: a passage of their own
            spans.append((items[i].start - items[i].mark, items[j - 1].end))
        if j >= len(items):
            break
        # Overlap only within a section, never across the edge of a list, and always move forward.
        fresh_start = fresh_start or lists.get(j, (-1,))[0] == j or (j - 1 in lists and j not in lists)
        i = j if fresh_start else max(i + 1, j - overlap, _first_sentence(items, i) + 1)
    headings = [(u.start, text[u.start:u.end]) for u in items if u.heading]
    return [
        Chunk(passage_id(article_id, version, start, end), article_id, version, n, start, end, text[start:end],
                _section(headings, start))
        for n, (start, end) in enumerate(spans)
    ]


def uncovered(text: str, spans: Iterable[tuple[int, int]]) -> int:
    """How many characters of ``text`` are in none of the ``(start, end)`` spans, white space aside
    (the blank lines between passages are no text left out)."""
    count, at = 0, 0
    for start, end in sorted(spans):
        if start > at:
            count += sum(not ch.isspace() for ch in text[at:start])
        at = max(at, end)
    return count + sum(not ch.isspace() for ch in text[at:])


def _starts_list_afresh(items: list[Unit], weight: list[int], i: int, first: int, last: int, max_sentences: int,
                        max_chars: int) -> bool:
    """Whether the passage that starts at unit ``i`` should end before the list that unit ``first``
    introduces (units ``first`` to ``last``), so that the list starts the next passage with its
    lead-in: when the whole list fits in a passage of its own but not in this one, or when not
    even its lead-in and first item fit in this one."""
    def fits(start: int, end: int) -> bool:
        return sum(weight[start:end + 1]) <= max_sentences and items[end].end - items[start].start <= max_chars

    return (fits(first, last) and not fits(i, last)) or not fits(i, min(first + 1, last))


def _lists(items: list[Unit]) -> dict[int, tuple[int, int]]:
    """Where each list runs, by unit: ``{index: (first, last)}`` for every unit from the sentence
    that introduces the list (the one just before its first item, unless that is a heading) to the
    list's last item sentence."""
    found: dict[int, tuple[int, int]] = {}
    k = 0
    while k < len(items):
        if not items[k].item:
            k += 1
            continue
        last = k
        while last + 1 < len(items) and items[last + 1].item:
            last += 1
        first = k - 1 if k and not items[k - 1].heading else k
        found.update(dict.fromkeys(range(first, last + 1), (first, last)))
        k = last + 1
    return found


def _section(headings: list[tuple[int, str]], start: int) -> str:
    """The last heading before ``start`` (none when the passage itself starts with a heading)."""
    before = [h for offset, h in headings if offset < start]
    starts_with_heading = any(offset == start for offset, _ in headings)
    return before[-1] if before and not starts_with_heading else ""


def _first_sentence(items: list[Unit], i: int) -> int:
    while i < len(items) and items[i].heading:
        i += 1
    return i

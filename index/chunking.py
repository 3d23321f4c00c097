"""Sentence-aware passages with exact character offsets into the cleaned article.

The cleaned text is a sequence of paragraphs separated by blank lines. Prose paragraphs are split
into sentences with NLTK's Punkt model (the English parameters that llama-index-core ships, so
nothing is downloaded); headings, labels and question headings stay one unit each. A list item is
never a heading, whatever its length or punctuation: a marked paragraph ("- ", "2. ", "(a) ") next
to another or after a paragraph ending in ':', a short line in the run that a paragraph ending
in ':' introduces (a marked line alone between paragraphs, "2. What comes next", is a numbered
heading), or one of two or more short lines in a row after the article's first sentence, with
neither marks nor ':' (no article puts two headings in a row with nothing under the first; a
label of three words or fewer first in such a run, "Timeline", stays its heading). Each item is a
sentence (or several) of its own.

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

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from index.cleaning import LIST_ITEM, is_sentence_line

_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\n)[^\n]+)*")
_SHORT = 150  # characters: a heading (or a list item with neither mark nor punctuation) is shorter


@dataclass(frozen=True)
class Unit:
    """A sentence or a heading: ``text[start:end]``. A sentence of a list item has ``item`` set;
    the first one's list mark ("- ", "2. ") is the ``mark`` characters before ``start``."""

    start: int
    end: int
    heading: bool
    item: bool = False
    mark: int = 0


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


def units(text: str) -> list[Unit]:
    """Sentences and headings of ``text``, in order, with offsets (a list item's sentences start
    after its mark)."""
    tokenizer = sentence_tokenizer()
    found: list[Unit] = []
    paragraphs = list(_PARAGRAPH.finditer(text))
    marks = [LIST_ITEM.match(paragraph.group()) for paragraph in paragraphs]
    unmarked = _unmarked_items([paragraph.group() for paragraph in paragraphs], marks)
    introduced = False  # the paragraphs before were one ending in ':' and the unmarked items it introduced
    for n, paragraph in enumerate(paragraphs):
        body, offset, mark = paragraph.group(), paragraph.start(), marks[n]
        heading = is_heading(body)
        after_colon = n > 0 and paragraphs[n - 1].group().endswith(":")
        if mark:  # a list item when it is one of several, or one a paragraph ending in ':' introduces
            item = after_colon or any(0 <= k < len(marks) and marks[k] is not None for k in (n - 1, n + 1))
        else:  # a short line in the run a paragraph ending in ':' introduces, or in a run of them
            item = (introduced and heading) or n in unmarked
        introduced = body.endswith(":") or (introduced and item and mark is None)
        if heading and not item:  # a numbered heading ("2. What comes next") stays a heading
            found.append(Unit(offset, paragraph.end(), heading=True))
            continue
        skip = mark.end() if mark else 0
        spans = list(tokenizer.span_tokenize(body[skip:])) or [(0, len(body) - skip)]
        for k, (start, end) in enumerate(spans):
            found.append(Unit(offset + skip + start, offset + skip + end, heading=False, item=item,
                              mark=skip if k == 0 else 0))
    return found


def _unmarked_items(paragraphs: list[str], marks: list) -> set[int]:
    """The paragraphs that are items of a list with neither marks nor a lead-in ending in ':' (see
    the module docstring): runs of two or more short unmarked lines that would each be a heading
    (questions aside), after a paragraph of prose; a first one of three words or fewer is the
    run's label, not an item."""
    items: set[int] = set()
    prose, n = False, 0
    while n < len(paragraphs):
        end = n
        while end < len(paragraphs) and marks[end] is None and _short_line(paragraphs[end]):
            end += 1
        if prose and end - n >= 2:
            items.update(range(n + (len(paragraphs[n].split()) <= 3), end))
        prose = prose or (end < len(paragraphs) and not is_heading(paragraphs[end]))
        n = end + 1
    return items


def _short_line(paragraph: str) -> bool:
    """A line that would be a heading on its own, as a list item is: short, unpunctuated, no question."""
    return len(paragraph) < _SHORT and is_heading(paragraph) and not paragraph.endswith("?")


def is_heading(paragraph: str) -> bool:
    """A paragraph that is a title, label or question heading rather than prose."""
    if "\n" in paragraph:
        return False
    if paragraph.endswith("?") and len(paragraph) < _SHORT and not re.search(r"[.!?]\s", paragraph):
        return True
    return not is_sentence_line(paragraph)


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


@lru_cache(maxsize=1)
def sentence_tokenizer():
    """NLTK's English Punkt model, read from the copy llama-index-core ships (no download; NLTK's
    own loader refuses paths outside its data folders, so the four parameter files are read here)."""
    from importlib.util import find_spec

    from nltk.tabdata import PunktDecoder
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    # Located without importing llama_index.core, which is slow to import.
    spec = find_spec("llama_index.core")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("llama-index-core is needed for its sentence model: pip install llama-index-core")
    english = Path(spec.origin).parent / "_static/nltk_cache/tokenizers/punkt_tab/english"
    decoder, params = PunktDecoder(), PunktParameters()
    with open(english / "collocations.tab", encoding="utf-8") as f:
        params.collocations = set(decoder.tab2tups(f))
    with open(english / "sent_starters.txt", encoding="utf-8") as f:
        params.sent_starters = decoder.txt2set(f)
    with open(english / "abbrev_types.txt", encoding="utf-8") as f:
        params.abbrev_types = decoder.txt2set(f)
    with open(english / "ortho_context.tab", encoding="utf-8") as f:
        params.ortho_context = decoder.tab2intdict(f)
    return PunktSentenceTokenizer(params)  # accepts trained parameters as its first argument

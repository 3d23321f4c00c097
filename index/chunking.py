"""Sentence-aware passages with exact character offsets into the cleaned article.

The cleaned text is a sequence of paragraphs separated by blank lines. Prose paragraphs are split
into sentences with NLTK's Punkt model (the English parameters that llama-index-core ships, so
nothing is downloaded); headings, labels and question headings stay one unit each.

Passages are runs of up to ``max_sentences`` sentences (and about ``max_chars`` characters; one
long sentence is never cut), consecutive passages sharing ``overlap`` sentences. A heading always
starts a passage, so a passage never ends on a dangling heading and sections do not bleed into
each other. ``text[passage.start:passage.end] == passage.text`` always holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.cleaning import is_sentence_line

_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\n)[^\n]+)*")


@dataclass(frozen=True)
class Unit:
    """A sentence or a heading: ``text[start:end]``."""

    start: int
    end: int
    heading: bool


@dataclass(frozen=True)
class Passage:
    """A run of sentences of one article version. ``id`` is stable across runs."""

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
    """Sentences and headings of ``text``, in order, with offsets."""
    tokenizer = sentence_tokenizer()
    found: list[Unit] = []
    for paragraph in _PARAGRAPH.finditer(text):
        body = paragraph.group()
        if is_heading(body):
            found.append(Unit(paragraph.start(), paragraph.end(), heading=True))
            continue
        for start, end in tokenizer.span_tokenize(body):
            found.append(Unit(paragraph.start() + start, paragraph.start() + end, heading=False))
    return found


def is_heading(paragraph: str) -> bool:
    """A paragraph that is a title, label or question heading rather than prose."""
    if "\n" in paragraph:
        return False
    if paragraph.endswith("?") and len(paragraph) < 150 and not re.search(r"[.!?]\s", paragraph):
        return True
    return not is_sentence_line(paragraph)


def chunk(
    text: str,
    article_id: str,
    version: str,
    max_sentences: int = 4,
    overlap: int = 1,
    max_chars: int = 900,
) -> list[Passage]:
    """Split cleaned article ``text`` into passages (see the module docstring)."""
    if overlap >= max_sentences:
        raise ValueError("overlap must be smaller than max_sentences")
    items = units(text)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(items):
        j, sentences, stopped_at_heading = i, 0, False
        while j < len(items):
            item = items[j]
            if item.heading and sentences:
                stopped_at_heading = True
                break
            too_long = item.end - items[i].start > max_chars
            if not item.heading and sentences and (sentences >= max_sentences or too_long):
                break
            sentences += not item.heading
            j += 1
        if sentences:
            spans.append((items[i].start, items[j - 1].end))
        if j >= len(items):
            break
        # Overlap only within a section, and always move forward.
        i = j if stopped_at_heading else max(i + 1, j - overlap, _first_sentence(items, i) + 1)
    headings = [(u.start, text[u.start:u.end]) for u in items if u.heading]
    return [
        Passage(passage_id(article_id, version, start, end), article_id, version, n, start, end, text[start:end],
                _section(headings, start))
        for n, (start, end) in enumerate(spans)
    ]


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

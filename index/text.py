"""Text primitives shared by ingest (``index/``) and answering (``rag/``): sentences with their
offsets, words, and the names of the months. Each is defined here once; the eval's judge
(``evals/``) keeps its own, independent code, so the assistant is never graded by itself.

Sentences
    :func:`sentence_spans` is the one sentence splitter: NLTK's English Punkt model (the
    parameters llama-index-core ships, so nothing is downloaded), giving ``(start, end)`` offsets
    into the text it was given. :func:`units` applies it to cleaned article text, paragraph by
    paragraph: the sentences, headings and list items whose offsets passages and citations use
    (``text[unit.start:unit.end]``). :func:`is_sentence_line` tells a line of prose from a
    heading, a label or a tag by how it ends (:func:`ends_like_sentence`).

Words
    :func:`words` gives the folded word tokens (:func:`fold`) that retrieval, the answer policy
    and the citation check compare; ``as_typed=True`` gives the words as the spelling vocabulary
    counts them (:data:`TYPED_WORD`).

Months
    :data:`MONTHS`, their short forms and :func:`month_number`: what the cleaner reads a dateline
    with and what the question, passage and draft readers of :mod:`rag.dates` look for;
    :func:`human_date`, how a date is written for a reader.

How :func:`units` reads article structure: the cleaned text is a sequence of paragraphs separated
by blank lines. Prose paragraphs are split into sentences; headings, labels and question headings
stay one unit each. A list item is never a heading, whatever its length or punctuation: a marked
paragraph ("- ", "2. ", "(a) ", :data:`LIST_ITEM`) next to another or after a paragraph ending in
':', a short line in the run that a paragraph ending in ':' introduces (a marked line alone between
paragraphs, "2. What comes next", is a numbered heading), or one of two or more short lines in a
row after the article's first sentence, with neither marks nor ':' (no article puts two headings
in a row with nothing under the first; a label of three words or fewer first in such a run,
"Timeline", stays its heading). Each item is a sentence (or several) of its own.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

# --- sentences --------------------------------------------------------------------------------------

_CLOSERS = "[\"'”’)\\]]*"  # closing quotes and brackets after a sentence's last mark
_SENTENCE_END = re.compile(rf"[.!?…:;]{_CLOSERS}$")
_PROSE_END = re.compile(rf"[.!?…]{_CLOSERS}$")


def ends_like_sentence(line: str, *, lead_in: bool = True) -> bool:
    """``line`` ends as a sentence does: with . ! ? or …, closing quotes and brackets after it;
    with ``lead_in``, also with the ':' or ';' of a line that leads into what follows."""
    return bool((_SENTENCE_END if lead_in else _PROSE_END).search(line))


def is_sentence_line(line: str) -> bool:
    """True for prose (four words or more, ending like a sentence); False for headings, labels and tags."""
    return ends_like_sentence(line) and len(line.split()) >= 4


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, in order: ``text[start:end]`` is the
    sentence, without the white space between and after sentences (white space that starts
    ``text`` stays in the first; none for text with no words)."""
    return list(_punkt().span_tokenize(text))


@lru_cache(maxsize=1)
def _punkt():
    """NLTK's English Punkt model, read from the copy llama-index-core ships (no download; NLTK's
    own loader refuses paths outside its data folders, so the four parameter files are read here)."""
    from importlib.util import find_spec

    with _without_scipy_stats():
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


@contextmanager
def _without_scipy_stats():
    """NLTK's package imports scipy.stats for one statistic of its collocation measures (Fisher's
    exact test) and falls back when scipy.stats cannot be imported; the sentence model uses
    neither. Importing scipy.stats took 0.7 of the 1.2 s that importing NLTK added to a cold
    ``rag ask`` (2026-12-06, AMD EPYC). So while NLTK is first imported, and only when scipy.stats
    is not loaded yet, it is made unimportable (None in ``sys.modules``, Python's documented way);
    right after, it imports as before. Nothing else that answers a question with the default
    settings imports scipy.stats."""
    blocked = "scipy.stats" not in sys.modules and "nltk" not in sys.modules
    if blocked:
        sys.modules["scipy.stats"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if blocked and sys.modules.get("scipy.stats", 0) is None:
            del sys.modules["scipy.stats"]


#: A list item: a bullet ("- ", "* ", "• " ...), a number or a letter ("1. ", "2) ", "(a) ", "iv. ")
#: and its text. ``match.end()`` is where the text starts. Article structure, whatever its words.
LIST_ITEM = re.compile(r"""^(?:[-*+•‣◦▪▫●○■□]                        # a bullet (not a dash: "– who ...")
                            |\(?(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)]      # 1.  2)  (3)  a.  b)  iv.
                            |\(?(?:[A-Z]|[IVX]{1,4})\))\s+(?=\S)     # A)  (B)  (IV)""", re.VERBOSE)

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


def units(text: str) -> list[Unit]:
    """Sentences and headings of cleaned article ``text``, in order, with offsets (a list item's
    sentences start after its mark; see the module docstring)."""
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
        spans = sentence_spans(body[skip:]) or [(0, len(body) - skip)]
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


# --- words ------------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]|\d[\d,.]*\d|\d")
#: A word as typed (:func:`words` with ``as_typed``): two or more ASCII letters, with ' and -
#: inside. The speller corrects the question's words where they stand by this pattern.
TYPED_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]")
# The Unicode blocks of combining marks (accents, once NFKD has split them from their letters).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower-case, curly quotes and dashes made plain, accents removed."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = text.replace("—", " - ").replace("–", "-")
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()


def words(text: str, *, as_typed: bool = False) -> list[str]:
    """All word tokens of ``text``, folded (:func:`fold`), numbers kept as written without
    thousands separators ("1,000" -> "1000"): what retrieval, the answer policy and the citation
    check compare.

    ``as_typed``: the words as the spelling vocabulary counts them (:data:`TYPED_WORD`): letters
    only, lower-cased but not folded, no numbers and no single letters. They differ on purpose:
    the vocabulary is stored with the keyword index (``rag/bm25.py``), and the speller replaces a
    word where it stands in the question as typed, which folding (accents removed, dashes
    widened) would move."""
    if as_typed:
        return [w.lower() for w in TYPED_WORD.findall(text)]
    return [w.replace(",", "") if w[0].isdigit() else w.strip("'-") for w in _WORD.findall(fold(text))]


# --- months -----------------------------------------------------------------------------------------

#: The months' names, folded, in calendar order.
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
#: Their short forms as datelines write them ("Tue 3 Mar 2026", "Sept. 4").
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
#: :data:`MONTHS` as a regular-expression alternation, for patterns that read dates.
MONTH_PATTERN = "|".join(MONTHS)


def month_number(name: str) -> int:
    """1 for "January" (any case), ... 12 for "December"; ValueError for anything else."""
    return MONTHS.index(name.lower()) + 1


def human_date(day: date | str | None) -> str:
    """"June 12, 2025" for a date or its ISO form ("" for None; text that is not an ISO date is
    returned as it is)."""
    if not day:
        return ""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            return day
    return f"{MONTHS[day.month - 1].capitalize()} {day.day}, {day.year}"

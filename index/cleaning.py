"""Turning a raw page into clean article text plus the metadata the page states.

Web pages saved as text carry site furniture (logos, bylines, comment widgets, social links,
copyright lines) and sometimes text a chatbot left behind ("If you would like, I can also tailor
this article..."). Cleaning keeps every article paragraph and drops the rest:

1. HTML goes through trafilatura (main-content extraction and metadata); Markdown loses its
   markup. Then all three kinds go through the same line-based cleaning.
2. Header lines that state metadata (``X logo``, ``By Saad Published a day ago``,
   ``| Published June 12, 2025``, ``By Anna Virtanen | Nordic Wire | March 3, 2026``,
   ``Helsinki, 3 March 2026``) become metadata and leave the text (:func:`_byline_or_dateline`
   reads those that no fixed form fits: a date anywhere in the line, read by dateparser, and a
   "By" name). A relative time ("a day ago") is not a date and gives none. What a PDF or Word
   file says about itself (:class:`Properties`) counts only where the text states nothing.
3. The text is cut at the first end-of-article marker (``About the Author``, ``Leave a Reply``,
   ``Sign in to comment``, a ``SOURCES:`` list ...), furniture and chatbot lines are dropped
   anywhere, as are short non-sentence lines repeated on the page (image alt text, tags).

The phrases of step 3 are data, in ``index/data/furniture.toml``: each entry says where such lines
come from and why it holds on pages nobody here tuned on; ``tests/test_cleaning.py`` checks that no
sentence of the BBC articles nor of news pages from six other sites is dropped.

Paragraphs of the result are separated by a blank line; passages and citations use character
offsets into exactly this text.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from index.errors import InputError
from index.text import (
    LIST_ITEM, MONTH_ABBREVIATIONS, MONTH_PATTERN, ends_like_sentence, is_sentence_line, month_number, sentence_spans,
)

#: Raise whenever clean() would give different text for the same page: ingest skips re-cleaning a
#: file whose bytes it has cleaned before only while this stays the same.
CLEANER_VERSION = 5  # 5: bylines and datelines read in any form; a file's properties are not text


def _load_furniture() -> dict[str, Any]:
    """The phrase lists of ``index/data/furniture.toml``: each entry a pattern and where it comes from."""
    with resources.files("index").joinpath("data/furniture.toml").open("rb") as file:
        return tomllib.load(file)


def _one_of(entries: list[dict[str, str]], whole_line: bool = True) -> re.Pattern[str]:
    either = "|".join(f"(?:{entry['pattern']})" for entry in entries)
    return re.compile(f"^(?:{either})$" if whole_line else either, re.IGNORECASE)


_PHRASES = _load_furniture()
# Lines from which the rest of the page is furniture.
_END_MARKERS = _one_of(_PHRASES["end_marker"])
# A sources or references label: the rest of the page goes when no sentence follows it.
_REFERENCE_LIST = _one_of(_PHRASES["reference_list"])
# Furniture lines, wherever they are.
_FURNITURE = _one_of(_PHRASES["furniture"])
# Text a chatbot left in the page: offers, sign-offs, and talk addressed to "you" about "your sources".
_ASSISTANT = _one_of(_PHRASES["assistant"], whole_line=False)
#: A label that introduces the page's tags, not a list of the article's.
_TAGS_LABEL = _one_of(_PHRASES["tags_label"])
# A wire agency's photo credit at the end of a caption, e.g. "[Adem Altan/AFP)".
_AGENCIES = "|".join(map(re.escape, _PHRASES["photo_credit"]["agencies"]))
_PHOTO_CREDIT = re.compile(rf"\s*[\[(][^\[\]()]{{0,60}}/(?:{_AGENCIES})[\])]\s*$")

_LOGO = re.compile(r"^(?P<outlet>.{2,60}?)\s+logo$", re.IGNORECASE)
#: A name as a byline gives it: one to four words, each capitalised ("Anna Virtanen", "ANNA VIRTANEN").
AUTHOR_NAME = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
_BYLINE = re.compile(
    rf"^By\s+(?P<author>{AUTHOR_NAME})"
    r"(?:\s*[|,·]?\s*(?:Published|Updated|Posted)\s+(?P<when>.+?))?(?:\s*[|,·]?\s*\d+\s+min\s+read)?$"
)
_DATELINE = re.compile(r"^[|·•]?\s*(?:Published|Updated|Posted)(?:\s+on)?:?\s+(?P<when>.+?)$", re.IGNORECASE)
_DATE_FORMS = (
    re.compile(rf"^(?P<m>{MONTH_PATTERN})\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}})\b", re.IGNORECASE),
    re.compile(rf"^(?P<d>\d{{1,2}})\s+(?P<m>{MONTH_PATTERN})\.?,?\s+(?P<y>\d{{4}})\b", re.IGNORECASE),
    re.compile(r"^(?P<y>\d{4})-(?P<mn>\d{2})-(?P<d>\d{2})\b"),
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f"), None)
_HEADER_LINES = 12


#: Where an article's publication date was read (:attr:`Cleaned.published_from`), as a source
#: card says it: its own byline or dateline, a PDF's or Word file's properties, a web page's metadata.
DATE_ORIGINS = {"text": "from the byline", "file": "from the file's metadata", "page": "from the web page"}


@dataclass(frozen=True)
class Properties:
    """What a PDF or Word file says about itself beside its text (its document properties): the
    cleaner falls back on them where the article's text states no byline or date of its own."""

    author: str | None = None
    published: date | None = None


@dataclass(frozen=True)
class Cleaned:
    """Clean article text and the metadata the page states (``None`` where it states none).
    ``published_from`` says where the date was read (a key of :data:`DATE_ORIGINS`)."""

    text: str
    title: str | None
    author: str | None
    published: date | None
    outlet: str | None
    published_from: str | None = None


def clean(raw: str, kind: str = "text", properties: Properties | None = None) -> Cleaned:
    """Clean a page of the given kind (``text``, ``markdown`` or ``html``). ``properties``: what
    the file says about itself, used where the text states no author or date.

    Raises :class:`InputError` when no article text is left.
    """
    meta: dict[str, object] = {}
    if kind == "html":
        raw, meta = _from_html(raw)
    elif kind == "markdown":
        raw = _from_markdown(raw)
    lines = _unwrap([_normalise_line(line) for line in raw.splitlines()])
    if not any(is_sentence_line(line) for line in lines):
        raise InputError("no sentence found: no line of at least four words ends like a sentence (. ! ?); "
                         "is this an article?")
    published_from = "page" if "published" in meta else None
    lines, stated = _take_header_metadata(lines)
    file_says = {"author": properties.author, "published": properties.published} if properties else {}
    for origin, values in (("text", stated), ("file", file_says)):
        for key, value in values.items():
            if value is not None and key not in meta:
                meta[key] = value
                if key == "published":
                    published_from = origin
    lines = _cut_at_end_marker(lines)
    lines = [line for line in lines if not _FURNITURE.match(line) and not _ASSISTANT.search(line)]
    lines = _drop_repeated_labels(lines)
    lines = _drop_trailing_tags(lines)
    lines = [_PHOTO_CREDIT.sub("", line) or line for line in lines]
    if not any(is_sentence_line(line) for line in lines):
        raise InputError("no article text left after removing page furniture: is this an article?")
    title = meta.get("title") or _title_from(lines) or _title_in(lines)
    return Cleaned(
        text="\n\n".join(lines),
        title=str(title) if title else None,
        author=str(meta["author"]) if meta.get("author") else None,
        published=meta.get("published") if isinstance(meta.get("published"), date) else None,
        outlet=str(meta["outlet"]) if meta.get("outlet") else None,
        published_from=published_from if isinstance(meta.get("published"), date) else None,
    )


def parse_date(text: str) -> date | None:
    """A calendar date at the start of ``text`` ("June 12, 2025", "12 June 2025", "2025-06-12"),
    or ``None`` for anything else, relative times like "a day ago" included."""
    text = text.strip()
    for form in _DATE_FORMS:
        match = form.match(text)
        if not match:
            continue
        parts = match.groupdict()
        month = int(parts["mn"]) if parts.get("mn") else month_number(parts["m"])
        try:
            return date(int(parts["y"]), month, int(parts["d"]))
        except ValueError:
            return None
    return None


def _normalise_line(line: str) -> str:
    line = unicodedata.normalize("NFC", line).translate(_INVISIBLE)
    # Emoji and other pictographs carry no article content and break quoting; drop them.
    if not line.isascii():  # (no ASCII character is one)
        line = "".join(ch for ch in line if unicodedata.category(ch) != "So")
    return _SPACES.sub(" ", line).strip()


#: What sets list items apart once a quote that spans them is shown on one line.
ITEM_SEPARATOR = " · "


def one_line(text: str) -> str:
    """``text`` as running text on one line: its lines and paragraphs joined by spaces, with the
    mark of a list item ("- ", "• ", "1. ", :data:`LIST_ITEM`) left out and the items set apart
    by :data:`ITEM_SEPARATOR` (after a line ending in ':', the first item follows it with a
    space). Every word stays as the article wrote it; a dash inside a line is not a mark and
    stays. A number or letter starts a list item only inside a list (another line is an item too,
    or the line before ends in ':'): an answer that starts "317. [1] The first list" keeps its
    number. For showing a quote that spans paragraphs or list items (the page, the CLI); the
    stored text and its offsets are left as they are."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    marks = [LIST_ITEM.match(line) for line in lines]
    in_list = sum(mark is not None for mark in marks) > 1
    shown, item_before = "", False
    for n, (line, mark) in enumerate(zip(lines, marks)):
        numbered = mark is not None and not _BULLET.match(line)
        if numbered and not in_list and not (n and lines[n - 1].endswith(":")):
            mark = None  # a lone "317. " or "A. " is the text's own
        words = line[mark.end() if mark else 0:]
        if shown:
            apart = (mark or item_before) and not shown.endswith(":")
            shown += (ITEM_SEPARATOR if apart else " ") + words
        else:
            shown = words
        item_before = bool(mark)
    return shown


_BULLET = re.compile(r"^[-*+•‣◦▪▫●○■□]\s")


_WRAP_WIDTH = 60  # a line at least this long that ends mid-sentence was wrapped, not a heading
_NOT_A_CONTINUATION = re.compile(r"^[|•·*>#-]")


def _unwrap(lines: list[str]) -> list[str]:
    """Non-empty lines, with hard-wrapped paragraphs (plain text or Markdown wrapped at ~80
    columns) joined back into one line. A line is joined to the next one in its block when it does
    not end a sentence and the next starts in lower case or the line is long. List items stay
    lines of their own: a marked one ("- ", "2. ") is never joined to the line before it, and
    after a line ending in ':' (until a blank line that ends the list, or a line ending a sentence)
    a short line is an item of its own even when the next starts in lower case."""
    joined: list[str] = []
    previous_blank = True
    listing = False  # after a line ending in ':': short lines are the list items it introduces
    for line in lines:
        if not line:
            previous_blank = True
            listing = listing and bool(joined) and joined[-1].endswith(":")  # the list starts after the blank
            continue
        last = joined[-1] if joined and not previous_blank else None
        if (last is not None and not ends_like_sentence(last) and not _NOT_A_CONTINUATION.match(line)
                and not LIST_ITEM.match(line)
                and (len(last) >= _WRAP_WIDTH or (line[:1].islower() and not listing))):
            joined[-1] = f"{last} {line}"
        else:
            joined.append(line)
        previous_blank = False
        if joined[-1].endswith(":"):
            listing = True
        elif ends_like_sentence(joined[-1], lead_in=False):
            listing = False
    return joined


def _take_header_metadata(lines: list[str]) -> tuple[list[str], dict[str, object]]:
    stated: dict[str, object] = {}
    kept: list[str] = []
    for position, line in enumerate(lines):
        if position >= _HEADER_LINES:
            kept.append(line)
            continue
        if (match := _LOGO.match(line)) and "outlet" not in stated:
            stated["outlet"] = match["outlet"].strip()
        elif (match := _BYLINE.match(line)) and "author" not in stated:
            stated["author"] = match["author"]
            if match["when"] and (when := _day_in(match["when"])):
                stated["published"] = when
        elif (match := _DATELINE.match(line)) and len(line) < 80:
            if when := _day_in(match["when"]):
                stated.setdefault("published", when)
        elif said := _byline_or_dateline(line, first=position == 0):
            for key, value in said.items():
                stated.setdefault(key, value)
        else:
            kept.append(line)
    return kept, stated


_LINE_PARTS = re.compile(r"\s+[-–—]\s+|\s*[|·•–—]\s*|,\s+|\s*[()\[\]]\s*")
_DATE_WORDS = re.compile(r"^(?:(?:first\s+)?published|(?:last\s+)?updated|posted)(?:\s+on)?:?$", re.IGNORECASE)
_READING_TIME = re.compile(r"^\d+\s+min(?:ute)?s?(?:\s+read)?$", re.IGNORECASE)
_WRITER = re.compile(rf"^By\s+(?P<author>{AUTHOR_NAME})$")
_PROPER_NAME = re.compile(r"^(?:The\s+)?[A-Z][\w.&'’-]*(?:\s+(?:of|the|and|&|[A-Z][\w.&'’-]*)){0,4}$")


def _byline_or_dateline(line: str, first: bool = False) -> dict[str, object]:
    """What a byline or dateline that the fixed forms above do not fit states, read in general: the
    line in parts at its separators (``|``, ``·``, dashes, commas, brackets), one of them a full
    calendar date (:func:`find_date`) or ``By`` and a name, the others words that say what the
    date is ("Updated"), a reading time, or a proper name (in a byline: the author's outlet;
    beside a date alone, a place). ``By Anna Virtanen | Nordic Wire | March 3, 2026`` states all
    three; ``Helsinki, 3 March 2026`` a date. Empty when any part is something else (prose, a
    headline): the line is the article's and stays. ``first``: the title's place, where only a
    date alone is taken."""
    if len(line) > 120 or is_sentence_line(line):
        return {}
    said: dict[str, object] = {}
    found = find_date(line)
    if found:
        said["published"], (start, end) = found
        line = f"{line[:start]} | {line[end:]}"
    names = []
    for part in _LINE_PARTS.split(line):
        part = part.strip(" :")
        if not part or _DATE_WORDS.match(part) or _READING_TIME.match(part):
            continue
        if (writer := _WRITER.match(part)) and "author" not in said:
            said["author"] = writer["author"]
        elif _PROPER_NAME.match(part) and len(names) < 2:
            names.append(part)
        else:
            return {}
    if not said or (first and (names or "author" in said)):
        return {}
    if "author" in said and names:
        said["outlet"] = names[0]
    return said


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_MONTH_NAME = re.compile(rf"\b(?:{MONTH_PATTERN}|{'|'.join(MONTH_ABBREVIATIONS)})\b", re.IGNORECASE)
_ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:\b|(?=T\d))")


def _day_in(text: str) -> date | None:
    """The date a "Published ..." line states: at its start, or anywhere in it ("3:14 PM EST, March 3, 2026")."""
    if day := parse_date(text):
        return day
    found = find_date(text)
    return found[0] if found else None


def find_date(text: str) -> tuple[date, tuple[int, int]] | None:
    """The first calendar date that ``text`` states in full (day, month and a four-digit year, the
    month in words or the date in ISO form: "Tue 3 Mar 2026", "March 3rd, 2026", "2026-03-03"),
    read by dateparser, and where it is in ``text``; None when it states none (relative times and
    bare numbers such as 03/04/2026, which reads two ways, are not dates here)."""
    if not _YEAR.search(text):
        return None
    from dateparser.search import search_dates  # imported here: ~0.3 s, and few lines name a year

    settings = {"REQUIRE_PARTS": ["day", "month", "year"], "RETURN_AS_TIMEZONE_AWARE": False}
    for said, when in search_dates(text, languages=["en"], settings=settings) or ():
        start = text.find(said)
        if start >= 0 and _YEAR.search(said) and (_MONTH_NAME.search(said) or _ISO_DAY.search(said)):
            return when.date(), (start, start + len(said))
    return None


def _cut_at_end_marker(lines: list[str]) -> list[str]:
    """Without the lines from the first end-of-article marker on, or from a sources or references
    label that no sentence follows (a "Source: ..." line in mid-article is followed by more article).
    Only the second half is searched, so a heading such as "Comments" early in a page can't cut it."""
    for position in range(len(lines) // 2, len(lines)):
        if _END_MARKERS.match(lines[position]) or (
                _REFERENCE_LIST.match(lines[position])
                and not any(is_sentence_line(line) for line in lines[position + 1:])):
            return lines[:position]
    return lines


def _drop_repeated_labels(lines: list[str]) -> list[str]:
    counts = Counter(line for line in lines if not is_sentence_line(line))
    return [line for line in lines if is_sentence_line(line) or counts[line] < 2]


def _drop_trailing_tags(lines: list[str]) -> list[str]:
    """Without the run of lower-case words with no punctuation at the very end (a tag list), and
    the label before it ("Tags:"). A list item is not a tag, nor is a line in a run that a line
    ending in ':' introduces ("The mission will include:"): an article may well end on a list."""
    end = len(lines)
    while end and not is_sentence_line(lines[end - 1]) and lines[end - 1] == lines[end - 1].lower() \
            and not LIST_ITEM.match(lines[end - 1]):
        end -= 1
    if end == len(lines):
        return lines
    if end and _TAGS_LABEL.match(lines[end - 1]):
        return lines[:end - 1]
    lead = end  # back over the list's other items (capitalised ones, say) to the line introducing it
    while lead and not lines[lead - 1].endswith(":") and not is_sentence_line(lines[lead - 1]):
        lead -= 1
    if lead and lines[lead - 1].endswith(":"):
        return lines
    return lines[:end]


#: A headline that opens with a quoted word or phrase whose opening mark was lost on the way
#: ("Difficult’ talks end" for "‘Difficult’ talks end"): the closing mark, then a space. Typography
#: of any headline, not of one site: a possessive ("Leaders’ talks") ends in s and is left alone.
_LOST_OPENING = re.compile(r"^(?P<quoted>[^‘“'\"\s][^‘“'\"]{0,60}?[^\s‘“'\"s])(?P<mark>[’”])(?=\s)")
_OPENING = {"’": "‘", "”": "“"}


def paired_quotes(title: str) -> str:
    """A title whose quote marks pair up again (the lost opening mark of a leading quote put back),
    for display: the stored title stays as the page wrote it, since the models read it."""
    match = _LOST_OPENING.match(title)
    if match and title.count(match["mark"]) > title.count(_OPENING[match["mark"]]):
        return _OPENING[match["mark"]] + title
    return title


def _title_from(lines: list[str]) -> str | None:
    first = lines[0] if lines else ""
    if first and len(first) <= 160 and (not is_sentence_line(first) or first.endswith("?")):
        return first
    return None


#: A title made from a sentence is cut at a word boundary near this many characters.
TITLE_CHARS = 80


def _title_in(lines: list[str]) -> str | None:
    """A readable title for an article that states none: its first heading (a short line of two
    or more words that is not a sentence, a label ending in ':' or a list item), else its first
    sentence, shortened at a word boundary to about :data:`TITLE_CHARS` characters."""
    for line in lines:
        if (not is_sentence_line(line) and 2 <= len(line.split()) <= 16 and len(line) <= 160
                and not line.endswith(":") and not LIST_ITEM.match(line)):
            return line
    sentence = next((line for line in lines if is_sentence_line(line)), None)
    return short_title(sentence) if sentence else None


_STOPS = re.compile(r"[.…:;][\"'”’)\]]*$")


def made_from_sentence(title: str) -> bool:
    """True for a title that reads as one :func:`_title_in` made from an article's first sentence
    (the article states no title and has no heading): four or more words ending like prose, with a
    full stop, a colon or the '…' of a cut. A headline, stated or found as a heading, does not
    end so; '?' and '!' are left to headlines ("What’s Next?")."""
    return is_sentence_line(title) and bool(_STOPS.search(title))


def short_title(text: str, limit: int = TITLE_CHARS) -> str:
    """The first sentence of ``text`` (of four words or more), cut at a word boundary (with an
    ellipsis) when it is longer than ``limit`` characters."""
    text = text.strip()
    ends = (end for _, end in sentence_spans(text) if len(text[:end].split()) >= 4)
    sentence = text[:next(ends, len(text))]
    if len(sentence) <= limit:
        return sentence
    return truncate_words(sentence, limit).rstrip(" ,;:–—-") + "…"


def truncate_words(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a space (the last one in the second half of
    the limit; mid-word only when there is none); unchanged when it fits. The one place text is
    shortened for a title, a page label or an over-long question."""
    if len(text) <= limit:
        return text
    cut = text[:limit + 1]
    return cut[:cut.rfind(" ")] if " " in cut[limit // 2:] else text[:limit]


def _from_markdown(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)                 # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)              # links keep their text
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text, flags=re.MULTILINE)  # heading marks
    text = re.sub(r"^\s{0,3}>\s?", "", text, flags=re.MULTILINE)       # block quotes
    text = re.sub(r"^\s*(?:[-*_]\s*){3,}$", "", text, flags=re.MULTILINE)  # rules
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)                    # bold
    text = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?!\w)", r"\1", text)  # italics
    return re.sub(r"`([^`]+)`", r"\1", text)


def _from_html(html: str) -> tuple[str, dict[str, object]]:
    import trafilatura

    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True, favor_recall=True,
    )
    if document is None or not (document.text or "").strip():
        raise InputError("no article text found in the HTML: is this an article page?")
    meta: dict[str, object] = {}
    if document.title:
        meta["title"] = _normalise_line(document.title)
    if document.author:
        meta["author"] = _normalise_line(document.author)
    if document.sitename:
        meta["outlet"] = _normalise_line(document.sitename)
    if document.date and (when := parse_date(document.date)):
        meta["published"] = when
    return document.text, meta

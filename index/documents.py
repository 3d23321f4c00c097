"""PDF and Word (.docx) files as article text, for the same cleaning as every other article.

Each becomes a :class:`Document`: plain text, one paragraph per block, headings on their own,
the title first (the file's title property where the text has none), and beside the text what
the file's properties say of its author and date (:class:`index.cleaning.Properties`). The
cleaner treats the text like any ``.txt`` article, reading the article's own byline and dateline
first, and falls back on the properties only where the text states none: a PDF's creation date
is when the file was made, often long after the article it holds.

- **PDF** (pypdf): each page's text with its line positions; running headers, footers and page
  numbers dropped; lines joined into paragraphs by their spacing and punctuation, across pages
  too, and words hyphenated at a line end rejoined.
- **DOCX** (python-docx): paragraphs and tables in document order; Title and Heading paragraphs
  stay headings, list items keep a ``- `` mark; the first heading (or the title property) is the
  title.

Anything that cannot be read (encrypted, scanned without a text layer, corrupt, truncated, not
what its extension says) raises :class:`InputError` saying why and what to do.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from index.cleaning import AUTHOR_NAME, Properties
from index.errors import InputError
from index.text import ends_like_sentence, is_sentence_line

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .doc, or an encrypted Office file
_SPACES = re.compile(r"\s+")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st"})
_ITEM = re.compile(r"^(?:[•◦▪‣●○■□*]|\d{1,3}[.)])\s")  # a list item starts its own paragraph
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_HEADER = 12  # paragraphs the cleaner looks in for metadata
# Property values that name a program or a placeholder, not the article's author or title.
_NOT_AN_AUTHOR = {"python-docx", "microsoft office user", "user", "admin", "administrator", "author", "unknown",
                  "owner", "windows user"}
_FILE_NAME = re.compile(
    r"^(?:microsoft (?:word|powerpoint) - )?.*\.(?:docx?|pdf|txt|rtf|odt|html?)$|^untitled\b", re.IGNORECASE)
# python-docx's built-in template carries this creation date; a file made from it without setting
# one says nothing about when the article was written.
_PYTHON_DOCX_TEMPLATE_DATE = datetime(2013, 12, 23, 23, 15)


@dataclass(frozen=True)
class _Line:
    text: str
    y: float | None     # baseline height on the page (PDF user space), when known
    size: float         # font size as drawn


@dataclass(frozen=True)
class Document:
    """A PDF's or Word file's article: its text, ready for :func:`index.cleaning.clean` (kind
    ``text``), and what its properties say about it, for the cleaner to fall back on."""

    text: str
    properties: Properties


def read_pdf(data: bytes) -> Document:
    """The article in a PDF."""
    head = data[:1024]
    if b"%PDF-" not in head:
        raise InputError(f"not a PDF: {_looks_like(data)}")
    if b"%%EOF" not in data[-2048:]:
        raise InputError("truncated PDF (it does not end with %%EOF): download or export it again")
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    _silence_pypdf()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError("password-protected PDF: save an unprotected copy (or print it to PDF) and ingest that")
        pages = [_page_lines(page) for page in reader.pages]
        info = _pdf_info(reader)
    except InputError:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise InputError("encrypted PDF that cannot be opened here: save an unprotected copy and ingest that") from None
    except Exception as error:  # a parser of untrusted bytes fails in many ways; all mean the same here
        raise InputError(f"corrupt PDF ({_describe(error)}): open it and save or export it again") from None
    if not pages:
        raise InputError("corrupt PDF (it has no pages): open it and save or export it again")
    if sum(ch.isalpha() for page in pages for line in page for ch in line.text) < 20:
        count = f"any of its {len(pages)} pages" if len(pages) != 1 else "its page"
        raise InputError(f"no text layer on {count} (a scanned image?): run OCR first "
                         "(e.g. `ocrmypdf in.pdf out.pdf`) and ingest the result")
    paragraphs = _paragraphs(_drop_running_lines(pages))
    return _compose(paragraphs, *info)


def read_docx(data: bytes, max_unpacked_bytes: int) -> Document:
    """The article in a Word .docx file.

    ``max_unpacked_bytes`` bounds what the zip may unpack to (a zip bomb is refused unread).
    """
    if data.startswith(_OLE):
        raise InputError("password-protected Word file, or an old .doc renamed .docx: open it in Word and "
                         "save it as .docx without a password")
    if not data.startswith(b"PK"):
        raise InputError(f"not a Word document: {_looks_like(data)}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            unpacked = sum(item.file_size for item in package.infolist())
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise InputError("corrupt or truncated .docx (its zip cannot be read): save or download it again") from None
    if unpacked > max_unpacked_bytes:
        raise InputError(f".docx unpacks to {unpacked / 1e6:.0f} MB, over the {max_unpacked_bytes / 1e6:g} MB "
                         "allowed: is it really an article?")
    if "word/document.xml" not in names and not any(n.startswith("word/") and n.endswith(".xml") for n in names):
        raise InputError(f"not a Word document: a zip of something else ({_zip_kind(names)}); "
                         "save the article as .docx, .pdf or .txt")
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs, first_heading = _docx_paragraphs(document)
        info = _docx_info(document, first_heading)
    except Exception as error:  # as for PDFs: any failure to parse is one kind of problem here
        raise InputError(f"corrupt .docx ({_describe(error)}): open it in Word and save it again") from None
    if not any(ch.isalpha() for text in paragraphs for ch in text):
        raise InputError("no text in the Word document (only images or empty paragraphs?)")
    return _compose(paragraphs, *info)


# --- PDF --------------------------------------------------------------------------------------------

def _page_lines(page) -> list[_Line]:
    """The page's lines as pypdf reads them, each with its baseline and font size."""
    fragments: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, _font, size) -> None:
        if text:
            a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
            c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            fragments.append((text, y, abs(size or 0) * abs(a * d - b * c) ** 0.5))

    page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    text, y, size = "", None, 0.0
    for fragment, at, scale in fragments:
        pieces = fragment.split("\n")
        for position, piece in enumerate(pieces):
            if position:
                lines.append(_Line(text, y, size))
                text, y, size = "", None, 0.0
            if piece.strip() and y is None:
                y, size = at, scale
            text += piece
    lines.append(_Line(text, y, size))
    cleaned = []
    for line in lines:
        words = _SPACES.sub(" ", line.text.translate(_LIGATURES)).strip()
        if words:
            cleaned.append(_Line(words, line.y, line.size))
    return cleaned


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Pages without their page numbers and running headers and footers (a line in the same place,
    digits aside, on at least half of the pages)."""
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.casefold())

    edges = 3
    counts: dict[tuple[str, int, str], int] = {}
    for lines in pages:
        seen = set()
        for i, line in enumerate(lines[:edges]):
            seen.add(("top", i, key(line)))
        for i, line in enumerate(reversed(lines[-edges:])):
            seen.add(("bottom", i, key(line)))
        for item in seen:
            counts[item] = counts.get(item, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    kept_pages = []
    for lines in pages:
        drop = set()
        for i, line in enumerate(lines[:edges]):
            if counts.get(("top", i, key(line)), 0) >= needed or _PAGE_NUMBER.match(line.text):
                drop.add(i)
        for i, line in enumerate(reversed(lines[-edges:])):
            if counts.get(("bottom", i, key(line)), 0) >= needed or _PAGE_NUMBER.match(line.text):
                drop.add(len(lines) - 1 - i)
        kept_pages.append([line for i, line in enumerate(lines) if i not in drop])
    return kept_pages


def _paragraphs(pages: list[list[_Line]]) -> list[str]:
    """Lines joined into paragraphs: by the gap between lines (a blank line's worth or more is a new
    paragraph), a change of font size (a heading), and punctuation (a short line that ends a
    sentence ends its paragraph; a line that does not is continued, on the next page too)."""
    gaps = [prev.y - line.y for lines in pages for prev, line in zip(lines, lines[1:])
            if prev.y is not None and line.y is not None and prev.y - line.y > 0]
    spacing = statistics.median(gaps) if gaps else None
    lengths = sorted(len(line.text) for lines in pages for line in lines)
    full = lengths[int(len(lengths) * 0.9)] if lengths else 0
    sizes = [line.size for lines in pages for line in lines if line.size]
    body = statistics.median(sizes) if sizes else None  # the body text's type size
    everything = " ".join(line.text for lines in pages for line in lines).casefold()
    vocabulary = (set(re.findall(r"\w+", everything)), set(re.findall(r"\w+-\w+", everything)))

    paragraphs: list[list[str]] = []
    prev: _Line | None = None
    for lines in pages:
        for i, line in enumerate(lines):
            if prev is not None and _continues(prev, line, same_page=i > 0, spacing=spacing, full=full, body=body):
                paragraphs[-1].append(line.text)
            else:
                paragraphs.append([line.text])
            prev = line
    return [_join_lines(parts, vocabulary) for parts in paragraphs]


def _continues(prev: _Line, line: _Line, same_page: bool, spacing: float | None, full: int,
               body: float | None = None) -> bool:
    ends_sentence = ends_like_sentence(prev.text)
    long = len(prev.text) >= 0.75 * full
    starts_lower = line.text[:1].islower()
    if _ITEM.match(line.text):
        return False
    same_size = bool(prev.size and line.size) and abs(prev.size - line.size) <= 0.15 * max(prev.size, line.size)
    if not same_size and prev.size and line.size:
        return not ends_sentence and starts_lower  # a heading (or a caption) in another size
    if same_size and body and line.size > 1.15 * body:
        # Two lines in the same type, larger than the body's: a heading wrapped onto a second line,
        # unless a sentence ended or a blank line's worth (in that type) lies between them.
        if same_page and spacing and prev.y is not None and line.y is not None \
                and prev.y - line.y > 1.45 * spacing * line.size / body:
            return False
        return not ends_sentence
    if same_page and spacing and prev.y is not None and line.y is not None:
        if prev.y - line.y > 1.45 * spacing:       # a blank line's worth: a new paragraph
            return not ends_sentence and starts_lower
    if not ends_sentence:
        return starts_lower or long or prev.text.endswith(("-", "\u00ad", ","))
    return long


def _join_lines(parts: list[str], vocabulary: tuple[set[str], set[str]]) -> str:
    """Lines joined with spaces; a word broken by a hyphen at a line end is rejoined: without the
    hyphen when the document has the whole word elsewhere, or lacks the hyphenated form and the
    word goes on in lower case ("nego-" "tiations"); with it otherwise ("Russia-" "Ukraine")."""
    words, compounds = vocabulary
    text = parts[0]
    for part in parts[1:]:
        broken = re.search(r"(\w+)([-\u00ad])$", text)
        tail = re.match(r"\w*", part).group()
        if not broken or not tail:
            text = f"{text} {part}"
            continue
        head, mark = broken.groups()
        whole = f"{head}{tail}".casefold()
        drop = mark == "\u00ad" or whole in words or (
            f"{head}-{tail}".casefold() not in compounds and tail[:1].islower())
        text = text[:-1] + ("" if drop else "-") + part
    return text.replace("\u00ad", "")


def _pdf_info(reader) -> tuple[str | None, str | None, date | None]:
    try:
        meta = reader.metadata
    except Exception:
        return None, None, None
    if meta is None:
        return None, None, None
    title = _property(lambda: meta.title)
    author = _property(lambda: meta.author)
    created = _property(lambda: meta.creation_date)
    return (title if isinstance(title, str) else None, author if isinstance(author, str) else None,
            created.date() if isinstance(created, datetime) else None)


# --- DOCX -------------------------------------------------------------------------------------------

def _docx_paragraphs(document) -> tuple[list[str], str | None]:
    """The document's paragraphs and table rows in order, and its first heading when that comes
    before any prose (a Title paragraph anywhere near the top counts first)."""
    from docx.table import Table

    paragraphs: list[str] = []
    title = heading = None
    prose_seen = False
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                texts = [_SPACES.sub(" ", cell.text).strip() for cell in row.cells]
                # a merged cell is listed once per column it spans
                cells = [t for i, t in enumerate(texts) if t and (i == 0 or t != texts[i - 1])]
                if cells:
                    paragraphs.append(" | ".join(cells))
            prose_seen = True
            continue
        text = _SPACES.sub(" ", block.text).strip()
        if not text:
            continue
        style = (block.style.name if block.style is not None else "") or ""
        if style == "Title":
            if title is None and len(paragraphs) < _HEADER:
                title = text
        elif style.startswith("Heading"):
            if heading is None and not prose_seen:
                heading = text
        elif style.startswith("List"):          # Word's list styles: List Paragraph, List Bullet ...
            text = f"- {text}"
            prose_seen = True
        elif is_sentence_line(text):
            prose_seen = True
        paragraphs.append(text)
    return paragraphs, title or heading


def _docx_info(document, first_heading: str | None) -> tuple[str | None, str | None, date | None]:
    properties = document.core_properties
    author = _property(lambda: properties.author)
    created = _property(lambda: properties.created)
    if isinstance(created, datetime) and created.replace(tzinfo=None) == _PYTHON_DOCX_TEMPLATE_DATE:
        created = None
    title = first_heading or _property(lambda: properties.title)
    return (title if isinstance(title, str) else None, author if isinstance(author, str) else None,
            created.date() if isinstance(created, datetime) else None)


# --- shared -----------------------------------------------------------------------------------------

def _compose(paragraphs: list[str], title: str | None, author: str | None, published: date | None) -> Document:
    """Paragraphs with the title first (moved up when the text has it near the top, else added),
    and the author and date the properties state (an author only when it reads as a name)."""
    paragraphs = [p for p in paragraphs if p]
    title = _SPACES.sub(" ", title or "").strip()
    if title and not _FILE_NAME.match(title) and len(title) <= 160:
        wanted = title.casefold()
        near = [i for i, p in enumerate(paragraphs[:_HEADER]) if p.casefold() == wanted]
        if near:
            paragraphs.insert(0, paragraphs.pop(near[0]))
        else:
            paragraphs.insert(0, title)
    author = _SPACES.sub(" ", author or "").strip()
    named = author.casefold() not in _NOT_AN_AUTHOR and re.fullmatch(AUTHOR_NAME, author)
    return Document("\n\n".join(paragraphs), Properties(author=author if named else None, published=published))


def _property(read):
    try:
        return read()
    except Exception:  # a malformed property is as good as none
        return None


def _looks_like(data: bytes) -> str:
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF") or b"%PDF-" in head:
        return "it is a PDF: rename it to .pdf"
    if head.startswith(b"PK"):
        return "it is a zip file (a .docx?): rename it to match what it is"
    if head.startswith(_OLE):
        return "it is an old Office file (.doc/.xls): save it as .docx or PDF"
    if head[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "it is an HTML page: rename it to .html"
    return "its contents are not in that format; is the file corrupt or misnamed?"


def _zip_kind(names: set[str]) -> str:
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint presentation"
    if "mimetype" in names and "content.xml" in names:
        return "an OpenDocument file"
    shown = sorted(names)[:3]
    return "no word/document.xml; it holds " + ", ".join(shown) + (" ..." if len(names) > 3 else "")


def _describe(error: Exception) -> str:
    message = _SPACES.sub(" ", str(error)).strip()
    return f"{type(error).__name__}: {message[:120]}" if message else type(error).__name__


def _silence_pypdf() -> None:
    """pypdf logs a warning for each repair it makes to a damaged file, which Python prints to
    stderr when the application has no logging set up; the reason we give is enough. (With a
    handler of the application's, the warnings still reach it.)"""
    logger = logging.getLogger("pypdf")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


__all__ = ["Document", "read_docx", "read_pdf"]

"""Finding article files and reading them as text.

One file is one article. Folders are searched recursively for ``.txt``, ``.md``, ``.html``,
``.pdf`` and ``.docx``. PDF and Word files are turned into text by :mod:`index.documents`, their
title first and their properties' author and date beside the text (the cleaner's fallback); from
then on every article is text. A web page's own address, where it states one, is read beside its
text (:func:`page_address`), for a link to the original. Every problem with a file becomes an
:class:`InputError` whose message names the reason; the ingest reports it and carries on with
the other files.
"""

from __future__ import annotations

import codecs
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from index.cleaning import Properties
from index.documents import read_docx, read_pdf
from index.errors import InputError

KINDS = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
         ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
SUPPORTED = ", ".join(sorted({".txt", ".md", ".html", ".pdf", ".docx"}))
#: A .docx may unpack to this many times ``max_file_mb``; more is refused as a zip bomb.
DOCX_UNPACK_RATIO = 20

_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Among charset-normalizer's equally plausible guesses, the common Western code pages win: on short
# texts it cannot tell cp1252 from cp1250, and news in English is far more often the former.
_PREFERRED = ("cp1252", "windows-1252", "latin_1", "iso8859_1", "iso8859_15")


@dataclass(frozen=True)
class RawFile:
    """A file read from disk: its ``source`` key (a stable path string) and decoded text.

    ``kind`` is how :func:`index.cleaning.clean` reads ``text``: ``text``, ``markdown`` or ``html``
    (PDF and Word files arrive as ``text``, with what their ``properties`` say about them).
    ``url``: the address a web page states for itself (:func:`page_address`), else None."""

    path: Path
    source: str
    kind: str
    text: str
    properties: Properties | None = None
    url: str | None = None


@dataclass(frozen=True)
class Problem:
    """A path that could not be used, and why (shown to the user as ``source: reason``)."""

    source: str
    reason: str


def article_key(path: Path) -> str:
    """What identifies the article in a file, wherever it is named from: its absolute path, with
    links resolved and forward slashes."""
    return path.resolve().as_posix()


def source_key(path: Path) -> str:
    """The article's name as shown: its path relative to the working directory when inside it,
    else the absolute path; always with forward slashes. (Its identity is :func:`article_key`.)"""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def discover(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand ``paths`` (files or folders) into article files, in a stable order.

    A path that does not exist, a file of an unsupported type named explicitly, and a folder with
    no article files are reported as problems. Hidden files and folders are skipped, and so are
    Word's lock files (``~$name.docx``, left beside a document that is open).
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), "does not exist: check the path"))
        elif path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in KINDS and not p.name.startswith("~$")
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                problems.append(Problem(str(path), f"folder has no article files ({SUPPORTED})"))
            files.extend(found)
        elif path.suffix.lower() in KINDS:
            files.append(path)
        else:
            problems.append(Problem(str(path), f"unsupported file type '{path.suffix}': use {SUPPORTED}"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def read_file(path: Path, max_bytes: int) -> RawFile:
    """Read and decode one article file, or raise :class:`InputError` saying why it can't be used."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # reading a pipe or a device could wait forever
            raise InputError("not a regular file (a pipe, socket or device): save the article to a file first")
        size = status.st_size
        if size > max_bytes:
            raise InputError(
                f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit: "
                "split it, or raise max_file_mb (RAG_MAX_FILE_MB)"
            )
        data = path.read_bytes()
    except PermissionError:
        raise InputError("cannot be read (permission denied): check the file's permissions") from None
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise InputError("empty file: nothing to index")
    kind = KINDS[path.suffix.lower()]
    if kind in ("pdf", "docx"):
        document = read_pdf(data) if kind == "pdf" else read_docx(data, DOCX_UNPACK_RATIO * max_bytes)
        return RawFile(path=path, source=source_key(path), kind="text", text=document.text,
                       properties=document.properties)
    text = decode(data, kind)
    return RawFile(path=path, source=source_key(path), kind=kind, text=text,
                   url=page_address(text) if kind == "html" else None)


#: A browser's "Save page as" notes where the page came from: ``<!-- saved from url=(0047)https://… -->``.
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.IGNORECASE)
_ADDRESS_METAS = ("og:url", "twitter:url")  # Open Graph's and Twitter cards' address of the page
_MAX_ADDRESS = 2048


def page_address(html: str) -> str | None:
    """The address a web page states for itself, for a link to the original: its canonical link
    (``<link rel="canonical">``), else its ``og:url`` or ``twitter:url`` meta tag, else the address
    a browser's "Save page as" noted in it. Only an absolute ``http``/``https`` address counts (a
    relative canonical link is read against the page's other address, when it has one; a
    ``javascript:`` or ``file:`` one never counts). None when the page states none. Parsed with
    lxml, as trafilatura parses the page for its text."""
    from trafilatura.utils import load_html

    try:
        tree = load_html(html)
    except Exception:  # noqa: BLE001 - a page that cannot be parsed for this states no address here
        tree = None
    canonical: list[str] = []
    stated: list[str] = []
    if tree is not None:
        for link in tree.iterfind(".//link[@href]"):
            if "canonical" in str(link.get("rel") or "").lower().split():
                canonical.append(str(link.get("href")))
        for meta in tree.iterfind(".//meta[@content]"):
            if str(meta.get("property") or meta.get("name") or "").strip().lower() in _ADDRESS_METAS:
                stated.append(str(meta.get("content")))
    saved = _SAVED_FROM.search(html[:8192])
    if saved:
        stated.append(saved.group(1))
    absolute = [a for a in map(_web_address, stated) if a]
    for href in canonical:
        found = _web_address(href) or (_web_address(urljoin(absolute[0], href.strip())) if absolute else None)
        if found:
            return found
    return absolute[0] if absolute else None


def _web_address(text: str) -> str | None:
    """``text`` as an absolute http(s) address, or None."""
    text = text.strip()
    if not text or len(text) > _MAX_ADDRESS or any(ch.isspace() or ord(ch) < 32 for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def decode(data: bytes, kind: str = "text") -> str:
    """Decode bytes as text: a BOM, the HTML-declared charset, UTF-8, then a detected encoding.

    Binary data (NUL bytes without a UTF-16 BOM, or mostly control bytes) is refused.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _strict(data, encoding)
    if _looks_binary(data):
        raise InputError(f"binary file, not text: convert it to one of {SUPPORTED} first")
    candidates: list[str] = []
    if kind == "html":
        declared = _DECLARED_CHARSET.search(data[:4096])
        if declared:
            candidates.append(declared.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    guess = _detect(data)
    if guess is not None:
        return guess
    raise InputError("undecodable bytes: not UTF-8 or a recognisable encoding; re-save the file as UTF-8")


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(f"undecodable bytes despite a {encoding} byte-order mark; re-save as UTF-8") from None


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return control > len(sample) * 0.05


def _detect(data: bytes) -> str | None:
    """Decode with charset-normalizer's best guess, if it is confident the result is text."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = min(matches, key=lambda m: m.chaos)
    preferred = [m for m in matches if m.encoding in _PREFERRED and m.chaos <= best.chaos + 0.01]
    best = preferred[0] if preferred else best
    if best.chaos > 0.2:
        return None
    text = str(best)
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return text if printable >= 0.95 * len(text) else None


def file_size_limit(max_file_mb: float) -> int:
    """``max_file_mb`` in bytes."""
    return int(max_file_mb * 1_000_000)


__all__ = ["Problem", "RawFile", "decode", "discover", "file_size_limit", "page_address", "read_file", "source_key"]

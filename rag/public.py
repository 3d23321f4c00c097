"""What a network answer may show of a server-side message: no server paths, no process ids.

Errors are written for the operator (``rag`` on the command line prints them as they are: the
exact store folder, the exact command to run). The chat page, ``rag serve`` and MCP over HTTP may
be served beyond loopback, to people who have no business knowing the server's folders or its
processes, so every message they send (errors, an answer's notes) goes through :func:`public_text`
first: the store folder becomes ``<store>``, any other absolute path keeps only its last part
(``…/notes.gguf``), and a process id becomes "another process". The server log keeps them whole.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from rag.answer import Answer
    from rag.config import Config

#: An absolute POSIX path: a "/" that does not follow a word, a dot, a colon or another slash
#: (so "and/or", "3/4", "./x" and "http://host/x" are left alone), up to white space or punctuation
#: that ends a path in a sentence.
_ABSOLUTE = re.compile(r"(?<![\w.:/~<>-])/[^\s'\"`<>()\[\]{},;]*[^\s'\"`<>()\[\]{},;:.]")
_PROCESS = re.compile(r"\b(?:process|pid|PID)\s+\d+\b")


def served_folders(config: Config) -> list[Path]:
    """The server folders a message may name that a network answer shows as ``<store>``: the
    embedded store's (none for a Chroma server)."""
    return [] if config.chroma_host else [config.store_path]


def public_answer(answer: Answer, folders: Iterable[str | Path] = ()) -> Answer:
    """``answer`` with its notes through :func:`public_text` (its text and quotes are the articles')."""
    return replace(answer, notes=tuple(public_text(note, folders) for note in answer.notes))


def public_text(text: str, folders: Iterable[str | Path] = ()) -> str:
    """``text`` without server paths or process ids. ``folders`` are the store folders to call
    ``<store>`` (as configured, relative or absolute; their resolved forms are added)."""
    names: set[str] = set()
    for folder in folders:
        if folder is None or str(folder) in ("", "."):
            continue
        names.add(str(folder).rstrip("/") or "/")
        try:
            names.add(str(Path(folder).resolve()))
        except OSError:
            pass
    for name in sorted(names, key=len, reverse=True):  # the longest first: a resolved path contains the other
        text = re.sub(rf"(?<![\w/.-]){re.escape(name)}(?![\w.-])", "<store>", text)
    text = _ABSOLUTE.sub(lambda match: _tail(match.group(0)), text)
    return _PROCESS.sub("another process", text)


def _tail(path: str) -> str:
    """What is left of an absolute path: its last part (a file name says what it is; the folders
    above it are the server's business)."""
    last = os.path.basename(path.rstrip("/"))
    return f"…/{last}" if last else "…"

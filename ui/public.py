"""What the page may show of a server-side message: no server paths, no process ids.

Errors are written for the operator (``rag`` on the command line prints them as they are: the
exact store folder, the exact command to run). A page may be served beyond loopback, to people
who have no business knowing the server's folders or its processes, so every message the page
shows goes through :func:`page_text` first: the store folder becomes ``<store>``, any other
absolute path keeps only its last part (``…/notes.gguf``), and a process id becomes "another
process".
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

#: An absolute POSIX path: a "/" that does not follow a word, a dot, a colon or another slash
#: (so "and/or", "3/4", "./x" and "http://host/x" are left alone), up to white space or punctuation
#: that ends a path in a sentence.
_ABSOLUTE = re.compile(r"(?<![\w.:/~<>-])/[^\s'\"`<>()\[\]{},;]*[^\s'\"`<>()\[\]{},;:.]")
_PROCESS = re.compile(r"\b(?:process|pid|PID)\s+\d+\b")


def page_text(text: str, folders: Iterable[str | Path] = ()) -> str:
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

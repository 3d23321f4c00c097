"""The page's saved conversations: the current one and the others, kept in the browser.

The current conversation is kept as before (:func:`ui.app.saved_conversation`, Gradio's
``BrowserState`` under ``rag-conversation``), now with its ``id`` and ``title`` (the name given
to it; "" for its first question). The others ("the shelf", newest first) are kept together under
``rag-conversations`` as ``{"version": 1, "conversations": [...]}``, each as the current one is
kept. Nothing is stored on the server. Pure functions over those values; :mod:`ui.app` connects
them to the page's list (new, open, rename, delete).

A browser keeps about 5.2 million characters per site (Chromium, measured), and Gradio stores
each value encrypted, in base64 (a third more): the current conversation's
:data:`ui.app.SAVED_BYTES` and the shelf's :data:`SHELF_BYTES` take about 4 million of them.
When the shelf would outgrow that, its oldest conversations give way, and the list says so.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Sequence

from ui import render

#: The most the browser is asked to keep of the other conversations together (their JSON, UTF-8 bytes).
SHELF_BYTES = 1_500_000
VERSION = 1


def new_id() -> str:
    """A new conversation's id (random: ids are made in many browsers and never compared across them)."""
    return uuid.uuid4().hex[:12]


def is_conversation(value: Any) -> bool:
    """A conversation as the page keeps it (see :func:`ui.app.restored_conversation`)."""
    return (isinstance(value, dict) and value.get("version") == 1
            and all(isinstance(value.get(key), list) for key in ("chat", "history", "groups", "turns")))


def shelf_from(archived: Any) -> list[dict]:
    """The other conversations from the browser's copy (anything unusable left out), each with an id."""
    if not isinstance(archived, dict) or archived.get("version") != VERSION:
        return []
    found, ids = [], set()
    for conversation in archived.get("conversations") or []:
        if is_conversation(conversation) and conversation["turns"]:
            ident = str(conversation.get("id") or new_id())
            if ident not in ids:
                ids.add(ident)
                found.append({**conversation, "id": ident, "title": str(conversation.get("title") or "")})
    return found


def archived(shelf: Sequence[dict]) -> dict:
    """What the browser keeps of the other conversations."""
    return {"version": VERSION, "conversations": list(shelf)}


def shelve(shelf: Sequence[dict], conversation: dict) -> tuple[list[dict], int]:
    """``shelf`` with ``conversation`` (as the page keeps it, with its id) first, in place of an
    older copy of it; one with no questions is not kept. The oldest conversations give way when all
    of them no longer fit :data:`SHELF_BYTES` (the newest always stays). Returns the shelf and how
    many gave way."""
    others = [c for c in shelf if c.get("id") != conversation.get("id")]
    kept = ([conversation] if conversation.get("turns") else []) + others
    dropped = 0
    while len(kept) > 1 and _size(kept) > SHELF_BYTES:
        kept.pop()
        dropped += 1
    return kept, dropped


def take(shelf: Sequence[dict], conversation_id: str) -> tuple[dict | None, list[dict]]:
    """The conversation ``conversation_id`` off the shelf, and the shelf without it."""
    chosen = next((c for c in shelf if c.get("id") == conversation_id), None)
    return chosen, [c for c in shelf if c is not chosen]


def choices(current: dict, turns: Sequence[dict], shelf: Sequence[dict]) -> list[tuple[str, str]]:
    """``(name, id)`` for the list: the current conversation first, then the others, newest first."""
    listed = [(render.conversation_title(turns, str(current.get("title") or "")), str(current.get("id")))]
    listed += [(render.conversation_title(c["turns"], str(c.get("title") or "")), str(c["id"])) for c in shelf]
    return listed


def list_note(dropped: int = 0) -> str:
    """The list's help line: where the conversations are kept, and what gave way."""
    note = "Kept in this browser only."
    if dropped:
        note += (f" The {dropped} oldest conversation{'s were' if dropped > 1 else ' was'} not kept: a browser "
                 "keeps only so much per site.")
    return note


def _size(shelf: Sequence[dict]) -> int:
    return len(json.dumps(archived(shelf), ensure_ascii=False).encode("utf-8"))


__all__ = ["SHELF_BYTES", "archived", "choices", "is_conversation", "list_note", "new_id", "shelf_from", "shelve",
           "take"]

"""Follow-up questions rewritten into standalone ones before retrieval.

"And where were they held?" after "How many prisoners did each side exchange in Istanbul?"
retrieves nothing useful on its own. A follow-up (it starts with "and", "what about" ..., or leans
on a pronoun and names nothing itself) is joined with the previous question, so that retrieval
and answering see both:

    Where were they held? (Following up on: How many prisoners did each side exchange in Istanbul?)
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from rag import nlp
from rag.lexical import content_terms

_LEADS = re.compile(r"^\s*(?:and|but|so|also|then|what about|how about|and what about|what of)\b[\s,]*", re.I)
_PRONOUNS = re.compile(r"\b(?:they|them|their|it|its|there|that|those|these|he|she|his|her|this|the same)\b", re.I)


def user_turns(history: Iterable[Any] | None) -> list[str]:
    """The user's earlier questions, from any of: a list of strings, of ``{"role", "content"}``
    messages (Gradio's format), or of ``(user, assistant)`` pairs."""
    turns: list[str] = []
    for item in history or []:
        if isinstance(item, str):
            turns.append(item)
        elif isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                turns.append(content)
        elif isinstance(item, (tuple, list)) and item and isinstance(item[0], str):
            turns.append(item[0])
    return [t.strip() for t in turns if t and t.strip()]


def last_answer(history: Iterable[Any] | None) -> str:
    """The assistant's last answer in ``history`` ({"role", "content"} messages or (user,
    assistant) pairs; "" when it holds none)."""
    answers = [item.get("content") if isinstance(item, dict) and item.get("role") == "assistant" else
               item[1] if isinstance(item, (tuple, list)) and len(item) > 1 else None for item in history or []]
    return next((a for a in reversed(answers) if isinstance(a, str) and a.strip()), "")


def is_follow_up(question: str) -> bool:
    if _LEADS.match(question):
        return True
    return bool(_PRONOUNS.search(question)) and not nlp.named(question) and len(set(content_terms(question))) <= 3


def standalone(question: str, history: Iterable[Any] | None) -> str:
    """``question`` made standalone using the last user turn, when it is a follow-up."""
    previous = user_turns(history)
    if not previous or not is_follow_up(question):
        return question
    core = _LEADS.sub("", question).strip()
    core = core[:1].upper() + core[1:] if core else question
    return f"{core} (Following up on: {previous[-1]})"

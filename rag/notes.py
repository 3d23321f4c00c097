"""The words of an answer's notes and of an abstention's text: what a reader is told beside the
answer (a question cut short, words read as others, a model's sentences left out, a question in
another language) and where the closest passage is. Why it answered or abstained is
:mod:`rag.explain`'s; this module only words what the steps found."""

from __future__ import annotations

from index.chunking import units
from index.cleaning import paired_quotes
from rag import nlp
from rag.retrieval import Passage

ABSTAIN_TEXT = "The articles don't say."


def question_cut(length: int, kept: int, limit: int) -> str:
    return (f"the question was {length:,} characters; only its first {kept:,} were used "
            f"(max_question_chars = {limit})")


def read_as(corrections) -> str:
    """Question words the speller read as others (:class:`rag.spelling.Correction` s)."""
    return "read " + ", ".join(f"‘{c.original}’ as ‘{c.corrected}’" for c in corrections)


def abstention_text(passages: list[Passage], article_text: str) -> str:
    """"The articles don't say", and the closest they cover: the first passage's section heading
    (if any) in its article's title (``article_text``, the first passage's article)."""
    if not passages:
        return ABSTAIN_TEXT
    return f"{ABSTAIN_TEXT} The closest they cover is {closest(passages[0], article_text)}."


def closest(passage: Passage, article_text: str) -> str:
    """Where a passage is, in words: its section's heading (if any) in its article's title, each
    quoted with its own quote marks paired (see :func:`paired_quotes`)."""
    section = _section(article_text, passage.start)
    where = f"“{paired_quotes(passage.title)}”"
    return f"“{paired_quotes(section)}” in {where}" if section and section != passage.title else where


def _section(text: str, offset: int) -> str:
    """The heading a passage starting at ``offset`` sits under, if any."""
    heading = ""
    for unit in units(text):
        if unit.start > offset:
            break
        if unit.heading:
            heading = text[unit.start:unit.end]
    return heading


def language_note(question: str, passages: list[Passage], *, answered: bool = False,
                  across: bool = False) -> str | None:
    """What to say when a question is written in another language than the passages it reached.
    For an answer: that its quotes are in the articles' language. For an abstention: why (the
    models that find and check an answer's words read English) and what to do; ``across`` when
    the embedder matches texts across languages, so the passages shown were found by meaning."""
    asked = nlp.language(question)
    if asked is None or asked == "en":
        return None
    found = nlp.passages_language([p.text for p in passages])
    if passages and found == asked:
        return None
    name = nlp.language_name(asked)
    if answered:
        return None if found is None else \
            f"the question seems to be in {name}; the articles quoted are in {nlp.language_name(found)}"
    if across and passages:
        return (f"the question seems to be in {name}: the closest passages were found by meaning, across "
                "languages, but the models that find and check an answer's words read English: ask in English")
    return (f"the question seems to be in {name}, but the articles searched and the models "
            "here are English: ask in English")


def dropped_note(model: str, kept: int, written: int) -> str | None:
    """What the check left out of a model's answer when it kept some of its sentences, or None
    when it kept them all (when it kept none, the quoted answer stands in with its own note)."""
    left_out = written - kept
    if not kept or left_out <= 0:
        return None
    was = "was" if left_out == 1 else "were"
    return f"{left_out} of the {model} model's {written} sentences {was} not supported by the articles and {was} " \
        "left out"

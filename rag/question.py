"""The analyse step: a question as the assistant reads it. It is checked (not empty) and cut to
``max_question_chars``, its words are read against the corpus's (a misspelled name corrected), and
it is analysed (:class:`rag.analysis.Analyser`: what it asks, its terms, a follow-up rewritten into
a standalone question)."""

from __future__ import annotations

from typing import Any, Iterable

from index.cleaning import truncate_words
from index.errors import InputError
from rag.analysis import Analyser, Analysis
from rag.corpus import Corpus
from rag.notes import question_cut, read_as


class QuestionReader:
    """Reads questions over one corpus (see the module docstring)."""

    def __init__(self, analyser: Analyser, corpus: Corpus, max_chars: int):
        self.analyser = analyser
        self.corpus = corpus
        self.max_chars = max_chars

    def read(self, question: str, history: Iterable[Any] | None, notes: list[str]) -> tuple[str, Analysis]:
        """The question as asked (white space folded, cut to the limit) and its analysis; what
        the reader should know about either is added to ``notes``. An empty question is an
        :class:`InputError`."""
        if not isinstance(question, str) or not question.strip():
            raise InputError("empty question: type a question about the articles")
        question = " ".join(question.split())
        if len(question) > self.max_chars:
            cut = truncate_words(question, self.max_chars)
            notes.append(question_cut(len(question), len(cut), self.max_chars))
            question = cut
        read, corrections = self.corpus.speller().correct(question)
        if corrections:
            notes.append(read_as(corrections))
        return question, self.analyser.analyse(read, history)

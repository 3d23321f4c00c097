"""Misspelt question words, read as the closest word the indexed articles use ("istambul" ->
"istanbul", "prisonners" -> "prisoners"), with symspellpy over the index's own vocabulary.

Only a word that is neither in the articles nor an English word is corrected: symspellpy's
English frequency list (82,765 words, shipped with the package) says what is English, so a word
the articles simply do not use ("Pope") is left alone and can still make the assistant abstain.
A correction is at most one edit for words under eight letters, two for longer ones, and must be
a word the articles use at least twice (a typo in one article is not a target). Words are read as
typed (:func:`index.text.words` with ``as_typed``), as the vocabulary counts them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from index.text import TYPED_WORD


@dataclass(frozen=True)
class Correction:
    original: str
    corrected: str


class Speller:
    """Corrects question words against ``vocabulary`` (lower-case word -> count in the articles)."""

    def __init__(self, vocabulary: Mapping[str, int], min_count: int = 2):
        self.vocabulary = vocabulary
        self._lock = threading.Lock()
        self._symspell = None
        self.min_count = min_count

    def _index(self):
        with self._lock:
            if self._symspell is None:
                from symspellpy import SymSpell

                symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
                for word, count in self.vocabulary.items():
                    if count >= self.min_count and len(word) >= 4:
                        symspell.create_dictionary_entry(word, count)
                self._symspell = symspell
        return self._symspell

    def correct(self, question: str) -> tuple[str, list[Correction]]:
        """``question`` with its misspelt words replaced, and what was replaced."""
        corrections: list[Correction] = []

        def replace(match: re.Match) -> str:
            word = match.group()
            lowered = word.lower()
            if len(lowered) < 4 or lowered in self.vocabulary or _is_english(lowered):
                return word
            from symspellpy import Verbosity

            distance = 1 if len(lowered) < 8 else 2
            suggestions = self._index().lookup(lowered, Verbosity.TOP, max_edit_distance=distance)
            if not suggestions:
                return word
            corrected = suggestions[0].term
            if word[0].isupper():
                corrected = corrected[0].upper() + corrected[1:]
            corrections.append(Correction(word, corrected))
            return corrected

        if not self.vocabulary:
            return question, []
        text = TYPED_WORD.sub(replace, question)
        return text, corrections


def _is_english(word: str) -> bool:
    return word in _english() or word.rstrip("s") in _english() or word.replace("'", "") in _english()


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    """symspellpy's English word list (the 82,765 most frequent words of a large English corpus)."""
    from importlib.resources import files

    text = files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)

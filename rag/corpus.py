"""The corpus as the answering code reads it: the indexed articles' records and text, and the
keyword index over their committed passages (with what it knows: BM25's IDF, the words a
question may be spelled against).

    corpus = Corpus(store, keyword_folder=folder)
    corpus.article_text(article_id)     # the cleaned text citations quote
    corpus.known("medinski")            # is the stemmed term in any passage?
    corpus.speller().correct(question)  # question words read against the passages' words

One object, given to the retriever, the speller's user (:class:`rag.question.QuestionReader`), the
policy (:class:`rag.policy.CorpusView`) and the assistant, so that none of them reaches into the
store. Everything read is cached until the store changes: an embedded store's writes by any
process are noticed (:meth:`index.store.StoreReader.generation`); after a Chroma server changed,
call :meth:`refresh`. It only reads: the store it is given may be a read-only
:class:`index.store.StoreReader`.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

from index.records import ArticleRecord, Hit
from index.store import StoreReader
from rag.bm25 import KeywordIndex, index_key
from rag.spelling import Speller


class Corpus:
    """The indexed articles, read (see the module docstring)."""

    def __init__(self, store: StoreReader, keyword_folder: Path | None = None):
        self.store = store
        self.keyword_folder = keyword_folder  # where the BM25 index is saved and loaded (None: memory only)
        self._keyword: KeywordIndex | None = None
        self._committed: dict[str, str] = {}  # article id -> committed version
        self._texts: dict[str, str] = {}
        self._speller: Speller | None = None
        self._generation = store.generation()  # the store's state the caches above were read from
        self._lock = threading.RLock()

    # ---- articles ---------------------------------------------------------------------------

    def article_text(self, article_id: str) -> str:
        """The cleaned text of an indexed article ("" if unknown), cached until the store changes."""
        with self._lock:
            if article_id not in self._texts:
                record = self.store.article(article_id)
                self._texts[article_id] = record.text if record is not None else ""
            return self._texts[article_id]

    def articles(self) -> dict[str, ArticleRecord]:
        """The readable articles' records by id (without their text)."""
        return self.store.articles()

    def committed(self, hit: Hit) -> bool:
        """False for passages of an article version still being written (or left by a killed write)."""
        self.keyword_index()
        return self._committed.get(hit.metadata["article_id"]) == hit.metadata["version"]

    def damage_note(self) -> str | None:
        """What an answer must say while the store's vector index is damaged, or None."""
        if not self.store.damage():
            return None
        return ("the store's vector index is damaged, so this answer comes from keyword search only: "
                f"rebuild the index with `{self.store.command('doctor --repair')}`")

    # ---- the keyword index and what it knows ------------------------------------------------

    def keyword_index(self) -> KeywordIndex | None:
        """The BM25 index of the committed passages: loaded from ``keyword_folder`` when saved
        there for the store as it is, else built (and saved); again after the store changed."""
        with self._lock:
            generation = self.store.generation()
            if generation != self._generation:  # another process (or the page) wrote to the store
                self._keyword, self._generation = None, generation
                self._texts.clear()
            if self._keyword is None:
                committed = {r.id: r.version for r in self.store.articles().values()}
                key = index_key(committed, self.store.manifest())
                saved = self.keyword_folder is not None and not self.store.damage()  # (see Store.passages)
                index = KeywordIndex.load(self.keyword_folder, key) if saved else None
                if index is None:
                    index = KeywordIndex.build(h for h in self.store.passages()
                                               if committed.get(h.metadata["article_id"]) == h.metadata["version"])
                    if index is not None and saved:
                        try:
                            index.save(self.keyword_folder, key)
                        except OSError:
                            pass  # a read-only store still answers; it rebuilds the index next time
                self._keyword, self._committed = index, committed
            return self._keyword

    def warm(self) -> None:
        """Build the keyword index now (it is otherwise built on first use)."""
        self.keyword_index()

    def refresh(self) -> None:
        """Forget what was read; it is read again on next use. An embedded store's changes are
        noticed without it; call it after a Chroma server changed."""
        with self._lock:
            self._keyword = None
            self._texts.clear()

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over the passages (BM25's form); terms the
        corpus never uses get the highest weight."""
        index = self.keyword_index()
        if index is None:
            return 1.0
        n, df = len(index), index.document_frequency.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        """Whether some indexed passage uses the stemmed ``term`` (True with no keyword index)."""
        index = self.keyword_index()
        return index is None or term in index.document_frequency

    def speller(self) -> Speller:
        """Corrects question words against the indexed passages' words (:mod:`rag.spelling`);
        a new one after the store changed."""
        index = self.keyword_index()
        vocabulary = index.words if index is not None else {}
        with self._lock:
            if self._speller is None or self._speller.vocabulary is not vocabulary:
                self._speller = Speller(vocabulary)
            return self._speller

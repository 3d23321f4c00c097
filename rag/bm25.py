"""The BM25 side of retrieval: a bm25s index over the committed passages, saved beside an
embedded store so that a process that only answers questions loads it instead of rebuilding it.

Each passage is indexed as the stemmed content terms (:func:`rag.lexical.content_terms`) of its
article title, section heading and text. A saved index lives in ``<folder>/<key>/`` where the key
is a hash of everything it depends on: the committed article versions, the store's manifest
(model and chunking) and :data:`FORMAT` (raise it whenever the terms an index holds would change,
e.g. a new stopword). A store that changed gets a new key, so a stale index is never read; older
folders are removed when a new one is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np

from index.records import Hit, day_number
from index.text import words
from rag.lexical import content_terms

if TYPE_CHECKING:
    from rag.retrieval import Filters

FORMAT = 2  # of the saved files and of the terms they hold (see the module docstring)


@dataclass
class KeywordIndex:
    """BM25 over passages, with what filters need per passage (its source path, publication day)."""

    ids: np.ndarray  # passage ids, in index order
    model: object  # bm25s.BM25
    sources: np.ndarray  # article source path per passage
    days: np.ndarray  # publication day number per passage, NaN when the article states none
    words: dict[str, int] = field(default_factory=dict)  # lower-case surface words -> count (for spelling)

    @classmethod
    def build(cls, hits: Iterable[Hit]) -> "KeywordIndex | None":
        """Index ``hits`` (None when there are none)."""
        import bm25s

        hits = list(hits)
        if not hits:
            return None
        model = bm25s.BM25()
        texts = [keyword_text(h) for h in hits]
        model.index([content_terms(t) or ["_"] for t in texts], show_progress=False)
        vocabulary = Counter(w for t in texts for w in words(t, as_typed=True))
        return cls(ids=np.array([h.id for h in hits]), model=model,
                   sources=np.array([h.metadata["source"] for h in hits]),
                   days=np.array([h.metadata.get("published_day", np.nan) for h in hits], dtype=np.float64),
                   words=dict(vocabulary))

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def document_frequency(self) -> dict[str, int]:
        """Passages that use each term (the index stores one column per term)."""
        counts = np.diff(np.asarray(self.model.scores["indptr"]))  # type: ignore[attr-defined]
        vocabulary = self.model.vocab_dict.items()  # type: ignore[attr-defined]
        return {term: int(counts[column]) for term, column in vocabulary if column < len(counts)}  # bm25s adds ""

    @cached_property
    def _by_source(self) -> dict[str, int]:
        """Passages per source path."""
        names, counts = np.unique(self.sources, return_counts=True)
        return dict(zip(names.tolist(), counts.tolist()))

    @cached_property
    def _by_file_name(self) -> dict[str, list[str]]:
        """Source paths by their file name (stored sources are POSIX paths)."""
        found: dict[str, list[str]] = {}
        for source in self._by_source:
            found.setdefault(source.rsplit("/", 1)[-1], []).append(source)
        return found

    def resolve_sources(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """The indexed source paths that ``wanted`` names, by path or by file name."""
        found = {w for w in wanted if w in self._by_source}
        for name in wanted:
            found.update(self._by_file_name.get(name, ()))
        return tuple(sorted(found))

    def passages_of(self, sources: Iterable[str]) -> int:
        """How many indexed passages these source paths have."""
        return sum(self._by_source.get(s, 0) for s in sources)

    def search(self, terms: list[str], k: int, filters: "Filters | None" = None) -> list[str]:
        """Ids of the ``k`` best passages for the stemmed ``terms`` (positive scores only),
        among those ``filters`` let through (their sources resolved to stored paths)."""
        vocabulary = self.model.vocab_dict  # type: ignore[attr-defined]
        terms = [t for t in terms if t in vocabulary]
        if not terms:
            return []
        mask = None
        if filters is not None and not filters.is_empty():
            mask = self.mask(filters)
            if not mask.any():
                return []
        scores = self.model.get_scores(terms, weight_mask=mask)  # type: ignore[attr-defined]
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.lexsort((best, -scores[best]))]  # by score, ties by index order
        return [str(self.ids[d]) for d in best if scores[d] > 0]

    def mask(self, filters: "Filters") -> np.ndarray:
        """1.0 for the passages ``filters`` let through, else 0.0."""
        keep = np.ones(len(self), dtype=bool)
        if filters.sources:
            keep &= np.isin(self.sources, list(filters.sources))
        if filters.published_after:
            keep &= self.days >= day_number(filters.published_after)  # NaN compares False: excluded
        if filters.published_before:
            keep &= self.days <= day_number(filters.published_before)
        return keep.astype(np.float32)

    # ---- on disk -------------------------------------------------------------------------------

    def save(self, folder: Path, key: str) -> None:
        """Write to ``folder/key`` (complete or not at all), then remove other keys' folders."""
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=".part-"))
        try:
            self.model.save(str(staging))  # type: ignore[attr-defined]
            np.save(staging / "ids.npy", self.ids)
            np.save(staging / "sources.npy", self.sources)
            np.save(staging / "days.npy", self.days)
            (staging / "words.json").write_text(json.dumps(self.words))
            (staging / "format.json").write_text(json.dumps({"format": FORMAT, "passages": len(self)}))
            try:
                os.replace(staging, folder / key)
            except OSError:  # another process saved the same key first: theirs is as good
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        for other in folder.iterdir():
            if other.name != key and not other.name.startswith(".part-"):
                shutil.rmtree(other, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, key: str) -> "KeywordIndex | None":
        """The index saved under ``folder/key``, or None when there is none (or it is unreadable)."""
        import bm25s

        where = folder / key
        try:
            if json.loads((where / "format.json").read_text()).get("format") != FORMAT:
                return None
            return cls(ids=np.load(where / "ids.npy"), model=bm25s.BM25.load(str(where)),
                       sources=np.load(where / "sources.npy"), days=np.load(where / "days.npy"),
                       words=json.loads((where / "words.json").read_text()))
        except (OSError, ValueError, KeyError):
            return None


def index_key(committed: dict[str, str], manifest: object) -> str:
    """The key of an index over the articles ``committed`` (id -> version) under ``manifest``."""
    digest = hashlib.sha256(f"{FORMAT}\n{manifest!r}\n".encode())
    for article_id, version in sorted(committed.items()):
        digest.update(f"{article_id}:{version}\n".encode())
    return digest.hexdigest()[:24]


def keyword_text(hit: Hit) -> str:
    """What BM25 indexes for a passage: its text under its article title and section heading, so
    that "the article on ..." and section topics match."""
    meta = hit.metadata
    return " ".join(part for part in (meta.get("title", ""), meta.get("section", ""), hit.text) if part)

"""Hybrid retrieval: dense search in Chroma plus BM25, fused by reciprocal rank fusion, reranked
by the reader (:class:`Reranker`, when one is given), then made diverse (near-duplicate passages
suppressed, a cap per article) and filtered.

    retriever = Retriever(Corpus(store), embedder)
    passages = retriever.retrieve("Who mediated the Geneva talks?", top_k=5)

The keyword index (:mod:`rag.bm25`) is the corpus's (:class:`rag.corpus.Corpus`): loaded or built on
first use, and again after any process writes to the store. Filters apply to both sides: to Chroma as a ``where`` clause, to BM25 as a weight mask.
A month or year named in the question ("in May 2025") boosts passages that mention it. A question
in another language than the passages a multilingual embedder found is searched by meaning alone
(no BM25, no reranking).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Callable, Literal, Mapping

import numpy as np

from index.embedding import Embedder
from index.records import Hit, day_number, headed
from rag import nlp
from rag.dates import YEAR, human_date, month_years, parse_range
from rag.corpus import Corpus
from rag.lexical import content_terms, jaccard, stem_in, term_set
from rag.reader import WINDOW_CHARS, PassageReading, windows

RRF_K = 60
WHOLE_PASSAGES = 5  # the reranker reads this many of the fused ranking's first passages whole (with idf)
EXACT_SEARCH_LIMIT = 2000  # passages: a filter down to this few is searched exactly, not with the ANN index
Mode = Literal["hybrid", "dense", "keyword"]


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some articles and/or a publication-date range (inclusive).

    ``sources`` match an article's source path or its file name. Articles that state no
    publication date are excluded by a date range.
    """

    sources: tuple[str, ...] = ()
    published_after: date | None = None
    published_before: date | None = None

    @classmethod
    def coerce(cls, value: "Filters | dict | None") -> "Filters | None":
        if value is None or isinstance(value, Filters):
            return value
        allowed = {"sources", "published_after", "published_before"}
        unknown = set(value) - allowed
        if unknown:
            from index.errors import InputError

            raise InputError(f"unknown filter {sorted(unknown)}: use {sorted(allowed)}")
        sources = value.get("sources") or ()
        after, before = parse_range(value.get("published_after"), value.get("published_before"))
        return cls(sources=(sources,) if isinstance(sources, str) else tuple(sources),
                   published_after=after, published_before=before)

    def is_empty(self) -> bool:
        return not self.sources and self.published_after is None and self.published_before is None

    def describe(self, titles: Mapping[str, str] | None = None) -> str:
        """The filters in words, for messages: "the article “Talks resume” or 'b.txt'; published on
        or after June 1, 2025". ``titles`` maps sources to article titles; a source with no title
        is named by its file name (a message never shows a server's paths)."""
        titles = titles or {}
        parts = []
        if self.sources:
            named = [f"“{titles[s]}”" if s in titles else f"'{Path(s).name}'" for s in self.sources]
            parts.append(("the article " if len(named) == 1 else "the articles ") + " or ".join(named))
        if self.published_after:
            parts.append(f"published on or after {human_date(self.published_after)}")
        if self.published_before:
            parts.append(f"published on or before {human_date(self.published_before)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Passage:
    """A retrieved passage: its text, where it is in its article, and why it was retrieved."""

    id: str
    text: str
    article_id: str
    source: str
    title: str
    start: int
    end: int
    published: str | None
    outlet: str | None
    score: float  # fused (reciprocal-rank) score
    similarity: float  # cosine similarity to the question
    rank: int = 0
    section: str = ""  # the heading the passage sits under, when it does not start with it
    url: str | None = None  # the address of the original article, where its web page states one
    #: The reranker's reading of the passage (None: not read): its chance that the passage answers
    #: the question, and each sentence's reading, which the policy reuses.
    reading: PassageReading | None = field(default=None, compare=False, repr=False)

    @property
    def reader(self) -> float | None:
        """The reranker's chance that the passage answers the question (None: not read)."""
        return None if self.reading is None else self.reading.p

    @classmethod
    def from_hit(cls, hit: Hit, score: float, similarity: float) -> "Passage":
        meta = hit.metadata
        return cls(id=hit.id, text=hit.text, article_id=meta["article_id"], source=meta["source"],
                   title=meta.get("title") or Path(meta["source"]).name, start=int(meta["start"]),
                   end=int(meta["end"]), published=meta.get("published"), outlet=meta.get("outlet"),
                   score=score, similarity=similarity, section=meta.get("section", ""), url=meta.get("url"))


class Reranker:
    """The fused ranking's first ``depth`` passages, each read by the reader, a cross-encoder
    (:mod:`rag.reader`), and put in order of the reader's chance that the passage answers the
    question minus ``rank_weight`` times its place in the fused ranking (so that where the reader
    hesitates between passages, the fusion's order stands). The reader reads a passage in windows
    of whole sentences up to ``chars`` characters, each with its article's title (about 90 tokens,
    so that question, window and title fit the reader's 128; a whole passage at once pushed the
    title out and ranked worse).

    With ``idf`` (the corpus's), it reads the first ``whole`` passages whole and one window of each
    of the others: the one whose words hold the largest IDF-weighted share of the question's (on
    the dev questions against the whole BBC corpus, the window holding the evidence in 90% of the
    passages that hold it), so that it reads deeper for a little more reading (about 23 windows a
    question at depth 15, against 18 for every window of 10); :meth:`complete` then reads the
    other windows of the passages the answer is given. Without ``idf`` it reads every window. Each passage keeps its reading
    (``Passage.reading``): the policy takes its sentences' readings from it rather than reading
    them again. Passages past ``depth`` follow in the fused order. Depth, rank weight, windows
    and window size were chosen on the dev questions against the whole BBC corpus
    (docs/benchmarks.md, "Reranking by the reader" and "One window per passage").
    """

    def __init__(self, reader, depth: int, rank_weight: float, chars: int = WINDOW_CHARS,
                 idf: Callable[[str], float] | None = None, whole: int = WHOLE_PASSAGES):
        self.reader = reader
        self.depth = depth
        self.rank_weight = rank_weight
        self.chars = chars
        self.idf = idf
        self.whole = whole  # with idf: the first this many passages are read whole all the same

    def rerank(self, question: str, ranked: list[Passage]) -> list[Passage]:
        head, tail = ranked[: self.depth], ranked[self.depth:]
        only = None
        if self.idf is not None:
            weights = {t: self.idf(t) for t in set(content_terms(question))}
            only = [range(len(windows(p.text, self.chars))) if i < self.whole else [self._best_window(weights, p.text)]
                    for i, p in enumerate(head)]
        readings = self.reader.read_passages(question, [(p.text, p.title) for p in head], self.chars, only)
        order = sorted(range(len(head)), key=lambda i: (-(readings[i].p - self.rank_weight * i), i))
        return [replace(head[i], reading=readings[i]) for i in order] + tail

    def complete(self, question: str, passages: list[Passage]) -> list[Passage]:
        """``passages`` with the windows :meth:`rerank` did not read now read too, so that each
        reading holds every sentence and the passage's chance is its best window's, as when every
        window is read (the answer policy and its abstention model read both)."""
        if self.idf is None:
            return passages
        missing = [[] if p.reading is None or p.reading.question != question else
                   [w for w, window in enumerate(windows(p.text, self.chars)) if window[0][0] not in p.reading.sentences]
                   for p in passages]
        todo = [i for i, m in enumerate(missing) if m]
        if not todo:
            return passages
        fresh = self.reader.read_passages(question, [(passages[i].text, passages[i].title) for i in todo], self.chars,
                                          [missing[i] for i in todo])
        done = list(passages)
        for i, reading in zip(todo, fresh):
            done[i] = replace(passages[i], reading=passages[i].reading.merged(reading))
        return done

    def _best_window(self, weights: dict[str, float], text: str) -> int:
        """The index of the window of ``text`` whose words hold the largest share of the question's
        content words, each weighed by ``weights`` (their IDF; the first of equals)."""
        scores = [sum(w for t, w in weights.items() if stem_in(t, term_set(text[window[0][0]:window[-1][1]])))
                  for window in windows(text, self.chars)]
        return max(range(len(scores)), key=lambda w: (scores[w], -w))


class Retriever:
    """Dense + BM25 retrieval over one corpus (see the module docstring)."""

    def __init__(self, corpus: Corpus, embedder: Embedder, *, candidates: int = 30, max_per_article: int = 2,
                 duplicate_overlap: float = 0.5, diversity_margin: float = 0.1, dense_weight: float = 1.0,
                 keyword_weight: float = 1.0, reranker: Reranker | None = None):
        self.corpus = corpus
        self.reranker = reranker
        self.weights = {"dense": dense_weight, "keyword": keyword_weight, "date": 1.0}
        self.diversity_margin = diversity_margin
        self.embedder = embedder
        self.candidates = candidates
        self.max_per_article = max_per_article
        self.duplicate_overlap = duplicate_overlap
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.RLock()

    @property
    def store(self):
        """The store the corpus reads, searched here (read through the corpus everywhere else)."""
        return self.corpus.store

    def question_vector(self, question: str) -> np.ndarray:
        """The question's embedding, remembered for the next few calls (an answer may search several
        articles separately with the same question)."""
        with self._lock:
            vector = self._vectors.get(question)
        if vector is None:
            vector = self.embedder.embed_query([question])[0]
            with self._lock:
                if len(self._vectors) >= 256:
                    self._vectors.pop(next(iter(self._vectors)))
                self._vectors[question] = vector
        return vector

    def clear_question_cache(self) -> None:
        """Forget remembered question embeddings (benchmarks use it to time every question as new)."""
        with self._lock:
            self._vectors.clear()

    def retrieve(self, question: str, top_k: int = 5, filters: Filters | None = None,
                 mode: Mode = "hybrid", *, asked: str | None = None) -> list[Passage]:
        """The ``top_k`` most relevant passages, diverse across articles. While the store's vector
        index is damaged (:meth:`Store.damage`), keyword search only. ``asked`` is the question in
        the user's words when ``question`` is a follow-up joined with the one before it: the
        searches need both, the reranking reader reads only what was asked (as the policy's does)."""
        if self.store.damage():
            mode = "keyword"
        vector = self.question_vector(question)
        filters = self._resolve_sources(filters)
        where = _where(filters)
        rankings: list[tuple[str, list[str]]] = []
        hits: dict[str, Hit] = {}
        cosines: dict[str, float] = {}  # the dense search's own similarities (not computed again)
        dense: list[Hit] = []
        if mode in ("hybrid", "dense"):
            dense = [h for h in self._dense_search(vector, filters, where) if self.corpus.committed(h)]
            rankings.append(("dense", [h.id for h in dense]))
            hits.update((h.id, h) for h in dense)
            cosines.update((h.id, h.score) for h in dense)
        across = mode == "hybrid" and self._across_languages(question, dense)
        if mode == "keyword" or (mode == "hybrid" and not across):
            keyword = self._keyword_search(question, self.candidates, filters)
            rankings.append(("keyword", [h.id for h in keyword]))
            hits.update((h.id, h) for h in keyword)
        if not hits:
            return []
        if mode == "hybrid":
            boosted = _date_boost(question, hits)
            if boosted:
                rankings.append(("date", boosted))
        fused: dict[str, float] = {}
        for kind, ranking in rankings:
            for position, hit_id in enumerate(ranking):
                fused[hit_id] = fused.get(hit_id, 0.0) + self.weights[kind] / (RRF_K + position + 1)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        similarities = cosines | self._similarities(vector, [hits[i] for i in order if i not in cosines])
        candidates = [Passage.from_hit(hits[i], fused[i], similarities[i]) for i in order]
        reranking = self.reranker is not None and not across  # the reader reads English
        if reranking:
            candidates = self.reranker.rerank(asked or question, candidates)
        chosen = self._diverse(candidates, top_k)
        if reranking:
            chosen = self.reranker.complete(asked or question, chosen)
        return [replace(p, rank=n + 1) for n, p in enumerate(chosen)]

    def _across_languages(self, question: str, dense: list[Hit]) -> bool:
        """Whether a multilingual embedder found passages in another language than the question's
        (a question in French, English articles). Keyword search matches words, so across
        languages it matches only names and numbers: the fusion then leaves it out, and the
        reranking reader, which reads English questions, does not reorder the passages. Measured on
        the news dev questions in French, German and Spanish (docs/benchmarks.md, "Questions in
        other languages"); an English question, or a monolingual embedder, is never affected."""
        if not self.embedder.multilingual or not dense:
            return False
        asked = nlp.language(question)
        return asked is not None and nlp.passages_language([h.text for h in dense]) not in (asked, None)

    def _dense_search(self, vector: np.ndarray, filters: Filters | None, where: dict | None) -> list[Hit]:
        """Chroma's nearest neighbours; within a few articles, an exact comparison instead."""
        index = self.corpus.keyword_index()
        if filters is not None and filters.sources and index is not None:
            if index.passages_of(filters.sources) <= EXACT_SEARCH_LIMIT:
                return self.store.search_exact(vector, self.candidates, where or {})
        return self.store.search(vector, self.candidates, where)

    def _resolve_sources(self, filters: Filters | None) -> Filters | None:
        """File names in ``filters.sources`` become the stored source paths they name."""
        if filters is None or not filters.sources:
            return filters
        index = self.corpus.keyword_index()
        sources = index.resolve_sources(filters.sources) if index is not None else ()
        return replace(filters, sources=sources or ("\0no such article",))

    def _diverse(self, ranked: list[Passage], top_k: int) -> list[Passage]:
        """Near-verbatim retellings are dropped. Past ``max_per_article`` passages of one article,
        a passage gives way to the next one from another article when that one is about as similar
        to the question (within ``diversity_margin``); a much weaker one does not displace it."""
        remaining = list(ranked)
        chosen: list[Passage] = []
        chosen_terms: list[frozenset[str]] = []
        per_article: dict[str, int] = {}
        while remaining and len(chosen) < top_k:
            passage = remaining.pop(0)
            if per_article.get(passage.article_id, 0) >= self.max_per_article:
                alternative = next(
                    (p for p in remaining if per_article.get(p.article_id, 0) < self.max_per_article
                     and p.similarity >= passage.similarity - self.diversity_margin), None)
                if alternative is not None:
                    remaining.remove(alternative)
                    remaining.insert(0, passage)
                    passage = alternative
            terms = term_set(passage.text)
            if any(jaccard(terms, other) >= self.duplicate_overlap for other in chosen_terms):
                continue  # a retelling of a passage already chosen
            chosen.append(passage)
            chosen_terms.append(terms)
            per_article[passage.article_id] = per_article.get(passage.article_id, 0) + 1
        return chosen

    def _keyword_search(self, question: str, k: int, filters: Filters | None) -> list[Hit]:
        index = self.corpus.keyword_index()
        if index is None:
            return []
        return self.store.hits(index.search(content_terms(question), k, filters))

    def _similarities(self, vector: np.ndarray, hits: list[Hit]) -> dict[str, float]:
        """The cosine of each passage with the question vector (for those only keyword search found)."""
        if not hits:
            return {}
        if self.store.damage():  # no stored vector can be read: embed the passages again, as they were
            manifest = self.store.manifest()
            texts = [headed(h.metadata, h.text) if manifest and manifest.passage_header else h.text for h in hits]
            return {h.id: float(v @ vector) for h, v in zip(hits, self.embedder.embed(texts))}
        vectors = self.store.vectors([h.id for h in hits])
        return {hit_id: float(v @ vector) for hit_id, v in vectors.items()}


def _where(filters: Filters | None) -> dict | None:
    if filters is None or filters.is_empty():
        return None
    clauses: list[dict] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if filters.published_after:
        clauses.append({"published_day": {"$gte": day_number(filters.published_after)}})
    if filters.published_before:
        clauses.append({"published_day": {"$lte": day_number(filters.published_before)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def date_hints(question: str) -> list[str]:
    """The months and years the question names, as :func:`rag.dates.month_years` reads them
    ("June 2, 2025" and "June 2025" -> "june 2025"), and years named alone ("2022")."""
    found = sorted(month_years(question))
    return found + [y for y in YEAR.findall(question) if not any(y in f for f in found)]


def _date_boost(question: str, hits: dict[str, Hit]) -> list[str]:
    """Passages that mention a date the question names, or were published then, as a ranking."""
    hints = date_hints(question)
    if not hints:
        return []
    boosted = []
    for hit_id, hit in hits.items():
        named = month_years(hit.text) | set(YEAR.findall(hit.text))  # read as the question's are
        published = hit.metadata.get("published") or ""
        if named.intersection(hints) or any(_published_in(published, h) for h in hints):
            boosted.append(hit_id)
    return boosted


def _published_in(published: str, hint: str) -> bool:
    if not published:
        return False
    when = date.fromisoformat(published)
    if hint.isdigit():
        return when.year == int(hint)
    month, year = hint.split()
    return when.year == int(year) and when.strftime("%B").lower() == month

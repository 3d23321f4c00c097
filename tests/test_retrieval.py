"""The keyword index: saved beside an embedded store, loaded by the next process, never stale."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from index.ingest import ingest
from index.store import Store, StoreReader
from rag.bm25 import KeywordIndex
from rag.corpus import Corpus
from rag.retrieval import Filters, Retriever
from rag.lexical import content_terms
from rag.bm25 import keyword_text


@pytest.fixture()
def store_copy(seed_store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(seed_store, target)
    shutil.rmtree(target / "keyword", ignore_errors=True)
    return target


def _keyword_ids(retriever: Retriever, question: str) -> list[str]:
    return [p.id for p in retriever.retrieve(question, top_k=5, mode="keyword")]


def test_a_saved_index_is_loaded_without_reading_the_passages(store_copy: Path, real_embedder) -> None:
    folder = store_copy / "keyword"
    first = Retriever(Corpus(StoreReader.open(path=store_copy), keyword_folder=folder), real_embedder)
    expected = _keyword_ids(first, "How many prisoners did each side exchange in Istanbul?")
    assert expected and len(list(folder.iterdir())) == 1

    store = Store.open(path=store_copy)
    store.passages = None  # type: ignore[assignment]  # reading every passage again would fail here
    second = Retriever(Corpus(store, keyword_folder=folder), real_embedder)
    assert _keyword_ids(second, "How many prisoners did each side exchange in Istanbul?") == expected
    built = KeywordIndex.build(Store.open(path=store_copy).passages())
    assert second.corpus.keyword_index().document_frequency == built.document_frequency


def test_document_frequencies_count_passages(store_copy: Path) -> None:
    hits = list(Store.open(path=store_copy).passages())
    index = KeywordIndex.build(hits)
    counted: dict[str, int] = {}
    for hit in hits:
        for term in set(content_terms(keyword_text(hit))):
            counted[term] = counted.get(term, 0) + 1
    assert index.document_frequency == counted


def test_a_changed_store_gets_a_new_index_and_the_old_one_goes(store_copy: Path, real_embedder,
                                                               tmp_path: Path) -> None:
    folder = store_copy / "keyword"
    retriever = Retriever(Corpus(StoreReader.open(path=store_copy), keyword_folder=folder), real_embedder)
    assert _keyword_ids(retriever, "zeppelin moustache") == []
    old = {p.name for p in folder.iterdir()}

    article = tmp_path / "new" / "zeppelin.txt"
    article.parent.mkdir()
    article.write_text("Zeppelin parade\n\nA zeppelin with a painted moustache flew over Kyiv on Sunday.\n")
    store = Store.open(path=store_copy)
    ingest([article.parent], store, lambda: real_embedder, real_embedder.name, progress=False)

    reopened = Retriever(Corpus(StoreReader.open(path=store_copy), keyword_folder=folder), real_embedder)
    found = reopened.retrieve("zeppelin moustache", top_k=5, mode="keyword")
    assert found and found[0].source.endswith("zeppelin.txt")
    assert {p.name for p in folder.iterdir()}.isdisjoint(old) and len(list(folder.iterdir())) == 1


def test_a_damaged_index_is_rebuilt(store_copy: Path, real_embedder) -> None:
    folder = store_copy / "keyword"
    expected = _keyword_ids(Retriever(Corpus(StoreReader.open(path=store_copy), keyword_folder=folder), real_embedder),
                            "Who mediated the Geneva talks?")
    saved = next(folder.iterdir())
    (saved / "ids.npy").write_bytes(b"not numpy")
    retriever = Retriever(Corpus(StoreReader.open(path=store_copy), keyword_folder=folder), real_embedder)
    assert _keyword_ids(retriever, "Who mediated the Geneva talks?") == expected


def test_keyword_filters_by_article_and_date(store_copy: Path, real_embedder) -> None:
    retriever = Retriever(Corpus(StoreReader.open(path=store_copy)), real_embedder)
    only = Filters(sources=("004_f737e705128ea97f.txt",))
    found = retriever.retrieve("prisoner exchange", top_k=5, filters=only, mode="keyword")
    assert found and {Path(p.source).name for p in found} == {"004_f737e705128ea97f.txt"}
    nothing_dated_then = Filters(published_after=date(1990, 1, 1), published_before=date(1990, 12, 31))
    assert retriever.retrieve("prisoner exchange", top_k=5, filters=nothing_dated_then, mode="keyword") == []


def test_exact_search_within_articles_ranks_as_the_nearest_neighbour_index_does(store_copy: Path,
                                                                                 real_embedder) -> None:
    store = Store.open(path=store_copy)
    vector = real_embedder.embed(["Who mediated the Geneva talks?"])[0]
    sources = sorted({h.metadata["source"] for h in store.passages()})[:2]
    where = {"source": {"$in": sources}}
    exact = store.search_exact(vector, 10, where)
    approximate = store.search(vector, 10, where)
    assert exact and {h.metadata["source"] for h in exact} <= set(sources)
    assert [h.id for h in exact] == [h.id for h in approximate]
    assert [round(h.score, 4) for h in exact] == [round(h.score, 4) for h in approximate]


def test_a_date_is_read_the_same_in_the_question_and_in_the_passages() -> None:
    """Issue 20.3: retrieval's month regex once missed "June 2, 2025" that the citation check
    reads as June 2025, so a question naming the day boosted nothing. One reader now serves both."""
    from index.records import Hit
    from rag.retrieval import _date_boost, date_hints

    hits = {"day": Hit("day", "Talks resumed in Istanbul on June 2, 2025, after a pause.", {}, 0.5),
            "month": Hit("month", "By June 2025 the exchange of prisoners had begun.", {}, 0.5),
            "year": Hit("year", "In 2024 nothing moved.", {}, 0.5),
            "dated": Hit("dated", "Nothing here names a date.", {"published": "2025-06-17"}, 0.5)}
    assert date_hints("What was agreed on June 2, 2025?") == date_hints("What was agreed in June 2025?") == ["june 2025"]
    assert _date_boost("What was agreed on June 2, 2025?", hits) == ["day", "month", "dated"]
    assert _date_boost("What happened in 2024?", hits) == ["year"]
    assert _date_boost("What was agreed?", hits) == []


def _passage(n: int, article: str = "a"):
    from rag.retrieval import Passage

    return Passage(id=f"p{n}", text=f"Passage {n}.", article_id=article, source=f"{article}.txt", title="T",
                   start=0, end=10, published=None, outlet=None, score=1.0 / (n + 1), similarity=0.5)


def test_the_reranker_orders_the_head_by_the_readers_chance_less_its_fused_place() -> None:
    """The ordering rule alone, with a fake reader (the model is beside the point): the first
    ``depth`` passages are put in order of chance minus rank weight x fused place; a near tie keeps
    the fused order; passages past ``depth`` follow unread, in the fused order."""
    from rag.reader import PassageReading
    from rag.retrieval import Reranker

    chances = {"Passage 0.": 0.10, "Passage 1.": 0.90, "Passage 2.": 0.91, "Passage 3.": 0.99}
    read: list[str] = []

    class Reader:
        def read_passages(self, question, passages, chars=400, only=None):
            read.extend(text for text, _ in passages)
            return [PassageReading(question, chances[text], {}) for text, _ in passages]

    ranked = [_passage(n) for n in range(5)]
    out = Reranker(Reader(), depth=3, rank_weight=0.02).rerank("q", ranked)
    # 0.90 - 0.02 beats 0.91 - 0.04: the fused order stands where the reader hesitates
    assert [p.id for p in out] == ["p1", "p2", "p0", "p3", "p4"]
    assert read == ["Passage 0.", "Passage 1.", "Passage 2."]  # the tail is not read
    assert [p.reader for p in out] == [0.90, 0.91, 0.10, None, None]
    assert out[0].reading.question == "q"  # kept for the policy, which reuses it for the same question
    assert [p.id for p in Reranker(Reader(), depth=3, rank_weight=0.0).rerank("q", ranked)][:2] == ["p2", "p1"]


def test_the_reranker_reads_the_window_that_covers_the_question_and_completes_the_chosen_passages() -> None:
    """With the corpus's IDF, each passage past the first ``whole`` is read in one window: the one
    whose words hold the largest IDF-weighted share of the question's (here the last, the only one
    naming Geneva); :meth:`Reranker.complete` then reads the windows not read yet of the passages
    given, and merges the readings. A fake reader (the model is beside the point) records what it was asked."""
    from rag.reader import PassageReading, windows
    from rag.retrieval import Passage, Reranker

    text = ("The delegations met for a second day of talks on the prisoner exchange and the ceasefire line. "
            "Officials said the mood in the room was businesslike but guarded throughout the sessions. "
            "Both sides agreed to meet again before the end of the month to continue the work. "
            "The talks in Geneva were mediated by the United States, with Turkey attending as an observer.")
    assert len(windows(text, 200)) >= 2
    passage = Passage(id="p0", text=text, article_id="a", source="a.txt", title="T", start=0, end=len(text),
                      published=None, outlet=None, score=1.0, similarity=0.5)
    asked: list = []

    class Reader:
        def read_passages(self, question, passages, chars=400, only=None):
            asked.append(only)
            found = []
            for k, (body, _) in enumerate(passages):
                read = [w for w in range(len(windows(body, chars))) if only is None or w in only[k]]
                found.append(PassageReading(question, 0.1 * (1 + max(read, default=0)),
                                            {windows(body, chars)[w][0][0]: w for w in read}))
            return found

    idf = {"geneva": 5.0, "mediat": 3.0}.get
    reranker = Reranker(Reader(), depth=3, rank_weight=0.0, chars=200, idf=lambda t: idf(t, 1.0), whole=0)
    last = len(windows(text, 200)) - 1
    (read,) = reranker.rerank("Who mediated the Geneva talks?", [passage])
    assert asked == [[[last]]] and list(read.reading.sentences.values()) == [last]
    (whole,) = reranker.complete("Who mediated the Geneva talks?", [read])
    assert asked[-1] == [list(range(last))]  # only the windows not read yet
    assert sorted(whole.reading.sentences.values()) == list(range(last + 1))
    assert whole.reading.p == read.reading.p  # the best window's chance, whichever read it
    assert Reranker(Reader(), depth=3, rank_weight=0.0, chars=200).complete("q", [read]) == [read]  # reading whole
    first = Reranker(Reader(), depth=3, rank_weight=0.0, chars=200, idf=lambda t: idf(t, 1.0), whole=1)
    first.rerank("Who mediated the Geneva talks?", [passage])
    assert asked[-1] == [range(last + 1)]  # the first passage read whole


def test_a_passage_the_answer_is_given_is_read_whole_as_if_every_window_were_read(seed_store: Path,
                                                                                   real_embedder) -> None:
    """With the real reader on the seeds: the passages retrieved for a question carry the reading
    of every window, equal to reading each whole (each window is read alone, so the one window
    the reranker read and the rest read after it give the same figures)."""
    from rag.assistant import build_assistant
    from rag.config import Config

    assistant = build_assistant(Config(store_path=seed_store), embedder=real_embedder)
    assert assistant.retriever.reranker.idf is not None  # one window a passage is the default
    question = "Who mediated the talks in Geneva?"
    passages = assistant.retriever.retrieve(question)
    assert passages
    whole = assistant.retriever.reranker.reader.read_passages(question, [(p.text, p.title) for p in passages])
    assert [p.reading for p in passages] == whole


def test_answering_reranks_with_the_shipped_reader_unless_told_not_to(seed_store: Path, real_embedder) -> None:
    """The assistant's retriever reads the fused top passages with the real reader (each returned
    passage carries its chance); ``rerank_depth=0`` turns the step off."""
    from rag.assistant import build_assistant
    from rag.config import Config

    question = "Who mediated the talks in Geneva?"
    reranked = build_assistant(Config(store_path=seed_store), embedder=real_embedder).retriever.retrieve(question)
    assert reranked and all(p.reader is not None and 0.0 <= p.reader <= 1.0 for p in reranked)
    plain = build_assistant(Config(store_path=seed_store, rerank_depth=0), embedder=real_embedder).retriever
    assert plain.reranker is None and all(p.reader is None for p in plain.retrieve(question))


def test_the_policy_reuses_the_rerankers_reading_of_a_passage_for_the_same_question(seed_store: Path,
                                                                                     real_embedder) -> None:
    """A passage is read once per question: the scorer takes its sentences' readings from the
    reranker's reading, and reads a passage again only for another question (a follow-up's own
    words) or where the reranker did not read it."""
    from rag.assistant import build_assistant
    from rag.config import Config
    from rag.policy import ReaderScorer

    assistant = build_assistant(Config(store_path=seed_store), embedder=real_embedder)
    scorer = assistant.policy.scorer
    assert isinstance(scorer, ReaderScorer)
    question = "Who mediated the talks in Geneva?"
    passage = assistant.retriever.retrieve(question)[0]
    calls: list[str] = []
    real = scorer.reader.read_passages

    def counted(asked, passages, chars=400, only=None):
        calls.append(asked)
        return real(asked, passages, chars, only)

    scorer.reader = type("Counted", (), {"read_passages": staticmethod(counted)})()
    assert scorer.readings(question, [passage], [0])[0] is passage.reading and calls == []
    other = scorer.readings("Where were the talks held?", [passage], [0])[0]
    assert calls == ["Where were the talks held?"] and other.question == "Where were the talks held?"
    assert sorted(other.sentences) == sorted(passage.reading.sentences)

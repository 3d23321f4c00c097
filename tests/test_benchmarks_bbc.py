"""The benchmarks' real corpus (bbc/ of the public data, found by rag.public_data): complete, the
news suite's articles among it, a clear stop when it is missing, and the corpus helpers that read it
(subfolders, each text once, copies that differ)."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import common
from tests.conftest import shared_data

TOPICS = {"business": 510, "entertainment": 386, "politics": 417, "sport": 511, "tech": 401}


def test_the_corpus_is_complete_with_its_notice():
    corpus = shared_data("bbc")
    assert common.bbc() == corpus
    files = common.corpus_files(corpus)
    assert len(files) == 2225
    assert {topic: sum(p.parent.name == topic for p in files) for topic in TOPICS} == TOPICS
    notice = (corpus / "NOTICE").read_text(encoding="utf-8")
    assert "owned by the BBC" in notice and "non-commercial and research purposes only" in notice


@pytest.mark.parametrize("split", ["test", "dev"])
def test_the_news_suites_articles_are_in_the_corpus(split):
    from evals.suite import news_articles

    names = news_articles(split)
    assert len(names) == {"test": 17, "dev": 12}[split]
    assert all((shared_data("bbc") / name).is_file() for name in names)


def test_a_run_on_the_missing_corpus_stops_saying_what_to_get(tmp_path, monkeypatch):
    """``--corpus bbc`` (or ``--articles bbc-xN``) without the data: the run stops before any work,
    with the folder it needs, its source and licence, and how to point at a copy (a SystemExit
    with a message: no traceback)."""
    monkeypatch.setenv("RAG_DATA", str(tmp_path / "not-this"))  # --data wins (it sets RAG_DATA, restored after)
    for argv in (["--corpus", "bbc"], ["--articles", "0", "bbc-x2"]):
        args = common.parser("test").parse_args([*argv, "--data", str(tmp_path / "empty")])
        with pytest.raises(SystemExit) as stop:
            common.sizes(args)
        message = str(stop.value.code)
        assert message.startswith("error: ") and "bbc" in message and str(tmp_path / "empty") in message
        assert "mlg.ucd.ie" in message and "non-commercial" in message and "RAG_DATA" in message


def test_corpus_keys():
    assert common.corpus_key("1000") == 1000
    assert common.corpus_key("bbc") == "bbc" and common.bbc_copies("bbc") == 1
    assert common.corpus_key("bbc-x6") == "bbc-x6" and common.bbc_copies("bbc-x6") == 6
    for bad in ("bbc-x0", "bbc6", "news"):
        with pytest.raises(argparse.ArgumentTypeError):
            common.corpus_key(bad)
    args = common.parser("test").parse_args(["--corpus", "bbc"])
    assert common.sizes(args) == ["bbc"]
    assert common.corpus("bbc") == shared_data("bbc")


def test_passage_texts_reads_subfolders_and_each_text_once(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "001.txt").write_text("Title one\n\nThe first article says one thing.\n")
    (tmp_path / "b" / "002.txt").write_text("Title one\n\nThe first article says one thing.\n")  # a duplicate
    (tmp_path / "b" / "003.txt").write_text("Title two\n\nThe second article says another.\n")
    texts = common.passage_texts(tmp_path)
    assert sum("first article" in t for t in texts) == 1
    assert sum("second article" in t for t in texts) == 1


def test_copies_of_the_corpus_differ_only_in_their_titles(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "CACHE", tmp_path)
    folder = common.bbc_corpus(2)
    first, second = common.corpus_files(folder / "copy-1"), common.corpus_files(folder / "copy-2")
    assert len(first) == len(second) == 2225
    original = (shared_data("bbc") / "business" / "001.txt").read_text()
    copied = (folder / "copy-2" / "business" / "001.txt").read_text()
    assert (folder / "copy-1" / "business" / "001.txt").read_text() == original
    title, rest = original.split("\n", 1)
    assert copied == f"{title} (copy 2)\n{rest}"


def test_news_queries_are_the_suites_questions():
    queries = common.gold_queries(articles="bbc")
    dev, test = common.news_questions("dev"), common.news_questions("test")
    assert [q.id for q in queries] == [q["id"] for q in dev + test]
    assert len(dev) == 50 and len(test) == 63


def test_quality_scores_each_answerable_question_on_its_top_ten_in_the_mode_asked():
    from types import SimpleNamespace

    from benchmarks import quality

    class Retriever:
        calls: list[tuple[str, int, str]] = []

        def retrieve(self, question, top_k, mode):
            self.calls.append((question, top_k, mode))
            return [SimpleNamespace(text="Nothing here."), SimpleNamespace(text="Baikal paid 260.75bn roubles.")]

    questions = [
        {"id": "a", "question": "How much did Baikal pay?", "answerable": True,
         "evidence": [{"doc": "x.txt", "quote": "Baikal paid 260.75bn roubles"}]},
        {"id": "b", "question": "Who won the 2006 auction?", "answerable": False, "evidence": []},
    ]
    retriever = Retriever()
    scores = quality.retrieval_by_question(retriever, questions, "keyword")
    assert retriever.calls == [("How much did Baikal pay?", 10, "keyword")]
    assert scores == {"a": {"recall@1": 0.0, "recall@5": 1.0, "mrr@10": 0.5, "ndcg@10": pytest.approx(0.63, abs=0.01)}}
    assert quality.cell({"mean": 0.5, "ci": (0.25, 0.75)}) == "0.50 (0.25–0.75)"


def test_embedders_recall_at_depth_counts_each_quote_once_up_to_each_depth():
    """benchmarks.embedders' depth figures, on a fake retriever (the retriever is beside the
    point): a quote found at rank 3 counts from depth 3 on; a question without evidence is skipped."""
    from types import SimpleNamespace

    from benchmarks import embedders

    class Retriever:
        def retrieve(self, question, top_k, mode):
            assert (top_k, mode) == (max(embedders.DEPTHS), "hybrid")
            return [SimpleNamespace(text=t) for t in ("Nothing.", "Still nothing.", "Baikal paid 260.75bn roubles.",
                                                       "Rosneft bought Baikal.")]

    questions = [
        {"id": "a", "question": "How much did Baikal pay, and who bought it?", "answerable": True,
         "evidence": [{"doc": "x.txt", "quote": "Baikal paid 260.75bn roubles"},
                      {"doc": "x.txt", "quote": "Rosneft bought Baikal"}]},
        {"id": "b", "question": "Who won the 2006 auction?", "answerable": False, "evidence": []},
    ]
    depth = embedders.recall_at_depth(Retriever(), questions)
    assert depth == {"@1": 0.0, "@3": 0.5, "@5": 1.0, "@10": 1.0, "@20": 1.0, "@30": 1.0, "@50": 1.0}


def test_quality_on_an_embedder_whose_store_is_missing_says_how_to_build_it(tmp_path, monkeypatch):
    from benchmarks import quality

    monkeypatch.setattr(common, "CACHE", tmp_path)
    with pytest.raises(SystemExit, match="python -m benchmarks.embedders --variants e5 first"):
        quality.measure("bbc", "dev", [0.5], [], variant="e5")

"""The data of the two generalization suites: the BBC News gold questions (evals/data/bbc_questions.jsonl
on the test articles named in evals/data/bbc_articles.json, and the dev set
evals/data/bbc_dev_questions.jsonl on the dev articles named there, all files of the public data's
BBC corpus) and the SQuAD 2.0 slice (squad/squad2-dev-normans.json of the public data). The public
data is read where rag.public_data finds it (../shared/data, or $RAG_DATA); a test that needs it
fails without it.

The news test questions were written and frozen as test before any code was changed for them; the
dev questions were written the same way, on different articles, for fitting. For both sets every
evidence quote is verbatim in one line of its article, every key fact is in the evidence, and the
counts the suite promises (at least 40 questions on at least 10 articles, at least 10 unanswerable
near misses (12 for dev), several multi-article) hold; no dev article is a test article. Only the
standard library and pytest are used (and evals.suite for the suite's wiring, rag.public_data for
the data).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import shared_data

DATA = Path(__file__).resolve().parents[1] / "evals" / "data"
NEWS_ARTICLES = json.loads((DATA / "bbc_articles.json").read_text(encoding="utf-8"))  # {"test": [...], "dev": [...]}
NEWS_QUESTIONS = DATA / "bbc_questions.jsonl"
NEWS_DEV_QUESTIONS = DATA / "bbc_dev_questions.jsonl"
SCALE_QUESTIONS = DATA / "bbc_scale_dev_questions.jsonl"  # dev questions asked of the whole corpus
SCALE_ARTICLES = json.loads((DATA / "bbc_scale_articles.json").read_text(encoding="utf-8"))

TYPES = {"factoid", "list", "numeric", "temporal", "multi-article", "conflicting-sources", "follow-up",
         "false-premise", "unanswerable"}
FIELDS = {"id": str, "question": str, "type": str, "answerable": bool, "gold_answer": str, "key_facts": list,
          "evidence": list, "forbidden": list, "split": str}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _articles(names: list[str]) -> dict[str, str]:
    """The named files of the BBC corpus (the public data), by name."""
    corpus = shared_data("bbc")
    # one file of the corpus (sport/199.txt) has a cp1252 pound sign; no evidence quote is on that line
    return {name: (corpus / name).read_bytes().decode("utf-8", errors="replace") for name in names}


# each news check runs on both sets: (split, id prefix, questions file, article names, fewest unanswerable)
NEWS_SETS = {"test": ("test", "bbc", NEWS_QUESTIONS, NEWS_ARTICLES["test"], 10),
             "dev": ("dev", "bbcdev", NEWS_DEV_QUESTIONS, NEWS_ARTICLES["dev"], 12),
             "scale-dev": ("dev", "bbcscale", SCALE_QUESTIONS, SCALE_ARTICLES["articles"] + SCALE_ARTICLES["also_cited"],
                           30)}


@pytest.fixture(scope="module", params=sorted(NEWS_SETS))
def news(request) -> tuple:
    return NEWS_SETS[request.param]


@pytest.fixture(scope="module")
def questions(news) -> list[dict]:
    with news[2].open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def articles(news) -> dict[str, str]:
    return _articles(news[3])


# ---- news: structure and counts --------------------------------------------------------------


def test_news_fields_and_types(questions) -> None:
    problems = []
    for q in questions:
        for name, kind in FIELDS.items():
            if not isinstance(q.get(name), kind):
                problems.append(f"{q.get('id')}: field {name!r} missing or not {kind.__name__}")
        if q.get("type") not in TYPES:
            problems.append(f"{q.get('id')}: type {q.get('type')!r}")
        if (q.get("type") == "unanswerable") != (q.get("answerable") is False):
            problems.append(f"{q.get('id')}: unanswerable type and answerable flag disagree")
        if "history" in q and q["type"] != "follow-up":
            problems.append(f"{q['id']}: history on a {q['type']} question")
    assert not problems, "\n".join(problems)


def test_news_ids_and_questions_unique(news, questions) -> None:
    ids = [q["id"] for q in questions]
    assert ids == [f"{news[1]}{n:03d}" for n in range(1, len(ids) + 1)]
    texts = Counter(_norm(q["question"]) for q in questions)
    assert not [t for t, n in texts.items() if n > 1]


def test_news_counts(news, questions, articles) -> None:
    unanswerable = [q for q in questions if not q["answerable"]]
    multi = [q for q in questions if len({e["doc"] for e in q["evidence"]}) >= 2]
    cited = {e["doc"] for q in questions for e in q["evidence"]}
    assert len(questions) >= 40
    assert len(unanswerable) >= news[4]
    assert len(multi) >= 5 and sum(q["type"] == "multi-article" for q in questions) >= 4
    assert len(cited) >= 10 and {d.split("/")[0] for d in cited} >= {"business", "tech", "politics"}
    assert cited == set(articles), f"articles never cited: {sorted(set(articles) - cited)}"


def test_news_questions_are_all_of_their_split(news, questions) -> None:
    assert {q["split"] for q in questions} == {news[0]}


def test_news_dev_articles_are_not_test_articles() -> None:
    dev, test = _articles(NEWS_ARTICLES["dev"]), _articles(NEWS_ARTICLES["test"])
    assert (len(dev), len(test)) == (12, 17) and not set(dev) & set(test)
    assert not set(dev.values()) & set(test.values())  # the corpus has duplicates under other numbers
    dev_questions = {_norm(json.loads(line)["question"]) for line in NEWS_DEV_QUESTIONS.open(encoding="utf-8")}
    test_questions = {_norm(json.loads(line)["question"]) for line in NEWS_QUESTIONS.open(encoding="utf-8")}
    assert not dev_questions & test_questions


def test_scale_dev_articles_are_none_of_the_suites_and_were_chosen_by_the_written_rule() -> None:
    """The 60 articles of the scale dev questions: the first by the SHA-256 of their name among the
    corpus files that are not the suite's 29 nor a copy of another file (bbc_scale_articles.json)."""
    import hashlib

    corpus = shared_data("bbc")
    suite = set(NEWS_ARTICLES["dev"] + NEWS_ARTICLES["test"])
    texts = {p.relative_to(corpus).as_posix(): " ".join(p.read_bytes().decode("utf-8", "replace").split())
             for p in corpus.glob("*/*.txt")}
    repeated = {t for t, n in Counter(texts.values()).items() if n > 1}
    candidates = sorted((name for name, text in texts.items() if name not in suite and text not in repeated),
                        key=lambda name: hashlib.sha256(name.encode()).hexdigest())
    assert SCALE_ARTICLES["articles"] == candidates[:60]
    cited = {e["doc"] for line in SCALE_QUESTIONS.open(encoding="utf-8") for e in json.loads(line)["evidence"]}
    suite_texts = {texts[name] for name in suite}
    assert not cited & suite and not {texts[name] for name in cited} & suite_texts


def test_news_suite_writes_dev_and_test_articles_from_the_corpus_byte_for_byte(tmp_path) -> None:
    """The suite copies its articles of each split out of the BBC corpus into its scratch folder,
    under the names the gold evidence uses, and nothing else (no other file to index)."""
    from evals.suite import load_suite

    corpus = shared_data("bbc")
    dev, test, both = (load_suite("news", split) for split in ("dev", "test", "all"))
    assert {q["split"] for q in dev.questions} == {"dev"} and {q["split"] for q in test.questions} == {"test"}
    assert [q["id"] for q in both.questions] == [q["id"] for q in test.questions]
    for suite, split in ((dev, "dev"), (test, "test"), (both, "test")):
        folder = suite.folder(tmp_path / split)
        written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        assert written == sorted(NEWS_ARTICLES[split])
        assert all((folder / name).read_bytes() == (corpus / name).read_bytes() for name in written)


# ---- news: evidence, key facts, forbidden values ---------------------------------------------


def test_news_evidence_is_verbatim_in_one_line_of_its_article(questions, articles) -> None:
    problems = []
    for q in questions:
        for k, e in enumerate(q["evidence"]):
            where = f"{q['id']} evidence[{k}]"
            if set(e) != {"doc", "quote"}:
                problems.append(f"{where}: must have exactly doc and quote")
            elif e["doc"] not in articles:
                problems.append(f"{where}: unknown article {e['doc']!r}")
            elif len(e["quote"].strip()) < 10:
                problems.append(f"{where}: quote too short")
            elif not any(e["quote"] in line for line in articles[e["doc"]].splitlines()):
                problems.append(f"{where}: not verbatim in one line of {e['doc']}: {e['quote'][:60]!r}")
    assert not problems, "\n".join(problems)


def test_news_answerable_have_facts_and_evidence_unanswerable_none(questions) -> None:
    for q in questions:
        if q["answerable"]:
            assert q["key_facts"] and q["evidence"], q["id"]
        else:
            assert not q["key_facts"] and not q["evidence"], q["id"]


def test_news_key_facts_are_in_the_evidence(questions) -> None:
    problems = []
    for q in questions:
        evidence = _norm(" ".join(e["quote"] for e in q["evidence"]))
        for group in q["key_facts"]:
            if not group or not all(isinstance(a, str) and a.strip() for a in group):
                problems.append(f"{q['id']}: malformed key fact group {group}")
            elif not any(_norm(a) in evidence for a in group):
                problems.append(f"{q['id']}: key fact {group} not in the evidence")
    assert not problems, "\n".join(problems)


def test_news_forbidden_values_are_not_gold(questions) -> None:
    problems = []
    for q in questions:
        for value in q["forbidden"]:
            if _norm(value) in _norm(q["gold_answer"]):
                problems.append(f"{q['id']}: gold answer contains forbidden {value!r}")
            if any(_norm(value) in _norm(a) for group in q["key_facts"] for a in group):
                problems.append(f"{q['id']}: a key fact contains forbidden {value!r}")
    assert not problems, "\n".join(problems)


def test_news_multi_source_types_cite_two_articles(questions) -> None:
    for q in questions:
        if q["type"] in {"multi-article", "conflicting-sources"}:
            assert len({e["doc"] for e in q["evidence"]}) >= 2, q["id"]


def test_news_follow_ups_come_after_their_history(questions) -> None:
    position = {_norm(q["question"]): n for n, q in enumerate(questions)}
    for n, q in enumerate(questions):
        if q["type"] == "follow-up":
            assert q.get("history"), q["id"]
            assert all(position.get(_norm(h), n) < n for h in q["history"]), q["id"]


def test_news_articles_have_a_title_line_and_their_provenance_is_stated(articles) -> None:
    for name, text in articles.items():
        title, blank = text.splitlines()[:2]
        assert title.strip() and not blank.strip(), name
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "moztom/bbc_ml" in readme and "BBC" in readme and "non-commercial" in readme
    assert "../shared/data" in readme and "bbc_articles.json" in readme


# ---- SQuAD slice ------------------------------------------------------------------------------


def test_squad_slice_counts_and_licence() -> None:
    data = json.loads(shared_data("squad-normans").read_text(encoding="utf-8"))
    (article,) = data["data"]
    qas = [qa for p in article["paragraphs"] for qa in p["qas"]]
    assert (article["title"], len(qas), sum(qa["is_impossible"] for qa in qas)) == ("Normans", 208, 112)
    for p in article["paragraphs"]:
        for qa in p["qas"]:
            for answer in qa["answers"]:
                start = answer["answer_start"]
                assert p["context"][start:start + len(answer["text"])] == answer["text"], qa["id"]
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme and "squad2-dev-normans.json" in readme


def test_squad_split_is_the_frozen_rule() -> None:
    """dev/test of the SQuAD slice, by docs/evaluation.md's rule: per answerable/unanswerable, sorted by the
    SHA-256 of the id, alternating dev, test, dev, ... Never re-drawn."""
    import hashlib

    from evals import squad

    _, _, questions = squad.load()
    for kind in ("answerable", "unanswerable"):
        group = sorted((q for q in questions if q["type"] == kind),
                       key=lambda q: hashlib.sha256(q["id"].encode()).hexdigest())
        assert [q["split"] for q in group] == ["dev" if i % 2 == 0 else "test" for i in range(len(group))]
    counts = {(q["type"], q["split"]) for q in questions}
    assert len(counts) == 4
    assert sum(q["split"] == "dev" for q in questions) == 104


def test_translated_dev_questions_mirror_the_english_ones_in_the_language_they_say() -> None:
    """bbc_dev_questions_translated.jsonl: each English dev question once, in French, German or
    Spanish in turn, with its answers and evidence unchanged (the articles stay English); the
    language identifier reads each as the language it claims, or as none (a question of names)."""
    from evals.suite import translated_dev_questions
    from rag import nlp

    english = [json.loads(line) for line in NEWS_DEV_QUESTIONS.open(encoding="utf-8")]
    translated = translated_dev_questions()
    assert len(translated) == len(english)
    for n, (q, t) in enumerate(zip(english, translated)):
        assert t["lang"] == ("fr", "de", "es")[n % 3] and t["id"] == f"{q['id']}-{t['lang']}"
        assert t["question_en"] == q["question"] and t["question"] != q["question"]
        assert {k: v for k, v in t.items() if k not in ("id", "question", "question_en", "lang", "history")} == \
            {k: v for k, v in q.items() if k not in ("id", "question", "history")}
    read_as = [nlp.language(t["question"]) for t in translated]
    assert all(code in (t["lang"], None) for code, t in zip(read_as, translated)), read_as
    assert sum(code == t["lang"] for code, t in zip(read_as, translated)) >= 45

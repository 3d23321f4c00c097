"""The eval's independent judge (evals/judge.py), the SQuAD suite's gold records (evals/squad.py),
the scoring of one answer against them (evals/runner.py), the per-suite report (evals/report.py)
and ``rag eval --suite``. No model and no store: answers are built by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from evals import squad
from evals.judge import OVERLAP, citation_scores, has_gold_span, overlap, same_article, squad_normalise
from evals.report import console_summary, markdown, summary_table, write_reports
from evals.runner import HEADLINE, QUESTIONS, aggregate, score_question
from evals.suite import SUITES, load_suite
from index.cleaning import clean
from rag.cli import main

SENTENCE = "Baikal Finance Group outbid favourite Gazprom, the state-controlled gas monopoly, to buy Yuganskneftegas."
NEIGHBOUR = ("Yukos reacted immediately by repeating its view that the auction was illegal in international and "
             "Russian law.")


# ---- gold spans --------------------------------------------------------------------------------


def test_squad_normalise_is_the_official_recipe_with_punctuation_as_spaces() -> None:
    assert squad_normalise("The  Normans, of Normandy!") == "normans of normandy"
    assert squad_normalise("an Apple a day") == "apple day"
    assert squad_normalise("Rollo's men\u2014formerly of Oursel\u2014led") == "rollo s men formerly of oursel led"


def test_gold_span_is_a_run_of_whole_tokens_after_the_markers_go() -> None:
    assert has_gold_span("They came from Denmark, Iceland and Norway. [1]", ["Denmark, Iceland and Norway"])
    assert has_gold_span("In the 10th and 11th centuries [2].", ["10th and 11th centuries"])
    assert has_gold_span("Normans\u2014formerly of Oursel\u2014led by Raimbaud.", ["Oursel"])
    assert not has_gold_span("Francesca sailed.", ["France"])  # not a whole token
    assert not has_gold_span("They kept Catholicism.", ["Catholic"])
    assert not has_gold_span("It happened in 911 [1].", ["1"])  # the marker is not the answer
    assert not has_gold_span("Anything at all.", [""])


# ---- citations against the gold evidence ---------------------------------------------------------


def test_overlap_is_the_longest_shared_run_over_the_shorter_span() -> None:
    assert overlap(SENTENCE, "outbid favourite Gazprom") == 1.0
    assert overlap(SENTENCE, SENTENCE.upper()) == 1.0
    assert overlap(SENTENCE, NEIGHBOUR) < OVERLAP
    assert overlap("", SENTENCE) == 0.0
    # quote marks and dashes are folded before tokens are compared
    assert overlap("He said \u201cbusinesslike\u201d talks \u2014 again", 'He said "businesslike" talks - again') == 1.0


def test_same_article_matches_the_path_suffix_only_at_a_folder_boundary() -> None:
    assert same_article("evals/data/bbc/business/314.txt", "business/314.txt")
    assert same_article("/tmp/x/seeds/001_a.txt", "001_a.txt")
    assert not same_article("evals/data/bbc/tech/025.txt", "business/025.txt")
    assert not same_article("evals/data/bbc/business/1314.txt", "314.txt")


def test_citation_scores() -> None:
    evidence = [{"doc": "business/314.txt", "quote": "Baikal Finance Group outbid favourite Gazprom"}]
    right = ("bbc/business/314.txt", SENTENCE)
    neighbour = ("bbc/business/314.txt", NEIGHBOUR)
    elsewhere = ("bbc/business/318.txt", SENTENCE)  # the same words, but not the gold article
    assert citation_scores([right], evidence) == {"citation_correct": 1.0, "evidence_cited": 1.0}
    assert citation_scores([right, neighbour], evidence) == {"citation_correct": 0.5, "evidence_cited": 1.0}
    assert citation_scores([neighbour, elsewhere], evidence) == {"citation_correct": 0.0, "evidence_cited": 0.0}
    assert citation_scores([], evidence) == {"citation_correct": 0.0, "evidence_cited": 0.0}
    assert citation_scores([right], []) == {}


# ---- the SQuAD suite's gold records ------------------------------------------------------------


def test_squad_records_hold_their_answers_in_their_evidence_sentence() -> None:
    title, text, gold = squad.load()
    assert title == "Normans" and len(gold) == 208 and sum(not q["answerable"] for q in gold) == 112
    assert sum(q["split"] == "dev" for q in gold) == 104  # split by the seeds' rule (tests/test_eval_suites.py)
    for q in gold:
        if q["answerable"]:
            assert q["answers"] and q["evidence"], q["id"]
            assert any(a in e["quote"] for a in q["answers"] for e in q["evidence"]), q["id"]
            assert all(e["quote"] in text for e in q["evidence"]), q["id"]
        else:
            assert not q["answers"] and not q["evidence"] and q["plausible_answers"], q["id"]


def test_the_squad_article_survives_cleaning_verbatim() -> None:
    _, text, gold = squad.load()
    cleaned = clean(text)
    assert cleaned.title == "Normans"
    assert all(e["quote"] in cleaned.text for q in gold for e in q["evidence"])


def test_squad_sentences_cover_the_paragraph() -> None:
    paragraph = 'He said "No." Then he left in 1066. (It rained.) Done'
    spans = squad.sentences(paragraph)
    assert [paragraph[s:e] for s, e in spans] == ['He said "No."', "Then he left in 1066.", "(It rained.)", "Done"]


# ---- scoring one answer ------------------------------------------------------------------------


@dataclass
class _Passage:
    text: str


@dataclass
class _Citation:
    n: int
    source: str
    quote: str
    passage: object = None


@dataclass
class _Answer:
    text: str
    abstained: bool
    citations: list = field(default_factory=list)
    passages: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    drafted: tuple | None = None

    def to_dict(self) -> dict:
        return {"answer": self.text, "abstained": self.abstained,
                "citations": [{"n": c.n, "source": c.source, "quote": c.quote} for c in self.citations]}


class _Assistant:
    def __init__(self, answer: _Answer):
        self.answer = answer

    def ask(self, question, history=None):
        return self.answer

    def retrieve(self, question, k):
        return []


SQUAD_GOLD = {"id": "s1", "question": "Who bought Yugansk?", "type": "answerable", "answerable": True,
              "gold_answer": "Baikal Finance Group", "answers": ["Baikal Finance Group", "Baikal"], "key_facts": [],
              "evidence": [{"doc": "normans.txt", "quote": SENTENCE}], "forbidden": []}


def test_a_squad_answer_with_the_span_and_a_gold_citation() -> None:
    answer = _Answer(SENTENCE + " [1]", False, [_Citation(1, "/tmp/articles/normans.txt", SENTENCE)],
                     [_Passage(SENTENCE)])
    result = score_question(_Assistant(answer), SQUAD_GOLD)
    assert result.scores["gold_span"] == result.scores["overall"] == 1.0
    assert result.scores["citation_correct"] == result.scores["evidence_cited"] == 1.0
    assert result.scores["false_abstention"] == 0.0 and "key_fact_recall" not in result.scores
    assert not result.failures


def test_a_squad_answer_without_the_span_citing_a_neighbour() -> None:
    answer = _Answer(NEIGHBOUR + " [1]", False, [_Citation(1, "/tmp/articles/normans.txt", NEIGHBOUR)],
                     [_Passage(NEIGHBOUR)])
    result = score_question(_Assistant(answer), SQUAD_GOLD)
    assert result.scores["gold_span"] == 0.0 and result.scores["citation_correct"] == 0.0
    assert result.failures == ["no gold answer span in the answer", "no citation overlaps the gold evidence"]


def test_abstentions_on_squad_questions() -> None:
    abstained = _Answer("The articles don't say.", True)
    answerable = score_question(_Assistant(abstained), SQUAD_GOLD)
    assert answerable.scores["gold_span"] == 0.0 and answerable.scores["false_abstention"] == 1.0
    assert "citation_correct" not in answerable.scores  # judged on answered questions only
    unanswerable = {**SQUAD_GOLD, "answerable": False, "type": "unanswerable", "answers": [], "evidence": []}
    result = score_question(_Assistant(abstained), unanswerable)
    assert result.scores["correct_abstention"] == result.scores["overall"] == 1.0


# ---- the report ----------------------------------------------------------------------------------


def _report(suite: str, gold: dict, answer: _Answer, name: str = "extractive"):
    return aggregate(name, [score_question(_Assistant(answer), {**gold, "id": f"{suite}{i}"}) for i in range(3)], suite)


def test_one_section_per_suite_and_a_summary_row_each(tmp_path: Path) -> None:
    right = _Answer(SENTENCE + " [1]", False, [_Citation(1, "x/normans.txt", SENTENCE)], [_Passage(SENTENCE)])
    seeds_gold = {**SQUAD_GOLD, "type": "factoid", "key_facts": [["Baikal"]]}
    del seeds_gold["answers"]
    reports = [_report("seeds", seeds_gold, right), _report("seeds", seeds_gold, right, "other"),
               _report("squad", SQUAD_GOLD, right)]
    table = summary_table(reports)
    assert [line.split(" | ")[0] for line in table.splitlines()[2:]] == ["| seeds", "| squad"]
    text = markdown(reports, "now", "rag eval")
    assert text.count("### Primary: judged from the gold data") == 2
    assert "### Secondary: the eval's support check (evals/support.py)" in text
    assert "gold_span" in text.split("## squad")[1] and "key_fact_recall" in text.split("## seeds")[1]
    paths = write_reports(reports, tmp_path, "rag eval")
    saved = json.loads(paths["json"].read_text())
    assert set(saved["summary"]) == {"seeds", "squad"} and saved["summary"]["squad"]["gold_span"]["value"] == 1.0
    assert [r["suite"] for r in saved["reports"]] == ["seeds", "seeds", "squad"]


def test_the_seeds_headline_includes_the_gold_citation_metric() -> None:
    assert {"citation_correct", "evidence_cited", "key_fact_recall", "correct_abstention"} <= set(HEADLINE)
    assert "gold_span" not in HEADLINE  # the seeds have key facts, not spans


# ---- rag eval --suite ----------------------------------------------------------------------------


def test_the_suites_and_their_splits() -> None:
    assert SUITES == ("seeds", "squad", "news")
    sizes = {name: (len(load_suite(name, "test").questions), len(load_suite(name, "dev").questions)) for name in SUITES}
    assert sizes == {"seeds": (38, 46), "squad": (104, 104), "news": (63, 50)}


def test_rag_eval_offers_the_suites_and_refuses_an_empty_choice(tmp_path) -> None:
    runner = CliRunner()
    assert "--suite [seeds|squad|news|all]" in runner.invoke(main, ["eval", "--help"]).output
    only_test = tmp_path / "questions.jsonl"  # a user's own gold file with no dev half
    only_test.write_text(QUESTIONS.read_text(encoding="utf-8").splitlines()[0].replace('"split": "dev"', '"split": "test"')
                         + "\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", "--suite", "seeds", "--split", "dev", "--questions", str(only_test)])
    assert result.exit_code == 1
    assert "seeds: no dev questions (skipped)" in result.output
    assert "no dev questions in the chosen suites" in result.output


def test_what_a_generative_answerer_contributed_is_scored_and_reported() -> None:
    seeds_gold = {**SQUAD_GOLD, "type": "factoid", "key_facts": [["Baikal"]]}
    del seeds_gold["answers"]
    right = dict(text=SENTENCE + " [1]", abstained=False, citations=[_Citation(1, "x/normans.txt", SENTENCE)],
                 passages=[_Passage(SENTENCE)])
    own = score_question(_Assistant(_Answer(**right, drafted=(1, 3))), seeds_gold)
    replaced = score_question(_Assistant(_Answer(**right, drafted=(0, 2))), seeds_gold)
    quoted = score_question(_Assistant(_Answer(**right)), seeds_gold)  # extractive: nothing to score
    assert (own.scores["model_answers"], own.scores["model_sentences_kept"]) == (1.0, 1 / 3)
    assert (replaced.scores["model_answers"], replaced.scores["model_sentences_kept"]) == (0.0, 0.0)
    assert "model_answers" not in quoted.scores
    local = aggregate("local", [own, replaced], "seeds")
    assert local.metrics["model_answers"] == 0.5
    summary = console_summary([aggregate("extractive", [quoted], "seeds"), local])
    assert "What the generative answerers contributed, and what it cost:" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| local | 0.50"))
    assert row.count("|") == 6


def test_two_eval_runs_are_compared_question_by_question(tmp_path: Path) -> None:
    """``python -m evals.compare BEFORE AFTER``: each metric's means and its paired difference
    (after minus before) follow from the questions' scores, and the answers that changed are counted."""
    from evals.compare import compare, load_run

    def run(folder: str, recalls: list[float], answers: list[str]) -> Path:
        results = [{"id": f"q{i}", "scores": {"key_fact_recall": r, "false_abstention": None}, "answer": {"answer": a}}
                   for i, (r, a) in enumerate(zip(recalls, answers))]
        path = tmp_path / folder
        path.mkdir()
        (path / "results.json").write_text(json.dumps({"reports": [
            {"suite": "news", "name": "extractive", "results": results},
            {"suite": "seeds", "name": folder, "results": results}]}))  # another answerer: not compared
        return path

    before = load_run(run("before", [1.0, 0.5, 0.0, 1.0], ["a", "b", "c", "d"]))
    after = load_run(run("after", [1.0, 1.0, 0.5, 1.0], ["a", "B", "C", "d"]))
    table = compare(before, after)
    line = next(row for row in table.splitlines() if "| news | extractive | key_fact_recall |" in row)
    assert "| 0.625 | 0.875 | +0.250 (" in line
    assert "news (extractive): 2 of 4 answers changed" in table
    assert "false_abstention" not in table and "seeds" not in table  # nothing scored; not the same answerer
    with pytest.raises(SystemExit, match="no eval results"):
        load_run(tmp_path / "missing")


def test_two_runs_are_compared_over_all_their_suites_pooled(tmp_path: Path) -> None:
    """``python -m evals.compare BEFORE AFTER --pool NAME``: the questions of every suite are
    compared as one suite, each counted once even where two suites use the same ids."""
    from evals.compare import compare, load_run, pooled

    def run(folder: str, dev: list[float], scale: list[float]) -> Path:
        def results(recalls):
            return [{"id": f"q{i}", "scores": {"recall@5": r}, "answer": {"answer": str(r)}}
                    for i, r in enumerate(recalls)]
        path = tmp_path / folder
        path.mkdir()
        (path / "results.json").write_text(json.dumps({"reports": [
            {"suite": "news, dev", "name": "default", "results": results(dev)},
            {"suite": "news, scale-dev", "name": "default", "results": results(scale)}]}))
        return path

    before = pooled(load_run(run("before", [1.0, 0.0], [1.0, 1.0, 0.0, 0.0])), "at scale")
    after = pooled(load_run(run("after", [1.0, 1.0], [1.0, 1.0, 1.0, 0.0])), "at scale")
    assert [len(results) for results in before.values()] == [6]
    table = compare(before, after)
    line = next(row for row in table.splitlines() if "| at scale | default | recall@5 |" in row)
    assert "| 0.500 | 0.833 | +0.333 (" in line
    assert "at scale (default): 2 of 6 answers changed" in table and "scale-dev" not in table

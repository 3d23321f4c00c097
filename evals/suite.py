"""The whole eval as ``rag eval`` runs it: for each suite, index its articles into a fresh store,
score the configured answerer (and any others to compare), score the llama-index starter baseline
with the same answerer on the seeds, and write the reports.

The suites (:data:`SUITES`):

- ``seeds``: the team's gold questions (``evals/data/questions.jsonl``) on the five seed articles,
  split into a development and a frozen test half;
- ``squad``: the SQuAD 2.0 dev article "Normans" (``squad/squad2-dev-normans.json`` of the public
  data), its 39 paragraphs indexed as one article; 96 answerable and 112 unanswerable questions,
  split into dev and test halves by the seeds' rule (``evals/squad.py``);
- ``news``: BBC News articles of 2004-2005 (files of the public data's BBC corpus, ``bbc/``), with
  two separate article sets, named in ``evals/data/bbc_articles.json``: the test half is 17
  articles and 63 gold questions written for them (``evals/data/bbc_questions.jsonl``), all test;
  the dev half is 12 other articles on other stories and 50 gold questions on those
  (``evals/data/bbc_dev_questions.jsonl``), all dev. ``news`` with split ``all`` is the test half:
  the two sets are never indexed together.

The public data (``rag.public_data``: ``../shared/data`` beside the project, or ``$RAG_DATA``) is
not part of the repository; :data:`NEEDS` says what each suite reads from it, and
:func:`load_suite` raises ``DataMissing`` (what is missing, its source, how to point at a copy)
when that is not there. The seeds suite needs nothing from it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from evals import squad
from evals.report import write_reports
from evals.runner import QUESTIONS, Report, load_questions, run
from rag import public_data

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
NEWS_ARTICLES = DATA / "bbc_articles.json"  # {"test": [...], "dev": [...]}: file names inside the BBC corpus
NEWS_QUESTIONS = DATA / "bbc_questions.jsonl"
NEWS_DEV_QUESTIONS = DATA / "bbc_dev_questions.jsonl"
#: 171 more dev questions on 60 other BBC articles (bbc_scale_articles.json), asked of the whole
#: corpus only (benchmarks.quality, scripts/fit_abstention.py): choices at scale rest on more than 50.
SCALE_DEV_QUESTIONS = DATA / "bbc_scale_dev_questions.jsonl"
#: The 50 news dev questions translated by hand into French, German and Spanish (one language
#: each, in turn): does a question in another language find the English passage?
TRANSLATED_DEV_QUESTIONS = DATA / "bbc_dev_questions_translated.jsonl"

SUITES = ("seeds", "squad", "news")
#: The public data sets (:data:`rag.public_data.DATA_SETS`) each suite reads.
NEEDS = {"seeds": (), "squad": ("squad-normans",), "news": ("bbc",)}


@dataclass
class Suite:
    """A set of gold questions and the articles they are about (``articles`` is a folder to index;
    ``write`` makes it inside a temporary folder when the articles come from the public data: SQuAD's
    written from its paragraphs, the news suite's copied from the BBC corpus)."""

    name: str
    questions: list[dict[str, Any]]
    articles: Path | None = None
    write: Callable[[Path], Path] | None = None
    baseline: bool = False  # score the llama-index starter on it too

    def folder(self, scratch: Path) -> Path:
        return self.write(scratch / "articles") if self.write else self.articles


def default_articles() -> Path:
    """The gold questions are about the seed articles: ./seeds, else the project's own copy."""
    here = Path("seeds")
    return here if here.is_dir() else PROJECT_ROOT / "seeds"


def missing_data(name: str) -> list[str]:
    """Why the suite ``name`` cannot run here: one line per public data set of :data:`NEEDS` that is
    missing (what it is, its source and licence, how to point at a copy); empty when it can."""
    return [problem for data_set in NEEDS[name] if (problem := public_data.missing(data_set))]


def news_articles(split: str) -> list[str]:
    """The news suite's articles of ``split`` (dev; test for ``test`` and ``all``): their file names
    inside the BBC corpus, ``topic/number.txt``, as the gold evidence names them."""
    return json.loads(NEWS_ARTICLES.read_text(encoding="utf-8"))["dev" if split == "dev" else "test"]


def write_news_articles(folder: Path, split: str) -> Path:
    """Copy the news suite's articles of ``split`` from the BBC corpus into ``folder`` (created),
    byte for byte under the same names; returns the folder."""
    corpus = public_data.require("bbc")
    for name in news_articles(split):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / name, folder / name)
    return folder


def scale_dev_questions() -> list[dict[str, Any]]:
    """The dev questions written to be asked of the whole BBC corpus (:data:`SCALE_DEV_QUESTIONS`)."""
    return load_questions(SCALE_DEV_QUESTIONS, "dev")


def translated_dev_questions() -> list[dict[str, Any]]:
    """The news dev questions in French, German and Spanish (:data:`TRANSLATED_DEV_QUESTIONS`)."""
    return load_questions(TRANSLATED_DEV_QUESTIONS, "dev")


def load_suite(name: str, split: str = "all", *, questions: Path | None = None,
               articles: Path | None = None) -> Suite:
    """The suite ``name`` with its questions of ``split``. ``questions`` and ``articles`` replace the
    seeds' gold file and folder (the other suites ship their own). ``DataMissing`` when the public
    data the suite reads (:data:`NEEDS`) is not there."""
    if name not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, not {name!r}")
    for data_set in NEEDS[name]:
        public_data.require(data_set)
    if name == "seeds":
        return Suite("seeds", load_questions(questions or QUESTIONS, split), articles or default_articles(),
                     baseline=True)
    if name == "squad":
        _, _, gold = squad.load()
        return Suite("squad", [q for q in gold if split == "all" or q["split"] == split], write=squad.write_article)
    # news: dev and test are different articles, so "all" stays the test set
    gold = NEWS_DEV_QUESTIONS if split == "dev" else NEWS_QUESTIONS
    return Suite("news", load_questions(gold, split), write=lambda folder: write_news_articles(folder, split))


def run_suites(config: Any, *, suites: list[Suite], answerers: list[str], out: Path | None = None,
               baseline: bool = True, progress: bool = True, command: str = "") -> list[Report]:
    """Score each answerer on each suite (and the starter baseline with the first answerer on the
    suites that have one); one embedding model serves every suite."""
    from rag.build import embedder_factory

    reports: list[Report] = []
    embedder = None
    for suite in suites:
        if not suite.questions:
            continue
        embedder = embedder or embedder_factory(config)()
        reports += _score(config, suite, answerers, embedder, baseline and suite.baseline, progress)
    if out is not None:
        write_reports(reports, out, command)
    return reports


def run_suite(config: Any, *, answerers: list[str], questions: Path = QUESTIONS, articles: Path | None = None,
              out: Path | None = None, baseline: bool = True, progress: bool = True,
              command: str = "", split: str = "all") -> list[Report]:
    """Score each answerer in ``answerers`` (and the starter baseline with the first one) on the
    seeds' gold questions of ``split``."""
    suite = load_suite("seeds", split, questions=questions, articles=articles)
    return run_suites(config, suites=[suite], answerers=answerers, out=out, baseline=baseline, progress=progress,
                      command=command)


def _score(config: Any, suite: Suite, answerers: list[str], embedder: Any, baseline: bool,
           progress: bool) -> list[Report]:
    from index.embedding import resolve_model
    from rag.assistant import build_assistant
    from rag.build import ingest_paths

    reports: list[Report] = []
    with tempfile.TemporaryDirectory(prefix=f"rag-eval-{suite.name}-") as folder:
        articles = suite.folder(Path(folder))
        local = config.replace(store_path=Path(folder) / "store")
        local = local.model_copy(update={"chroma_host": None})  # always the embedded store: None is valid
        ingest_paths(local, [articles], progress=False, embedder=lambda: embedder)
        first = None
        for name in answerers:
            assistant = build_assistant(local.replace(llm=name), embedder=embedder)
            first = first or assistant
            reports.append(run(assistant, suite.questions, name=name, progress=progress, suite=suite.name))
        if baseline and first is not None:
            from evals.baseline import StarterBaseline

            starter = StarterBaseline(articles, first.answerer, resolve_model(local.embedding_model),
                                      persist_dir=Path(folder) / "starter")
            reports.append(run(starter, suite.questions, name=starter.name, progress=progress, suite=suite.name))
    return reports

"""The whole eval as ``rag eval`` runs it: index the gold articles into a fresh store, score the
configured answerer (and any others to compare), score the llama-index starter baseline with the
same answerer, and write the reports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from evals.report import write_reports
from evals.runner import QUESTIONS, Report, load_questions, run

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def default_articles() -> Path:
    """The gold questions are about the seed articles: ./seeds, else the project's own copy."""
    here = Path("seeds")
    return here if here.is_dir() else PROJECT_ROOT / "seeds"


def run_suite(config: Any, *, answerers: list[str], questions: Path = QUESTIONS, articles: Path | None = None,
              out: Path | None = None, baseline: bool = True, progress: bool = True,
              command: str = "", split: str = "all") -> list[Report]:
    """Score each answerer in ``answerers`` (and the starter baseline with the first one) on the
    gold questions of ``split``."""
    from index.embedding import resolve_model
    from rag.build import build_assistant, embedder_factory, ingest_paths

    articles = articles or default_articles()
    gold = load_questions(questions, split)
    reports: list[Report] = []
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as folder:
        local = config.replace(store_path=Path(folder) / "store")
        local = local.model_copy(update={"chroma_host": None})  # always the embedded store: None is valid
        embedder = embedder_factory(local)()
        ingest_paths(local, [articles], progress=False, embedder=lambda: embedder)
        first = None
        for name in answerers:
            assistant = build_assistant(local.replace(llm=name), embedder=embedder)
            first = first or assistant
            reports.append(run(assistant, gold, name=name, progress=progress))
        if baseline and first is not None:
            from evals.baseline import StarterBaseline

            starter = StarterBaseline(articles, first.answerer, resolve_model(local.embedding_model),
                                      persist_dir=Path(folder) / "starter")
            reports.append(run(starter, gold, name=starter.name, progress=progress))
    if out is not None:
        write_reports(reports, out, command)
    return reports

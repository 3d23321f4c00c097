"""``rag eval``: the evaluation's command, added to ``rag`` through the ``rag.commands`` entry
point (see :mod:`rag.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rag.cli import answer_options, config_from


@click.command(name="eval")
@answer_options
@click.option("--compare", multiple=True, type=click.Choice(["extractive", "local", "ollama", "openai"]),
              help="Also score this answerer, side by side; repeatable.")
@click.option("--suite", type=click.Choice(["seeds", "squad", "news", "all"]), default="all", show_default=True,
              help="Which gold questions: the seeds', SQuAD 2.0's 'Normans', the BBC News articles', or all three.")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Gold questions (JSON lines) for the seeds suite [default: evals/data/questions.jsonl].")
@click.option("--articles", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The articles the seeds suite's questions are about [default: seeds/].")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("eval-results"),
              show_default=True, help="Folder for results.json, report.md and report.html.")
@click.option("--no-baseline", is_flag=True, help="Skip the llama-index starter baseline.")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The public data folder the squad and news suites read [RAG_DATA; default ../shared/data "
              "beside the project].")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="all", show_default=True,
              help="Which half of the gold questions: tune on dev only; test is frozen (squad: its own dev/test halves; news: dev is 12 other BBC articles).")
@click.pass_context
def eval_command(ctx: click.Context, compare: tuple[str, ...], suite: str, questions: Path | None,
                 articles: Path | None, out: Path, no_baseline: bool, data: Path | None, split: str,
                 **settings: Any) -> None:
    """Score answers and citations against the gold questions, offline, with no LLM judge.

    Each suite's articles are indexed into a temporary store (your index is not touched). The
    llama-index starter pipeline (VectorStoreIndex over Chroma, same embedding model and answerer,
    default chunking, top-k 2) is scored beside it on the seeds.

    The squad and news suites read public data kept outside the project (../shared/data, or
    --data): a suite named whose data is missing is an error saying what to get and where; with
    every suite (the default), those are left out, each with the reason.
    """
    import sys

    from evals.report import console_summary
    from evals.suite import SUITES, load_suite, missing_data, run_suites
    from rag import public_data

    if data is not None:
        public_data.use(data)
    config = config_from(ctx, **settings)
    answerers = list(dict.fromkeys([config.llm, *compare]))
    command = "rag eval " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["eval"] else "rag eval"
    names = SUITES if suite == "all" else (suite,)
    if suite == "all":  # the suites whose data is here; each other one is named, with what it lacks
        lacking = {name: missing_data(name) for name in names}
        for name, problems in lacking.items():
            for problem in problems:
                click.echo(f"{name}: left out: {problem}")
        names = tuple(name for name in names if not lacking[name])
    suites = [load_suite(name, split, questions=questions, articles=articles) for name in names]
    for empty in (s.name for s in suites if not s.questions):
        click.echo(f"{empty}: no {split} questions (skipped)")
    if not any(s.questions for s in suites):
        raise click.ClickException(f"no {split} questions in the chosen suites")
    reports = run_suites(config, suites=suites, answerers=answerers, out=out, baseline=not no_baseline,
                         command=command)
    click.echo(console_summary(reports))
    click.echo(f"\nWrote {out / 'results.json'}, {out / 'report.md'}, {out / 'report.html'}")

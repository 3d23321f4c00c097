"""The ``rag`` command line: a thin layer over :mod:`rag.build` and the assistant.

Options given on the command line override ``RAG_*`` environment variables and the TOML file;
see :mod:`rag.config`. Errors are one line that says what to do.

The packages built on :mod:`rag` contribute their own commands through the ``rag.commands``
entry points in ``pyproject.toml``: ``rag eval`` (:mod:`evals.cli`), and ``rag chat``, ``rag serve``
and ``rag mcp`` (:mod:`ui.cli`). So ``rag`` imports neither, and a command's module loads only when
it runs.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import click

from index.errors import RagError
from rag.config import Config, load_config

#: The entry point group through which other packages add commands to ``rag``.
COMMANDS_GROUP = "rag.commands"


@cache
def _contributed() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=COMMANDS_GROUP)}


#: The options of ``rag`` itself, which say which settings and store to use: ((flag, name), type, help).
STORE_OPTIONS = (
    (("--config", "config_file"), click.Path(dir_okay=False),
     "TOML settings file (default: $RAG_CONFIG, else ./rag.toml if present)."),
    (("--store", "store_path"), click.Path(file_okay=False),
     "Folder of the embedded Chroma store [RAG_STORE_PATH; default .rag]."),
    (("--chroma-host", "chroma_host"), None, "Use the Chroma server on this host [RAG_CHROMA_HOST]."),
    (("--chroma-port", "chroma_port"), int, "Chroma server port [RAG_CHROMA_PORT; default 8000]."),
    (("--collection", "collection"), None, "Collection name [RAG_COLLECTION; default articles]."),
)


def _given_after(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """An option of ``rag`` given after its command (``rag ingest seeds/ --store DIR``): it
    counts as if given before it, and over it."""
    if value is None:
        return
    settings = ctx.find_root().obj
    if param.name == "config_file":
        settings["config_file"] = value
    else:
        settings["overrides"][param.name] = value


def _after_command(flags: tuple[str, str], kind: Any, text: str) -> click.Option:
    return click.Option(list(flags), type=kind, default=None, expose_value=False, callback=_given_after, help=text)


class _Group(click.Group):
    """Turns the project's errors into one clear line (``Error: ...``) instead of a traceback,
    adds the commands other packages contribute (loaded when run or listed), and takes its own
    options (:data:`STORE_OPTIONS`) after any command too, as people type them: ``rag ingest
    seeds/ --store DIR`` is ``rag --store DIR ingest seeds/``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_contributed()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in _contributed():
            command = _contributed()[name].load()
        if command is not None:
            taken = {flag for param in command.params for flag in (param.name, *param.opts)}
            command.params.extend(_after_command(*option) for option in STORE_OPTIONS
                                  if not taken.intersection(option[0]))
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RagError as error:
            raise click.ClickException(str(error)) from None


def _store_options(function):
    """:data:`STORE_OPTIONS` as the options of ``rag`` itself (before its command)."""
    for (flag, name), kind, text in reversed(STORE_OPTIONS):
        function = click.option(flag, name, type=kind, default=None, help=text)(function)
    return function


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@_store_options
@click.pass_context
def main(ctx: click.Context, config_file: str | None, **store_options: Any) -> None:
    """Ask questions about a collection of news articles; every answer sentence cites its passage.

    \b
    Typical use:
      rag ingest seeds/                  index the articles (again: only what changed)
      rag ask "Who mediated the Geneva talks?"
      rag chat                           the chat page on http://127.0.0.1:7860
      rag serve                          an OpenAI-compatible API on http://127.0.0.1:8000/v1
      rag mcp                            an MCP server on stdio (--http PORT: streamable HTTP)
      rag eval --llm extractive          score answers and citations against the gold questions
      rag doctor                         check the index (--repair fixes what it finds)
    """
    ctx.obj = {"config_file": config_file, "overrides": store_options}


def config_from(ctx: click.Context, **overrides: Any) -> Config:
    """The settings for a command: the ``rag`` options and the command's own over the file and
    the environment (for the commands other packages contribute, too)."""
    return load_config(ctx.obj["config_file"], **ctx.obj["overrides"], **overrides)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune", count=True, help="Remove indexed articles whose files are gone (and finish any write a "
              "killed ingest left, whatever files it was for; without --prune only the given files' are). "
              "A prune that would remove every article is refused: give --prune twice to mean it.")
@click.option("--rebuild", is_flag=True, help="Delete the index first and embed everything again.")
@click.option("--embedding-model", default=None,
              help="sentence-transformers model name or folder [RAG_EMBEDDING_MODEL; default all-MiniLM-L6-v2].")
@click.option("--embedding-backend", type=click.Choice(["onnx", "onnx-int8", "torch"]), default=None,
              help="What runs the model [RAG_EMBEDDING_BACKEND; default onnx]. onnx-int8 is about twice as "
              "fast with vectors within cosine 0.99; a store built with it must be asked with it too.")
@click.option("--chunk-sentences", type=int, default=None, help="Most sentences per passage [default 4].")
@click.option("--chunk-overlap", type=int, default=None, help="Sentences shared by neighbouring passages [default 1].")
@click.option("--chunk-max-chars", type=int, default=None, help="Most characters per passage [default 900].")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("-v", "--verbose", is_flag=True, help="Print each article as it is committed or skipped.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: int, rebuild: bool, no_progress: bool,
           verbose: bool, **settings: Any) -> None:
    """Index article files (.txt, .md, .html, .pdf, .docx) and folders of them, recursively.

    Unchanged articles are skipped without embedding; changed ones are replaced. Files that can't
    be used are listed with the reason, and the rest are indexed.
    """
    from rag.build import ingest_paths, uploads_to_keep

    config = config_from(ctx, **settings)
    def tell(action: str, source: str) -> None:
        click.echo(f"{action:<9} {source}")

    kept = uploads_to_keep(config, list(paths)) if rebuild else None
    if kept is not None:
        click.echo(f"Rebuilding with the articles uploaded in the page, from {kept}")
    report = ingest_paths(config, list(paths), prune=prune, rebuild=rebuild, progress=not no_progress,
                          on_article=tell if verbose else None)
    click.echo(f"Indexed into {config.describe_store()}:")
    click.echo(report.summary())
    if report.skipped and not (report.added or report.updated or report.unchanged or report.removed):
        raise click.ClickException("no article was indexed: every file was skipped (the reasons are above)")


@main.command()
@click.option("--repair", is_flag=True, help="Fix what the check finds: finish interrupted writes, delete stray "
              "passages, embed damaged articles again from the store's own copy of their text.")
@click.option("--deep", is_flag=True, help="Check the database file with sqlite's full integrity check (reads "
              "every index against its table; slower) instead of its quick check.")
@click.option("--embedding-model", default=None, help="The model the store was built with [RAG_EMBEDDING_MODEL].")
@click.option("--embedding-backend", type=click.Choice(["onnx", "onnx-int8", "torch"]), default=None,
              help="What runs the model [RAG_EMBEDDING_BACKEND; default onnx].")
@click.pass_context
def doctor(ctx: click.Context, repair: bool, deep: bool, **settings: Any) -> None:
    """Check the index: the database file passes sqlite's own check, the vector index loads (in a
    throwaway process: damage there is reported, never a crash), every article has all its passages,
    every passage a vector that can be read and that search finds, no passage without an article,
    no write left unfinished. Prints how many characters of the articles' cleaned text are in no
    passage (white space aside; any is a problem).

    Exits 1 when a problem remains. Holds the writer's lock while repairing.
    """
    from rag.build import doctor_store

    config = config_from(ctx, **settings)
    report, titles = doctor_store(config, repair=repair, deep=deep)
    click.echo(report.summary(titles))
    if not report.ok:
        raise click.ClickException("the index has problems (listed above)" + ("" if repair else
                                   f": run `{report.repair_command}`"))


def answer_options(function):
    """Options shared by the commands that answer questions."""
    options = [
        click.option("--llm", type=click.Choice(["extractive", "local", "ollama", "openai"]), default=None,
                     help="Answerer [RAG_LLM; default extractive]."),
        click.option("--llm-model", default=None, help="GGUF path (local) or model name (ollama, openai) [RAG_LLM_MODEL]."),
        click.option("--llm-url", default=None, help="Server URL for ollama or openai [RAG_LLM_URL]."),
        click.option("--top-k", type=int, default=None, help="Passages given to the answerer [RAG_TOP_K; default 5]."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command()
@click.argument("question")
@answer_options
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (Answer.to_dict(): the answer, "
              "why it answered or abstained, its confidence, notes and citations; docs/cli.md documents it).")
@click.option("--source", "sources", multiple=True, help="Only this article (file name or path); repeatable.")
@click.option("--after", default=None, help="Only articles published on/after this day (2025-06-01, 'June 2025', 'last week').")
@click.option("--before", default=None, help="Only articles published on/before this day ('June 2025' means to its end).")
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, sources: tuple[str, ...], after, before,
        **settings: Any) -> None:
    """Answer QUESTION from the indexed articles, citing a passage for every sentence."""
    import json

    from rag.assistant import Assistant
    from rag.format import format_answer
    from rag.retrieval import Filters

    config = config_from(ctx, **settings)
    filters = Filters.coerce({"sources": sources, "published_after": after, "published_before": before})
    answer = Assistant.open(config).ask(question, filters=None if filters.is_empty() else filters)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_answer(answer))

"""The ``rag`` command line: a thin layer over :mod:`rag.build` and the assistant.

Options given on the command line override ``RAG_*`` environment variables and the TOML file;
see :mod:`rag.config`. Errors are one line that says what to do.

The packages built on :mod:`rag` contribute their own commands through the ``rag.commands``
entry points in ``pyproject.toml``: ``rag eval`` (:mod:`evals.cli`) and ``rag chat``
(:mod:`ui.cli`). So ``rag`` imports neither, and a command's module loads only when it runs.
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
              "why it answered or abstained, its confidence, notes and citations; the README documents it).")
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


def _say_if_unavailable(pool) -> None:
    """A line on stderr when the configured answerer does not work here (extractive answers instead)."""
    if pool.config.llm not in pool.answerers:
        click.echo(f"Note: the {pool.config.llm} answerer is not available here (the chat page says why); "
                   "answering with extractive.", err=True)


@main.command()
@answer_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on (loopback by default; any other needs a token).")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to serve on.")
@click.option("--api-token", default=None,
              help="Token clients must send as their API key [RAG_API_TOKEN; required beyond loopback]. Prefer the "
              "variable or the config file: a command line is visible to other users.")
@click.option("--trusted-proxies", default=None, metavar="ADDRESSES",
              help="The reverse proxies in front of the server, comma-separated addresses or networks: a request's "
              "client address is read from X-Forwarded-For only when it comes from one of them "
              "[RAG_TRUSTED_PROXIES; default none].")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, **settings: Any) -> None:
    """Serve an OpenAI-compatible API (chat completions) over the indexed articles.

    \b
    Point any OpenAI client (Open WebUI, LibreChat, the openai package) at
      base URL  http://HOST:PORT/v1
      API key   the token (any text when none is set)
      model     news-rag (the configured answerer) or news-rag:extractive, news-rag:local ...
                (GET /v1/models lists those offered here: local only when chosen, with
                --llm local or llm_model naming a GGUF; GET /v1/models/MODEL gives one)

    \b
    POST /v1/chat/completions answers the last user message, the earlier turns being the
    conversation; with "stream": true one event per checked sentence, then a last chunk with
    the sources. The text keeps its [n] markers and ends with why it abstained (an abstention),
    the notes and a Markdown "Sources" list. Beside it, on the message (on the last chunk's delta
    when streaming):
      citations   each with n, title, source (the file name), published, outlet, quote,
                  start and end (quote == article text[start:end]) and score
      abstained   true when the articles don't answer
      reason      why it abstained (instruction, nothing_retrieved, nothing_to_look_for, unsure,
                  record_missing, nothing_checked) or how it answered (answered, differ, record)
      explanation the reason in words (under filters: what they left out, how to widen them)
      confidence  the chance the articles answer the question
      notes       what the reader should know (a corrected word, sentences left out ...)
      answerer    what wrote the answer: extractive, local, local->extractive (the model's
                  sentences were replaced by the quotes), article-record, abstained ...
    Optional request fields: "filters" (sources, published_after, published_before) and "top_k".

    \b
    Errors are OpenAI-style JSON, {"error": {"message", "type", "code"}}:
      400  an empty question, one longer than max_question_chars, unknown filters, a bad top_k
           or a malformed body
      401  a missing or wrong token
      404  an unknown model
      413  a request body over 1 MB
      429  the queue is full (4 answers at once and 200 waiting, as on the chat page)
      500  anything unexpected (the server stays up)
      503  the store or a model failed
    A streamed answer that fails midway ends with an error event. No message names a server path
    (the store's folder is <store>); the server's log keeps them.
    """
    from rag.pool import Assistants
    from rag.serve import check_binding, serve as run

    config = config_from(ctx, **settings)
    check_binding(host, config.api_token)
    pool = Assistants(config)
    _say_if_unavailable(pool)
    pool.assistant(pool.default_answerer())  # load the model and open the store now, not on the first question
    models = ", ".join(["news-rag", *(f"news-rag:{name}" for name in pool.answerers)])
    click.echo(f"Serving the OpenAI-compatible API on http://{host}:{port}/v1 over {config.describe_store()}; "
               f"models {models}; {'token required' if config.api_token else 'no token'} (Ctrl+C to stop)")
    run(pool, host, port, config.api_token)


@main.command(name="mcp")
@answer_options
@click.option("--http", "http_port", type=int, default=None, metavar="PORT",
              help="Serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio (loopback only).")
@click.pass_context
def mcp_command(ctx: click.Context, http_port: int | None, **settings: Any) -> None:
    """Serve the articles to MCP clients (desktop assistants, editors), on stdio by default.

    \b
    Tools: ask (a question, optional filters -> the checked answer, citations, abstained,
    confidence, notes), search (passages with scores), list_articles. Resources: each
    article's cleaned text, article://<id>. The README has the desktop client's config.
    """
    from rag.mcp_server import run
    from rag.pool import Assistants

    config = config_from(ctx, **settings)
    pool = Assistants(config)
    _say_if_unavailable(pool)
    pool.assistant(pool.default_answerer())  # load the model and open the store now, not on the first call
    where = f"streamable HTTP on http://127.0.0.1:{http_port}/mcp" if http_port else "stdio"
    click.echo(f"Serving MCP on {where} over {config.describe_store()} (Ctrl+C to stop)", err=True)
    run(pool, http_port)

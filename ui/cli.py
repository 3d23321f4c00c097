"""``rag chat``, ``rag serve`` and ``rag mcp``: the commands of the chat page, the
OpenAI-compatible API and the MCP server, added to ``rag`` through the ``rag.commands`` entry
points (see :mod:`rag.cli`)."""

from __future__ import annotations

from typing import Any

import click

from rag.cli import answer_options, config_from


@click.command()
@answer_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on (loopback by default).")
@click.option("--port", type=int, default=7860, show_default=True, help="Port to serve on.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option("--read-only", is_flag=True, default=None,
              help="Answer only: no upload or removal, in the page or its API [RAG_READ_ONLY].")
@click.option("--trusted-proxies", default=None, metavar="ADDRESSES",
              help="The reverse proxies in front of the page (and of --api), comma-separated addresses or networks: "
              "a request's client address, which the login limit counts, is read from X-Forwarded-For only when "
              "it comes from one of them [RAG_TRUSTED_PROXIES; default none: always the connection's].")
@click.option("--api", is_flag=True, help="Also serve, in this process, on the same host at --api-port: the "
              "OpenAI-compatible API of `rag serve` (/v1) and the MCP server of `rag mcp` (streamable HTTP at "
              "/mcp); one embedding model and store reader for the page and both.")
@click.option("--api-port", type=int, default=8000, show_default=True,
              help="Port of the API and the MCP server with --api.")
@click.option("--api-token", default=None, help="Token the API's and MCP's clients must send (Authorization: "
              "Bearer) [RAG_API_TOKEN; required beyond loopback]; see `rag serve --help`.")
@click.pass_context
def chat(ctx: click.Context, host: str, port: int, open_browser: bool, api: bool, api_port: int,
         **settings: Any) -> None:
    """Serve the chat page (Gradio) over the indexed articles.

    To require a login, set RAG_CHAT_AUTH=user:password (several: comma-separated) or chat_auth in
    the config file; serving beyond loopback without one lets anyone who reaches the port upload
    and remove articles, unless --read-only.

    \b
    With --api, two more ways in run beside the page, over its assistants, on a second port
    (the page's login does not cover them; they have their own token):
      http://HOST:API_PORT/v1    the OpenAI-compatible API (see `rag serve --help`)
      http://HOST:API_PORT/mcp   the MCP server, streamable HTTP (see `rag mcp --help`)
    """
    from ui.app import Backend, launch

    config = config_from(ctx, **settings)
    if host not in {"127.0.0.1", "localhost", "::1"} and not config.logins() and not config.read_only:
        click.echo(f"Warning: serving on {host} with no login: anyone who reaches port {port} can upload and "
                   "remove articles. Set RAG_CHAT_AUTH=user:password, or add --read-only.", err=True)
    backend = None
    if api:
        from ui.serve import check_binding, start

        check_binding(host, config.api_token)
        backend = Backend(config)
        start(backend.pool, host, api_port, config.api_token, mcp=True)
        click.echo(f"Serving the OpenAI-compatible API on http://{host}:{api_port}/v1 and MCP on "
                   f"http://{host}:{api_port}/mcp, sharing the page's assistants")
    click.echo(f"Serving the chat page on http://{host}:{port} over {config.describe_store()} (Ctrl+C to stop)")
    launch(config, host, port, open_browser=open_browser, backend=backend)


def _say_if_unavailable(pool) -> None:
    """A line on stderr when the configured answerer does not work here (extractive answers instead)."""
    if pool.config.llm not in pool.answerers:
        click.echo(f"Note: the {pool.config.llm} answerer is not available here (the chat page says why); "
                   "answering with extractive.", err=True)


@click.command()
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
    from ui.pool import Assistants
    from ui.serve import check_binding, serve as run

    config = config_from(ctx, **settings)
    check_binding(host, config.api_token)
    pool = Assistants(config)
    _say_if_unavailable(pool)
    pool.assistant(pool.default_answerer())  # load the model and open the store now, not on the first question
    models = ", ".join(["news-rag", *(f"news-rag:{name}" for name in pool.answerers)])
    click.echo(f"Serving the OpenAI-compatible API on http://{host}:{port}/v1 over {config.describe_store()}; "
               f"models {models}; {'token required' if config.api_token else 'no token'} (Ctrl+C to stop)")
    run(pool, host, port, config.api_token)


@click.command(name="mcp")
@answer_options
@click.option("--http", "http_port", type=int, default=None, metavar="PORT",
              help="Serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio (loopback only).")
@click.pass_context
def mcp_command(ctx: click.Context, http_port: int | None, **settings: Any) -> None:
    """Serve the articles to MCP clients (desktop assistants, editors), on stdio by default.

    \b
    Tools: ask (a question, optional filters -> the checked answer, citations, abstained,
    confidence, notes), search (passages with scores), list_articles. Resources: each
    article's cleaned text, article://<id>. docs/serve-and-mcp.md has the desktop client's config.
    """
    from ui.mcp import run
    from ui.pool import Assistants

    config = config_from(ctx, **settings)
    pool = Assistants(config)
    _say_if_unavailable(pool)
    pool.assistant(pool.default_answerer())  # load the model and open the store now, not on the first call
    where = f"streamable HTTP on http://127.0.0.1:{http_port}/mcp" if http_port else "stdio"
    click.echo(f"Serving MCP on {where} over {config.describe_store()} (Ctrl+C to stop)", err=True)
    run(pool, http_port)

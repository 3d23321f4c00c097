"""``rag chat``: the chat page's command, added to ``rag`` through the ``rag.commands`` entry
point (see :mod:`rag.cli`)."""

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
        from rag.serve import check_binding, start

        check_binding(host, config.api_token)
        backend = Backend(config)
        start(backend.pool, host, api_port, config.api_token, mcp=True)
        click.echo(f"Serving the OpenAI-compatible API on http://{host}:{api_port}/v1 and MCP on "
                   f"http://{host}:{api_port}/mcp, sharing the page's assistants")
    click.echo(f"Serving the chat page on http://{host}:{port} over {config.describe_store()} (Ctrl+C to stop)")
    launch(config, host, port, open_browser=open_browser, backend=backend)

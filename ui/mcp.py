"""``rag mcp``: a Model Context Protocol server over the assistant (the ``mcp`` package's
``MCPServer``), on stdio or streamable HTTP.

    rag mcp                    # stdio, what a desktop client starts (also: python -m rag mcp)
    rag mcp --http 8001        # streamable HTTP on http://127.0.0.1:8001/mcp
    rag chat --api             # beside the page, at /mcp of the OpenAI-compatible API's port (:class:`Mounted`)

Tools: ``ask`` (a question, optional filters → the checked answer with its ``[n]`` markers,
citations, abstained, the reason and its explanation, confidence, notes), ``search`` (the
passages retrieval finds, with their scores) and ``list_articles``. Resources: each article's
cleaned text, ``article://<id>`` (the ids ``list_articles`` gives). Sources are file names, never server paths; over HTTP, errors and an
answer's notes name none either (the store's folder is ``<store>``: :func:`rag.public.public_text`),
as the page's and ``rag serve``'s do; over stdio, the user's own client gets them whole. Work is
bounded like the chat page's (:data:`ui.pool.CONCURRENCY` at once); a failing call is an error
result, and the server goes on.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, AsyncContextManager

from mcp import Resource
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from index.errors import RagError
from rag.format import details
from rag.public import public_answer, public_text, served_folders
from rag.retrieval import Filters
from ui.pool import CONCURRENCY, Assistants

#: Where the streamable HTTP transport answers (``rag mcp --http``, and under ``rag chat --api``).
PATH = "/mcp"

INSTRUCTIONS = ("Answers questions about a collection of news articles. Every sentence of an `ask` answer is "
                "checked against the passage it cites ([n] refers to citations[n-1]); when the articles do not "
                "answer, `abstained` is true: say so rather than guess (`explanation` says why). `search` returns "
                "passages to read; `list_articles` the articles, whose text is the resource article://<id>.")


class CitedSource(BaseModel):
    n: int
    title: str
    source: str
    published: str | None
    outlet: str | None
    url: str | None = None  # the original article's address, where its web page states one
    quote: str
    start: int
    end: int
    score: float


class AskResult(BaseModel):
    answer: str
    citations: list[CitedSource]
    abstained: bool
    reason: str | None  # rag.explain.REASONS: why it abstained ("unsure", "nothing_retrieved" ...) or answered
    explanation: str  # the reason in words (under filters: what they left out and how to widen them)
    confidence: float | None
    notes: list[str]
    answerer: str


class FoundPassage(BaseModel):
    article_id: str
    title: str
    source: str
    published: str | None
    text: str
    start: int
    end: int
    score: float
    similarity: float


class SearchResult(BaseModel):
    passages: list[FoundPassage]


class Article(BaseModel):
    id: str
    uri: str
    title: str
    source: str
    author: str | None
    outlet: str | None
    published: str | None
    passages: int


class ArticleList(BaseModel):
    articles: list[Article]


def _filters(sources: list[str] | None, published_after: str | None, published_before: str | None) -> Filters | None:
    filters = Filters.coerce({"sources": sources or (), "published_after": published_after,
                              "published_before": published_before})
    return None if filters is None or filters.is_empty() else filters


class _Server(MCPServer):
    """Lists one resource per indexed article beside the ``article://{article_id}`` template."""

    articles: Any = None  # set by create_server: () -> list[Article]

    async def list_resources(self) -> list[Resource]:
        import anyio

        listed = await super().list_resources()
        articles = await anyio.to_thread.run_sync(self.articles)
        return [*listed, *(Resource(uri=a.uri, name=a.source, title=a.title, mime_type="text/plain",
                                              description=f"The cleaned text of “{a.title}”") for a in articles)]


def create_server(pool: Assistants, *, network: bool = False) -> MCPServer:
    """The MCP server over ``pool``'s default answerer (tools, resources; no transport yet);
    ``network``: served over HTTP, so no message names a server path or process id."""
    server = _Server("news-rag", instructions=INSTRUCTIONS, log_level="WARNING")
    slots = threading.BoundedSemaphore(CONCURRENCY)
    folders = served_folders(pool.config)
    shown = (lambda text: public_text(text, folders)) if network else (lambda text: text)

    def assistant():
        return pool.assistant(pool.default_answerer())

    def guarded(work):
        with slots:
            try:
                return work()
            except RagError as error:  # one line saying what to do, as an error result
                raise ToolError(shown(str(error))) from None

    @server.tool()
    def ask(question: str, sources: list[str] | None = None, published_after: str | None = None,
            published_before: str | None = None) -> AskResult:
        """Answer a question from the news articles. Every sentence is checked against the passage it
        cites ([n] is citations[n-1]); abstained is true when the articles don't answer it, and
        explanation says why (a filter that left the articles out: how to widen it). Optional
        filters: sources (article file names, from list_articles), published_after and
        published_before (days such as 2025-06-01 or "June 2025")."""
        def work() -> AskResult:
            answer = assistant().ask(question, filters=_filters(sources, published_after, published_before))
            if network:
                answer = public_answer(answer, folders)
            return AskResult(answer=answer.text, **details(answer))
        return guarded(work)

    @server.tool()
    def search(query: str, top_k: int = 5, sources: list[str] | None = None, published_after: str | None = None,
               published_before: str | None = None) -> SearchResult:
        """The passages of the articles that best match the query (hybrid dense + keyword search), with
        their fused score and cosine similarity; top_k from 1 to 50."""
        if not 1 <= top_k <= 50:
            raise ToolError(f"top_k must be from 1 to 50 (got {top_k})")

        def work() -> SearchResult:
            found = assistant().retriever.retrieve(query, top_k=top_k,
                                                   filters=_filters(sources, published_after, published_before))
            return SearchResult(passages=[FoundPassage(
                article_id=p.article_id, title=p.title, source=Path(p.source).name, published=p.published,
                text=p.text, start=p.start, end=p.end, score=round(p.score, 6), similarity=round(p.similarity, 4),
            ) for p in found])
        return guarded(work)

    def articles() -> list[Article]:
        records = assistant().corpus.articles().values()
        return [Article(id=r.id, uri=f"article://{r.id}", title=r.display_title(), source=Path(r.source).name,
                        author=r.author, outlet=r.outlet, published=r.published, passages=r.passages)
                for r in sorted(records, key=lambda r: r.display_title().lower())]

    server.articles = lambda: guarded(articles)

    @server.tool()
    def list_articles() -> ArticleList:
        """The indexed articles: id, title, source file name, author, outlet, publication date, passage
        count, and the URI of the resource holding the article's cleaned text."""
        return ArticleList(articles=guarded(articles))

    @server.resource("article://{article_id}", name="article", mime_type="text/plain",
                     description="An indexed article's cleaned text (ids from list_articles).")
    def article(article_id: str) -> str:
        text = guarded(lambda: assistant().corpus.article_text(article_id))
        if not text:
            raise ResourceNotFoundError(f"no indexed article has the id '{article_id}': list_articles gives the ids")
        return text

    return server


class Mounted:
    """The MCP server over streamable HTTP as one ASGI endpoint, to route at :data:`PATH` of another
    app over the same ``pool`` (``rag chat --api`` puts it beside the OpenAI-compatible API, see
    :func:`ui.serve.create_app`). :meth:`running` must be entered while it serves: the app's
    lifespan. On a loopback ``host`` the SDK's DNS-rebinding protection applies, as with ``rag mcp
    --http``."""

    def __init__(self, pool: Assistants, host: str = "127.0.0.1"):
        self.server = create_server(pool, network=True)
        self.server.streamable_http_app(streamable_http_path=PATH, host=host)  # makes its session manager

    def running(self) -> AsyncContextManager[None]:
        return self.server.session_manager.run()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.server.session_manager.handle_request(scope, receive, send)


def run(pool: Assistants, http_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve on stdio, or on streamable HTTP at ``http://host:http_port/mcp``."""
    server = create_server(pool, network=http_port is not None)
    if http_port is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=http_port, streamable_http_path=PATH)

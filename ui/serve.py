"""``rag serve``: an OpenAI-compatible HTTP endpoint over the assistant (FastAPI + uvicorn).

    from ui.pool import Assistants
    from ui.serve import create_app, serve
    serve(Assistants(load_config()), "127.0.0.1", 8000)          # blocks; Ctrl+C stops it

``POST /v1/chat/completions`` answers the last user message, with the conversation's earlier user
and assistant turns as the history; ``stream: true`` sends one server-sent event per checked
sentence (unchecked drafts are never sent). ``model`` picks the answerer: ``news-rag`` (the
configured one) or ``news-rag:<answerer>``; ``GET /v1/models`` lists them, ``GET /v1/models/{id}``
gives one (404 for a model not served here). The answer's text keeps
its ``[n]`` markers and ends with why it abstained (an abstention), its notes and a Markdown
"Sources" list; the message (or the final chunk's ``delta``) also carries :func:`rag.format.details`:
``citations`` (title, source file name, published, outlet, quote, start, end, score),
``abstained``, ``reason``, ``explanation``, ``confidence``, ``notes`` and ``answerer``. Optional
request fields: ``filters`` (``sources``, ``published_after``, ``published_before``) and ``top_k``.

Errors are OpenAI-style JSON, ``{"error": {"message", "type", "code"}}``: 400 for a bad request
(an empty or too long question: the page's ``max_question_chars``), 401 for a missing or wrong
token, 404 for an unknown model, 413 for a body over :data:`MAX_BODY_BYTES`, 429 when the queue is
full (at most :data:`ui.pool.CONCURRENCY` answers at once, :data:`ui.pool.QUEUE_SIZE` waiting,
as on the chat page), 503 when the store or a model fails, 500 for anything unexpected. A failing
request never takes the server down. No message names a server path or process id (the store's
folder is ``<store>``: :func:`rag.public.public_text`), in an error or an answer's notes; the
server log keeps them.

With ``mcp=True`` (``rag chat --api``) the same server also answers MCP clients over streamable HTTP
at ``/mcp`` (:class:`ui.mcp.Mounted`), over the same pool and behind the same token.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator

import anyio
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from index.cleaning import one_line, paired_quotes
from index.errors import ConfigError, InputError, RagError
from rag.answer import Answer, StreamEvent
from rag.assistant import Assistant
from rag.config import Config
from rag.format import details
from rag.public import public_answer, public_text, served_folders
from rag.retrieval import Filters
from ui.pool import CONCURRENCY, QUEUE_SIZE, Assistants

log = logging.getLogger(__name__)

MODEL = "news-rag"
SOURCES_HEADING = "**Sources**"
NOTE = "Note: "
WHY = "Why: "
QUOTE_CHARS = 300  # a quote longer than this is shortened in the Markdown list (never in ``citations``)
LOOPBACK = {"localhost"}
#: The largest request body taken: a conversation of 1 MB is hundreds of long turns.
MAX_BODY_BYTES = 1_000_000


class ApiError(Exception):
    """An error answered as OpenAI-style JSON with ``status``."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "code": self.code, "param": self.param}}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def forwarded_allow_ips(config: Config) -> str:
    """uvicorn's ``forwarded_allow_ips`` for a server of ours: the proxies the user names
    (``trusted_proxies``), or none. A request's client address is then taken from its
    ``X-Forwarded-For`` header only when it comes from one of them; uvicorn's own default trusts
    any loopback client, so anyone reaching the port through an ssh tunnel or socat could name
    whatever address they liked (and get fresh login attempts with each one)."""
    return ",".join(config.proxies())


def check_binding(host: str, token: str | None) -> None:
    """Refuse to serve beyond loopback without a token (:class:`ConfigError`, one line)."""
    if not token and not is_loopback(host):
        raise ConfigError(f"serving on {host} needs a token: set RAG_API_TOKEN (or api_token in the config file) "
                          "and give it to clients as their API key, or serve on 127.0.0.1")


# ---- requests ---------------------------------------------------------------------------------


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: the text ones
            return "\n".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # temperature, max_tokens ... do not apply to checked answers
    model: str = MODEL
    messages: list[Message]
    stream: bool = False
    filters: dict[str, Any] | None = None
    top_k: int | None = None


def answer_part(content: str) -> str:
    """An earlier answer as the assistant wrote it: without the why, notes and sources this endpoint
    appended (so a follow-up reads the answer, not its source list)."""
    for marker in (f"\n\n{WHY}", f"\n\n{NOTE}", f"\n\n{SOURCES_HEADING}"):
        content = content.split(marker, 1)[0]
    return content.strip()


def read_conversation(messages: list[Message], max_chars: int) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, a user's) and the earlier user/assistant turns."""
    if not messages or messages[-1].role != "user":
        raise ApiError(400, "the last message must be the user's question: send messages ending with "
                            '{"role": "user", "content": "..."}', code="invalid_messages")
    question = " ".join(messages[-1].text().split())
    if not question:
        raise ApiError(400, "empty question: send a question about the articles", code="empty_question")
    if len(question) > max_chars:
        raise ApiError(400, f"the question is {len(question):,} characters; the limit is {max_chars:,} "
                            "(max_question_chars): ask a shorter question", code="question_too_long")
    history = [{"role": m.role, "content": answer_part(m.text()) if m.role == "assistant" else m.text()}
               for m in messages[:-1] if m.role in ("user", "assistant") and m.text().strip()]
    return question, history


# ---- answers ----------------------------------------------------------------------------------


def tail(answer: Answer) -> str:
    """Why it abstained (an abstention), the notes and a Markdown "Sources" list, appended to the
    answer's text for plain clients. A quote that spans paragraphs or list items is one line
    without the items' marks, as the page and the CLI show it (:func:`index.cleaning.one_line`:
    "entrenched: Territory … · Security …", never "entrenched: - Territory"); a title's lost
    opening quote mark is put back (:func:`index.cleaning.paired_quotes`)."""
    parts = [f"{WHY}{answer.explanation}"] if answer.abstained and answer.explanation else []
    parts += [f"{NOTE}{note}" for note in answer.notes]
    if answer.citations:
        lines = [SOURCES_HEADING, ""]
        for c in answer.citations:
            quote = one_line(c.quote)
            quote = quote if len(quote) <= QUOTE_CHARS else quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
            published = f", {c.published}" if c.published else ""
            title = paired_quotes(" ".join(c.title.split()))
            lines.append(f"- [{c.n}] {title} ({Path(c.source).name}{published}): “{quote}”")
        parts.append("\n".join(lines))
    return "".join(f"\n\n{part}" for part in parts)


class Gate:
    """At most ``concurrency`` answers at once and ``queue_size`` waiting; beyond that, 429.
    Used from the event loop only."""

    def __init__(self, concurrency: int = CONCURRENCY, queue_size: int = QUEUE_SIZE):
        self.capacity = concurrency + queue_size
        self.inside = 0
        self._slots = anyio.Semaphore(concurrency)

    def admit(self) -> "Ticket":
        if self.inside >= self.capacity:
            raise ApiError(429, f"the server is busy ({self.capacity} questions answered or waiting): try again "
                                "in a moment", kind="rate_limit_error", code="queue_full")
        self.inside += 1
        return Ticket(self)


class Ticket:
    """A place in the queue; ``async with`` waits for a slot, and leaves the queue at the end."""

    def __init__(self, gate: Gate):
        self.gate, self.left, self.running = gate, False, False

    async def __aenter__(self) -> "Ticket":
        try:
            await self.gate._slots.acquire()
        except BaseException:
            self.leave()
            raise
        self.running = True
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.running:
            self.running = False
            self.gate._slots.release()
        self.leave()

    def leave(self) -> None:
        if not self.left:
            self.left = True
            self.gate.inside -= 1


def failure(error: BaseException, folders: Iterable[str | Path] = ()) -> ApiError:
    """An error raised while answering, as the API error to send: its message without server
    paths or process ids (``folders``, the store's, become ``<store>``; the log keeps them)."""
    if isinstance(error, ApiError):
        found = error
    elif isinstance(error, InputError):
        found = ApiError(400, str(error), code="invalid_input")
    elif isinstance(error, RagError):  # the store or a model failed: the server is fine, the service is not
        log.warning("answered 503: %s", error)
        found = ApiError(503, str(error), kind="server_error", code="unavailable")
    else:
        log.error("unexpected error while answering", exc_info=error)
        found = ApiError(500, f"unexpected {type(error).__name__}: {error}. The server still works: try again, or "
                              "check the server log", kind="server_error", code="internal_error")
    found.message = public_text(found.message, folders)
    return found


# ---- the app ----------------------------------------------------------------------------------


class Endpoint:
    """The OpenAI-compatible API over an :class:`Assistants` pool."""

    def __init__(self, pool: Assistants, token: str | None = None, *, concurrency: int = CONCURRENCY,
                 queue_size: int = QUEUE_SIZE):
        self.pool = pool
        self.token = token
        self.gate = Gate(concurrency, queue_size)
        self.created = int(time.time())
        #: The server folders a message may name, sent as ``<store>`` (see :func:`failure`).
        self.folders = served_folders(pool.config)

    def authorize(self, request: Request) -> None:
        if not self.token:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise ApiError(401, "missing or wrong API key: send the server's token (RAG_API_TOKEN) as the API key "
                                "(Authorization: Bearer <token>)", code="invalid_api_key")

    def models(self) -> list[str]:
        return [MODEL, *(f"{MODEL}:{name}" for name in self.pool.answerers)]

    def model(self, model: str) -> dict[str, Any]:
        """The model object of ``model`` as OpenAI's ``GET /v1/models/{model}`` gives it, or a 404
        (OpenAI's ``model_not_found``) for a model not served here."""
        if model not in self.models():
            raise ApiError(404, f"The model '{model}' does not exist here: use one of {', '.join(self.models())} "
                                "(GET /v1/models lists them)", code="model_not_found", param="model")
        return {"id": model, "object": "model", "created": self.created, "owned_by": "news-rag"}

    def answerer(self, model: str) -> str:
        name = self.pool.default_answerer() if model == MODEL else model.removeprefix(f"{MODEL}:")
        if model != MODEL and (not model.startswith(f"{MODEL}:") or name not in self.pool.answerers):
            raise ApiError(404, f"the model '{model}' does not exist here: use one of {', '.join(self.models())} "
                                "(GET /v1/models lists them)", code="model_not_found")
        return name

    def prepare(self, body: ChatRequest) -> tuple[Assistant, dict[str, Any]]:
        """The assistant and ``stream`` arguments for a request, or an :class:`ApiError` (400/404)."""
        llm = self.answerer(body.model)
        question, history = read_conversation(body.messages, self.pool.config.max_question_chars)
        if body.top_k is not None and not 1 <= body.top_k <= 50:
            raise ApiError(400, f"top_k must be a whole number from 1 to 50 (got {body.top_k})", code="invalid_top_k")
        try:
            filters = Filters.coerce(body.filters)
        except RagError as error:
            raise ApiError(400, str(error), code="invalid_filters") from None
        assistant = self.pool.assistant(llm)
        return assistant, {"question": question, "history": history or None,
                           "filters": None if filters is None or filters.is_empty() else filters,
                           "top_k": body.top_k}

    async def complete(self, request: Request, body: ChatRequest) -> Any:
        self.authorize(request)
        assistant, arguments = await anyio.to_thread.run_sync(self.prepare, body)
        ticket = self.gate.admit()
        reply = Reply(body.model)
        if body.stream:
            return StreamingResponse(self._stream(assistant, arguments, ticket, reply), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            async with ticket:
                answer = await anyio.to_thread.run_sync(lambda: assistant.ask(**arguments))
        except Exception as error:  # noqa: BLE001 - an API error; the server goes on
            raise failure(error, self.folders) from None
        return reply.completion(public_answer(answer, self.folders))

    async def _stream(self, assistant: Assistant, arguments: dict[str, Any], ticket: Ticket,
                      reply: "Reply") -> AsyncIterator[str]:
        try:
            async with ticket:
                events = assistant.stream(**arguments)
                try:
                    said = False
                    while (event := await anyio.to_thread.run_sync(_next, events)) is not None:
                        if event.kind == "sentence":
                            yield reply.chunk({"content": (" " if said else "") + event.text})
                            said = True
                        elif event.answer is not None:
                            answer = public_answer(event.answer, self.folders)
                            if not said:  # an abstention: its text comes with the answer
                                yield reply.chunk({"content": answer.text})
                            yield reply.chunk({"content": tail(answer), **details(answer)}, "stop")
                finally:
                    await anyio.to_thread.run_sync(events.close)
        except Exception as error:  # noqa: BLE001 - sent as an error event; the server goes on
            yield f"data: {json.dumps(failure(error, self.folders).body(), ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"


def _next(events: Iterator[StreamEvent]) -> StreamEvent | None:
    return next(events, None)


class Reply:
    """The OpenAI shapes of one answer: a completion, or its chunks."""

    def __init__(self, model: str):
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.model = model
        self.created = int(time.time())
        self.first = True

    def completion(self, answer: Answer) -> dict[str, Any]:
        message = {"role": "assistant", "content": answer.text + tail(answer), **details(answer)}
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> str:
        if self.first:
            delta, self.first = {"role": "assistant", **delta}, False
        data = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is answered 413, before the app reads
    it (a declared ``Content-Length``), or once that many bytes have come (a chunked body, read
    here first: bodies under the limit are small)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                await self._refuse(int(declared), scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client left: the app hears of it
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(None, scope, receive, send)
                return
            if not message.get("more_body"):
                message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        first = [message]

        async def replay() -> dict:
            return first.pop() if first else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, size: int | None, scope: Scope, receive: Receive, send: Send) -> None:
        sent = f"{size:,} bytes" if size is not None else f"more than {self.limit:,} bytes"
        error = ApiError(413, f"the request body is {sent}; the limit is {self.limit:,} bytes: send a shorter "
                              "conversation (fewer or shorter earlier turns)", code="request_too_large")
        await JSONResponse(error.body(), status_code=413, headers={"Connection": "close"})(scope, receive, send)


class Guarded:
    """An ASGI app behind the endpoint's token: a request without it is answered 401, as the API's are."""

    def __init__(self, app: ASGIApp, endpoint: Endpoint):
        self.app, self.endpoint = app, endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            self.endpoint.authorize(Request(scope))
        except ApiError as error:
            await JSONResponse(error.body(), status_code=error.status)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(pool: Assistants, token: str | None = None, *, mcp: bool = False, host: str = "127.0.0.1",
               **limits: Any) -> FastAPI:
    """The FastAPI app; ``token`` (if set) is required from every client; ``limits``:
    ``concurrency``, ``queue_size``. With ``mcp``, the MCP server over the same pool is served at
    ``/mcp`` too (streamable HTTP; ``host`` is the address served on, for its DNS-rebinding check)."""
    endpoint = Endpoint(pool, token, **limits)
    mounted = None
    if mcp:
        from ui.mcp import PATH, Mounted  # it imports this module

        mounted = Mounted(pool, host)
    app = FastAPI(title="news-rag", summary="OpenAI-compatible chat completions over the news articles",
                  docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=(lambda app: mounted.running()) if mounted else None)
    app.state.endpoint = endpoint
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    if mounted:
        app.add_route(PATH, Guarded(mounted, endpoint), include_in_schema=False)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        problem = failure(error, endpoint.folders)
        return JSONResponse(problem.body(), status_code=problem.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in error.errors())
        problem = ApiError(400, f"bad request ({problems}): send an OpenAI chat completion request",
                           code="invalid_request")
        return JSONResponse(problem.body(), status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(ApiError(error.status_code, str(error.detail), code=None).body(),
                            status_code=error.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        problem = failure(error, endpoint.folders)
        return JSONResponse(problem.body(), status_code=problem.status)

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        endpoint.authorize(request)
        return {"object": "list", "data": [endpoint.model(name) for name in endpoint.models()]}

    @app.get("/v1/models/{model:path}")
    async def model(request: Request, model: str) -> dict[str, Any]:
        endpoint.authorize(request)
        return endpoint.model(model)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request, body: ChatRequest) -> Any:
        return await endpoint.complete(request, body)

    return app


# ---- running it -------------------------------------------------------------------------------


def _server(pool: Assistants, host: str, port: int, token: str | None, **options: Any) -> uvicorn.Server:
    check_binding(host, token)
    trusted = forwarded_allow_ips(pool.config)
    return uvicorn.Server(uvicorn.Config(create_app(pool, token, host=host, **options), host=host, port=port,
                                         log_level="warning", access_log=False, proxy_headers=bool(trusted),
                                         forwarded_allow_ips=trusted))


def serve(pool: Assistants, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
          mcp: bool = False) -> None:
    """Serve until interrupted (refused, with :class:`ConfigError`, beyond loopback without a token);
    with ``mcp``, the MCP server at ``/mcp`` too."""
    _server(pool, host, port, token, mcp=mcp).run()


class Running:
    """A server started by :func:`start`, in a thread of this process."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread):
        self.server, self.thread = server, thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start(pool: Assistants, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
          mcp: bool = False, **limits: Any) -> Running:
    """Serve in a background thread; returns once it listens (``rag chat --api``, tests, benchmarks);
    with ``mcp``, the MCP server at ``/mcp`` too."""
    server = _server(pool, host, port, token, mcp=mcp, **limits)
    thread = threading.Thread(target=server.run, name=f"rag-serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(f"the API server did not start on {host}:{port}: is the port in use? Choose another")
        time.sleep(0.02)
    return Running(server, thread)

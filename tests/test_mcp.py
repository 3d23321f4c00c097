"""``rag mcp``: the ``mcp`` package's client session against the server, over stdio (``python -m rag
mcp`` in a child process, as a desktop client starts it) and over streamable HTTP (in this
process), over the seed store with the extractive answerer."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from rag.assistant import Assistant
from rag.mcp_server import create_server
from rag.pool import Assistants
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow
PRISONERS = "How many prisoners did each side exchange in Istanbul?"
GENEVA_ARTICLE = "001_e1a75e9ba97278eb.txt"  # about the Geneva talks; unfiltered, the answer cites 003
NO_PRISONER_FIGURE = "003_d89c9a04b964dece.txt"  # mentions prisoner exchanges, not the 1,000 (only 004 does)


async def _exercise(session: ClientSession) -> dict:
    """What a client does: list the tools, ask, search, list the articles, read one."""
    await session.initialize()
    seen: dict = {"tools": sorted(tool.name for tool in (await session.list_tools()).tools)}
    seen["ask"] = await session.call_tool("ask", {"question": PRISONERS})
    seen["abstain"] = await session.call_tool("ask", {"question": "What is the capital of France?"})
    seen["search"] = await session.call_tool("search", {"query": "Who mediated the Geneva talks?", "top_k": 3})
    seen["filtered"] = await session.call_tool("search", {"query": "Geneva", "sources": ["002_no_such_file.txt"]})
    seen["ask_one_article"] = await session.call_tool("ask", {"question": "Who mediated the Geneva talks?",
                                                              "sources": [GENEVA_ARTICLE]})
    seen["ask_without_the_answer"] = await session.call_tool("ask", {"question": PRISONERS,
                                                                     "sources": [NO_PRISONER_FIGURE]})
    seen["empty"] = await session.call_tool("ask", {"question": "  "})
    seen["articles"] = await session.call_tool("list_articles", {})
    resources = (await session.list_resources()).resources
    seen["resources"] = [str(r.uri) for r in resources]
    seen["text"] = (await session.read_resource(resources[0].uri)).contents[0].text
    return seen


def _check(seen: dict) -> None:
    assert seen["tools"] == ["ask", "list_articles", "search"]
    ask = seen["ask"]
    assert not ask.is_error and "1,000" in ask.structured_content["answer"]
    assert "[1]" in ask.structured_content["answer"] and ask.structured_content["abstained"] is False
    citation = ask.structured_content["citations"][0]
    assert "1,000" in citation["quote"] and "/" not in citation["source"]
    assert ask.structured_content["confidence"] > 0.5
    assert seen["abstain"].structured_content["abstained"] is True
    passages = seen["search"].structured_content["passages"]
    assert len(passages) == 3 and all(p["score"] > 0 and "/" not in p["source"] for p in passages)
    assert any("Geneva" in p["text"] for p in passages)
    assert seen["filtered"].structured_content["passages"] == []
    # ask honours its filters: it cites only the article allowed ...
    one = seen["ask_one_article"].structured_content
    assert not seen["ask_one_article"].is_error and not one["abstained"] and one["citations"]
    assert {c["source"] for c in one["citations"]} == {GENEVA_ARTICLE}
    # ... and, the one article that states the figure left out, it does not give it, and says why
    without = seen["ask_without_the_answer"].structured_content
    assert {c["source"] for c in without["citations"]} <= {NO_PRISONER_FIGURE} and "1,000" not in without["answer"]
    assert without["abstained"] and "the article filter left out 4 of 5 articles" in without["notes"]
    assert seen["empty"].is_error and "empty question: type a question about the articles" in \
        seen["empty"].content[0].text
    articles = seen["articles"].structured_content["articles"]
    assert len(articles) == 5 and {a["uri"] for a in articles} <= set(seen["resources"])
    assert len(seen["text"]) > 1000


def test_a_desktop_client_over_stdio(seed_store: Path) -> None:
    env = {**os.environ, "RAG_STORE_PATH": str(seed_store), "RAG_LLM": "extractive", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(ROOT)}
    server = StdioServerParameters(command=sys.executable, args=["-m", "rag", "mcp"], cwd=str(ROOT), env=env)

    async def client() -> dict:
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            return await _exercise(session)

    _check(asyncio.run(asyncio.wait_for(client(), 300)))


def test_streamable_http(assistant: Assistant) -> None:
    server = create_server(Assistants(assistant.config, lambda config: assistant, answerers=["extractive"]))
    port = free_port()
    web = uvicorn.Server(uvicorn.Config(server.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the MCP server did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/mcp"

    async def client() -> dict:
        async with streamable_http_client(url) as (read, write, *_), ClientSession(read, write) as session:
            return await _exercise(session)

    try:
        _check(asyncio.run(asyncio.wait_for(client(), 300)))
    finally:
        web.should_exit = True
        thread.join(timeout=30)

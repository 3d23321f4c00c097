"""``rag mcp``: the ``mcp`` package's client session against the server, over stdio (``python -m rag
mcp`` in a child process, as a desktop client starts it) and over streamable HTTP (in this
process, and beside the page and the OpenAI-compatible API in ``rag chat --api``), over the seed
store with the extractive answerer."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

import httpx
import httpx2
import pytest
import uvicorn
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from openai import OpenAI

from rag.assistant import Assistant
from tests.conftest import ROOT, free_port, serve
from tests.test_serve import TOKEN, _outside_address
from ui.mcp import create_server
from ui.pool import Assistants
from ui.serve import start

pytestmark = pytest.mark.slow
PRISONERS = "How many prisoners did each side exchange in Istanbul?"
GENEVA_ARTICLE = "001_e1a75e9ba97278eb.txt"  # about the Geneva talks
#: Answered from 001 and 000 unfiltered; from 001 alone when filtered to it.
NEGOTIATOR = "How did the Russian negotiator describe the discussions?"
NO_PRISONER_FIGURE = "003_d89c9a04b964dece.txt"  # mentions prisoner exchanges, not the 1,000 (only 004 does)


async def _exercise(session: ClientSession) -> dict:
    """What a client does: list the tools, ask, search, list the articles, read one."""
    await session.initialize()
    seen: dict = {"tools": sorted(tool.name for tool in (await session.list_tools()).tools)}
    seen["ask"] = await session.call_tool("ask", {"question": PRISONERS})
    seen["abstain"] = await session.call_tool("ask", {"question": "What is the capital of France?"})
    seen["search"] = await session.call_tool("search", {"query": "Who mediated the Geneva talks?", "top_k": 3})
    seen["filtered"] = await session.call_tool("search", {"query": "Geneva", "sources": ["002_no_such_file.txt"]})
    seen["ask_one_article"] = await session.call_tool("ask", {"question": NEGOTIATOR, "sources": [GENEVA_ARTICLE]})
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
    assert without["abstained"] and "the article filter (the article “" in without["explanation"]
    assert "left out 4 of 5 articles" in without["explanation"] and without["reason"] == "unsure"
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


async def _ask(url: str, question: str, token: str | None = None) -> dict:
    """One ``ask`` call over streamable HTTP, as a client configured with ``url`` (and ``token``) makes it."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http, \
            streamable_http_client(url, http_client=http) as (read, write, *_), ClientSession(read, write) as session:
        await session.initialize()
        return {"ask": await session.call_tool("ask", {"question": question}),
                "articles": await session.call_tool("list_articles", {})}


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "no-token", "version": "0"}}}


def test_beside_the_api_mcp_shares_its_assistants_and_its_token(assistant: Assistant) -> None:
    """``start(..., mcp=True)``, what ``rag chat --api`` runs: MCP at /mcp of the API's server, over
    the same pool (one assistant built for both) and behind the same token beyond loopback."""
    built: list[str] = []

    def factory(config):
        built.append(config.llm)
        return assistant

    port = free_port()
    server = start(Assistants(assistant.config, factory, answerers=["extractive"]), "0.0.0.0", port, TOKEN, mcp=True)
    url = f"http://{_outside_address()}:{port}"
    try:
        for headers in ({}, {"Authorization": "Bearer wrong-token"}):
            refused = httpx.post(f"{url}/mcp", json=INITIALIZE, headers={
                "Accept": "application/json, text/event-stream", **headers})
            assert refused.status_code == 401 and "RAG_API_TOKEN" in refused.json()["error"]["message"]
        seen = asyncio.run(asyncio.wait_for(_ask(f"{url}/mcp", PRISONERS, TOKEN), 300))
        assert not seen["ask"].is_error and "1,000" in seen["ask"].structured_content["answer"]
        reply = OpenAI(base_url=f"{url}/v1", api_key=TOKEN, max_retries=0).chat.completions.create(
            model="news-rag", messages=[{"role": "user", "content": PRISONERS}])
        assert "1,000" in reply.choices[0].message.content
        assert built == ["extractive"]  # one pool: the API and MCP answered from the same assistant
    finally:
        server.stop()


VIENNA = ("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, 2031. "
          "Both sides agreed to exchange 42 fishing boats seized during the dispute.\n")


def test_rag_chat_api_serves_mcp_beside_the_page_over_one_store(seed_store: Path, tmp_path: Path) -> None:
    """``rag chat --api`` as a real process: an MCP client's ``ask`` is answered with citations at
    /mcp of the API's port, and an article uploaded through the page is at once listed and cited
    there (the page and MCP answer from one store, through one pool)."""
    from gradio_client import Client, handle_file

    store = tmp_path / "store"
    shutil.copytree(seed_store, store)  # the upload must not reach the session's seed store
    page, api = free_port(), free_port()
    command = [sys.executable, "-m", "rag", "--store", str(store), "chat", "--llm", "extractive", "--port",
               str(page), "--api", "--api-port", str(api)]
    mcp_url, page_url = f"http://127.0.0.1:{api}/mcp", f"http://127.0.0.1:{page}"
    log = tmp_path / "chat.log"
    with serve(command, lambda: httpx.get(f"{page_url}/config").raise_for_status(), log, timeout=300) as process:
        before = asyncio.run(asyncio.wait_for(_ask(mcp_url, PRISONERS), 300))
        article = tmp_path / "Talks in Vienna.txt"
        article.write_text(VIENNA, encoding="utf-8")
        uploaded = Client(page_url, verbose=False).predict([handle_file(str(article))], api_name="/upload")
        after = asyncio.run(asyncio.wait_for(_ask(
            mcp_url, "How many fishing boats did Norland and Sudmark agree to exchange?"), 300))
        assert process.poll() is None
    answer = before["ask"].structured_content
    assert not before["ask"].is_error and "1,000" in answer["answer"] and "[1]" in answer["answer"]
    assert not answer["abstained"] and "1,000" in answer["citations"][0]["quote"]
    assert len(before["articles"].structured_content["articles"]) == 5
    assert "Indexed Talks in Vienna.txt" in str(uploaded)
    titles = [a["title"] for a in after["articles"].structured_content["articles"]]
    assert len(titles) == 6 and "Envoys meet in Vienna" in titles
    vienna = after["ask"].structured_content
    assert not vienna["abstained"] and "42" in vienna["answer"]
    assert [c["title"] for c in vienna["citations"]] == ["Envoys meet in Vienna"]
    assert (f"Serving the OpenAI-compatible API on http://127.0.0.1:{api}/v1 and MCP on {mcp_url}, sharing the "
            "page's assistants") in log.read_text()


HELSINKI = [("Heading 1", "Helsinki dredges a second channel for the Tallinn ferries"),
            ("Normal", "The port of Helsinki began dredging a second channel at Länsisatama on Monday, so that the "
                       "Tallinn ferries no longer wait for cargo ships to pass."),
            ("Normal", "The dredging will cost 38 million euros and end in the autumn of 2027, the port said.")]
COST = "How much will the dredging of the second channel at Länsisatama cost?"
OTSO = "How often will the icebreaker Otso clear the channel between Helsinki and Tallinn?"


async def _uploads_seen(url: str, filtered: dict) -> dict:
    """What an MCP client sees of the uploads: the articles listed, and ``ask`` and ``search``
    with the ``filtered`` arguments."""
    async with streamable_http_client(url) as (read, write, *_), ClientSession(read, write) as session:
        await session.initialize()
        return {"articles": (await session.call_tool("list_articles", {})).structured_content["articles"],
                "ask": await session.call_tool("ask", {"question": COST, **filtered}),
                "search": await session.call_tool("search", {"query": COST, "top_k": 3, **filtered}),
                "dated": await session.call_tool("ask", {"question": OTSO, "published_after": "2026-06-01"})}


def test_an_upload_is_cited_and_filtered_by_its_uploaded_name_and_dated_by_its_byline(
        seed_store: Path, real_embedder, tmp_path: Path) -> None:
    """Issues 32.2 and 32.3, as a client of `rag serve`, of MCP and of `rag ask` meets them. An
    upload had two names: the page showed helsinki_channel.docx, the API and MCP cited
    3e63fc33….docx, and an MCP `ask` filtered by the shown name abstained ("left out 6 of 6
    articles"). And a PDF made today was dated today, not March 3, 2026 as its byline says, so a
    filter for articles published since June let it through."""
    from click.testing import CliRunner

    from rag.cli import main
    from rag.config import Config
    from tests.test_formats import channel_pdf, pilots_docx
    from ui.app import Backend

    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    backend = Backend(Config(store_path=store, llm="extractive"), embedder=real_embedder)
    docx, pdf = tmp_path / "helsinki_channel.docx", tmp_path / "winter_channel.pdf"
    docx.write_bytes(pilots_docx(properties=False, blocks=HELSINKI))
    pdf.write_bytes(channel_pdf(["By Anna Virtanen | Nordic Wire", "March 3, 2026"]))
    for upload in (docx, pdf):  # as the page uploads them
        assert backend.add_upload(upload, upload.name, lambda *_: None)[0] == "ok"
    port = free_port()
    server = start(backend.pool, "127.0.0.1", port, mcp=True)
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(model="news-rag", messages=[{"role": "user", "content": COST}],
                                               extra_body={"filters": {"sources": ["helsinki_channel.docx"]}})
        dated = client.chat.completions.create(model="news-rag", messages=[{"role": "user", "content": OTSO}],
                                               extra_body={"filters": {"published_before": "2026-03-31"}})
        seen = asyncio.run(asyncio.wait_for(_uploads_seen(f"http://127.0.0.1:{port}/mcp",
                                                          {"sources": ["helsinki_channel.docx"]}), 300))
    finally:
        server.stop()

    extra = reply.choices[0].message.model_extra
    assert not extra["abstained"] and "38 million euros" in reply.choices[0].message.content
    assert {c["source"] for c in extra["citations"]} == {"helsinki_channel.docx"}
    listed = {a["source"]: a for a in seen["articles"]}
    assert {"helsinki_channel.docx", "winter_channel.pdf"} <= listed.keys()
    assert not any(re.fullmatch(r"[0-9a-f]{32}\.\w+", name) for name in listed), listed.keys()
    ask = seen["ask"].structured_content
    assert not seen["ask"].is_error and not ask["abstained"] and "38 million euros" in ask["answer"], ask
    assert {c["source"] for c in ask["citations"]} == {"helsinki_channel.docx"}
    assert {p["source"] for p in seen["search"].structured_content["passages"]} == {"helsinki_channel.docx"}

    channel = listed["winter_channel.pdf"]
    assert (channel["published"], channel["author"], channel["outlet"]) == \
        ("2026-03-03", "Anna Virtanen", "Nordic Wire")
    since_june = seen["dated"].structured_content
    assert "winter_channel.pdf" not in {c["source"] for c in since_june["citations"]}, since_june
    assert "twice a day" in dated.choices[0].message.content
    assert {c["source"] for c in dated.choices[0].message.model_extra["citations"]} == {"winter_channel.pdf"}

    printed = CliRunner().invoke(main, ["--store", str(store), "ask", "--llm", "extractive", "--json",
                                        "--source", "helsinki_channel.docx", COST])
    assert printed.exit_code == 0, printed.output
    cited = json.loads(printed.output)["citations"]
    assert cited and {Path(c["source"]).name for c in cited} == {"helsinki_channel.docx"}

"""``rag serve``: the official openai client against a real server on loopback (uvicorn in a
thread of the test process, so it shares the session's model), over the seed store with the
extractive answerer."""

from __future__ import annotations

import re
import socket
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import openai
import pytest
from click.testing import CliRunner
from openai import OpenAI

from rag.answer import StreamEvent
from rag.assistant import Assistant
from rag.cli import main
from rag.config import Config
from tests.conftest import free_port, serve
from ui.pool import Assistants
from ui.serve import start

pytestmark = pytest.mark.slow
TOKEN = "s3cret-token-for-tests"
PRISONERS = "How many prisoners did each side exchange in Istanbul?"


def pool_of(assistant: Assistant) -> Assistants:
    return Assistants(assistant.config, lambda config: assistant, answerers=["extractive"])


@pytest.fixture(scope="module")
def base_url(assistant: Assistant) -> Iterator[str]:
    port = free_port()
    server = start(pool_of(assistant), "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}/v1"
    server.stop()


@pytest.fixture()
def client(base_url: str) -> OpenAI:
    return OpenAI(base_url=base_url, api_key="unused", max_retries=0)


def ask(client: OpenAI, question: str, history: list[dict] | None = None, **options):
    messages = [*(history or []), {"role": "user", "content": question}]
    return client.chat.completions.create(model="news-rag", messages=messages, **options)


def test_models_are_listed(client: OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["news-rag", "news-rag:extractive"]


def test_a_model_is_retrieved_by_its_id_as_from_openai(client: OpenAI) -> None:
    """Issue 32.7: `GET /v1/models/{id}` was 404 (OpenAI's API has it: clients check a model
    before using it). A model not served here is OpenAI's own 404, `model_not_found`."""
    for name in ("news-rag", "news-rag:extractive"):
        model = client.models.retrieve(name)
        assert (model.id, model.object, model.owned_by) == (name, "model", "news-rag") and model.created > 0
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-4o")
    assert (missing.value.code, missing.value.param, missing.value.type) == \
        ("model_not_found", "model", "invalid_request_error")
    assert "The model 'gpt-4o' does not exist here: use one of news-rag, news-rag:extractive" in missing.value.message


def test_the_markdown_sources_list_has_one_line_a_source_without_list_debris(client: OpenAI) -> None:
    """Issue 32.7: a quote spanning a list's intro and its first item was listed as "deeply
    entrenched: - Territory …" in the Markdown "Sources"; it reads as the page and the CLI show
    it, and a title's lost opening quote mark is put back."""
    content = ask(client, "What are the main hurdles to peace?").choices[0].message.content
    sources = content.split("\n\n**Sources**\n\n")[1].splitlines()
    assert sources and all(line.startswith("- [") for line in sources), content
    listed = next(line for line in sources if "Territory and Annexations" in line)
    assert "deeply entrenched: Territory and Annexations: Russia seeks" in listed, listed
    assert ": -" not in content and " - Territory" not in content, content
    assert not any(re.search(r"\] Difficult’", line) for line in sources), sources


def test_a_question_is_answered_with_citations(client: OpenAI) -> None:
    reply = ask(client, PRISONERS)
    message = reply.choices[0].message
    assert "1,000" in message.content and "[1]" in message.content
    assert "\n\n**Sources**\n\n- [1] " in message.content  # plain clients show the sources too
    citations = message.model_extra["citations"]
    assert citations and citations[0]["n"] == 1 and "1,000" in citations[0]["quote"]
    assert set(citations[0]) == {"n", "title", "source", "published", "outlet", "url", "quote", "start", "end",
                                 "score"}
    assert re.fullmatch(r"\d{3}_[0-9a-f]+\.txt", citations[0]["source"])  # the file name, never a server path
    assert message.model_extra["abstained"] is False and message.model_extra["confidence"] > 0.5
    assert reply.choices[0].finish_reason == "stop" and reply.model == "news-rag"


def test_the_stream_sends_one_chunk_per_checked_sentence(client: OpenAI, assistant: Assistant) -> None:
    question = "Which European powers were present in Geneva for consultations with Ukrainian officials?"
    direct = [e.text for e in assistant.stream(question) if e.kind == "sentence"]
    chunks = list(ask(client, question, stream=True))
    contents = [c.choices[0].delta.content for c in chunks]
    assert len(direct) >= 2 and len(chunks) == len(direct) + 1  # the sentences, then the sources
    assert [text.strip() for text in contents[:-1]] == direct
    assert all(re.search(r"\[\d+\]$", text) for text in contents[:-1])
    assert chunks[0].choices[0].delta.role == "assistant"
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop" and last.delta.content.startswith("\n\n**Sources**")
    assert [c["n"] for c in last.delta.model_extra["citations"]] == list(range(1, len(last.delta.model_extra["citations"]) + 1))
    whole = ask(client, question).choices[0].message.content
    assert "".join(contents) == whole  # streamed or not, the same text


def test_a_follow_up_uses_the_earlier_turn(client: OpenAI) -> None:
    first = "How many prisoners did each side agree to exchange in Istanbul in May 2025?"
    earlier = ask(client, first).choices[0].message.content  # sent back whole, sources and all
    reply = ask(client, "And in which palace were those talks held?",
                history=[{"role": "system", "content": "You are helpful."}, {"role": "user", "content": first},
                         {"role": "assistant", "content": earlier}])
    assert "Dolmabahçe" in reply.choices[0].message.content


def test_a_question_the_articles_do_not_answer_is_an_abstention(client: OpenAI) -> None:
    for reply in (ask(client, "What is the capital of France?"),):
        message = reply.choices[0].message
        assert message.content.startswith("The articles don't say.")
        assert message.model_extra["abstained"] is True and message.model_extra["citations"] == []
        why = message.model_extra["explanation"]  # the reason, in words, also in the text for plain clients
        assert message.model_extra["reason"] == "unsure" and why.startswith("Not sure enough to answer")
        assert f"\n\nWhy: {why}" in message.content
    chunks = list(ask(client, "What is the capital of France?", stream=True))
    assert chunks[0].choices[0].delta.content.startswith("The articles don't say.")
    assert chunks[-1].choices[0].delta.model_extra["abstained"] is True


def test_bad_requests_are_refused_with_clear_messages(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as long:
        ask(client, "Why? " * 1000)
    assert long.value.status_code == 400 and long.value.code == "question_too_long"
    assert "the question is 4,999 characters; the limit is 1,000 (max_question_chars)" in long.value.message
    with pytest.raises(openai.BadRequestError) as empty:
        ask(client, "   ")
    assert "empty question" in empty.value.message
    with pytest.raises(openai.BadRequestError) as stream_too_long:  # refused before the stream starts
        ask(client, "Why? " * 1000, stream=True)
    assert stream_too_long.value.status_code == 400
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": PRISONERS}])
    assert unknown.value.code == "model_not_found" and "news-rag:extractive" in unknown.value.message
    with pytest.raises(openai.BadRequestError) as filters:
        ask(client, PRISONERS, extra_body={"filters": {"authors": ["x"]}})
    assert "unknown filter" in filters.value.message
    raw = httpx.post(client.base_url.join("chat/completions"), json={"messages": "no"})
    assert raw.status_code == 400 and set(raw.json()["error"]) >= {"message", "type", "code"}


def test_filters_and_top_k_travel_as_extra_fields(client: OpenAI) -> None:
    reply = ask(client, "What did officials say about the talks?",
                extra_body={"filters": {"sources": ["003_d89c9a04b964dece.txt"]}, "top_k": 3})
    sources = {c["source"] for c in reply.choices[0].message.model_extra["citations"]}
    assert sources == {"003_d89c9a04b964dece.txt"}


def _outside_address() -> str:
    """This machine's address on its network, else loopback (a machine with none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))  # no packet is sent: it only picks the outgoing address
            return sock.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def test_beyond_loopback_a_token_is_required(assistant: Assistant) -> None:
    port = free_port()
    server = start(pool_of(assistant), "0.0.0.0", port, TOKEN)
    try:
        url = f"http://{_outside_address()}:{port}/v1"
        with pytest.raises(openai.AuthenticationError) as refused:
            OpenAI(base_url=url, api_key="wrong-token", max_retries=0).chat.completions.create(
                model="news-rag", messages=[{"role": "user", "content": PRISONERS}])
        assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
        missing = httpx.post(f"{url}/chat/completions", json={"messages": [{"role": "user", "content": PRISONERS}]})
        assert missing.status_code == 401 and "RAG_API_TOKEN" in missing.json()["error"]["message"]
        assert httpx.get(f"{url}/models").status_code == 401
        good = OpenAI(base_url=url, api_key=TOKEN, max_retries=0)
        assert "1,000" in ask(good, PRISONERS).choices[0].message.content
    finally:
        server.stop()


def test_serving_beyond_loopback_without_a_token_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no rag.toml
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", str(free_port())])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: serving on 0.0.0.0 needs a token: set RAG_API_TOKEN (or api_token in the config file) and give it "
        "to clients as their API key, or serve on 127.0.0.1"]
    assert "--api-token" in CliRunner().invoke(main, ["serve", "--help"]).output


def test_serve_help_names_every_field_and_error_status_it_can_send() -> None:
    """Issue 21: `rag serve --help` is complete: every citation field the endpoint sends, every
    field beside the text, every error status, and the page's limits as the code has them."""
    from rag.answer import Answer, Citation
    from ui.pool import CONCURRENCY, QUEUE_SIZE
    from ui.serve import details

    text = " ".join(CliRunner().invoke(main, ["serve", "--help"]).output.split())
    citation = Citation(n=1, source="/srv/a.txt", title="A", published=None, quote="q", start=0, end=1, score=1.0)
    sent = details(Answer(question="q", text="q [1]", abstained=False, citations=[citation], supported=(1, 1),
                          answerer="extractive", timings={}))
    for field in [*sent["citations"][0], *sent]:
        assert re.search(rf"\b{field}\b", text), f"rag serve --help does not name '{field}'"
    for status in ("400", "401", "404", "413", "429", "500", "503"):
        assert re.search(rf"\b{status}\b", text), f"rag serve --help does not name the status {status}"
    assert f"{CONCURRENCY} answers at once and {QUEUE_SIZE} waiting" in text


def test_twenty_streams_at_once_all_complete(base_url: str, client: OpenAI) -> None:
    questions = [PRISONERS, "Who mediated the Geneva talks?", "What is the main obstacle to a ceasefire?",
                 "What is the capital of France?"]
    results: dict[int, object] = {}

    def one(i: int) -> None:
        try:
            chunks = list(ask(OpenAI(base_url=base_url, api_key="unused", max_retries=0), questions[i % 4],
                              stream=True))
            results[i] = chunks[-1].choices[0].finish_reason
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert results == {i: "stop" for i in range(20)}
    assert "1,000" in ask(client, PRISONERS).choices[0].message.content  # still up


@contextmanager
def one_at_a_time(fake) -> Iterator[tuple[OpenAI, str]]:
    """A server over ``fake`` (an object with the Assistant's stream/ask) that answers one question
    at a time and queues none: the client, and the server's base URL."""
    port = free_port()
    server = start(Assistants(fake.config, lambda config: fake, answerers=["extractive"]), "127.0.0.1", port,
                   concurrency=1, queue_size=0)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        yield OpenAI(base_url=url, api_key="unused", max_retries=0), url
    finally:
        fake.release.set()
        server.stop()


class _Slow:
    """An assistant that holds its slot until released, then fails mid-answer."""

    def __init__(self, config: Config):
        self.config = config
        self.release = threading.Event()
        self.entered = threading.Event()

    def stream(self, question: str, **options) -> Iterator[StreamEvent]:
        self.entered.set()
        self.release.wait(30)
        yield StreamEvent("sentence", text="A first sentence. [1]")
        raise RuntimeError("the disk caught fire")

    def ask(self, question: str, **options):
        self.release.wait(30)
        raise RuntimeError("the disk caught fire")


def test_a_full_queue_is_429_and_a_failing_answer_does_not_stop_the_server(assistant: Assistant) -> None:
    slow = _Slow(assistant.config)
    with one_at_a_time(slow) as (client, url):
        first: list = []
        waiting = threading.Thread(target=lambda: first.append(list(_events(client))))
        waiting.start()
        assert slow.entered.wait(30)  # the first request holds the only slot
        busy = httpx.post(f"{url}/chat/completions",
                          json={"model": "news-rag", "messages": [{"role": "user", "content": PRISONERS}]})
        assert busy.status_code == 429 and busy.json()["error"]["code"] == "queue_full"
        slow.release.set()
        waiting.join(timeout=30)
        assert first and first[0][0] == "A first sentence. [1]" and "the disk caught fire" in first[0][-1]
        with pytest.raises(openai.InternalServerError) as failed:
            ask(client, PRISONERS)
        assert "unexpected RuntimeError: the disk caught fire" in failed.value.message
        assert [m.id for m in client.models.list()] == ["news-rag", "news-rag:extractive"]  # still up

def _events(client: OpenAI) -> Iterator[str]:
    """A stream's texts, then the error that ended it."""
    try:
        for chunk in ask(client, PRISONERS, stream=True):
            yield chunk.choices[0].delta.content
    except openai.APIError as error:
        yield str(error)


def test_rag_chat_api_serves_the_page_and_the_api_from_one_process(seed_store: Path, tmp_path: Path) -> None:
    page, api = free_port(), free_port()
    command = [sys.executable, "-m", "rag", "--store", str(seed_store), "chat", "--llm", "extractive", "--port",
               str(page), "--api", "--api-port", str(api)]
    client = OpenAI(base_url=f"http://127.0.0.1:{api}/v1", api_key="unused", max_retries=0)
    with serve(command, lambda: (client.models.list(), httpx.get(f"http://127.0.0.1:{page}/").raise_for_status()),
               tmp_path / "chat.log", timeout=300) as process:
        reply = ask(client, PRISONERS)
        assert "1,000" in reply.choices[0].message.content and reply.choices[0].message.model_extra["citations"]
        assert "Ask the news articles" in httpx.get(f"http://127.0.0.1:{page}/config").text
        assert process.poll() is None


class _Paused:
    """An assistant that says one sentence, then waits until released before the rest."""

    def __init__(self, config: Config):
        self.config = config
        self.release = threading.Event()

    def stream(self, question: str, **options) -> Iterator[StreamEvent]:
        yield StreamEvent("sentence", text="A first sentence. [1]")
        self.release.wait(30)
        yield StreamEvent("sentence", text="A second sentence. [1]")


def test_a_client_that_leaves_mid_stream_frees_its_place(assistant: Assistant) -> None:
    paused = _Paused(assistant.config)
    with one_at_a_time(paused) as (client, url):
        stream = ask(client, PRISONERS, stream=True)
        assert next(iter(stream)).choices[0].delta.content == "A first sentence. [1]"
        stream.close()  # the client goes away while the answer is still being made
        paused.release.set()
        pause = threading.Event()
        for _ in range(100):  # its place in the queue is given back
            again = httpx.post(f"{url}/chat/completions", timeout=30,
                               json={"stream": True, "messages": [{"role": "user", "content": PRISONERS}]})
            if again.status_code == 200:
                break
            pause.wait(0.1)
        assert again.status_code == 200 and "A second sentence. [1]" in again.text

def test_a_generative_answer_streams_only_checked_sentences(seed_store: Path, real_embedder) -> None:
    pool = Assistants(Config(store_path=seed_store, llm="local"), embedder=real_embedder,
                      answerers=["extractive", "local"])
    port = free_port()
    server = start(pool, "127.0.0.1", port)
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        chunks = list(client.chat.completions.create(model="news-rag:local", stream=True, messages=[
            {"role": "user", "content": "Who mediated the Geneva talks?"}]))
        contents = [c.choices[0].delta.content for c in chunks]
        assert len(contents) >= 2 and all(re.search(r"\[\d+\]$", text) for text in contents[:-1])  # no draft
        assert chunks[-1].choices[0].delta.model_extra["answerer"].startswith("local")
    finally:
        server.stop()


def test_no_answer_of_the_api_or_of_mcp_over_http_names_a_server_path(seed_store: Path, real_embedder,
                                                                      tmp_path: Path) -> None:
    """Issue 29.3: `rag serve`'s 503 named the store's full path ("the store /srv/... was built
    with other settings ...: rebuild it with `rag --store /srv/... ingest --rebuild <folders>`"), and
    so did MCP's error results over HTTP. Both follow the page's rule now: the store is `<store>`,
    and the command still reads as one to run (the operator knows the folder)."""
    import asyncio
    import shutil

    from tests.test_mcp import _ask

    store = tmp_path / "private-folder" / "store"
    shutil.copytree(seed_store, store)
    config = Config(store_path=store, llm="extractive", chunk_sentences=5)  # not what the store was built with
    port = free_port()
    server = start(Assistants(config, embedder=real_embedder, answerers=["extractive"]), "127.0.0.1", port, mcp=True)
    try:
        refused = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=120,
                             json={"messages": [{"role": "user", "content": PRISONERS}]})
        said = refused.json()["error"]["message"]
        assert refused.status_code == 503 and "the store <store> was built with other settings" in said, said
        assert "`rag --store <store> ingest --rebuild <folders>`" in said and "private-folder" not in said, said
        seen = asyncio.run(asyncio.wait_for(_ask(f"http://127.0.0.1:{port}/mcp", PRISONERS), 300))
        said = seen["ask"].content[0].text
        assert seen["ask"].is_error and "the store <store> was built with other settings" in said, said
        assert "private-folder" not in said
    finally:
        server.stop()


def test_a_request_body_over_the_limit_is_413_with_a_message(base_url: str, client: OpenAI) -> None:
    """Issue 29.3: `rag serve` read a 10 MB request body to the end. A body over 1 MB is refused
    with 413 before it is read, whether its length is declared or it comes in chunks."""
    huge = {"messages": [{"role": "user", "content": "Who mediated the Geneva talks? " + "x" * 10_000_000}]}
    declared = httpx.post(f"{base_url}/chat/completions", json=huge, timeout=60)
    assert declared.status_code == 413, declared.text
    error = declared.json()["error"]
    assert error["code"] == "request_too_large" and error["message"].startswith("the request body is 10,000,")
    assert "the limit is 1,000,000 bytes: send a shorter conversation" in error["message"]
    chunks = (b" " * 100_000 for _ in range(20))  # no Content-Length: sent chunked
    chunked = httpx.post(f"{base_url}/chat/completions", content=chunks, timeout=60,
                         headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and "more than 1,000,000 bytes" in chunked.json()["error"]["message"]
    small = b'{"messages": [{"role": "user", "content": "' + PRISONERS.encode() + b'"}]}'
    answered = httpx.post(f"{base_url}/chat/completions", content=iter([small[:20], small[20:]]), timeout=120,
                          headers={"content-type": "application/json"})
    assert answered.status_code == 200 and "1,000" in answered.json()["choices"][0]["message"]["content"]
    assert "1,000" in ask(client, PRISONERS).choices[0].message.content  # still up

"""What the chat page does, without a browser (ui.app.Backend): a question streamed into chat
messages, errors shown as messages after which the page keeps working, the empty index, uploads
and removals. Bookkeeping only, so the hash embedder stands in for the model (tests/fakes.py);
the page itself, with the real model, is tested in test_ui_browser.py."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from pathlib import Path

import pytest

from index.errors import InputError, ModelError, StoreError
from rag.answerers import Answerer
from rag.config import Config
from tests.conftest import SEEDS, free_port
from tests.fakes import HashEmbedder
from ui import render
from ui.app import Backend


def last(backend: Backend, question: str, llm: str = "extractive", chat: list | None = None,
         history: list | None = None, **controls) -> tuple:
    """The final (chat, history, groups, panel, box) of one question."""
    values = dict(top_k=5, sources=[], after="", before="") | controls
    *_, final = backend.turn(question, chat or [], history or [], [], llm, values["top_k"], values["sources"],
                             values["after"], values["before"])
    return final


@pytest.fixture()
def backend(tmp_path: Path) -> Backend:
    """A page backend over the seeds, indexed with the hash embedder through an upload-free ingest."""
    from rag.build import ingest_paths

    # The hash embedder's cosines mean nothing to the calibrated abstention (fitted on the real
    # model's), so this page backend abstains only when nothing at all is found.
    config = Config(store_path=tmp_path / "store", llm="extractive", abstain_threshold=0.0)
    embedder = HashEmbedder()
    shutil.copytree(SEEDS, tmp_path / "seeds")
    ingest_paths(config, [tmp_path / "seeds"], progress=False, embedder=lambda: embedder)
    return Backend(config, embedder=embedder)


def test_a_question_streams_into_the_chat_and_fills_the_sources(backend: Backend) -> None:
    steps = list(backend.turn("How many prisoners did each side exchange in Istanbul?", [], [], [], "extractive",
                              5, [], "", ""))
    assert "Searching the articles" in steps[0][0][-1]["content"]  # shown at once, before any sentence
    chat, history, groups, panel, box, turns = steps[-1]
    assert [m["role"] for m in chat] == ["user", "assistant"] and box == ""
    assert "checked against their sources" in chat[-1]["content"] and len(groups) == 1
    assert 'id="source-1-1"' in panel
    assert history[0] == {"role": "user", "content": "How many prisoners did each side exchange in Istanbul?"}
    follow_up = last(backend, "And where were they held?", chat=chat, history=history)
    assert 'href="#source-2-1"' in follow_up[0][-1]["content"]  # the second turn's chips point to its own sources
    assert list(backend.turn("   ", [], [], [], "extractive", 5, [], "", ""))[-1][0] == []  # nothing asked


class _WritesThenGivesUp(Answerer):
    """A generative answerer that writes word by word, then fails as a dead or hung model does.
    The model is beside the point: this checks what the page's status line says meanwhile."""

    name = "stand-in"

    def _stream(self, question, passages):
        for word in "Envoys met in Istanbul on Friday. The moon sings".split(" "):
            time.sleep(0.02)
            yield word + " "
        raise ModelError("the stand-in model did not answer within 1 s and was stopped")


def test_the_status_line_says_which_sentence_is_checked_and_when_the_model_was_given_up_on(backend: Backend) -> None:
    """Issue 19.2: while a model's draft is checked the page says which sentence (its draft still
    shown, in grey), and the moment the model is given up on it says so (the draft gone)."""
    from dataclasses import replace

    from rag.assistant import Assistant, build_assistant
    from rag.drafting import ModelDrafter

    def factory(settings: Config):
        pipeline = build_assistant(settings, embedder=HashEmbedder()).pipeline
        return Assistant(settings, replace(pipeline, drafter=ModelDrafter(_WritesThenGivesUp())))

    page = Backend(backend.config, factory)
    bubbles = [step[0][-1]["content"] for step in page.turn("How many prisoners did each side exchange in Istanbul?",
                                                           [], [], [], "extractive", 5, [], "", "")]
    checking = next(b for b in bubbles if "Checking sentence 1 of the draft against its sources…" in b)
    assert '<p class="draft"' in checking and ">Envoys" in checking  # the draft stays while it is checked
    given_up = re.compile(r"The stand-in model failed after \d+ s: (showing the quoted answer|keeping the 1 sentence)")
    failed = next(i for i, b in enumerate(bubbles) if given_up.search(b))
    assert '<p class="draft"' not in bubbles[failed]
    assert bubbles.index(checking) < failed
    final = bubbles[-1]
    assert 'class="answer streaming"' not in final and "was stopped" in final  # the answer's note says why


def test_errors_are_messages_and_the_page_keeps_working(backend: Backend, tmp_path: Path) -> None:
    bad_date = last(backend, "Who mediated the Geneva talks?", after="last weak")
    assert 'class="error"' in bad_date[0][-1]["content"] and "write it like 2025-06-01" in bad_date[0][-1]["content"]
    unknown = last(backend, "Who mediated the Geneva talks?", llm="openai")
    assert "answerer 'openai' is not available here" in html.unescape(unknown[0][-1]["content"])

    calls = []

    def factory(config: Config):
        calls.append(config.llm)
        if config.llm == "local":
            raise ModelError("the local model 'model.gguf' failed to start (exit code 1); check that llm_model is "
                             "a GGUF chat model this llama.cpp can load, or use --llm extractive")
        from rag.assistant import build_assistant

        return build_assistant(config, embedder=backend.embedder())

    page = Backend(backend.config.model_copy(update={"llm": "local", "llm_model": None}), factory,
                   embedder=backend.embedder())
    assert page.answerers == ["extractive", "local"]  # the packaged SmolLM2 passes the probe
    failed = last(page, "Who mediated the Geneva talks?", llm="local")
    assert "failed to start" in failed[0][-1]["content"] and failed[2] == []
    again = last(page, "Who mediated the Geneva talks?", llm="extractive", chat=failed[0])
    assert "checked against their sources" in again[0][-1]["content"] and len(again[0]) == 4
    last(page, "Who mediated the Geneva talks?", llm="local")
    assert calls == ["local", "extractive", "local"]  # a failed build is retried, a good one kept


def test_a_chroma_server_that_is_down_is_explained(tmp_path: Path) -> None:
    page = Backend(Config(chroma_host="127.0.0.1", chroma_port=free_port(), llm="extractive"),
                   embedder=HashEmbedder(), uploads_dir=tmp_path / "uploads")
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        page.articles()
    chat = last(page, "Who mediated the Geneva talks?")[0]
    assert "cannot reach the Chroma server" in chat[-1]["content"] and "chroma run" in chat[-1]["content"]


def test_an_empty_index_says_how_to_add_articles(tmp_path: Path) -> None:
    page = Backend(Config(store_path=tmp_path / "empty", llm="extractive"), embedder=HashEmbedder())
    assert page.articles() == []
    assert "rag ingest seeds/" in render.articles_html(page.articles())
    chat = last(page, "Who mediated the Geneva talks?")[0]
    assert "no articles indexed" in chat[-1]["content"] and "ingest seeds/" in chat[-1]["content"]


def test_uploads_are_indexed_refused_and_removed(backend: Backend, tmp_path: Path) -> None:
    progress: list[str] = []
    article = tmp_path / "incoming" / "Talks in Vienna.txt"
    article.parent.mkdir()
    article.write_text("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, "
                       "2031. Both sides agreed to exchange 42 fishing boats.\n", encoding="utf-8")
    before = last(backend, "How many fishing boats did Norland and Sudmark agree to exchange?")  # builds the assistant
    kind, message = backend.add_upload(article, article.name, lambda _, text: progress.append(text))
    assert kind == "ok" and message.startswith("Indexed Talks in Vienna.txt as “Envoys meet in Vienna”"), message
    assert progress[0] == "Saving Talks in Vienna.txt" and len(progress) == 3
    row = next(r for r in backend.articles() if r.title == "Envoys meet in Vienna")
    assert row.file == "Talks in Vienna.txt" and Path(row.source).parent == backend.uploads.folder
    after = last(backend, "How many fishing boats did Norland and Sudmark agree to exchange?")
    assert "42 fishing boats" in after[0][-1]["content"] and "42 fishing boats" not in before[0][-1]["content"]  # the assistant was refreshed

    again = backend.add_upload(article, "copy.txt", lambda *_: None)
    assert again[0] == "error" and "duplicate of" in again[1]
    assert str(backend.uploads.folder) not in again[1] and "Talks in Vienna.txt" in again[1]  # no server path
    wrong = tmp_path / "incoming" / "notes.rtf"
    wrong.write_bytes(b"{\\rtf1 notes}")
    assert backend.add_upload(wrong, wrong.name, lambda *_: None) == \
        ("error", "notes.rtf: 'notes.rtf' is not an article file: upload .txt, .md, .html, .pdf, .docx files")
    assert len(list(backend.uploads.folder.glob("*.txt"))) == 1  # refused uploads leave nothing behind

    assert backend.remove(row.id) == "Removed “Envoys meet in Vienna”."
    assert all(r.title != "Envoys meet in Vienna" for r in backend.articles())
    assert list(backend.uploads.folder.glob("*.txt")) == [] and backend.uploads.names() == {}


VIENNA = ("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, 2031. "
          "Both sides agreed to exchange 42 fishing boats.\n")
BOATS = "How many fishing boats did Norland and Sudmark agree to exchange?"


def test_an_upload_is_cited_and_filtered_by_its_name_and_a_second_of_that_name_gets_a_number(
        backend: Backend, tmp_path: Path) -> None:
    """Issue 32.2: an upload had two names (the page showed the uploaded one, the other ways in
    the generated <hex>.txt it was saved under). It is saved, cited and filtered under its own
    name; a second upload of that name gets "name (2)", and the page says so."""
    from rag.retrieval import Filters

    first, second = tmp_path / "one" / "Talks in Vienna.txt", tmp_path / "two" / "Talks in Vienna.txt"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_text(VIENNA, encoding="utf-8")
    second.write_text("Envoys meet again\n\nThe envoys met in Graz on May 4, 2031 and agreed on a ferry timetable.\n",
                      encoding="utf-8")
    assert backend.add_upload(first, first.name, lambda *_: None)[0] == "ok"
    kind, message = backend.add_upload(second, second.name, lambda *_: None)
    assert kind == "ok" and message.startswith("Indexed Talks in Vienna.txt as “Envoys meet again”") and \
        "named Talks in Vienna (2).txt (another article is named Talks in Vienna.txt)" in message, message
    files = {row.file for row in backend.articles()}
    assert {"Talks in Vienna.txt", "Talks in Vienna (2).txt"} <= files
    answer = backend.assistant("extractive").ask(BOATS, filters=Filters(sources=("Talks in Vienna.txt",)))
    assert not answer.abstained and {Path(c.source).name for c in answer.citations} == {"Talks in Vienna.txt"}


def test_an_upload_saved_under_a_generated_name_takes_its_own_when_the_page_starts(
        backend: Backend, tmp_path: Path) -> None:
    """Issue 32.2, for stores from before: an upload saved as <hex>.txt (its name only in
    names.json) is renamed to its uploaded name and indexed again under it as a writable page
    starts; a read-only page leaves it as it is."""
    from rag.build import ingest_paths
    from rag.retrieval import Filters
    from ui.app import build_app

    folder = backend.uploads.folder
    folder.mkdir(parents=True)
    generated = folder / "3e63fc33d97a4c259fd24eaa03e5337c.txt"
    generated.write_text(VIENNA, encoding="utf-8")
    (folder / "names.json").write_text(json.dumps({generated.name: "Talks in Vienna.txt"}), encoding="utf-8")
    ingest_paths(backend.config, [generated], progress=False, store=backend.store(), embedder=backend.embedder)
    assert generated.name in {Path(r.source).name for r in backend.store().articles().values()}

    build_app(backend.config.replace(read_only=True), backend=backend)
    assert generated.exists()
    build_app(backend.config, backend=backend)  # what the page does as it starts
    names = sorted(Path(r.source).name for r in backend.store().articles().values())
    assert len(names) == 6 and "Talks in Vienna.txt" in names and generated.name not in names
    assert not generated.exists() and backend.uploads.names() == {"Talks in Vienna.txt": "Talks in Vienna.txt"}
    answer = backend.assistant("extractive").ask(BOATS, filters=Filters(sources=("Talks in Vienna.txt",)))
    assert not answer.abstained and "42" in answer.text
    assert backend.adopt_upload_names() == []  # once


def test_a_read_only_backend_refuses_writes(backend: Backend, tmp_path: Path) -> None:
    backend.config = backend.config.replace(read_only=True)
    article = tmp_path / "note.txt"
    article.write_text("Envoys meet\n\nThey met in Vienna on March 3, 2031.\n", encoding="utf-8")
    kind, message = backend.add_upload(article, article.name, lambda *_: None)
    assert kind == "error" and "read-only" in message and "rag ingest" in message
    with pytest.raises(InputError, match="read-only"):
        backend.remove(backend.articles()[0].id)
    assert len(backend.articles()) == 5


def test_a_read_only_page_reads_the_store_through_an_object_that_cannot_write(backend: Backend) -> None:
    """Issue 31.3: reading and writing the store are separate objects; a read-only page gets the reader."""
    from index.store import Store, StoreReader

    page = Backend(backend.config.replace(read_only=True), embedder=backend.embedder())
    store = page.store()
    assert type(store) is StoreReader and len(page.articles()) == 5
    assert not any(hasattr(store, name) for name in ("write_articles", "remove_article", "repair", "reset"))
    with pytest.raises(InputError, match="read-only"):
        page.writer()
    assert isinstance(backend.store(), Store)  # a writable page's store writes


def test_the_pickers_name_articles_by_id_not_by_server_path(backend: Backend) -> None:
    rows = backend.articles()
    choices = render.article_choices(rows)
    assert [value for _, value in choices] == [row.id for row in rows]
    assert not any("/" in value or "seeds" in value for _, value in choices)
    first = rows[0]
    chat = last(backend, "What was said?", sources=[first.id])[0]
    assert "Something went wrong" not in chat[-1]["content"]
    gone = last(backend, "What was said?", sources=["0123456789abcdef"])[0]
    assert "no longer indexed" in gone[-1]["content"]


@pytest.fixture()
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Launch the real page on loopback over the seeds (hash embedder: the model is beside the
    point); yields a function that serves it with extra settings and returns its URL."""
    from rag.build import ingest_paths
    from ui.app import launch

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio-temp"))
    embedder = HashEmbedder()
    config = Config(store_path=tmp_path / "store", llm="extractive")
    ingest_paths(config, [SEEDS], progress=False, embedder=lambda: embedder)
    apps = []

    def serve(**settings) -> str:
        port = free_port()
        apps.append(launch(config.replace(**settings), "127.0.0.1", port, block=False, embedder=embedder))
        return f"http://127.0.0.1:{port}"

    yield serve
    for app in apps:
        app.close()


def test_a_login_is_required_when_chat_auth_is_set(served) -> None:
    import httpx
    from gradio_client import Client

    url = served(chat_auth="reader:s3cret")
    assert httpx.get(f"{url}/config").status_code == 401  # nothing of the page without a login
    call = httpx.post(f"{url}/gradio_api/call/remove", json={"data": ["x"]})
    assert call.status_code in (401, 403), call.text
    wrong = httpx.post(f"{url}/login", data={"username": "reader", "password": "guess"})
    assert wrong.status_code == 400
    with httpx.Client() as session:
        assert session.post(f"{url}/login", data={"username": "reader", "password": "s3cret"}).status_code == 200
        assert session.get(f"{url}/config").status_code == 200
    client = Client(url, auth=("reader", "s3cret"), verbose=False)
    chat, *_ = client.predict("Who mediated the Geneva talks?", [], "extractive", 5, [], "", "", api_name="/ask")
    assert chat and chat[-1]["role"] == "assistant"


def test_a_read_only_page_has_no_upload_or_remove_even_in_its_api(served) -> None:
    import httpx

    config = httpx.get(f"{served(read_only=True)}/config").json()
    names = {d.get("api_name") for d in config["dependencies"]}
    assert "ask" in names and not names & {"upload", "remove"}
    assert not any(c.get("props", {}).get("elem_id") in {"upload", "remove"} for c in config["components"])


def test_an_upload_leaves_no_copy_in_gradios_temp_folder(served, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    url = served()
    article = tmp_path / "Talks in Vienna.txt"
    article.write_text("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, "
                       "2031. Both sides agreed to exchange 42 fishing boats.\n", encoding="utf-8")
    result = Client(url, verbose=False).predict([handle_file(str(article))], api_name="/upload")
    assert "Indexed Talks in Vienna.txt" in str(result)
    temp = tmp_path / "gradio-temp"
    left = [p for p in temp.rglob("*") if p.is_file() and "42 fishing boats" in p.read_text(errors="ignore")]
    assert left == []
    assert len(list((tmp_path / "store" / "uploads").glob("*.txt"))) == 1


def test_wrong_logins_from_one_client_are_slowed_down(served) -> None:
    """Issue 18.7: Gradio checked 100 wrong passwords in 1.3 s. After 5 failures a client waits,
    twice as long after each further one, is told when to retry, and is not checked meanwhile;
    other clients are not held up, and the right password works once the wait is over."""
    import httpx

    url = served(chat_auth="reader:s3cret")
    right = {"username": "reader", "password": "s3cret"}
    with httpx.Client() as guesser:
        codes = [guesser.post(f"{url}/login", data={"username": "reader", "password": f"guess{i}"}).status_code
                 for i in range(100)]
        assert codes[:5] == [400] * 5 and codes[5] == 429, codes
        assert codes.count(400) <= 7 and codes.count(429) >= 93, codes  # (the 2 s wait may end once during the loop)
        refused = guesser.post(f"{url}/login", data=right)
        assert refused.status_code == 429, refused.text
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 8 and f"try again in {wait} second" in refused.json()["detail"]
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:  # another address
            assert other.post(f"{url}/login", data=right).status_code == 200
        time.sleep(wait + 0.5)
        assert guesser.post(f"{url}/login", data=right).status_code == 200
        assert guesser.get(f"{url}/config").status_code == 200


def test_a_forwarded_address_counts_only_from_a_proxy_the_user_names(served) -> None:
    """Issue 29.2: uvicorn trusted X-Forwarded-For from any loopback client, so one that reached the
    page through an ssh tunnel or socat got five fresh guesses per address it named: locked out,
    then the right password with `X-Forwarded-For: 10.1.2.3` logged in (200 and a session cookie).
    The header counts only from the proxies named in trusted_proxies (none by default); behind one,
    each visitor's forwarded address has a limit of its own."""
    import httpx

    right = {"username": "reader", "password": "s3cret"}
    wrong = {"username": "reader", "password": "guess"}
    url = served(chat_auth="reader:s3cret")
    with httpx.Client() as guesser:
        codes = [guesser.post(f"{url}/login", data=wrong).status_code for _ in range(6)]
        assert codes == [400] * 5 + [429], codes
        for forged in ("10.1.2.3", "127.0.0.2", "10.1.2.3, 10.4.5.6"):
            refused = guesser.post(f"{url}/login", data=right, headers={"X-Forwarded-For": forged})
            assert refused.status_code == 429 and "session" not in " ".join(refused.cookies), refused.text

    url = served(chat_auth="reader:s3cret", trusted_proxies="127.0.0.1")
    with httpx.Client() as proxy:
        forwarded = {"X-Forwarded-For": "10.1.2.3"}
        codes = [proxy.post(f"{url}/login", data=wrong, headers=forwarded).status_code for _ in range(6)]
        assert codes == [400] * 5 + [429], codes
        assert proxy.post(f"{url}/login", data=right, headers=forwarded).status_code == 429
        assert proxy.post(f"{url}/login", data=right, headers={"X-Forwarded-For": "10.9.9.9"}).status_code == 200


def test_a_read_only_page_refuses_files_at_gradios_upload_route(served, tmp_path: Path) -> None:
    """Issue 18.7: a --read-only page has no upload box, yet Gradio stored any file POSTed to
    /gradio_api/upload in its temporary folder. It is refused there now; a writable page still takes it."""
    import httpx

    sent = {"files": ("note.txt", b"a file for the read-only page 7f3a", "text/plain")}
    refused = httpx.post(f"{served(read_only=True)}/gradio_api/upload", files=sent)
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"], refused.text
    temp = tmp_path / "gradio-temp"
    assert not any(p.is_file() and b"7f3a" in p.read_bytes() for p in temp.rglob("*"))
    accepted = httpx.post(f"{served()}/gradio_api/upload", files=sent)
    assert accepted.status_code == 200 and "note.txt" in accepted.text


def test_a_read_only_page_refuses_calls_of_its_write_events_by_name(served) -> None:
    """Issue 29.7: on a --read-only page, POST /gradio_api/call/upload (an event the page does not
    have) was a bare 500 with a traceback in the server log. Calls of the write events, by any of
    Gradio's routes, are a 403 that says why, like the upload route; a writable page takes them."""
    import httpx

    url = served(read_only=True)
    for route in ("call", "run", "api"):
        for name in ("upload", "remove"):
            refused = httpx.post(f"{url}/gradio_api/{route}/{name}", json={"data": ["0123456789abcdef"]})
            assert refused.status_code == 403, (route, name, refused.text)
            assert refused.json()["detail"].startswith("this page is read-only: it neither adds nor removes articles")
    accepted = httpx.post(f"{served()}/gradio_api/call/remove", json={"data": ["0123456789abcdef"]})
    assert accepted.status_code == 200 and "event_id" in accepted.json(), accepted.text


def test_removal_is_callable_from_gradio_client_and_its_messages_show_no_server_details(served, tmp_path: Path) -> None:
    """Issue 18.7 and 18.8: /remove could not be called from gradio_client (its dropdown's choices
    were filled only when a browser loaded the page), and the page's messages named the store's
    folder and the writing process's id."""
    import subprocess

    from gradio_client import Client

    from index.store import Store
    from tests.conftest import ROOT, VENV_BIN

    url = served()
    store = tmp_path / "store"
    article = sorted(Store.open(path=store).articles().values(), key=lambda r: r.source)[0]
    client = Client(url, verbose=False)
    holder = subprocess.Popen(
        [str(VENV_BIN / "python"), "-c", "import sys, time; from index.store import Store\n"
         "with Store.open(path=sys.argv[1]).writing():\n    print('writing', flush=True); time.sleep(60)", str(store)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "writing"
        shown = str(client.predict(article.id, api_name="/remove"))
    finally:
        holder.kill()
        holder.wait()
    assert "another process" in shown and "is writing to the store" in shown, shown
    assert str(holder.pid) not in shown and str(tmp_path) not in shown and "&lt;store&gt;" in shown, shown
    shown = str(client.predict(article.id, api_name="/remove"))
    assert f"Removed “{article.display_title()}”" in shown, shown
    assert article.id not in Store.open(path=store).articles()
    assert "no longer indexed" in str(client.predict(article.id, api_name="/remove"))

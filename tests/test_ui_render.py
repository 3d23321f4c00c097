"""The chat page's HTML (ui/render.py) and its plain helpers (ui/uploads.py, ui/app.py), without a
browser: escaping, citation chips, highlight offsets, abstention, disagreement, the checked count,
the Articles table, uploads and filters. The browser tests (test_ui_browser.py) run the page."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from pathlib import Path

import pytest

from index.errors import InputError
from index.records import ArticleRecord
from rag.answer import Answer, Citation
from rag.config import Config
from rag.llms import default_gguf
from rag.retrieval import Passage
from ui import render
from ui.app import describe, make_filters
from ui.pool import answerer_config, answerer_help, available_answerers
from ui.uploads import Uploads, check_upload, display_name, upload_name

HOSTILE = ('<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> '
           '<a href="javascript:window.__pwned=3">x</a>')
ARTICLE = ("Envoys meet in Vienna\n\nDelegations met in Vienna on March 3, 2031. "
           "Both sides agreed to exchange 42 fishing boats. The mediator was pleased.")


def passage(text: str = ARTICLE, start: int = 0, **fields) -> Passage:
    values = dict(id="p1", text=text, article_id="a1", source="articles/vienna.txt", title="Envoys meet in Vienna",
                  start=start, end=start + len(text), published="2031-03-03", outlet="The Harbour Times",
                  score=0.5, similarity=0.5)
    values.update(fields)
    return Passage(**values)


def cite(n: int, quote: str, article: str = ARTICLE, within: Passage | None = None, **fields) -> Citation:
    start = article.index(quote)
    within = within or passage()
    values = dict(n=n, source=within.source, title=within.title, published=within.published, quote=quote,
                  start=start, end=start + len(quote), score=0.8, outlet=within.outlet, passage=within)
    values.update(fields)
    return Citation(**values)


def answer(text: str, citations: list[Citation], **fields) -> Answer:
    values = dict(question="How many boats were exchanged?", text=text, abstained=False, citations=citations,
                  supported=(len(citations), len(citations)), answerer="extractive", timings={"total_ms": 12.0})
    values.update(fields)
    return Answer(**values)


def tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z][\w-]*)", html)}


# ---- escaping ----------------------------------------------------------------------------------


def test_article_text_is_escaped_everywhere_it_appears() -> None:
    article = f"Hostile title {HOSTILE}\n\nThe boats were exchanged. {HOSTILE} The end."
    quote = f"The boats were exchanged. {HOSTILE}"
    own = passage(article, title=f"Hostile {HOSTILE}", outlet=f"Outlet {HOSTILE}", source="up/<b>.txt")
    shown = answer(f"{quote} [1]", [cite(1, quote, article, own, title=own.title, outlet=own.outlet)],
                   question=f"What about {HOSTILE}?", notes=(f"note {HOSTILE}",))
    html = render.answer_html(shown, 1) + render.sources_html(shown, 1, {"<b>.txt": HOSTILE})
    html += render.question_html(HOSTILE) + render.error_html(HOSTILE) + render.streaming_html([HOSTILE], 1)
    assert tags(html) <= {"a", "b", "blockquote", "div", "mark", "p", "section", "span", "article", "details", "summary"}
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "onerror=" not in html.replace("onerror=&quot;", "")  # only as escaped text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert all(href.startswith(("#source-", "#answer-")) for href in re.findall(r'href="([^"]*)"', html))


def test_markdown_in_articles_is_not_interpreted() -> None:
    html = render.with_chips("**bold** [link](javascript:alert(1)) _x_ [1]", 3)
    assert "**bold** [link](javascript:alert(1)) _x_" in html and "<strong>" not in html
    assert html.endswith('<a class="chip" href="#source-3-1" title="Show source 1" data-n="1">[1]</a>')


# ---- chips and highlights ----------------------------------------------------------------------


def test_each_marker_becomes_a_chip_linking_to_its_source_of_that_turn() -> None:
    html = render.with_chips("A sentence. [1] Another one. [2][3]", turn=4)
    assert re.findall(r'href="#(source-\d+-\d+)"', html) == ["source-4-1", "source-4-2", "source-4-3"]
    assert render.with_chips("A quoted footnote [7]. [1]", 2, cited=[1]).count('class="chip"') == 1
    sources = render.sources_html(answer("x [1] y [2]", [cite(1, "Delegations met in Vienna on March 3, 2031."),
                                                         cite(2, "The mediator was pleased.")]), 4)
    assert re.findall(r'<article class="source" id="(source-4-\d)"', sources) == ["source-4-1", "source-4-2"]


def test_the_quote_is_highlighted_at_its_offset_within_the_passage() -> None:
    # The passage starts 100 characters into the article; the quote appears twice in the passage,
    # and the offsets (not a search) decide which one is marked.
    article = "x" * 100 + "Boats were exchanged. Later: Boats were exchanged. Done."
    within = passage(article[100:], start=100)
    second = article.rindex("Boats were exchanged.")
    citation = Citation(n=1, source=within.source, title=within.title, published=None,
                        quote="Boats were exchanged.", start=second, end=second + 21, score=1.0, passage=within)
    html = render.highlight(citation)
    assert html == "Boats were exchanged. Later: <mark>Boats were exchanged.</mark> Done."


def test_a_highlight_without_a_usable_passage_shows_the_quote_alone() -> None:
    no_passage = cite(1, "The mediator was pleased.", passage=None)
    assert render.highlight(no_passage) == "<mark>The mediator was pleased.</mark>"
    shifted = cite(1, "The mediator was pleased.", within=passage(start=5))  # offsets do not fit: found by search
    assert render.highlight(shifted).endswith("<mark>The mediator was pleased.</mark>")
    assert "\n\n" not in render.highlight(cite(1, "The mediator was pleased."))  # paragraphs as single breaks


def test_sources_show_title_outlet_date_and_file() -> None:
    html = render.sources_html(answer("x [1]", [cite(1, "The mediator was pleased.")]), 1,
                               {"vienna.txt": "Vienna talks (draft).txt"})
    assert "Envoys meet in Vienna" in html and "The Harbour Times · March 3, 2031" in html
    assert "Vienna talks (draft).txt" in html and "Sources for “How many boats were exchanged?”" in re.sub("<[^>]+>", "", html)


# ---- kinds of answers --------------------------------------------------------------------------


def test_the_checked_count_is_stated_plainly() -> None:
    shown = answer("One. [1]", [cite(1, "The mediator was pleased.")], supported=(2, 3))
    assert render.supported_line(shown) == "2 of 3 sentences checked against their sources"
    assert "2 of 3 sentences checked against their sources" in render.answer_html(shown, 1)
    assert render.supported_line(answer("One. [1]", [], supported=(1, 1))) == \
        "1 of 1 sentence checked against their sources"


def test_an_abstention_looks_different_from_an_answer() -> None:
    declined = answer("The articles don't say. The closest they cover is “Talks”.", [], abstained=True,
                      supported=(0, 0), answerer="abstained")
    html = render.answer_html(declined, 1)
    assert 'class="abstained"' in html and "Not in the articles" in html and 'class="chip"' not in html
    assert "Not answered" in html and 'class="answer-text"' not in html
    assert "Nothing is cited" in render.sources_html(declined, 1)
    normal = render.answer_html(answer("Forty-two. [1]", [cite(1, "The mediator was pleased.")]), 1)
    assert 'class="abstained"' not in normal and 'class="answer-text"' in normal


def test_disagreeing_sources_are_side_by_side() -> None:
    other = passage("Talks in Geneva were mediated by the UN.", id="p2", article_id="a2", source="b.txt",
                    title="Geneva report", outlet=None, published=None)
    versions = [cite(1, "The mediator was pleased."),
                cite(2, "Talks in Geneva were mediated by the UN.", other.text, other, title=other.title,
                     outlet=None, published=None, source="b.txt")]
    differ = answer("The articles differ on this. The mediator was pleased. [1] Talks in Geneva were mediated by "
                    "the UN. [2]", versions, disagreement=True, answerer="extractive+sources-differ")
    chat = render.answer_html(differ, 2)
    assert "The articles differ on this" in chat and chat.count('class="version"') == 2
    assert 'href="#source-2-1"' in chat and 'href="#source-2-2"' in chat
    assert 'class="sources side-by-side"' in render.sources_html(differ, 2)
    assert 'side-by-side' not in render.sources_html(answer("x [1]", versions[:1]), 2)


def test_streaming_and_errors_and_the_panel() -> None:
    assert "Searching the articles" in render.streaming_html([], 1)  # nothing is checked before a sentence exists
    assert "Checking sentences" in render.streaming_html(["First. [1]"], 1)
    assert 'href="#source-1-1"' in render.streaming_html(["First. [1]"], 1)
    assert "cannot reach the Chroma server" in render.error_html("cannot reach the Chroma server")
    assert render.SOURCES_PLACEHOLDER in render.sources_panel([])
    assert render.sources_panel(["<section>1</section>", "<section>2</section>"]).index("2") < \
        render.sources_panel(["<section>1</section>", "<section>2</section>"]).index("1</section>")


# ---- articles ----------------------------------------------------------------------------------


def test_articles_become_escaped_table_rows_with_passage_counts() -> None:
    records = [
        ArticleRecord(id="b", source=".rag/uploads/abc.txt", version="1", passages=3, title=f"Zeta {HOSTILE}",
                      published="2031-03-03", outlet="Harbour Times"),
        ArticleRecord(id="a", source="seeds/001.txt", version="2", passages=15),
    ]
    rows = render.article_rows(records, {"abc.txt": "my notes.txt"})
    assert [(r.title, r.passages, r.file, r.published) for r in rows] == [
        ("001.txt", 15, "001.txt", ""), (f"Zeta {HOSTILE}", 3, "my notes.txt", "March 3, 2031")]
    html = render.articles_html(rows)
    assert "2 articles, 18 passages." in html and "<script" not in html and "Harbour Times" in html
    assert render.article_choices(rows)[1] == (f"Zeta {HOSTILE} (my notes.txt)", "b")  # an id, never a server path
    assert "rag ingest seeds/" in render.articles_html([])


# ---- uploads, filters, answerers ---------------------------------------------------------------


def test_uploads_are_checked_and_saved_under_the_name_they_were_uploaded_with(tmp_path: Path) -> None:
    """Issue 32.2: an upload was saved as <random hex>.txt, its name only shown on the page, so
    `rag serve`, MCP and the CLI cited and filtered it by another name. It is saved under its own
    name now, made safe and unique in the store."""
    assert check_upload("notes.MD", 10, 1) == ".md"
    for name, size, message in [("evil.exe", 10, "not an article file"), ("a.txt", 0, "empty"),
                                ("big.html", 2_000_001, "over the 2 MB limit")]:
        with pytest.raises(InputError, match=message):
            check_upload(name, size, 2)
    assert display_name("../../etc/passwd.txt") == "passwd.txt" and display_name("C:\\x\\y.md") == "y.md"
    upload = tmp_path / "incoming.txt"
    upload.write_text("Some article text.", encoding="utf-8")
    uploads = Uploads(tmp_path / "uploads", max_mb=1)
    saved = uploads.save(upload, "../../outside/../Talks in Vienna.txt")
    assert saved == tmp_path / "uploads" / "Talks in Vienna.txt" and saved.read_text() == "Some article text."
    assert uploads.names() == {"Talks in Vienna.txt": "Talks in Vienna.txt"} and uploads.owns(saved)
    assert not (tmp_path / "outside").exists()
    # The same name again, or one an indexed article's file has (in any case), gets a number.
    assert uploads.save(upload, "Talks in Vienna.txt").name == "Talks in Vienna (2).txt"
    assert uploads.save(upload, "report.txt", taken={"Report.TXT", "report (2).txt"}).name == "report (3).txt"
    # A browser's name is never a path, a hidden file or a Word lock file, and fits any file system.
    assert [upload_name(n) for n in ("a:b?.txt", "..hidden.md", "~$draft.docx", "C:\\x\\y.md", "../..pdf", "x.txt\0 ")] \
        == ["a_b_.txt", "hidden.md", "draft.docx", "y.md", "upload.pdf", "x.txt"]
    assert upload_name("é" * 300 + ".pdf") == "é" * 100 + ".pdf"
    uploads.forget(saved)
    assert not saved.exists() and "Talks in Vienna.txt" not in uploads.names()
    uploads.forget(upload)  # not an upload: left alone
    assert upload.exists()


def test_an_upload_saved_under_a_generated_name_is_listed_and_renamed_to_its_own(tmp_path: Path) -> None:
    """Uploads saved before issue 32.2 (as <hex>.txt, the name in names.json) are found, and
    take their uploaded name (a number if it is taken meanwhile)."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    generated = folder / "3e63fc33d97a4c259fd24eaa03e5337c.txt"
    generated.write_text("Some article text.", encoding="utf-8")
    (folder / "names.json").write_text('{"3e63fc33d97a4c259fd24eaa03e5337c.txt": "Talks in Vienna.txt"}')
    uploads = Uploads(folder, max_mb=1)
    assert uploads.legacy() == [(generated, "Talks in Vienna.txt")]
    renamed = uploads.rename(generated, "Talks in Vienna.txt", taken={"talks in vienna.txt"})
    assert renamed == folder / "Talks in Vienna (2).txt" and renamed.read_text() == "Some article text."
    assert not generated.exists() and uploads.legacy() == []
    assert uploads.names() == {"Talks in Vienna (2).txt": "Talks in Vienna (2).txt"}


def test_filters_from_the_page_controls() -> None:
    assert make_filters([], "", " ") is None
    filters = make_filters(["seeds/a.txt"], "2025-01-01", "2025-12-31")
    assert filters is not None and filters.sources == ("seeds/a.txt",) and str(filters.published_before) == "2025-12-31"
    with pytest.raises(InputError, match="not a date: write it like 2025-06-01"):
        make_filters([], "the first of Maytember", "")
    with pytest.raises(InputError, match="swap them"):
        make_filters([], "2025-02-01", "2025-01-01")


def test_answerers_on_offer_and_error_messages() -> None:
    offered = available_answerers(Config(llm="extractive"))
    assert offered[0] == "extractive" and set(offered) <= {"extractive", "local"}
    assert "openai" not in available_answerers(Config(llm="openai"))  # no URL configured
    assert "openai" in available_answerers(Config(llm="openai", llm_url="http://127.0.0.1:9/v1"))
    assert "local" not in available_answerers(Config(llm="local", llm_model="/nowhere/model.gguf"))
    assert answerer_config(Config(llm="openai", llm_model="gpt"), "local").llm_model is None
    # the shipped small model is offered beside the quotes only when chosen; a GGUF named for it is
    gguf = str(default_gguf())
    assert "local" not in available_answerers(Config(llm="extractive"))
    assert available_answerers(Config(llm="extractive", llm_model=gguf)) == ["extractive", "local"]
    assert answerer_config(Config(llm="extractive", llm_model=gguf), "local").llm_model == gguf
    assert "local" not in available_answerers(Config(llm="ollama", llm_model="llama3.2"))
    assert "SmolLM2-135M-Instruct.Q4_1.gguf on this machine (~" in answerer_help(
        Config(llm="extractive", llm_model=gguf), ["extractive", "local"])
    assert describe(InputError("empty question: type a question")) == "empty question: type a question"
    assert describe(ValueError("boom")).startswith("unexpected ValueError: boom. The page still works")


# ---- copy, export, stop, regenerate, reload, filters (issue 11) --------------------------------


def test_copy_text_is_the_answer_with_its_markers_notes_and_sources_not_html() -> None:
    reply = answer("They exchanged 42 fishing boats. [1]", [cite(1, "Both sides agreed to exchange 42 fishing boats.")],
                   notes=("the question was 2,000 characters; only its first 1,000 were used",))
    text = render.answer_text(reply, {"articles/vienna.txt": "Ilse Brandauer"})
    assert text == ("They exchanged 42 fishing boats. [1]\n"
                    "Note: the question was 2,000 characters; only its first 1,000 were used\n\nSources:\n"
                    "[1] Envoys meet in Vienna — by Ilse Brandauer, The Harbour Times, March 3, 2031: "
                    "“Both sides agreed to exchange 42 fishing boats.”")
    bubble = render.answer_html(reply, 3, copy=HOSTILE)
    assert 'id="answer-3"' in bubble and '<span class="copy-source" hidden>&lt;script&gt;' in bubble
    assert "<script" not in bubble


def test_the_transcript_is_markdown_that_shows_article_text_as_text() -> None:
    turns = [{"question": "Who met? <b>now</b>", "answer": "Envoys met. [1]\n\nSources:\n[1] # Title: “*quote*”"},
             {"question": "And then?", "answer": "Something went wrong: no store"}]
    markdown = render.transcript_markdown(turns)
    assert markdown.startswith("# Conversation with the news articles\n\n## 1. Who met? \\<b\\>now\\</b\\>\n")
    assert "\n**Sources**\n\n- [1] \\# Title: “\\*quote\\*”\n" in markdown and "## 2. And then?" in markdown
    # a quote across list items stays one list item of the export, its items set apart without their marks
    listed = "The obstacles are deeply entrenched:\n\n- Territory in the east.\n- Security guarantees."
    shown = answer("The obstacles are deeply entrenched. [1]", [cite(1, listed, listed, passage(listed))])
    exported = render.transcript_markdown([{"question": "Why?", "answer": render.answer_text(shown)}])
    sources = exported.split("**Sources**\n\n")[1].strip().splitlines()
    assert sources == ["- [1] Envoys meet in Vienna — The Harbour Times, March 3, 2031: “The obstacles are deeply "
                       "entrenched: Territory in the east. · Security guarantees.”"]
    # the versions of a disagreement across list items: a Markdown list under the answer, no "\-" debris
    other = "Both sides agreed:\n\n1. A ceasefire.\n2. Talks in May."
    differ = answer("The articles differ on this.", [cite(1, listed, listed, passage(listed)),
                                                     cite(2, other, other, passage(other))], disagreement=True)
    exported = render.transcript_markdown([{"question": "Why?", "answer": render.answer_text(differ)}])
    body = exported.split("## 1. Why?\n\n")[1].split("\n\n**Sources**")[0]
    assert body == ("The articles differ on this:\n\n"
                    "- “The obstacles are deeply entrenched: Territory in the east. · Security guarantees.” [1]\n"
                    "- “Both sides agreed: A ceasefire. · Talks in May.” [2]")
    bubble = render.answer_html(differ, 1)
    assert "- Territory" not in bubble and "entrenched: Territory in the east. · Security guarantees.”" in bubble
    tools = render.conversation_tools(turns)
    assert 'download="conversation.md"' in tools and 'href="data:text/markdown;charset=utf-8,%23%20Conversation' in tools
    assert render.conversation_tools([]) == ""


def test_a_stopped_bubble_keeps_its_sentences() -> None:
    streaming = render.streaming_html(["Envoys met. [1]"], 2)
    stopped = render.stopped(streaming)
    assert 'class="answer stopped"' in stopped and "Envoys met." in stopped and render.STOPPED in stopped
    assert "Checking" not in stopped and render.stopped("<p>done</p>") == "<p>done</p>"
    # a model's unchecked draft is marked as such while it streams, and dropped when stopped
    drafting = render.streaming_html(["Envoys met. [1]"], 2, draft="They sang <b>.", status="")
    assert '<p class="draft"' in drafting and "They sang &lt;b&gt;." in drafting and "not checked yet" in drafting
    assert "They sang" not in render.stopped(drafting) and "Envoys met." in render.stopped(drafting)
    reading = render.streaming_html([], 2, status="The local model is reading 5 passages")
    assert "The local model is reading 5 passages…" in reading and 'class="elapsed"' in reading
    # Gradio may send a message back as a list of parts: the bubble stays HTML, never Python text
    parts = render.stopped([{"type": "text", "text": streaming}])
    assert parts == stopped and "'type'" not in parts
    assert render.message_text({"type": "text", "text": "a"}) == "a" and render.message_text(None) == ""


def test_regenerate_forgets_the_last_turn_and_a_reload_restores_the_conversation() -> None:
    from ui.app import forget_last, restored_conversation, saved_conversation, stop

    chat = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"}, {"role": "assistant", "content": "error"}]
    history = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}]
    turns = [{"question": "q1", "answer": "a1", "answered": True}, {"question": "q2", "answer": "x", "answered": False}]
    assert forget_last(chat, history, ["g1"], turns) == ("q2", chat[:2], history, ["g1"], turns[:1])  # unanswered
    assert forget_last(chat[:2], history, ["g1"], turns[:1]) == ("q1", [], [], [], [])
    assert forget_last([], [], [], []) == ("", [], [], [], [])
    saved = saved_conversation(chat, history, ["g1"], turns)
    assert restored_conversation(saved) == (chat, history, ["g1"], turns)
    assert restored_conversation(None) == restored_conversation({"chat": "x"}) == ([], [], [], [])
    streaming = chat[:3] + [{"role": "assistant", "content": render.streaming_html([], 2)}]
    stopped_chat, stopped_turns = stop(streaming, turns)
    assert "stopped" in stopped_chat[-1]["content"] and stopped_turns[-1]["answer"].endswith(f"({render.STOPPED})")


def test_the_saved_conversation_keeps_what_fits_in_the_browser_and_says_what_it_left_out() -> None:
    """Issue 18.8: long pastes made the saved copy too big for localStorage, and the browser then
    kept none of the later turns. Long questions are cut, then the earliest turns give way."""
    import json

    from ui.app import SAVED_BYTES, restored_conversation, saved_conversation

    chat, history, groups, turns = [], [], [], []
    for n in range(8):
        question = f"question {n} " + "x" * 400_000
        chat += [{"role": "user", "content": render.question_html(question)}, {"role": "assistant", "content": f"a{n}"}]
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": f"a{n}"}]
        groups.append(f"<div>sources {n}</div>" + "s" * 300_000)
        turns.append({"question": question, "answer": f"a{n}", "answered": True})
    saved = saved_conversation(chat, history, groups, turns)
    assert len(json.dumps(saved, ensure_ascii=False).encode("utf-8")) <= SAVED_BYTES
    kept_chat, kept_history, kept_groups, kept_turns = restored_conversation(saved)
    dropped = [t.get("dropped", False) for t in kept_turns]
    assert 0 < dropped.count(True) < 8 and dropped == sorted(dropped, reverse=True)  # the earliest go first
    assert kept_chat[-1] == {"role": "assistant", "content": "a7"} and len(kept_chat) == 16  # turn numbers stay
    assert "not kept in this browser" in kept_chat[0]["content"]
    kept = dropped.count(False)
    assert [m["content"] for m in kept_history[1::2]] == [f"a{n}" for n in range(8 - kept, 8)]
    assert kept_groups == groups[8 - kept:] and len(kept_history[0]["content"]) == render.SAVED_QUESTION_CHARS
    assert kept_turns[-1]["question"].startswith("question 7 ") and kept_turns[-1]["cut"] == len(turns[-1]["question"])
    note = render.kept_note(kept_turns)
    assert f"Only the latest {kept} of 8 questions and answers are kept in this browser" in note
    assert f"{kept} long questions are kept in this browser cut to their first 4,000 characters" in note
    tools = render.conversation_tools(kept_turns)
    assert "Only the latest" in tools and "## 8. question 7" in tools and "x" * 4001 not in tools
    assert "## 1. (not kept in this browser)" in render.transcript_markdown(kept_turns)
    short = saved_conversation(chat[:2], history[:2], groups[:1], [{"question": "q", "answer": "a", "answered": True}])
    assert render.kept_note(short["turns"]) == "" and short["turns"] == [{"question": "q", "answer": "a", "answered": True}]


def test_list_marks_do_not_survive_as_debris_in_running_text() -> None:
    """Issue 19.7: "deeply entrenched: - Territory…" in answers and the export."""
    assert render.one_line("Deeply entrenched:\n\n- Territory in the east.\n- Security guarantees.") == \
        "Deeply entrenched: Territory in the east. · Security guarantees."
    assert render.one_line("• One.\n• Two.\n\nAfter the list.") == "One. · Two. · After the list."
    assert render.one_line("Steps:\n1. Meet.\n2) Sign.\n(c) Ratify.") == "Steps: Meet. · Sign. · Ratify."
    # a dash or a number inside a line is the article's own, and a paragraph break is a space
    assert render.one_line("Kyiv - the capital - held.\n\nIn 2025. Talks - again.") == \
        "Kyiv - the capital - held. In 2025. Talks - again."
    # a number that starts an answer is the answer (issue 32.1), unless the text is a list
    assert render.one_line("317. [1] The first list was published.") == "317. [1] The first list was published."
    assert render.one_line("A. Smith won. [1]") == "A. Smith won. [1]"
    assert render.one_line("- Lone bullet.") == "Lone bullet."
    listed = "Deeply entrenched:\n\n- Territory in the east."
    line = render.source_line(cite(1, listed, listed, passage(listed)))
    assert line.endswith(": “Deeply entrenched: Territory in the east.”")
    bubble = render.answer_html(answer("They differ:\n- Territory. [1]", [cite(1, listed, listed, passage(listed))]), 1)
    assert "They differ: Territory." in bubble


def row(title: str, outlet: str = "", published: str = "") -> render.ArticleRow:
    return render.ArticleRow(id="a", source="/srv/store/uploads/0f3a.txt", title=title, author="", outlet=outlet,
                             published=published, passages=3, file="0f3a.txt")


def test_the_filter_chips_name_the_active_filters() -> None:
    assert render.filter_chips([], "", "") == ""
    chips = render.filter_chips([row("Envoys meet in Vienna <b>")], date(2025, 1, 1), None)
    assert "Only “Envoys meet in Vienna &lt;b&gt;”" in chips and "Published from January 1, 2025" in chips
    assert "Undated articles left out" in chips and "problem" not in chips
    assert "0f3a" not in chips and "/srv" not in chips and ' title="' not in chips  # nothing cut: no tooltip
    assert "Only an article no longer indexed" in render.filter_chips([None], None, None)
    # text that names no day: a warning chip with the reason, and no date filter said to be on
    chips = render.filter_chips([], "'last weak' is not a date: write it like …", None)
    assert 'class="filter-chip problem"' in chips and "Published from: &#x27;last weak&#x27; is not a date" in chips
    assert "Undated" not in chips


def test_a_filter_chip_names_an_article_by_its_title_or_else_by_its_outlet_and_date() -> None:
    """Issue 19.3: the chip read `Only "Internationally mediated efforts to end…"`. Seed 003's
    first line is its headline (126 characters, no full stop), so that is its title: the chip
    cuts it and its tooltip gives all of it. A title the cleaner made from an article's first
    sentence (no title line, no heading) says less than the outlet and date, when it has them."""
    from index.cleaning import clean, made_from_sentence

    headline = clean((Path(__file__).parent.parent / "seeds/003_d89c9a04b964dece.txt").read_text(encoding="utf-8"))
    assert headline.title and len(headline.title) > render.CHIP_TITLE_CHARS and not made_from_sentence(headline.title)
    chips = render.filter_chips([row(headline.title)], None, None)
    assert "Only “Internationally mediated efforts to end the Russia-Ukraine…”" in chips
    assert f'title="{headline.title}"' in chips
    untitled = clean("The harbour board met on Tuesday and voted to reopen the Kessel harbour to fishing boats "
                     "from May. The vote was unanimous.\n\nBoats may land their catch at the old quay again.")
    assert untitled.title == "The harbour board met on Tuesday and voted to reopen the Kessel harbour to…"
    assert made_from_sentence(untitled.title)
    assert render.article_chip(row(untitled.title, "The Harbour Times", "May 2, 2031")) == \
        ("Only the article from The Harbour Times, May 2, 2031", untitled.title)
    assert render.article_chip(row(untitled.title, published="May 2, 2031"))[0] == "Only the article of May 2, 2031"
    assert render.article_chip(row(untitled.title))[0] == f"Only “{render.shorten(untitled.title, 60)}”"
    for stated in ("Talks Without Traction", "Russia-Ukraine Peace Talks Face Roadblocks: What’s Next?",
                   "Peace at last!", "The main hurdles"):
        assert not made_from_sentence(stated), stated


def test_long_questions_are_shown_cut_and_the_sources_heading_stays_short() -> None:
    long = "How many boats were exchanged? " + "word " * 4000
    bubble = render.question_html(long)
    assert f"({len(long):,} characters in all)" in bubble and len(bubble) < 1700
    heading = render.sources_html(answer("x", [], question=long), 1)
    assert len(re.sub("<[^>]+>", "", heading)) < 200 and "…”" in heading
    assert render.shorten("a b c", 10) == "a b c" and render.shorten("alpha beta gamma", 11) == "alpha beta…"


def test_source_cards_show_the_author_and_link_back_to_their_answer() -> None:
    html = render.sources_html(answer("x [1]", [cite(1, "The mediator was pleased.")]), 4,
                               authors={"articles/vienna.txt": "Ilse Brandauer"})
    assert "by Ilse Brandauer · The Harbour Times · March 3, 2031" in html
    assert 'id="source-4-1" tabindex="-1"' in html and 'href="#answer-4"' in html
    rows = render.article_rows([ArticleRecord(id="a", source="x/a.txt", version="v", passages=2, title="T",
                                              author="Saad")])
    assert rows[0].author == "Saad" and "<th>Author</th>" in render.articles_html(rows)


def test_a_source_card_says_where_its_date_was_read() -> None:
    """Issue 32.3: a PDF's date was its file's creation date, said like any other. The card says
    where each date comes from: the article's byline, the file's metadata or the web page."""
    shown = answer("x [1]", [cite(1, "The mediator was pleased.")])
    for origin, said in (("text", "from the byline"), ("file", "from the file's metadata"),
                         ("page", "from the web page")):
        html = unescape(render.sources_html(shown, 1, dated={"articles/vienna.txt": origin}))
        assert f"The Harbour Times · March 3, 2031 ({said})</span>" in html, html
    assert "March 3, 2031</span>" in render.sources_html(shown, 1)  # a record from before says nothing more


def test_how_an_answer_was_made_is_said_in_a_readers_words_and_timings_are_folded_away() -> None:
    cases = {"extractive": "quoted from the articles", "extractive+sources-differ": "quoted from the articles",
             "local->extractive": "quoted from the articles", "article-record": "from the article's byline and dates",
             "local": "written by the local model from the articles' text", "abstained": ""}
    for answerer, words in cases.items():
        assert render.answered_how(answerer) == words
    bubble = render.answer_html(answer("Envoys met. [1]", [], answerer="local->extractive",
                                       timings={"retrieve_ms": 21.4, "total_ms": 6643.0}, confidence=0.81), 1)
    footer, details = bubble.split('<details class="answer-details">')
    assert "quoted from the articles" in footer
    assert "local->extractive" not in footer.replace("-&gt;", "->") and " ms" not in footer
    assert "answerer: local-&gt;extractive" in details and "searching 21 ms" in details and "in all 6,643 ms" in details
    assert "confidence 0.81" in details


def test_public_text_keeps_server_paths_and_process_ids_out_of_page_messages(tmp_path) -> None:
    """Issue 18.7: the page's messages named the store's folder and the writing process's id."""
    from rag.public import public_text

    store = tmp_path / "store"
    message = (f"process 4242 (rag ingest) is writing to the store {store}: wait; run `rag --store {store} doctor "
               f"--repair`; the damaged files are in {store}/damaged-<time>; the local model "
               "'/home/me/models/notes.gguf' does not work here")
    shown = public_text(message, [store])
    assert str(tmp_path) not in shown and "4242" not in shown and "/home/me" not in shown
    assert shown.startswith("another process (rag ingest) is writing to the store <store>: wait;")
    assert "`rag --store <store> doctor --repair`" in shown and "<store>/damaged-<time>" in shown
    assert "'…/notes.gguf'" in shown
    assert public_text("the store .rag is busy", [".rag"]) == "the store <store> is busy"
    untouched = "see http://127.0.0.1:8000/v1 and/or 3/4 of ./seeds, 1,000-for-1,000 on 2025-06-01"
    assert public_text(untouched, [store]) == untouched

"""The page's saved conversations, edited questions and follow-up chips, without a browser:
the pure functions of ui.conversations and ui.render, and ui.app.Backend over the seeds with the
hash embedder (bookkeeping only; the page itself is tested in Chromium in test_ui_browser.py)."""

from __future__ import annotations

from tests.test_ui_app import backend  # noqa: F401 - the page backend over the seeds (hash embedder)
from ui import conversations, render
from ui.app import Backend, earlier_turns, saved_conversation

ISTANBUL = "How many prisoners did each side exchange in Istanbul?"
GENEVA = "Who mediated the Geneva talks?"


def conversation(ident: str, question: str = "q", title: str = "", padding: int = 0) -> dict:
    turns = [{"question": question, "answer": "a" * padding, "answered": False}]
    chat = [{"role": "user", "content": question}, {"role": "assistant", "content": "a"}]
    return {**saved_conversation(chat, [], [], turns), "id": ident, "title": title}


def test_the_list_keeps_the_others_newest_first_and_drops_the_oldest_that_no_longer_fit() -> None:
    shelf, dropped = conversations.shelve([], conversation("a", "First question?"))
    shelf, dropped = conversations.shelve(shelf, conversation("b", "Second question?", title="Named"))
    assert [c["id"] for c in shelf] == ["b", "a"] and dropped == 0
    shelf, _ = conversations.shelve(shelf, conversation("a", "First question, again?"))  # replaces its old copy
    assert [c["id"] for c in shelf] == ["a", "b"]
    assert conversations.shelve(shelf, {**conversation("c"), "turns": []})[0] == shelf  # an empty one is not kept
    current = {"id": "d", "title": ""}
    assert conversations.choices(current, [], shelf) == [
        ("New conversation", "d"), ("First question, again?", "a"), ("Named", "b")]
    chosen, rest = conversations.take(shelf, "b")
    assert chosen["title"] == "Named" and [c["id"] for c in rest] == ["a"]
    big = conversations.SHELF_BYTES // 3
    shelf = []
    for ident in "wxyz":
        shelf, dropped = conversations.shelve(shelf, conversation(ident, padding=big))
    assert [c["id"] for c in shelf] == ["z", "y"] and dropped == 1  # what the browser can keep
    assert "not kept" in conversations.list_note(dropped)


def test_the_list_read_back_from_the_browser_leaves_out_what_is_not_a_conversation() -> None:
    kept = conversations.archived([conversation("a"), {"version": 1, "chat": "x"}, conversation("a"), "junk"])
    assert [c["id"] for c in conversations.shelf_from(kept)] == ["a"]
    assert conversations.shelf_from(None) == conversations.shelf_from({"version": 9}) == []


def test_editing_a_question_keeps_only_what_came_before_it() -> None:
    chat = [{"role": r, "content": f"{r}{n}"} for n in range(3) for r in ("user", "assistant")]
    turns = [{"question": "q0", "answered": True}, {"question": "q1", "answered": False},
             {"question": "q2", "answered": True}]
    history, groups = ["u0", "a0", "u2", "a2"], ["g0", "g2"]
    assert earlier_turns(chat, history, groups, turns, 2) == (chat[:4], history[:2], groups[:1], turns[:2])
    assert earlier_turns(chat, history, groups, turns, 0) == ([], [], [], [])


def test_follow_up_chips_and_the_question_as_edited_are_text() -> None:
    chips = render.follow_ups_html(["Who said <b>this</b>?", "Where?"])
    assert chips.count('<button type="button" class="follow-up">') == 2 and "&lt;b&gt;this&lt;/b&gt;" in chips
    bubble = f'<div class="answer"><p>x</p>{chips}</div>'
    assert render.without_follow_ups(bubble) == '<div class="answer"><p>x</p></div>'
    assert render.follow_ups_html([]) == ""
    assert render.question_text(render.question_html("Is 3 < 4 & 5 > 4?")) == "Is 3 < 4 & 5 > 4?"
    long = "word " * 400
    assert render.question_text(render.question_html(long)).endswith("…")  # its shown part, not its length




def final(steps) -> tuple:
    *_, last = steps
    return last


def test_an_edited_question_is_answered_in_its_place_and_only_the_latest_answer_offers_follow_ups(
        backend: Backend) -> None:
    settings = ("extractive", 5, [], "", "")
    chat, history, groups, _, _, turns = final(backend.turn(ISTANBUL, [], [], [], *settings))
    assert 'class="follow-ups"' in chat[-1]["content"]  # suggested from the cited articles
    chat, history, groups, _, _, turns = final(backend.turn(GENEVA, chat, history, groups, *settings, turns))
    assert 'class="follow-ups"' not in chat[1]["content"]  # the earlier answer's are gone
    edited = {"index": 0, "value": "In which palace were the Istanbul talks held?", "previous": chat[0]["content"]}
    chat, history, groups, panel, _, turns = final(backend.edit(edited, chat, history, groups, turns, *settings))
    assert [t["question"] for t in turns] == ["In which palace were the Istanbul talks held?"]
    assert len(chat) == 2 and len(groups) == 1 and history[0]["content"] == turns[0]["question"]
    assert 'id="source-1-1"' in panel
    # Submitted unchanged (or emptied), the question is asked again whole, as it was.
    again = {"index": 0, "value": render.question_text(chat[0]["content"]), "previous": chat[0]["content"]}
    assert final(backend.edit(again, chat, history, groups, turns, *settings))[5][0]["question"] == turns[0]["question"]
    nothing = final(backend.edit({"index": 7}, chat, history, groups, turns, *settings))
    assert nothing[0] == chat and nothing[5] == turns  # no such question: nothing changes

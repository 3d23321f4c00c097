"""Passages: whole sentences, exact offsets, overlap, stable ids, no text left out."""

from __future__ import annotations

import random

import pytest

from index.chunking import chunk, uncovered
from index.cleaning import clean
from index.text import LIST_ITEM, units
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def articles() -> dict[str, str]:
    return {p.name: clean(p.read_text(encoding="utf-8")).text for p in sorted(SEEDS.glob("*.txt"))}


def test_offsets_are_exact_and_sentences_never_cut(articles: dict[str, str]) -> None:
    for name, text in articles.items():
        # a passage may start at a list item's mark ("- "), just before its first sentence
        boundaries = {u.start for u in units(text)} | {u.start - u.mark for u in units(text)} | {u.end for u in units(text)}
        passages = chunk(text, "a1", "v" * 32)
        assert passages, name
        for passage in passages:
            assert text[passage.start:passage.end] == passage.text
            assert passage.start in boundaries and passage.end in boundaries, (name, passage.text[:60])


def test_every_sentence_is_in_some_passage(articles: dict[str, str]) -> None:
    for name, text in articles.items():
        passages = chunk(text, "a1", "v" * 32)
        for unit in units(text):
            if not unit.heading:
                assert any(p.start <= unit.start and unit.end <= p.end for p in passages), (name, text[unit.start:unit.end])


def test_sizes_and_overlap() -> None:
    text = " ".join(f"Sentence number {i} says something short." for i in range(10))
    passages = chunk(text, "a", "v" * 32, max_sentences=4, overlap=1, max_chars=10_000)
    assert [len(units(p.text)) for p in passages] == [4, 4, 4]
    # consecutive passages share exactly one sentence
    assert passages[0].text.endswith("Sentence number 3 says something short.")
    assert passages[1].text.startswith("Sentence number 3 says something short.")


def test_long_sentence_is_kept_whole() -> None:
    long_sentence = "The talks " + "went on and on " * 100 + "until dawn."
    passages = chunk(f"Short one here today. {long_sentence} Another short one here.", "a", "v" * 32,
                     max_chars=200)
    assert any(p.text == long_sentence for p in passages)


def test_a_heading_starts_a_passage_and_never_ends_one() -> None:
    text = ("Talks End\n\nFirst sentence of the section is here. Second sentence of it is here.\n\n"
            "Next Steps\n\nThe next section starts here with words. It has more words in it.")
    passages = chunk(text, "a", "v" * 32)
    assert [p.text.split("\n")[0] for p in passages] == ["Talks End", "Next Steps"]
    assert not passages[0].text.endswith("Next Steps")


def test_ids_are_stable_and_change_with_the_version(articles: dict[str, str]) -> None:
    text = articles["004_f737e705128ea97f.txt"]
    first, second = chunk(text, "a1", "v" * 32), chunk(text, "a1", "v" * 32)
    assert [p.id for p in first] == [p.id for p in second]
    assert len({p.id for p in first}) == len(first)
    other = chunk(text, "a1", "w" * 32)
    assert not {p.id for p in first} & {p.id for p in other}


def covered(text: str, passages) -> int:
    """Characters of ``text`` (white space aside) in no passage, checking the offsets on the way."""
    for passage in passages:
        assert text[passage.start:passage.end] == passage.text
    return uncovered(text, [(p.start, p.end) for p in passages])


def test_uncovered_counts_text_outside_every_span_but_not_white_space() -> None:
    text = "Alpha beta.\n\nGamma delta.\n\nEpsilon"
    assert uncovered(text, [(0, 11), (13, 25), (27, 34)]) == 0
    assert uncovered(text, [(0, 11), (27, 34)]) == len("Gammadelta.")
    assert uncovered(text, [(0, 11), (5, 25)]) == len("Epsilon")  # overlapping spans
    assert uncovered(text, []) == len(text.replace(" ", "").replace("\n", ""))


LEAD = "The pact sets out the following measures:"
SHAPES = {
    "unpunctuated": ["- a quota of 9,400 tonnes of cod for the Varn fleet",
                     "- compensation of 31 million kroner for the Skelda fishermen"],
    "short": ["- cod", "- herring quotas", "- 31 million kroner"],
    "numbered": ["1. a quota of 9,400 tonnes of cod", "2) compensation for fishermen", "(3) joint patrols"],
    "lettered": ["a) a quota of 9,400 tonnes of cod", "b) compensation for fishermen"],
    "nested": ["- fisheries:", "- a quota of 9,400 tonnes of cod", "- compensation for fishermen",
               "- ports", "* two harbours reopen"],
    "unmarked": ["a quota of 9,400 tonnes of cod for the Varn fleet", "compensation for the Skelda fishermen"],
    "sentences": ["- The Varn fleet gets a quota of 9,400 tonnes of cod.",
                  "- The Skelda fishermen get 31 million kroner in compensation."],
}
INTRO = ("Fisheries pact signed\n\nVarn and Skelda signed a fisheries pact in Tromsø on Monday after two years "
         "of talks. Both governments said the deal would hold for a decade.")


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("where", ["end", "middle"])
def test_a_list_of_any_shape_is_in_passages_with_its_lead_in(shape: str, where: str) -> None:
    """Issue 18: items that were not four-word sentences were taken as headings; at the end of an
    article they made no passage, and in the middle they were cut off from their lead-in."""
    items = SHAPES[shape]
    text = "\n\n".join([INTRO, LEAD, *items])
    if where == "middle":
        text += "\n\nFishermen in Skelda welcomed the deal. They said it came too late for some boats."
    passages = chunk(text, "a", "v" * 32)
    assert covered(text, passages) == 0
    together = [p for p in passages if LEAD in p.text and all(item in p.text for item in items)]
    assert together, [p.text for p in passages]
    item_units = [u for u in units(text) if u.start > text.index(LEAD)][: len(items)]
    assert all(not u.heading for u in item_units)  # an item is a sentence of its own, not a heading
    mark = LIST_ITEM.match(items[0])  # its mark ("- ", "1. ") is left out of the sentence, not out of the passage
    assert text[item_units[0].start:item_units[0].end] == (items[0][mark.end():] if mark else items[0])


def test_a_long_list_fills_a_passage_to_the_size_limit_and_goes_on_in_the_next() -> None:
    items = [f"- item number {n} of the agreement on fishing rights" for n in range(40)]
    text = "\n\n".join([INTRO, LEAD, *items, "The deal takes effect in May. It runs for ten years."])
    passages = chunk(text, "a", "v" * 32, max_sentences=4, overlap=1, max_chars=400)
    assert covered(text, passages) == 0
    first = next(p for p in passages if LEAD in p.text)
    assert "- item number 0 " in first.text  # the lead-in never ends a passage without its first item
    assert max(p.text.count("- item") for p in passages) > 4  # items that are no sentences: max_chars bounds them
    assert all(len(p.text) <= 400 for p in passages)


def test_a_list_that_fits_a_passage_of_its_own_starts_one_with_its_lead_in_and_sentence_items_count() -> None:
    prose = " ".join(f"Sentence {n} of the report says something." for n in range(3))
    items = ["- The Varn fleet gets a quota of 9,400 tonnes of cod.", "- The Skelda fishermen get compensation."]
    text = "\n\n".join([prose, LEAD, *items])
    passages = chunk(text, "a", "v" * 32, max_sentences=4)
    assert [p.text for p in passages] == [prose, "\n\n".join([LEAD, *items])]
    many = [f"- Item {n} of the pact is a full sentence here." for n in range(6)]
    text = "\n\n".join([LEAD, *many])  # items that are sentences count against max_sentences
    assert [p.text.count("- Item") for p in chunk(text, "a", "v" * 32, max_sentences=4)] == [3, 4]


def test_headings_with_no_sentence_after_them_make_a_passage() -> None:
    text = ("Talks End\n\nFirst sentence of the section is here. Second sentence of it is here.\n\n"
            "Timeline\n\nAgreement signed in Istanbul\n\nPhased exchange completed")
    passages = chunk(text, "a", "v" * 32)
    assert covered(text, passages) == 0
    assert passages[-1].text == "Timeline\n\nAgreement signed in Istanbul\n\nPhased exchange completed"


MINES = ("Orsk Minerals buys three mines\n\nOrsk Minerals agreed on Monday to buy three mines from Tamsel "
         "Holdings. The sale still needs the approval of regulators.\n\n{lead}\n\nKestrel Ridge mine near "
         "Kalgoorlie in Western Australia\n\nCopper Hill mine near Mount Isa\n\nGrey Point mine in Tasmania")


@pytest.mark.parametrize("lead", ["The three mines in the deal", "The deal covers three mines.", "The mines"])
def test_unpunctuated_lines_under_a_lead_in_without_a_colon_are_list_items(lead: str) -> None:
    """Issue 29.6: short unpunctuated lines after a lead-in that does not end in ':' were each taken
    for a heading, so no answer could quote them. Two or more such lines in a row after the first
    sentence are list items; a label of three words or fewer before them stays their heading; the
    title block at the top stays headings."""
    text = MINES.format(lead=lead)
    found = {text[u.start:u.end]: u for u in units(text)}
    items = ["Kestrel Ridge mine near Kalgoorlie in Western Australia", "Copper Hill mine near Mount Isa",
             "Grey Point mine in Tasmania"]
    assert all(found[item].item and not found[item].heading for item in items), found
    assert found[lead].heading == (lead == "The mines") and found["Orsk Minerals buys three mines"].heading
    passages = chunk(text, "a", "v" * 32)
    assert covered(text, passages) == 0 and any(all(item in p.text for item in items) for p in passages)
    top = "Analysis\n\nWhy the talks failed\n\nThe talks failed again on Friday in Geneva. Both sides blamed them."
    assert [top[u.start:u.end] for u in units(top) if u.heading] == ["Analysis", "Why the talks failed"]


def test_a_lone_numbered_line_between_paragraphs_stays_a_heading() -> None:
    text = ("The talks failed again on Friday in Geneva. Both sides blamed each other.\n\n"
            "1. Prolonged Conflict\n\nThe war is likely to go on for years. Casualties will rise.\n\n"
            "2. Economic Strain\n\nReconstruction will cost billions. Donors are tired.")
    headings = [text[u.start:u.end] for u in units(text) if u.heading]
    assert headings == ["1. Prolonged Conflict", "2. Economic Strain"]
    assert [p.text.split("\n")[0] for p in chunk(text, "a", "v" * 32)][1:] == headings


def test_no_text_is_left_out_whatever_the_mix_of_paragraphs() -> None:
    pieces = ["Talks Resume", "The two sides met on Monday in Vienna. They agreed on little.", "What next?",
              "The measures are:", "- cod", "- a quota of 9,400 tonnes", "1. first", "2. second",
              "compensation for fishermen", "Officials said a deal was close, and that it would be signed soon.",
              "a hotline between commanders", "Key points:", "* fewer patrols", "(a) lettered"]
    rng = random.Random(18)
    for _ in range(300):
        text = "\n\n".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        for sentences, overlap, chars in ((4, 1, 900), (2, 1, 120), (3, 2, 60)):
            passages = chunk(text, "a", "v" * 32, sentences, overlap, chars)
            assert covered(text, passages) == 0, (text, [p.text for p in passages])
            assert len({p.id for p in passages}) == len(passages)
            assert [p.start for p in passages] == sorted(p.start for p in passages)

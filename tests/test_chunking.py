"""Passages: whole sentences, exact offsets, overlap, stable ids."""

from __future__ import annotations

import pytest

from index.chunking import chunk, units
from index.cleaning import clean
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def articles() -> dict[str, str]:
    return {p.name: clean(p.read_text(encoding="utf-8")).text for p in sorted(SEEDS.glob("*.txt"))}


def test_offsets_are_exact_and_sentences_never_cut(articles: dict[str, str]) -> None:
    for name, text in articles.items():
        boundaries = {u.start for u in units(text)} | {u.end for u in units(text)}
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

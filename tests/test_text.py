"""index/text.py: the one sentence splitter (with exact offsets), words, the month names, shared
by index/ and rag/ (issue 31.4)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from index.text import (
    MONTH_PATTERN, MONTHS, TYPED_WORD, ends_like_sentence, fold, is_sentence_line, month_number, sentence_spans,
    units, words,
)
from tests.conftest import ROOT


def test_sentence_spans_are_exact_offsets() -> None:
    text = 'Dr. Abed Abu Hasira said the ward was full. "We have no fuel," he said.\n\nTalks resume on Monday.  '
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Abed Abu Hasira said the ward was full.", '"We have no fuel," he said.', "Talks resume on Monday."]
    lead = "  One here. Two."
    assert [lead[s:e] for s, e in sentence_spans(lead)] == ["  One here.", "Two."]
    assert sentence_spans("") == [] and sentence_spans("   ") == []


def test_the_sentence_model_loads_without_scipy_stats_and_leaves_it_importable() -> None:
    """NLTK's import pulls in scipy.stats (0.7 s of a cold ``rag ask``) for a statistic nothing
    here uses: loading the sentence model keeps it out, and it imports as usual afterwards. In a
    fresh interpreter, as a cold start is (this test process may have scipy.stats already)."""
    import subprocess
    import sys

    probe = ("import sys\n"
             "from index.text import sentence_spans\n"
             "assert sentence_spans('Mr. Smith went to Washington. He met the U.S. president.') == [(0, 29), (30, 56)]\n"
             "assert 'nltk' in sys.modules and 'scipy.stats' not in sys.modules, 'scipy.stats was imported'\n"
             "import scipy.stats\n"
             "assert scipy.stats.fisher_exact([[1, 2], [3, 4]]) is not None\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_units_use_the_sentence_splitter_and_keep_headings_and_list_marks_apart() -> None:
    text = ("Talks End\n\nThe talks ended on Friday. Mr. Smith left early.\n\nThe plan has two parts:\n\n"
            "- a ceasefire\n\n- an exchange of prisoners")
    found = units(text)
    assert [(text[u.start:u.end], u.heading, u.item) for u in found] == [
        ("Talks End", True, False), ("The talks ended on Friday.", False, False), ("Mr. Smith left early.", False, False),
        ("The plan has two parts:", False, False), ("a ceasefire", False, True), ("an exchange of prisoners", False, True)]
    assert all(text[u.start - u.mark:u.start] == "- " for u in found if u.item)
    prose = text.index("The talks")
    assert [(prose + s, prose + e) for s, e in sentence_spans(text[prose:text.index("\n\nThe plan")])] == \
        [(u.start, u.end) for u in found[1:3]]


def test_a_title_made_from_a_first_sentence_ends_where_the_splitter_ends_it() -> None:
    """Not at an abbreviation, nor before a closing quote (the cleaner once had its own pattern)."""
    from index.cleaning import short_title

    assert short_title("Dr. Abed Abu Hasira said the ward was full. It was.") == \
        "Dr. Abed Abu Hasira said the ward was full."
    assert short_title('He said the talks were "over." Then he left the room.') == 'He said the talks were "over."'


def test_a_line_ends_like_a_sentence_with_its_closing_quotes() -> None:
    assert ends_like_sentence('He said it was "over."') and ends_like_sentence("It ended (at last).")
    assert ends_like_sentence("The plan has two parts:") and not ends_like_sentence("The plan has two parts:",
                                                                                    lead_in=False)
    assert not ends_like_sentence("Talks End")
    assert is_sentence_line("The talks ended on Friday.") and not is_sentence_line("Talks ended.")


def test_words_are_folded_with_numbers_as_written() -> None:
    assert words("Russia’s envoy — Medinsky — paid 1,000 roubles for Erdoğan’s 2.5% deal") == [
        "russia's", "envoy", "medinsky", "paid", "1000", "roubles", "for", "erdogan's", "2.5", "deal"]
    assert fold("Zürich – “Talks”") == 'zurich - "talks"'


def test_words_as_typed_are_the_spelling_vocabulary_s() -> None:
    """Letters only, lower-cased but not folded: the speller replaces them where they stand."""
    assert words("Russia’s envoy paid 1,000 roubles in Zürich, a well-known city", as_typed=True) == [
        "russia", "envoy", "paid", "roubles", "in", "rich", "well-known", "city"]
    question = "Who led the Genva talks?"
    assert [question[m.start():m.end()].lower() for m in TYPED_WORD.finditer(question)] == \
        words(question, as_typed=True)


def test_the_month_names_are_one_vocabulary_for_the_cleaner_and_the_readers() -> None:
    from index.cleaning import find_date, parse_date
    from rag.dates import month_years, months

    assert len(MONTHS) == 12 and MONTH_PATTERN.split("|") == list(MONTHS)
    assert [month_number(m.title()) for m in MONTHS] == list(range(1, 13))
    with pytest.raises(ValueError):
        month_number("Smarch")
    assert parse_date("September 4, 2025") == date(2025, 9, 4)
    assert find_date("Helsinki, 3 Sept 2026")[0] == date(2026, 9, 3)
    assert month_years("Talks on June 2, 2025 and in May 2025") == {"june 2025", "may 2025"}
    assert months("They may meet in March") == {"march"}


def test_only_index_text_splits_sentences() -> None:
    """Issue 31.4: one sentence splitter in index/ and rag/. No other module of theirs runs Punkt
    or writes its own pattern for where a sentence ends (spaCy's parse may still be asked whether
    it reads one sentence, as rag/suggest.py does, but it splits nothing)."""
    for path in sorted([*(ROOT / "index").rglob("*.py"), *(ROOT / "rag").rglob("*.py")]):
        if path == ROOT / "index" / "text.py":
            continue
        source = path.read_text(encoding="utf-8")
        for sign in ("span_tokenize", "Punkt", "[.!?", "[.?!"):
            assert sign not in source, f"{path.relative_to(ROOT)} splits sentences itself ({sign}): use index.text"
        assert not re.search(r"for \w+ in \w+\.sents\b", source), f"{path.relative_to(ROOT)}: use index.text"

"""Dates as people type them in a filter (rag/dates.py), through the API, the CLI and the page's
pure functions."""

from datetime import date

import gradio as gr
import pytest

from index.errors import InputError
from rag.dates import human_date, parse_day, parse_range
from rag.retrieval import Filters
from ui.app import make_filters, normalised_day, rewritten_day

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(("text", "end", "day"), [
    ("2025-06-12", False, date(2025, 6, 12)),
    ("June 12, 2025", False, date(2025, 6, 12)),
    ("12 June 2025", True, date(2025, 6, 12)),
    ("June 2025", False, date(2025, 6, 1)),
    ("June 2025", True, date(2025, 6, 30)),
    ("2024", False, date(2024, 1, 1)),
    ("2024", True, date(2024, 12, 31)),
    ("yesterday", False, date(2026, 12, 1)),
    ("last week", False, date(2026, 11, 25)),
    ("3 days ago", True, date(2026, 11, 29)),
    ("  ", False, None),
])
def test_a_date_is_read_as_people_write_it(text: str, end: bool, day: date | None) -> None:
    assert parse_day(text, end=end, today=TODAY) == day


@pytest.mark.parametrize("text", ["last weak", "banana", "2025-13-45", "x" * 5000])
def test_text_that_names_no_day_is_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(InputError, match=r"is not a date: write it like 2025-06-01, June 2025 or last week"):
        parse_day(text, today=TODAY)


def test_a_range_in_the_wrong_order_says_to_swap_it() -> None:
    assert parse_range("May 2025", "June 2025") == (date(2025, 5, 1), date(2025, 6, 30))
    with pytest.raises(InputError, match=r"'from' date \(2025-07-01\) is after the 'until' date .* swap them"):
        parse_range("July 2025", "June 2025")


def test_the_api_the_cli_and_the_page_read_dates_the_same_way() -> None:
    assert Filters.coerce({"published_after": "June 2025"}).published_after == date(2025, 6, 1)
    assert make_filters(None, "", "June 2025").published_before == date(2025, 6, 30)
    with pytest.raises(InputError, match="not a date"):
        make_filters(None, "last weak", "")
    # The page's date box shows the day it read once the person leaves it; nonsense stays as typed.
    assert normalised_day("June 2025", end=True) == "2025-06-30"
    assert normalised_day("last weak") == "last weak"
    assert normalised_day("") == ""
    # ... and writes the box only when that reads differently (writing back the value sent on
    # leaving it could replace newer typing).
    assert rewritten_day("June 2025", end=True) == "2025-06-30"
    assert rewritten_day("") == rewritten_day("2025-01-01") == rewritten_day("last weak") == gr.skip()


def test_a_date_is_shown_in_words() -> None:
    assert human_date("2025-06-12") == human_date(date(2025, 6, 12)) == "June 12, 2025"
    assert human_date(None) == "" and human_date("soon") == "soon"


def test_times_reads_when_a_text_says_something_happened() -> None:
    from rag.dates import times

    assert times("In May 2025 they met again; the first talks, in 2022, failed.") == [(2022, 0), (2025, 5)]
    assert times("They met on June 2, 2025.") == [(2025, 6)]
    assert times("They met on Tuesday.", "2026-02-17") == [(2026, 2)] and times("They met on Tuesday.") == []

"""Dates as people type them, as texts name them and as answers show them: one module.

``parse_day`` reads what a person writes in a date filter ("2025-06-01", "June 2025",
"1 March", "last week", "yesterday") with dateparser, the well-kept library for this; the
start of a period is taken for a "from" bound and its end for an "until" bound, so "June 2025"
covers the whole month whichever side it is on. ``human_date`` writes an ISO date for a reader
(defined in :mod:`index.text`, which ingest shares, and given here with the rest).
``month_years`` and ``months`` read the months a question, a passage or a draft sentence names,
the same way for each (retrieval's date boost, the answer policy and the citation check), by
the month names of :mod:`index.text`, which the cleaner reads datelines with.
"""

from __future__ import annotations

import re
from datetime import date

from index.errors import InputError
from index.text import MONTH_PATTERN, MONTHS, fold, human_date, month_number

#: What the message for an unreadable date suggests, and the page shows as its placeholder.
EXAMPLES = "2025-06-01, June 2025 or last week"


def parse_day(text: str | date | None, *, end: bool = False, today: date | None = None) -> date | None:
    """The day ``text`` names, or None when it is empty. ``end`` picks the last day of a period
    ("June 2025" → June 30 for an "until" bound); relative dates count back from ``today``.

    Raises :class:`InputError` naming the text and the forms that work."""
    if text is None or isinstance(text, date):
        return text
    text = " ".join(text.split())
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    import dateparser  # imported here: ~0.3 s, and only a typed date needs it

    prefer = "last" if end else "first"
    settings = {"PREFER_DAY_OF_MONTH": prefer, "PREFER_MONTH_OF_YEAR": prefer, "PREFER_DATES_FROM": "past",
                "RETURN_AS_TIMEZONE_AWARE": False}
    if today is not None:
        from datetime import datetime

        settings["RELATIVE_BASE"] = datetime(today.year, today.month, today.day)
    parsed = dateparser.parse(text, languages=["en"], settings=settings) if len(text) <= 40 else None
    if parsed is None:
        raise InputError(f"'{text[:40]}' is not a date: write it like {EXAMPLES}, or leave it empty")
    return parsed.date()


def parse_range(after: str | date | None, before: str | date | None,
                today: date | None = None) -> tuple[date | None, date | None]:
    """Both bounds of a date filter, checked to be in order."""
    first, last = parse_day(after, today=today), parse_day(before, end=True, today=today)
    if first and last and first > last:
        raise InputError(f"the 'from' date ({first.isoformat()}) is after the 'until' date ({last.isoformat()}): "
                         "swap them")
    return first, last


_MONTH_YEAR = re.compile(rf"\b({MONTH_PATTERN})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?,?\s+(\d{{4}})\b")


def month_years(text: str) -> set[str]:
    """Month-year pairs, with or without a day: "June 2, 2025" and "June 2025" -> {"june 2025"}."""
    return {f"{m} {y}" for m, y in _MONTH_YEAR.findall(fold(text))}


def months(text: str) -> set[str]:
    """The months ``text`` names, folded ("may" only where it reads as the month)."""
    folded = fold(text)
    return {m for m in MONTHS if re.search(rf"\b{m}\b", folded) and not (m == "may" and not _may_is_month(text))}


def _may_is_month(text: str) -> bool:
    """"May" as the month: before a day or year, or after "in"/"of" (not the verb)."""
    return bool(re.search(r"\bMay\b(?=\s+\d)|\bin\s+May\b|\bMay\s+\d{4}\b|\bof\s+May\b", text))


#: A year named in a text (1950-2099), as the retriever's date hints and :func:`times` read them.
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def times(text: str, published: str | None = None) -> list[tuple[int, int]]:
    """When ``text`` says something happened, as (year, month) pairs, a year named alone as
    (year, 0): "in May 2025" -> [(2025, 5)], "since 2022" -> [(2022, 0)]; a text that names no
    time gets its article's publication date (``published``, ISO), if any."""
    found = {(int(y), month_number(m)) for m, y in (my.rsplit(" ", 1) for my in month_years(text))}
    found |= {(int(y), 0) for y in YEAR.findall(text) if not any(y == str(f[0]) for f in found)}
    if not found and published:
        when = date.fromisoformat(published)
        found = {(when.year, when.month)}
    return sorted(found)

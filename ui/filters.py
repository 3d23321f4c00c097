"""What the page's filters leave out of the indexed articles: a pure function over the store's
article records, so an abstention under filters can say how many articles were not searched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from index.store import ArticleRecord
from rag.retrieval import Filters


@dataclass(frozen=True)
class LeftOut:
    """Of ``total`` articles, ``kept`` pass the filters; ``undated`` of the others were left out
    only because a date range is set and they state no date."""

    total: int
    kept: int
    undated: int

    @property
    def left_out(self) -> int:
        return self.total - self.kept


def left_out(records: Iterable[ArticleRecord], filters: Filters | None) -> LeftOut:
    """How many of ``records`` the filters leave out (sources match by path or file name, dates
    inclusively; an undated article is left out whenever a date is set, as retrieval does)."""
    records = list(records)
    if filters is None or filters.is_empty():
        return LeftOut(len(records), len(records), 0)
    dated = filters.published_after is not None or filters.published_before is not None
    wanted = set(filters.sources)
    kept = undated = 0
    for record in records:
        if wanted and record.source not in wanted and Path(record.source).name not in wanted:
            continue
        when = record.published_date
        if dated and when is None:
            undated += 1
            continue
        if (filters.published_after and when < filters.published_after) or \
                (filters.published_before and when > filters.published_before):
            continue
        kept += 1
    return LeftOut(len(records), kept, undated)


def filter_note(counts: LeftOut) -> str:
    """What an abstention under filters adds: how many articles the filters left out, and why."""
    if counts.left_out == 0:
        return ""
    plural = "s" if counts.total != 1 else ""
    note = f"The filters left out {counts.left_out} of the {counts.total} indexed article{plural}"
    if counts.undated:
        note += f" ({counts.undated} state no publication date, and a date is set)"
    return note + ": clear them in Answer settings to search every article."

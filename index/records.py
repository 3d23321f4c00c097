"""What the store keeps and gives back: the manifest (the settings an index was built with), an
article's record in the registry, a passage found by a search, an unfinished write settled, and
the health report of ``rag doctor``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from index.chunking import Chunk
from index.text import human_date


SCHEMA_VERSION = 1
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Manifest:
    """The settings that built a store. A store is only used with the same settings."""

    embedding_model: str
    dimension: int
    chunk_sentences: int
    chunk_overlap: int
    chunk_max_chars: int
    schema: int = SCHEMA_VERSION
    # Passages embedded under their header (:func:`headed`); False in stores made before it was kept.
    passage_header: bool = False

    def differences(self, other: "Manifest") -> list[str]:
        """Human-readable ``name: stored -> wanted`` for every setting that differs."""
        return [
            f"{f.name}: {getattr(self, f.name)!r} (store) vs {getattr(other, f.name)!r} (now)"
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


@dataclass(frozen=True)
class ArticleRecord:
    """An indexed article. ``version`` is its content hash; ``text`` the cleaned text."""

    id: str
    source: str
    version: str
    passages: int
    title: str | None = None
    author: str | None = None
    published: str | None = None  # ISO date, where the article states one
    outlet: str | None = None
    # Where ``published`` was read (a key of index.cleaning.DATE_ORIGINS: the article's byline,
    # the file's properties, the web page); None in records made before it was kept.
    published_from: str | None = None
    # The address the article's web page states for itself (index.loading.page_address), for a
    # link to the original; None where it states none, and in records made before it was kept.
    url: str | None = None
    text: str = field(default="", repr=False)
    raw_hash: str | None = None  # of the file as read, with the cleaner's version (see index.ingest)
    status: str = "committed"
    previous: str = field(default="", repr=False)  # JSON of the committed record a pending one replaces
    root: str | None = None  # the working directory a relative ``source`` was named from

    def location(self) -> Path:
        """Where the article's file is: ``source`` resolved against the folder it was ingested from
        (records from before ``root`` was kept: against the working directory)."""
        source = Path(self.source)
        return source if source.is_absolute() or not self.root else Path(self.root) / source

    @property
    def published_date(self) -> date | None:
        return date.fromisoformat(self.published) if self.published else None

    def display_title(self) -> str:
        return self.title or Path(self.source).name

    def passage_metadata(self, passage: Chunk) -> dict[str, Any]:
        """Metadata stored with each passage, flat so Chroma can filter on it."""
        meta: dict[str, Any] = {
            "article_id": self.id, "version": self.version, "source": self.source,
            "title": self.display_title(), "start": passage.start, "end": passage.end, "index": passage.index,
        }
        if passage.section:
            meta["section"] = passage.section
        if self.published:
            meta["published"] = self.published
            meta["published_day"] = day_number(self.published_date)
        if self.outlet:
            meta["outlet"] = self.outlet
        if self.url:
            meta["url"] = self.url
        return meta

    def _metadata(self) -> dict[str, Any]:
        values = asdict(self)
        del values["id"], values["text"]
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def _from(cls, record_id: str, metadata: dict[str, Any], document: str | None) -> "ArticleRecord":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in metadata.items() if key in known}
        return cls(id=record_id, text=document or "", **values)


def headed(metadata: dict[str, Any], text: str) -> str:
    """A passage as it is embedded when the store embeds headers: under its article's title, date
    and section heading (a passage that says "the talks" or "the company" is then found by what they
    are). ``metadata`` is the passage's (:meth:`ArticleRecord.passage_metadata`, a hit's)."""
    lines = [metadata.get("title", ""), human_date(metadata.get("published")), metadata.get("section", "")]
    return "\n".join([*(line for line in lines if line), text])


@dataclass(frozen=True)
class Hit:
    """A passage returned by a search, with its cosine similarity."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float


@dataclass(frozen=True)
class Repair:
    """An article's write that a killed process left unfinished, as :meth:`Store.repair` settled it:
    ``finished`` (all its new passages were there: the new version is committed; ``new`` when it
    was the article's first) or undone (back to the version before, or to nothing)."""

    article_id: str
    source: str
    finished: bool
    new: bool


@dataclass
class Health:
    """What :meth:`Store.check` found. Problems are listed by article (source) where they belong to one."""

    articles: int = 0  # readable: committed, or an update left unfinished (read at its previous version)
    passages: int = 0
    pending: list[str] = field(default_factory=list)  # sources with a write left unfinished
    pending_new: list[str] = field(default_factory=list)  # those of them not readable yet (no previous version)
    incomplete: dict[str, str] = field(default_factory=dict)  # article id -> "9 of 12 passages"
    unreadable: dict[str, int] = field(default_factory=dict)  # article id -> passages whose vector is lost
    # article id -> passages whose vector is stored but that a search for that very vector does not
    # return, even among 100 neighbours: the graph index is approximate, and a passage among many
    # exact duplicates (syndicated text) can end up with no link to it. Not damage: keyword search
    # still finds the passage, and embedding it again rarely changes the graph. Reported, not a problem.
    unreachable: dict[str, int] = field(default_factory=dict)
    orphans: list[str] = field(default_factory=list)  # passage ids of no article version in the registry
    unloadable: str = ""  # why the passages cannot be read at all (then every article is unreadable)
    # article id -> characters of its cleaned text (white space aside) that none of its passages
    # covers: text no question can find (left out by an older chunker, or with passages lost)
    uncovered: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.pending or self.incomplete or self.unreadable or self.orphans or self.unloadable
                    or self.uncovered)

    @property
    def uncovered_chars(self) -> int:
        return sum(self.uncovered.values())

    def damaged(self) -> set[str]:
        """Ids of the committed articles whose passages must be made and embedded again."""
        return set(self.incomplete) | set(self.unreadable) | set(self.uncovered)


def day_number(when: date | None) -> int | None:
    """Days since 1970-01-01, the form dates take in passage metadata (Chroma filters on numbers)."""
    return (when - _EPOCH).days if when else None

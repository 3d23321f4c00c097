"""The Chroma store: passages with their vectors, a registry of articles, and a manifest.

We use ``chromadb`` directly rather than llama-index's ``ChromaVectorStore``: we need exact ids,
flat metadata to filter on (article, date), deletes by article, and a write protocol that keeps
each article all-or-nothing when an ingest is killed. The integration adds a serialized node per
record and hides those calls.

Two collections:

* ``<name>``: one record per passage (vector, text, metadata: article id, version, offsets,
  source, title, date). Its collection metadata holds the :class:`Manifest`.
* ``<name>_registry``: one record per article (the cleaned text as document, metadata as
  below). Chroma needs a vector per record; registry records carry a constant 1-d vector.

Writing articles (:meth:`Store.write_articles`, a batch at a time so that Chroma sees a few large
calls rather than several small ones per article):

1. their registry records are marked ``pending`` (each remembering the committed record it replaces);
2. their passages are upserted (ids derive from article, version and offsets, so the leftovers of
   a killed write of the same version are overwritten, not duplicated);
3. the old versions' passages are deleted;
4. the records are marked ``committed``.

A process killed anywhere in between leaves a ``pending`` record. :meth:`Store.repair` (run by the
next ingest of the same articles) rolls it forward when all of the new passages are there, and
back otherwise, so no article is ever half-written or counted twice. Readers never see a pending
version: retrieval keeps only passages of committed versions.

An embedded store is one folder that several processes may open (the page, ``rag ask``,
``rag ingest``), but embedded Chroma keeps each collection's vector index in the memory of the
process that opened it. So:

* every change goes through :meth:`Store.writing`, which holds the folder's lock file
  (``.ingest.lock``) for the whole write: one writing process at a time, whatever it is;
* a write starts and ends by touching ``.generation``; a process that sees it changed since it
  opened the folder reopens its Chroma client before the next read or write, so it neither serves
  a stale index nor writes one back over the newer files.

Chroma loads a collection's vector index from its segment files (``<folder>/<uuid>/*.bin``) with
no check: garbage bytes in them (a disk error, a copy cut short) crash the process that loads
them with no message, or make reading its vectors fail or give back garbage, depending on where
they fall. So before a process opens the folder's client, a throwaway process loads every
collection once and reads its vectors back (:func:`_probe`); a collection that crashed it, raised
or gave back vectors that are not numbers is reported as damaged (:class:`StoreError`, naming
``rag doctor --repair``) and never loaded here. The verdict is
kept in ``.index-checked`` with the size and modification time of every segment file, so the
probe (about 2 s, mostly importing chromadb, plus the reading) runs only when those files changed since; a writer
records the files it has just written as checked.

A full disk: Chroma cut short by one leaves its log ahead of what it applied, and then reads
nothing, not even what was committed before, until space is freed. So a write of articles is
first checked against the free space (:meth:`Store._room_for`), and a write that fails on a full
disk anyway has the log entries Chroma could not apply deleted by the writer, under its lock
(:func:`_drop_unapplied_log`): it is undone as if killed. Chroma also writes a little on opening a
store, so a writer keeps 1 MB in reserve (``.reserve``), given back when the store cannot be
opened for want of space (:meth:`_Folder._opened`). The message says "the disk holding the store
<path> is full (N MB free)" (:func:`disk_full`).

A Chroma server serialises writes itself; there, a collection deleted and created again by
another process (``--rebuild``) is found again on the next call.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sys
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

import numpy as np

from index.chunking import Passage, uncovered
from index.errors import StoreError

SCHEMA_VERSION = 1
_REGISTRY_SUFFIX = "_registry"
_MANIFEST_KEY = "rag_manifest"
_UNIT_VECTOR = [1.0]
_EPOCH = date(1970, 1, 1)
LOCK_FILE = ".ingest.lock"
GENERATION_FILE = ".generation"
CHECKED_FILE = ".index-checked"
DATABASE = "chroma.sqlite3"
#: Space a writer keeps in the folder, given back when Chroma cannot open the store for want of it.
RESERVE_FILE = ".reserve"
RESERVE_BYTES = 1_000_000
DEFAULT_FOLDER = Path(".rag")
#: How Chroma says a collection is not there (the type names differ between its versions).
_ABSENT = frozenset({"NotFoundError", "InvalidCollectionException", "ValueError"})
SERVER_HINT = "for several writers at once, use a Chroma server (`chroma run`, then RAG_CHROMA_HOST)"
#: Chroma tells of a full disk in its own words ("Error in compaction: Failed to apply logs to the
#: metadata segment"): a failure on an embedded store with less than this free is taken for one.
LOW_SPACE = 64_000_000
#: What a write costs on disk, measured (Chroma's log, its metadata segment with a full-text index
#: of every passage, the vector index): about 10 kB per 64-d passage; these bounds are above that.
_BYTES_PER_PASSAGE = 8_192
_BYTES_PER_TEXT_BYTE = 4
_BYTES_PER_WRITE = 2_000_000


@dataclass(frozen=True)
class Manifest:
    """The settings that built a store. A store is only used with the same settings."""

    embedding_model: str
    dimension: int
    chunk_sentences: int
    chunk_overlap: int
    chunk_max_chars: int
    schema: int = SCHEMA_VERSION

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

    def passage_metadata(self, passage: Passage) -> dict[str, Any]:
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


@dataclass(frozen=True)
class Hit:
    """A passage returned by a search, with its cosine similarity."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float


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


class _Folder:
    """An embedded store's folder as this process sees it: the Chroma client every :class:`Store`
    on the folder shares, reopened when another process has written since (see the module
    docstring), and the writer's lock (re-entrant within the process)."""

    _open: dict[Path, "_Folder"] = {}
    _guard = threading.Lock()

    def __init__(self, path: Path):
        self.path = path
        self.client: Any = None
        self.epoch = 0  # how many times the client was (re)opened; Stores drop cached collections when it moves
        self._seen: tuple[int, int] | None = None  # the generation the client was opened at
        self._reopen = threading.Lock()
        self._write = threading.RLock()
        self._depth = 0
        self._system: Any = None  # the Chroma system behind ``client``
        self._retired: Any = None  # ours that the last reopen replaced
        #: Collections whose vector index crashed the probe (name -> what happened): never loaded here.
        self.damaged: dict[str, str] = {}

    @classmethod
    def of(cls, path: Path) -> "_Folder":
        key = path.resolve()
        with cls._guard:
            if key not in cls._open:
                cls._open[key] = cls(key)
            return cls._open[key]

    def generation(self) -> tuple[int, int] | None:
        """Identifies the last write any process started or finished (None before the first)."""
        try:
            stat = os.stat(self.path / GENERATION_FILE)
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def current(self, force: bool = False) -> tuple[Any, int]:
        """The client, reopened first when another process wrote since it was opened (or ``force``)."""
        with self._reopen:
            generation = self.generation()
            if self.client is None or force or (generation != self._seen and self._depth == 0):
                if self._retired is not None:  # replaced a whole reopen ago: no call is still using it
                    self._retired.stop()
                self._retired = self._system
                _check_database(self.path)
                self.damaged = self._checked()
                self.client, self._system = self._opened()
                self._seen = generation
                self.epoch += 1
            return self.client, self.epoch

    def _opened(self) -> tuple[Any, Any]:
        """A new client on the folder. Chroma writes a little to its database on opening, and fails
        to open a store whose disk has not a byte free: then the space a writer kept in reserve
        (:data:`RESERVE_FILE`) is given back, and it is tried once more, so that the committed
        articles can still be read."""
        try:
            return _persistent_client(self.path)
        except Exception as error:  # noqa: BLE001 - Chroma's error types vary
            reserve = self.path / RESERVE_FILE
            if not (reserve.exists() and _no_space(error)):
                raise
            reserve.unlink(missing_ok=True)
            return _persistent_client(self.path)

    def _keep_reserve(self) -> None:
        """After a write, keep :data:`RESERVE_BYTES` in reserve for opening the store on a full disk
        (see :meth:`_opened`), when there is room for it."""
        reserve = self.path / RESERVE_FILE
        try:
            if reserve.exists() and reserve.stat().st_size >= RESERVE_BYTES:
                return
            if (free_space(self.path) or 0) < 4 * RESERVE_BYTES:
                return
            with open(reserve, "wb") as handle:
                handle.write(b"\0" * RESERVE_BYTES)  # written, not sparse: the space is really taken
        except OSError:
            reserve.unlink(missing_ok=True)

    @contextmanager
    def writing(self, where: str, reopen: bool = True) -> Iterator[None]:
        """Hold the folder's lock file for a write (nested calls in this process just go on);
        ``reopen=False`` leaves the client alone (to set a damaged database aside)."""
        with self._write:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK_FILE, "a+")
            try:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise StoreError(f"{holder} is writing to the {where}: wait for it to finish; "
                                     f"{SERVER_HINT}") from None
                try:
                    handle.seek(0)
                    handle.truncate()
                    handle.write(f"process {os.getpid()} ({_command()})")
                    handle.flush()
                except OSError as error:
                    raise _write_failure(self.path, where, error) from None
                if reopen:
                    self.current()  # another process may have written since: never write over its files
                self._depth = 1
                self._touch(where)
                failed, undone = True, 0
                try:
                    yield
                    self._record(_segment_files(self.path), self.damaged)  # the files we have just written
                    self._keep_reserve()
                    failed = False
                except Exception as error:
                    if disk_full(self.path, where, error):
                        undone = _drop_unapplied_log(self.path)
                    raise
                finally:
                    try:
                        self._touch(where)
                    except StoreError:
                        if not failed:  # else the write's own error is the one to tell
                            raise
                    finally:
                        self._depth = 0
                        with self._reopen:
                            # our own write: the client is current, unless its log was cut back
                            self._seen = (-1, -1) if undone else self.generation()
            finally:
                handle.close()

    def writer(self) -> str | None:
        """Who holds the lock file now (another process), or None."""
        if self._depth:
            return None  # this process: its own write failed
        try:
            with open(self.path / LOCK_FILE, "a+") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.seek(0)
                    return handle.read().strip() or "another process"
                return None
        except OSError:
            return None

    def _touch(self, where: str) -> None:
        temporary = self.path / f"{GENERATION_FILE}.{os.getpid()}.tmp"
        try:
            temporary.write_text(f"{os.getpid()} {os.times().elapsed}\n")
            os.replace(temporary, self.path / GENERATION_FILE)  # a new inode: a new generation
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise _write_failure(self.path, where, error) from None

    def stale(self) -> None:
        """Reopen the client before the next call (not during a write of this process's)."""
        with self._reopen:
            self._seen = (-1, -1)

    def set_aside(self, where: str) -> Path | None:
        """When the database is damaged (:func:`_database_damage`), move Chroma's files (database and
        index segments) into ``damaged-<time>/`` under the writer's lock, so that the folder starts
        afresh; uploads and the rest stay. Where they went, or None when the database is sound."""
        with self.writing(where, reopen=False):
            if not _database_damage(self.path):
                return None
            import time

            target = self.path / time.strftime("damaged-%Y%m%d-%H%M%S")
            target.mkdir(exist_ok=True)
            for entry in os.scandir(self.path):
                if entry.name.startswith((DATABASE, CHECKED_FILE)) or _segment(entry):
                    os.replace(entry.path, target / entry.name)
            with self._reopen:
                self.client = None  # the next call opens the new, empty database
            self.damaged = {}
            return target

    def _checked(self) -> dict[str, str]:
        """The damaged collections: as recorded in ``.index-checked`` when the segment files are
        the ones recorded there, else as a probe finds them (and then recorded)."""
        files = _segment_files(self.path)
        if not files:
            return {}
        try:
            recorded = json.loads((self.path / CHECKED_FILE).read_text(encoding="utf-8"))
            if recorded["files"] == files:
                return dict(recorded["damaged"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        damaged = _probe(self.path)
        if not damaged or self.writer() is None:  # a crash while another process writes may be its doing
            self._record(files, damaged)
        return damaged

    def _record(self, files: list, damaged: dict[str, str]) -> None:
        temporary = self.path / f"{CHECKED_FILE}.{os.getpid()}.tmp"
        try:
            temporary.write_text(json.dumps({"files": files, "damaged": damaged}), encoding="utf-8")
            os.replace(temporary, self.path / CHECKED_FILE)
        except OSError:  # a read-only folder: probe again next time
            temporary.unlink(missing_ok=True)


def disk_full(folder: Path, where: str, error: BaseException | None = None) -> str:
    """"the disk holding <where> is full (N MB free)" when ``error`` says no space is left (errno 28,
    sqlite's "database or disk is full") or less than :data:`LOW_SPACE` is free on the disk
    holding ``folder``; "" otherwise."""
    free = free_space(folder)
    if free is None or (free >= LOW_SPACE and not (error is not None and _no_space(error))):
        return ""
    return f"the disk holding the {where} is full ({megabytes(free)} free)"


def free_space(folder: Path) -> int | None:
    """Bytes free on the disk holding ``folder`` (or its nearest existing parent); None if unknown."""
    for place in (folder, *folder.parents):
        try:
            return shutil.disk_usage(place).free
        except OSError:
            continue
    return None


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size < 10e6 else f"{size / 1e6:,.0f} MB"


def _no_space(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the disk is full."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(error).lower()
        if "no space left" in text or "disk is full" in text or "disk quota exceeded" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


def _write_failure(folder: Path, where: str, error: OSError) -> StoreError:
    """A file of our own (the lock's note, ``.generation``) could not be written."""
    full = disk_full(folder, where, error)
    if full:
        return StoreError(f"{full}: free some space there, then try again (nothing was written)")
    return StoreError(f"cannot write to the {where} ({error.strerror or error}): check that its folder is "
                      "writable, then try again")


def _space_needed(items: Sequence[tuple[ArticleRecord, Sequence[Passage], np.ndarray]]) -> int:
    """About how many bytes writing these articles takes on disk (see :data:`_BYTES_PER_PASSAGE`)."""
    need = _BYTES_PER_WRITE
    for record, passages, vectors in items:
        dimension = int(np.shape(vectors)[1]) if len(passages) and np.ndim(vectors) == 2 else 0
        need += len(record.text.encode("utf-8")) * _BYTES_PER_TEXT_BYTE
        need += len(passages) * (_BYTES_PER_PASSAGE + 3 * 4 * dimension)
    return need


def _drop_unapplied_log(folder: Path) -> int:
    """After a write cut short by a full disk: delete the entries of Chroma's log that its
    collection's metadata segment has not applied (it failed to), so that Chroma reads the store
    as it was, without first needing room to apply them. A write is undone this way as if killed:
    it leaves at most a pending record, which the next ingest or ``rag doctor --repair`` finishes
    or undoes. Left alone when the vector segment has applied more than the metadata segment
    (they would disagree). Returns how many entries were deleted (0 when sqlite itself has no room)."""
    import sqlite3

    try:
        connection = sqlite3.connect(folder / DATABASE, timeout=30)
    except sqlite3.Error:
        return 0
    try:
        applied = dict(connection.execute("SELECT segment_id, seq_id FROM max_seq_id").fetchall())
        segments: dict[str, dict[str, Any]] = {}
        for segment, scope, collection in connection.execute("SELECT id, scope, collection FROM segments"):
            segments.setdefault(collection, {})[scope] = applied.get(segment, 0)
        dropped = 0
        for collection, done in segments.items():
            metadata, vector = done.get("METADATA"), done.get("VECTOR", 0)
            if not isinstance(metadata, int) or not isinstance(vector, int) or vector > metadata:
                continue
            dropped += connection.execute("DELETE FROM embeddings_queue WHERE topic LIKE ? AND seq_id > ?",
                                          (f"%/{collection}", metadata)).rowcount
        connection.commit()
        return dropped
    except sqlite3.Error:
        return 0
    finally:
        connection.close()


def _check_database(folder: Path) -> None:
    """Refuse an empty database file in a store that was written to: Chroma would take it for a
    new, empty store (the error names it as the damage it is; see :meth:`Store._failure`)."""
    database = folder / DATABASE
    if (folder / GENERATION_FILE).exists() and database.exists() and database.stat().st_size == 0:
        import sqlite3

        raise sqlite3.DatabaseError(f"file is not a database: {DATABASE} is empty (0 bytes), "
                                    "though articles were written to this store")


def _database_damage(folder: Path) -> str:
    """What is wrong with the store's database file ("" when sqlite finds nothing wrong): an empty
    file in a store that was written to, or what sqlite's quick check reports."""
    import sqlite3

    try:
        _check_database(folder)
        if not (folder / DATABASE).exists():
            return ""
        connection = sqlite3.connect(f"file:{folder / DATABASE}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            connection.close()
        return "" if verdict == "ok" else verdict
    except sqlite3.DatabaseError as error:
        return str(error)


def _segment(entry: os.DirEntry) -> bool:
    """A Chroma segment folder (named by a uuid)."""
    return entry.is_dir() and len(entry.name) == 36 and entry.name.count("-") == 4


def _segment_files(folder: Path) -> list[list]:
    """``[name, size, mtime]`` of every file of every vector index Chroma loads from disk: the
    segment folders (named by a uuid) that hold an ``index_metadata.pickle``. Chroma rebuilds the
    others (a collection too small to have been persisted yet) from its log at every load, and
    writes their files again each time."""
    files = []
    try:
        for segment in os.scandir(folder):
            if _segment(segment) and os.path.exists(os.path.join(segment.path, "index_metadata.pickle")):
                for entry in os.scandir(segment.path):
                    stat = entry.stat()
                    files.append([f"{segment.name}/{entry.name}", stat.st_size, stat.st_mtime_ns])
    except OSError:
        return []
    return sorted(files)


# Loads each collection's vector index in turn, saying which one it starts with, then reads every
# stored vector back (page by page) and searches with one: Chroma reads the vectors from the index
# files, so garbage bytes there either crash this process, raise, or come back as vectors that are
# not finite numbers. Prints "!<what went wrong>" for the last two.
_PROBE = """
import sys, chromadb, numpy
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
for collection in client.list_collections():
    if collection.name in sys.argv[2:]:
        continue
    print(collection.name, flush=True)
    try:
        collection.count()
        offset, first = 0, None
        while True:
            found = collection.get(limit=5000, offset=offset, include=["embeddings"])
            if not len(found["ids"]):
                break
            vectors = numpy.asarray(found["embeddings"], dtype=numpy.float32)
            if not numpy.isfinite(vectors).all():
                print("!some stored vectors are not numbers", flush=True)
                break
            first = vectors[0] if first is None else first
            offset += len(found["ids"])
        if first is not None:
            collection.query(query_embeddings=[first.tolist()], n_results=1, include=["distances"])
    except Exception as error:
        print("!" + " ".join(f"{type(error).__name__}: {error}".split())[:200], flush=True)
    print(flush=True)
"""


def _probe(folder: Path) -> dict[str, str]:
    """Load and read every collection of the folder in a throwaway process (see ``_PROBE``); the
    collections whose vector index crashed it, raised an error or gave back vectors that are not
    numbers. An error while the database file itself is damaged is left for the caller to meet
    and report (see :meth:`Store._failure`): the vector index is not to blame then."""
    import subprocess

    damaged: dict[str, str] = {}
    while True:
        try:
            result = subprocess.run([sys.executable, "-c", _PROBE, str(folder), *damaged], capture_output=True,
                                    text=True, timeout=600, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        except (OSError, subprocess.TimeoutExpired):
            return damaged  # no verdict: open it as before
        lines = result.stdout.split("\n")
        for name, said in zip(lines, lines[1:]):
            if said.startswith("!") and name and not name.startswith("!") and not _database_damage(folder):
                damaged[name] = f"reading it failed ({said[1:]})"
        if result.returncode >= 0 or len(lines) < 2 or not lines[-2] or lines[-2] in damaged:
            return damaged  # finished (or failed before loading anything: the caller will meet that)
        damaged[lines[-2]] = f"loading it killed a test process with signal {-result.returncode}"


def _persistent_client(path: Path) -> tuple[Any, Any]:
    """A new embedded Chroma client on ``path``, and its client system. chromadb caches one system
    per folder and process, and would hand back the stale one: it is taken out of the cache first
    (and left running for calls still using it)."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings

    SharedSystemClient._identifier_to_system.pop(str(path), None)
    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
    return client, SharedSystemClient._identifier_to_system.get(str(path))


def _options(options: list[str], collection: str) -> str:
    """``rag`` options naming a store (see :meth:`Store.command`)."""
    import shlex

    if collection != "articles":
        options = [*options, "--collection", collection]
    return " ".join(shlex.quote(option) for option in options)


def _command() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:2]])[:80]


_T = TypeVar("_T")


def _from_chroma(error: Exception) -> bool:
    """True for errors raised by Chroma or what it stands on (sqlite, the HTTP client, files),
    not for ours or for bugs, which pass through unchanged."""
    module = type(error).__module__ or ""
    return isinstance(error, OSError) or module.split(".")[0] in {"chromadb", "sqlite3", "httpx", "httpcore"}


def _chroma(doing: str) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """Run a :class:`Store` method; an error raised inside Chroma becomes one :class:`StoreError`
    line naming the store and what to do. A collection deleted and made again by another process
    (a rebuild) is looked up again once before giving up."""

    def decorate(method: Callable[..., _T]) -> Callable[..., _T]:
        @wraps(method)
        def run(self: "Store", *args: Any, **kwargs: Any) -> _T:
            for attempt in (1, 2):
                try:
                    return method(self, *args, **kwargs)
                except Exception as error:  # noqa: BLE001 - Chroma raises many types
                    if not _from_chroma(error):
                        raise
                    if attempt == 1 and type(error).__name__ in _ABSENT - {"ValueError"}:
                        self._forget(reopen=True)
                        continue
                    raise self._failure(error, doing) from error
            raise AssertionError("unreachable")

        return run

    return decorate


class Store:
    """One index in Chroma: open it with :meth:`open`."""

    #: Passages per ``add`` call (Chroma limits the batch size).
    write_batch = 1000

    def __init__(self, client: Any, name: str, where: str, folder: Path | None = None, options: str = ""):
        self._client = client
        self.name = name
        self.where = where
        #: The ``rag`` options that name this store (``--store PATH`` ...; none for the defaults).
        self.options = options
        #: The embedded store's folder; None for a Chroma server.
        self.folder = folder
        self._shared = _Folder.of(folder) if folder is not None else None
        self._epoch = 0
        self._passages = None
        self._registry = None
        self._remade: tuple[object, dict[str, Hit]] | None = None  # see _passages_from_registry

    # ---- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls, *, path: str | Path | None = None, host: str | None = None, port: int = 8000,
        collection: str = "articles",
    ) -> "Store":
        """Connect to a Chroma server (``host``) or open the embedded store at ``path``."""
        if host:
            import chromadb
            from chromadb.config import Settings

            where = f"Chroma server {host}:{port}"
            try:
                client = chromadb.HttpClient(host=host, port=port, settings=Settings(anonymized_telemetry=False))
                client.heartbeat()
            except Exception as error:  # noqa: BLE001 - connection failures come in many types
                raise StoreError(
                    f"cannot reach the {where} ({type(error).__name__}): start it with "
                    f"`chroma run --path DIR --port {port}`, or unset RAG_CHROMA_HOST to use the embedded store"
                ) from None
            return cls(client, collection, where, options=_options(
                ["--chroma-host", host, "--chroma-port", str(port)], collection))
        folder = Path(path or DEFAULT_FOLDER)
        store = cls(None, collection, f"store {folder}", folder,
                    _options([] if folder == DEFAULT_FOLDER else ["--store", str(folder)], collection))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            store._sync()
        except Exception as error:  # noqa: BLE001
            raise store._failure(error, "opening it") from None
        return store

    @classmethod
    def set_aside_damaged(cls, path: str | Path) -> Path | None:
        """Before a rebuild of the embedded store at ``path``: when its database is damaged, move
        Chroma's files into ``<path>/damaged-<time>/`` so that the rebuild starts afresh (the
        uploads stay); returns that folder, or None when the database is sound."""
        folder = Path(path)
        if not (folder / DATABASE).exists():
            return None
        return _Folder.of(folder).set_aside(f"store {folder}")

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's writer lock for a batch of changes: one writing process per embedded
        store at a time (a second one gets a :class:`StoreError` naming the first). Every change
        below takes it; hold it around several to make them one write. A server needs no lock."""
        if self._shared is None:
            yield
            return
        with self._shared.writing(self.where):
            self._sync()
            yield

    def command(self, arguments: str) -> str:
        """The ``rag`` command that runs ``arguments`` (e.g. ``"doctor --repair"``) on this store."""
        return " ".join(["rag", self.options, arguments]).replace("  ", " ")

    def damage(self) -> str:
        """Why the passages' vector index cannot be loaded without crashing the process ("" when it can)."""
        return self._shared.damaged.get(self.name, "") if self._shared is not None else ""

    def generation(self) -> object:
        """Changes whenever any process writes to this embedded store (None for a server, whose
        writers are not seen): readers that cache what they read compare it to know when to reload."""
        return self._shared.generation() if self._shared is not None else None

    @_chroma("reading it")
    def exists(self) -> bool:
        """True when the passage collection has been created (by an ingest)."""
        return self._collection(create=False, load=False) is not None

    @_chroma("reading its settings")
    def manifest(self) -> Manifest | None:
        collection = self._collection(create=False, load=False)
        if collection is None:
            return None
        raw = (collection.metadata or {}).get(_MANIFEST_KEY)
        return Manifest(**json.loads(raw)) if raw else None

    @_chroma("checking its settings")
    def check_manifest(self, wanted: Manifest, *, create: bool) -> None:
        """Create the store with ``wanted`` settings (when ``create``), or refuse one built otherwise."""
        stored = self.manifest()
        if stored is None:
            if not create:
                raise StoreError(f"no articles indexed in the {self.where} yet: run "
                                 f"`{self.command('ingest seeds/')}` first")
            self._collection(create=True, manifest=wanted)
            return
        differences = stored.differences(wanted)
        if differences:
            raise StoreError(
                f"the {self.where} was built with other settings ({'; '.join(differences)}): "
                f"rebuild it with `{self.command('ingest --rebuild <folders>')}`, or use the settings it was built with"
            )

    @_chroma("emptying it")
    def reset(self) -> None:
        """Delete both collections (``rag ingest --rebuild``)."""
        with self.writing():
            for name in (self.name, self.name + _REGISTRY_SUFFIX):
                try:
                    self._client.delete_collection(name)
                except Exception as error:  # noqa: BLE001
                    if type(error).__name__ not in _ABSENT:
                        raise
                self._undamaged(name)
            self._passages = self._registry = None

    # ---- articles ----------------------------------------------------------------------------

    @_chroma("listing its articles")
    def articles(self, *, with_text: bool = False) -> dict[str, ArticleRecord]:
        """The readable articles by id: committed ones, and for an update still pending (in
        progress, or left by a killed process), the committed version it replaces."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        readable = (_readable(record) for record in self._records(include=include))
        return {record.id: record for record in readable if record is not None}

    @_chroma("reading an article")
    def article(self, article_id: str) -> ArticleRecord | None:
        """One readable article (see :meth:`articles`), with its text; None if there is none."""
        found = self._registry_collection().get(ids=[article_id], include=["metadatas", "documents"])
        if not found["ids"]:
            return None
        return _readable(ArticleRecord._from(found["ids"][0], found["metadatas"][0], found["documents"][0]))

    @_chroma("reading an article")
    def find_version(self, version: str) -> ArticleRecord | None:
        """A committed article with this content hash, if any (to report duplicates)."""
        found = self._registry_collection().get(
            where={"$and": [{"version": version}, {"status": "committed"}]}, include=["metadatas"], limit=1
        )
        if not found["ids"]:
            return None
        return ArticleRecord._from(found["ids"][0], found["metadatas"][0], None)

    @_chroma("writing articles")
    def write_articles(self, items: Sequence[tuple[ArticleRecord, Sequence[Passage], np.ndarray]]) -> None:
        """Store each ``(record, passages, vectors)``, replacing the committed version of the same
        article if there is one; all-or-nothing per article (see the module docstring)."""
        if not items:
            return
        with self.writing():
            self._room_for(items)
            self._write_articles(items)

    def _room_for(self, items: Sequence[tuple[ArticleRecord, Sequence[Passage], np.ndarray]]) -> None:
        """Refuse a write that the disk cannot hold before any of it is written: Chroma, cut short
        by a full disk, leaves its log ahead of its metadata and cannot read even the articles
        committed before until space is freed."""
        if self._shared is None:
            return
        need, free = _space_needed(items), free_space(self._shared.path)
        if free is not None and free < need:
            raise StoreError(
                f"the disk holding the {self.where} is full ({megabytes(free)} free; writing {len(items)} more "
                f"article(s) needs about {megabytes(need)}): free some space there, then run it again; the "
                "articles indexed so far are kept and can be read")

    def _write_articles(self, items: Sequence[tuple[ArticleRecord, Sequence[Passage], np.ndarray]]) -> None:
        registry, store = self._registry_collection(), self._collection(create=True)
        found = registry.get(ids=[record.id for record, _, _ in items], include=["metadatas", "documents"])
        previous = {i: ArticleRecord._from(i, meta, doc)
                    for i, meta, doc in zip(found["ids"], found["metadatas"], found["documents"])}
        previous = {i: r for i, r in previous.items() if r.status == "committed"}
        pending = [replace(record, status="pending",
                           previous=json.dumps(_record_dict(previous[record.id])) if record.id in previous else "")
                   for record, _, _ in items]
        self._put_records(registry, pending)
        rows = [(record, p, v) for record, passages, vectors in items for p, v in zip(passages, vectors)]
        for begin in range(0, len(rows), self.write_batch):
            batch = rows[begin:begin + self.write_batch]
            store.upsert(ids=[p.id for _, p, _ in batch], embeddings=np.stack([v for _, _, v in batch]).tolist(),
                         documents=[p.text for _, p, _ in batch],
                         metadatas=[record.passage_metadata(p) for record, p, _ in batch])
        for record, _, _ in items:
            old = previous.get(record.id)
            if old is not None and old.version != record.version:
                self._delete_version(old.id, old.version)
        # Committing changes only the records' metadata: no need to send their text again.
        registry.update(ids=[record.id for record, _, _ in items],
                        metadatas=[replace(record, status="committed", previous="")._metadata() for record, _, _ in items])

    @_chroma("removing an article")
    def remove_article(self, article_id: str) -> None:
        """Delete an article and all its passages."""
        with self.writing():
            self._collection(create=True).delete(where={"article_id": article_id})
            self._registry_collection().delete(ids=[article_id])

    @_chroma("repairing an interrupted write")
    def repair(self, only: Callable[[ArticleRecord], bool] | None = None) -> list[str]:
        """Finish or undo writes a killed process left pending (only the records ``only`` accepts,
        when given, so that ingests of disjoint shards never undo each other's writes in progress);
        returns the sources it touched."""
        if not self.exists():
            return []
        with self.writing():
            return self._repair(only)

    def _repair(self, only: Callable[[ArticleRecord], bool] | None) -> list[str]:
        repaired = []
        for record in self._records(include=["metadatas", "documents"], where={"status": "pending"}):
            if only is not None and not only(record):
                continue
            found = self._collection(create=True).get(
                where={"$and": [{"article_id": record.id}, {"version": record.version}]}, include=[]
            )
            previous = ArticleRecord(**json.loads(record.previous)) if record.previous else None
            if len(found["ids"]) == record.passages:  # every new passage is there: roll forward
                if previous is not None and previous.version != record.version:
                    self._delete_version(record.id, previous.version)
                self._put_record(self._registry_collection(), replace(record, status="committed", previous=""))
            else:  # roll back to the previous version (whose passages are untouched), or to nothing
                self._delete_version(record.id, record.version)
                if previous is not None:
                    self._put_record(self._registry_collection(), previous)
                else:
                    self._registry_collection().delete(ids=[record.id])
            repaired.append(record.source)
        return repaired

    @_chroma("checking it")
    def check(self, page: int = 1000) -> Health:
        """Verify the passages against the registry: every committed article has all its passages,
        each passage's vector can be read, no passage belongs to no article, and every character of
        each article's cleaned text (white space aside) is in one of its passages; also which
        vectors a search for them does not return (:attr:`Health.unreachable`). Reads everything
        once; changes nothing."""
        records = self._records(include=["metadatas", "documents"])
        committed = {r.id: r for r in records if r.status == "committed"}
        allowed = {(r.id, r.version) for r in records}  # a pending write's passages, and what it replaces
        allowed |= {(r.id, json.loads(r.previous)["version"]) for r in records if r.previous}
        health = Health(articles=sum(_readable(r) is not None for r in records),
                        pending=[r.source for r in records if r.status != "committed"],
                        pending_new=[r.source for r in records if _readable(r) is None])
        if self.damage():
            health.unloadable = f"the vector index is damaged: {self.damage()}"
            health.unreadable = {i: r.passages for i, r in committed.items()}
            return health
        collection = self._collection(create=False)
        if collection is None:
            health.incomplete = {i: f"0 of {r.passages} passages" for i, r in committed.items()}
            health.uncovered = _uncovered(committed, {})
            return health
        counts: dict[str, int] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        offset = 0
        while True:
            try:
                found = collection.get(limit=page, offset=offset, include=["metadatas"])
            except Exception as error:  # noqa: BLE001 - the vector index cannot be loaded at all
                if not _from_chroma(error) or self._database_damage(str(error)):
                    raise  # a damaged database: --repair cannot help (see _failure)
                health.unloadable = " ".join(str(error).split())[:300] or type(error).__name__
                health.unreadable = {i: r.passages for i, r in committed.items()}
                return health
            owner = {i: meta.get("article_id") for i, meta in zip(found["ids"], found["metadatas"])}
            for i, meta in zip(found["ids"], found["metadatas"]):
                key = (meta.get("article_id"), meta.get("version"))
                if key not in allowed:
                    health.orphans.append(i)
                elif key[0] in committed and committed[key[0]].version == key[1]:
                    counts[key[0]] = counts.get(key[0], 0) + 1
                    if isinstance(meta.get("start"), int) and isinstance(meta.get("end"), int):
                        spans.setdefault(key[0], []).append((meta["start"], meta["end"]))
            unreadable, unreachable = self._lost_vectors(collection, found["ids"])
            for lost, where in ((unreadable, health.unreadable), (unreachable, health.unreachable)):
                for i in lost:
                    where[owner[i]] = where.get(owner[i], 0) + 1
            health.passages += len(found["ids"])
            if len(found["ids"]) < page:
                break
            offset += page
        health.incomplete = {i: f"{counts.get(i, 0)} of {r.passages} passages" for i, r in committed.items()
                             if counts.get(i, 0) != r.passages}
        health.uncovered = _uncovered(committed, spans)
        return health

    @staticmethod
    def _lost_vectors(collection: Any, ids: list[str]) -> tuple[list[str], list[str]]:
        """Those of ``ids`` whose vector cannot be read (lost), and those whose vector is read but
        not found by a search for it (unreachable in the approximate graph)."""
        if not ids:
            return [], []
        try:
            found = collection.get(ids=ids, include=["embeddings"])
            vectors = {i: v for i, v in zip(found["ids"], found["embeddings"]) if v is not None and len(v)}
            asked = [i for i in ids if i in vectors]
            lost = [i for i in ids if i not in vectors]
            # The graph search is approximate, and a store may hold many near-identical passages:
            # look wider (up to 100 neighbours) before calling a vector unreachable.
            total = collection.count() if asked else 0
            for n in (1, 10, 100):
                if not asked:
                    break
                result = collection.query(query_embeddings=[vectors[i] for i in asked], n_results=min(n, total),
                                          include=["distances"])
                asked = [i for i, hits, distances in zip(asked, result["ids"], result["distances"])
                         if i not in hits and not (distances and distances[0] < 1e-6)]
            return lost, asked
        except Exception as error:  # noqa: BLE001 - a damaged index fails in many ways
            if not _from_chroma(error):
                raise
            return list(ids), []

    @_chroma("deleting passages")
    def delete_passages(self, ids: Sequence[str] = (), *, article_id: str | None = None) -> None:
        """Delete these passages, or all of one article's (its registry record stays)."""
        with self.writing():
            if article_id is not None:
                self._collection(create=True).delete(where={"article_id": article_id})
            if ids:
                self._collection(create=True).delete(ids=list(ids))

    @_chroma("emptying its passages")
    def reset_passages(self) -> None:
        """Delete every passage and make the collection again with the same settings; the registry
        stays (``rag doctor --repair`` then embeds every article again from it)."""
        with self.writing():
            manifest = self.manifest()
            try:
                self._client.delete_collection(self.name)  # deleting never loads the vector index
            except Exception as error:  # noqa: BLE001
                if type(error).__name__ not in _ABSENT:
                    raise
            self._passages = None
            self._undamaged(self.name)
            self._collection(create=True, manifest=manifest)

    # ---- passages ----------------------------------------------------------------------------

    @_chroma("counting passages")
    def count(self) -> int:
        collection = self._collection(create=False)
        return collection.count() if collection is not None else 0

    @_chroma("searching it")
    def search(self, vector: Sequence[float], k: int, where: dict | None = None) -> list[Hit]:
        """The ``k`` passages nearest to ``vector`` (cosine), optionally filtered by metadata."""
        collection = self._collection(create=False)
        if collection is None or k <= 0:
            return []
        result = collection.query(
            query_embeddings=[list(map(float, vector))], n_results=k, where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(id=i, text=doc, metadata=meta, score=1.0 - float(dist))
            for i, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]

    @_chroma("searching it")
    def search_exact(self, vector: Sequence[float], k: int, where: dict) -> list[Hit]:
        """:meth:`search` by comparing ``vector`` with every passage ``where`` selects: for a
        handful of articles this metadata lookup is much faster than a filtered nearest-neighbour
        query over the whole collection, and exact."""
        collection = self._collection(create=False)
        if collection is None or k <= 0:
            return []
        found = collection.get(where=where, include=["documents", "metadatas", "embeddings"])
        if not found["ids"]:
            return []
        scores = np.asarray(found["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        best = np.argsort(-scores, kind="stable")[:k]
        return [Hit(id=found["ids"][i], text=found["documents"][i], metadata=found["metadatas"][i],
                    score=float(scores[i])) for i in best]

    @_chroma("reading passages")
    def hits(self, ids: Sequence[str]) -> list[Hit]:
        """These passages, in the order of ``ids`` (missing ones left out), with score 0."""
        if self.damage():
            remade = self._passages_from_registry()
            return [remade[i] for i in ids if i in remade]
        collection = self._collection(create=False)
        if collection is None or not ids:
            return []
        found = collection.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {i: Hit(id=i, text=doc, metadata=meta, score=0.0)
                 for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"])}
        return [by_id[i] for i in ids if i in by_id]

    @_chroma("reading vectors")
    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these passages, by id."""
        collection = self._collection(create=False)
        if collection is None or not ids:
            return {}
        found = collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(found["ids"], found["embeddings"])}

    def passages(self, where: dict | None = None, page: int = 5000) -> Iterator[Hit]:
        """Every passage (for keyword indexes), page by page, with score 0. While the vector index
        is damaged, every committed passage, made again from the registry (``where`` unused)."""
        if self.damage():
            yield from self._passages_from_registry().values()
            return
        collection = self._collection(create=False)
        if collection is None:
            return
        offset = 0
        while True:
            try:
                found = collection.get(where=where or None, limit=page, offset=offset,
                                       include=["documents", "metadatas"])
            except Exception as error:  # noqa: BLE001 - see _chroma
                if not _from_chroma(error):
                    raise
                raise self._failure(error, "reading passages") from error
            for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"]):
                yield Hit(id=i, text=doc, metadata=meta, score=0.0)
            if len(found["ids"]) < page:
                return
            offset += page

    # ---- internals ---------------------------------------------------------------------------

    def _passages_from_registry(self) -> dict[str, Hit]:
        """While the passages' vector index is damaged, their texts cannot be read from Chroma
        either: the committed articles' passages made again from the registry's texts, with the
        chunking settings of the manifest (what ``rag doctor --repair`` embeds), by id; kept until
        the store changes. Keyword search goes on over them."""
        from index.chunking import chunk

        generation = self.generation()
        if self._remade is None or self._remade[0] != generation:
            manifest = self.manifest()
            remade: dict[str, Hit] = {}
            for record in self.articles(with_text=True).values() if manifest is not None else ():
                for passage in chunk(record.text, record.id, record.version, manifest.chunk_sentences,
                                     manifest.chunk_overlap, manifest.chunk_max_chars):
                    remade[passage.id] = Hit(passage.id, passage.text, record.passage_metadata(passage), 0.0)
            self._remade = (generation, remade)
        return self._remade[1]

    def _sync(self) -> None:
        """Follow the shared client of an embedded folder: when it was reopened (another process
        wrote), drop the collections cached from the old one."""
        if self._shared is None:
            return
        client, epoch = self._shared.current()
        if epoch != self._epoch:
            self._client, self._epoch = client, epoch
            self._passages = self._registry = None

    def _forget(self, *, reopen: bool = False) -> None:
        """Drop the cached collections (and, for an embedded store, reopen its client)."""
        if reopen and self._shared is not None:
            self._shared.current(force=True)
        self._passages = self._registry = None
        self._sync()

    def _database_damage(self, detail: str) -> str:
        """For an error Chroma raised (its text ``detail``): what is wrong with the embedded store's
        database file, if anything ("" when sqlite finds it sound, or for a server). Chroma's words
        for it vary ("Failed to pull logs from the log store"): sqlite's quick check decides."""
        if self._shared is None:
            return ""
        if "malformed" in detail or "not a database" in detail:
            return detail
        return _database_damage(self._shared.path)

    def _failure(self, error: Exception, doing: str) -> StoreError:
        """One line for an error raised inside Chroma: what failed, and what to do about it."""
        name = type(error).__name__
        detail = " ".join(str(error).split())[:300] or name
        self._passages = self._registry = None  # the next call starts from fresh collections
        if self._shared is None:
            if "connect" in name.lower() or "connect" in detail.lower() or isinstance(error, OSError):
                return StoreError(
                    f"lost the connection to the {self.where} while {doing} ({name}): check that it runs, then "
                    "try again; an ingest cut short is completed or undone when it is run again")
            return StoreError(f"the {self.where} failed while {doing} ({name}: {detail}): check the server's "
                              "log; if its collection is damaged, rebuild it with "
                              f"`{self.command('ingest --rebuild <folders>')}`")
        full = disk_full(self._shared.path, self.where, error)
        if full and (_no_space(error) or not self._database_damage(detail)):
            self._shared.stale()  # reopen (once there is room) rather than keep a half-written state
            return StoreError(f"{full}: free some space there, then try again; a write cut short is finished "
                              "or undone by the next ingest (or `" + self.command("doctor --repair") + "`)")
        if self._database_damage(detail):
            return StoreError(
                f"the {self.where} is damaged ({detail}): build it again from the article files with "
                f"`{self.command('ingest --rebuild <folders>')}` (the damaged files are moved to "
                f"{self._shared.path}/damaged-<time>; the articles uploaded in the page are kept)")
        self._shared.current(force=True)  # a half-read index is not kept
        writer = self._shared.writer()
        if writer is not None:
            return StoreError(f"the {self.where} failed while {doing}, because {writer} is writing to it now "
                              f"({name}: {detail}): try again when it finishes; {SERVER_HINT}")
        return StoreError(
            f"the {self.where} failed while {doing} ({name}: {detail}): check it with `{self.command('doctor')}`; "
            f"`{self.command('doctor --repair')}` fixes what it finds, else rebuild with "
            f"`{self.command('ingest --rebuild <folders>')}`")

    def _undamaged(self, name: str) -> None:
        """The collection ``name`` was deleted: what is made under its name is sound."""
        if self._shared is not None:
            self._shared.damaged.pop(name, None)

    def _loadable(self, name: str) -> None:
        """Refuse to touch a collection whose vector index crashed the probe (see the module docstring)."""
        why = self._shared.damaged.get(name) if self._shared is not None else None
        if why is None:
            return
        if name == self.name:
            raise StoreError(f"the vector index of the {self.where} is damaged ({why}): rebuild it from the "
                             f"passages the store keeps with `{self.command('doctor --repair')}`")
        raise StoreError(f"the article registry of the {self.where} is damaged ({why}): rebuild the store from "
                         f"the article files with `{self.command('ingest --rebuild <folders>')}`")

    def _collection(self, *, create: bool, manifest: Manifest | None = None, load: bool = True):
        """The passage collection (None if not made yet and not ``create``); ``load=False`` when
        only its settings are read, which does not load its vector index."""
        self._sync()
        if load:
            self._loadable(self.name)
        if self._passages is not None:
            return self._passages
        try:
            if create:
                metadata = {"hnsw:space": "cosine"}
                if manifest is not None:
                    metadata[_MANIFEST_KEY] = json.dumps(asdict(manifest))
                self._passages = self._client.get_or_create_collection(
                    self.name, metadata=metadata, embedding_function=None
                )
            else:
                self._passages = self._client.get_collection(self.name, embedding_function=None)
        except Exception as error:  # noqa: BLE001
            if not create and type(error).__name__ in _ABSENT:
                return None
            raise
        return self._passages

    def _registry_collection(self):
        self._sync()
        self._loadable(self.name + _REGISTRY_SUFFIX)
        if self._registry is None:
            self._registry = self._client.get_or_create_collection(
                self.name + _REGISTRY_SUFFIX, embedding_function=None
            )
        return self._registry

    def _records(self, include: list[str], where: dict | None = None) -> list[ArticleRecord]:
        found = self._registry_collection().get(where=where, include=include)
        documents = found.get("documents") or [None] * len(found["ids"])
        return [
            ArticleRecord._from(i, meta, doc) for i, meta, doc in zip(found["ids"], found["metadatas"], documents)
        ]

    def _put_record(self, registry: Any, record: ArticleRecord) -> None:
        self._put_records(registry, [record])

    def _put_records(self, registry: Any, records: Sequence[ArticleRecord]) -> None:
        registry.upsert(ids=[r.id for r in records], embeddings=[_UNIT_VECTOR] * len(records),
                        documents=[r.text or " " for r in records], metadatas=[r._metadata() for r in records])

    def _delete_version(self, article_id: str, version: str) -> None:
        self._collection(create=True).delete(where={"$and": [{"article_id": article_id}, {"version": version}]})


def _uncovered(records: dict[str, ArticleRecord], spans: dict[str, list[tuple[int, int]]]) -> dict[str, int]:
    """Characters of each article's cleaned text (white space aside) in none of its passages, for
    the articles that have any."""
    counts = {i: uncovered(record.text, spans.get(i, ())) for i, record in records.items()}
    return {i: n for i, n in counts.items() if n}


def _readable(record: ArticleRecord) -> ArticleRecord | None:
    """What readers see of a registry record: a committed one as it is; a pending update as the
    committed version it replaces (whose passages stay until the update commits); a pending new
    article not at all."""
    if record.status == "committed":
        return record
    if record.previous:
        return ArticleRecord(**json.loads(record.previous))
    return None


def _record_dict(record: ArticleRecord) -> dict[str, Any]:
    values = asdict(record)
    values["previous"] = ""
    return values

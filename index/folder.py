"""An embedded store's folder as the processes that share it see it.

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
collection once and reads its vectors back (:func:`probe`); a collection that crashed it, raised
or gave back vectors that are not numbers is reported as damaged (:class:`StoreError`, naming
``rag doctor --repair``) and never loaded here. The verdict is
kept in ``.index-checked`` with the size and modification time of every segment file, so the
probe (about 2 s, mostly importing chromadb, plus the reading) runs only when those files changed since; a writer
records the files it has just written as checked.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from index.disk import disk_full, drop_unapplied_log, free_space, no_space, write_failure
from index.errors import StoreError


LOCK_FILE = ".ingest.lock"
GENERATION_FILE = ".generation"
CHECKED_FILE = ".index-checked"
DATABASE = "chroma.sqlite3"
#: Space a writer keeps in the folder, given back when Chroma cannot open the store for want of it.
RESERVE_FILE = ".reserve"
RESERVE_BYTES = 1_000_000
SERVER_HINT = "for several writers at once, use a Chroma server (`chroma run`, then RAG_CHROMA_HOST)"


def _command() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:2]])[:80]


class Folder:
    """An embedded store's folder as this process sees it: the Chroma client every :class:`Store`
    on the folder shares, reopened when another process has written since (see the module
    docstring), and the writer's lock (re-entrant within the process)."""

    _open: dict[Path, "Folder"] = {}
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
    def of(cls, path: Path) -> "Folder":
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
                check_database(self.path)
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
            return persistent_client(self.path)
        except Exception as error:  # noqa: BLE001 - Chroma's error types vary
            reserve = self.path / RESERVE_FILE
            if not (reserve.exists() and no_space(error)):
                raise
            reserve.unlink(missing_ok=True)
            return persistent_client(self.path)

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
                    raise write_failure(self.path, where, error) from None
                if reopen:
                    self.current()  # another process may have written since: never write over its files
                self._depth = 1
                self._touch(where)
                failed, undone = True, 0
                try:
                    yield
                    self._record(segment_files(self.path), self.damaged)  # the files we have just written
                    self._keep_reserve()
                    failed = False
                except Exception as error:
                    if disk_full(self.path, where, error):
                        undone = drop_unapplied_log(self.path / DATABASE)
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
            raise write_failure(self.path, where, error) from None

    def stale(self) -> None:
        """Reopen the client before the next call (not during a write of this process's)."""
        with self._reopen:
            self._seen = (-1, -1)

    def set_aside(self, where: str) -> Path | None:
        """When the database is damaged (:func:`database_damage`), move Chroma's files (database and
        index segments) into ``damaged-<time>/`` under the writer's lock, so that the folder starts
        afresh; uploads and the rest stay. Where they went, or None when the database is sound."""
        with self.writing(where, reopen=False):
            if not database_damage(self.path):
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
        files = segment_files(self.path)
        if not files:
            return {}
        try:
            recorded = json.loads((self.path / CHECKED_FILE).read_text(encoding="utf-8"))
            if recorded["files"] == files:
                return dict(recorded["damaged"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        damaged = probe(self.path)
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


def check_database(folder: Path) -> None:
    """Refuse an empty database file in a store that was written to: Chroma would take it for a
    new, empty store (the error names it as the damage it is; see :meth:`Store._failure`)."""
    database = folder / DATABASE
    if (folder / GENERATION_FILE).exists() and database.exists() and database.stat().st_size == 0:
        import sqlite3

        raise sqlite3.DatabaseError(f"file is not a database: {DATABASE} is empty (0 bytes), "
                                    "though articles were written to this store")


def database_damage(folder: Path) -> str:
    """What is wrong with the store's database file ("" when sqlite finds nothing wrong): an empty
    file in a store that was written to, or what sqlite's quick check reports."""
    import sqlite3

    try:
        check_database(folder)
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


def segment_files(folder: Path) -> list[list]:
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


def probe(folder: Path) -> dict[str, str]:
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
        failed = {name: said[1:] for name, said in zip(lines, lines[1:])
                  if said.startswith("!") and name and not name.startswith("!")}
        if failed and not database_damage(folder):  # sqlite's check, once per run
            damaged.update((name, f"reading it failed ({said})") for name, said in failed.items())
        if result.returncode >= 0 or len(lines) < 2 or not lines[-2] or lines[-2] in damaged:
            return damaged  # finished (or failed before loading anything: the caller will meet that)
        damaged[lines[-2]] = f"loading it killed a test process with signal {-result.returncode}"


def persistent_client(path: Path) -> tuple[Any, Any]:
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

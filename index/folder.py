"""An embedded store's folder as the processes that share it see it.

An embedded store is one folder that several processes may open (the page, ``rag ask``,
``rag ingest``), but embedded Chroma keeps each collection's vector index in the memory of the
process that opened it. So:

* every change goes through :meth:`Store.writing`, which holds the folder's lock file
  (``.ingest.lock``) for the whole write: one writing process at a time, whatever it is;
* a write starts and ends by touching ``.generation``; a process that sees it changed since it
  opened the folder reopens its Chroma client before the next read or write, so it neither serves
  a stale index nor writes one back over the newer files.

Before a process opens the folder's client, a throwaway process loads every collection's vector
index once (:func:`index.probe.probe`): a collection that crashed it, raised or gave back vectors
that are not numbers is reported as damaged (:class:`StoreError`, naming ``rag doctor --repair``)
and never loaded here. The verdict is kept in ``.index-checked`` with a checksum of every index
file (:func:`index.database.index_files`), so the probe (about 2 s, mostly importing chromadb,
plus the reading) runs again only when their contents changed; a writer records the files it has
just written as checked. ``rag doctor`` trusts no record (:meth:`Folder.current` with ``verify``).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from index.database import DATABASE, GENERATION_FILE, check_database, collections, database_damage, index_files, \
    is_segment
from index.disk import RESERVE, disk_full, drop_unapplied_log, free_space, no_space, write_failure
from index.errors import StoreError
from index.probe import probe


LOCK_FILE = ".ingest.lock"
CHECKED_FILE = ".index-checked"
#: Space a writer keeps in the folder (:data:`index.disk.RESERVE` bytes), given back when Chroma
#: cannot read the store for want of it.
RESERVE_FILE = ".reserve"
SERVER_HINT = "for several writers at once, use a Chroma server (`chroma run`, then RAG_CHROMA_HOST)"


def _command(argv: list[str]) -> str:
    """This process in words, for the lock file that other processes quote: the program and its
    command ("rag ingest", "rag chat"), not the options in between (``rag --store PATH ingest``:
    each option before the command takes a value)."""
    program = Path(argv[0]).name if argv and argv[0] not in ("", "-c") else "python"
    if program == "__main__.py":  # python -m rag
        program = Path(argv[0]).parent.name
    words = iter(argv[1:])
    for word in words:
        if not word.startswith("-"):
            return f"{program} {word}"[:80]
        if "=" not in word:
            next(words, None)
    return program[:80]


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
        self._probed: tuple[list, dict[str, str]] | None = None  # index files this process probed, and the verdict

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

    def current(self, force: bool = False, verify: bool = False) -> tuple[Any, int]:
        """The client, reopened first when another process wrote since it was opened (or ``force``).
        ``verify``: whatever ``.index-checked`` records, the vector indexes are probed (unless this
        process probed these very contents already), and the client reopened after."""
        with self._reopen:
            generation = self.generation()
            unverified = verify and (self._probed is None or self._probed[0] != index_files(self.path))
            if self.client is None or force or unverified or (generation != self._seen and self._depth == 0):
                if self._retired is not None:  # replaced a whole reopen ago: no call is still using it
                    self._retired.stop()
                self._retired = self._system
                check_database(self.path)
                self.damaged = self._checked(trust=not verify)
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
            if not (no_space(error) and self.give_back_reserve()):
                raise
            return persistent_client(self.path)

    def give_back_reserve(self) -> bool:
        """Delete the space kept in reserve (:data:`RESERVE_FILE`), for Chroma to use on a full
        disk; whether there was any. Writers keep it again when there is room."""
        reserve = self.path / RESERVE_FILE
        if not reserve.exists():
            return False
        reserve.unlink(missing_ok=True)
        return True

    def reading_room(self) -> bool:
        """For a read that failed on a full disk (not during a write of this process's): give back
        the reserve and reopen the client before the next call; whether there was a reserve."""
        if self._depth or not self.give_back_reserve():
            return False
        self.stale()
        return True

    def _keep_reserve(self) -> None:
        """After a write, keep :data:`index.disk.RESERVE` bytes in reserve for reading the store on a
        full disk (see :meth:`_opened`, :meth:`reading_room`), when there is room for it."""
        reserve = self.path / RESERVE_FILE
        try:
            if reserve.exists() and reserve.stat().st_size >= RESERVE:
                return
            if (free_space(self.path) or 0) < 4 * RESERVE:
                return
            with open(reserve, "wb") as handle:
                handle.write(b"\0" * RESERVE)  # written, not sparse: the space is really taken
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
                    handle.write(f"process {os.getpid()} ({_command(sys.argv)})")
                    handle.flush()
                except OSError as error:
                    raise write_failure(self.path, where, error) from None
                if reopen:
                    self.current()  # another process may have written since: never write over its files
                self._depth = 1
                self._touch(where)
                failed, undone = True, None
                try:
                    yield
                    self._record(index_files(self.path), self.damaged)  # the files we have just written
                    self._keep_reserve()
                    failed = False
                except Exception as error:
                    if disk_full(self.path, where, error):
                        undone = drop_unapplied_log(self.path / DATABASE)
                        if undone is None and self.give_back_reserve():  # sqlite needs room for its journal
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
            target = self.move_aside([Path(entry.path) for entry in os.scandir(self.path)
                                      if entry.name.startswith((DATABASE, CHECKED_FILE)) or is_segment(entry)])
            with self._reopen:
                self.client = None  # the next call opens the new, empty database
            self.damaged = {}
            return target

    def index_folder(self, collection: str) -> Path | None:
        """The folder of ``collection``'s vector index, when it has one on disk."""
        segment = collections(self.path).get(collection)
        return self.path / segment if segment and (self.path / segment).is_dir() else None

    def move_aside(self, paths: list[Path]) -> Path:
        """Move ``paths`` (files and folders of this folder) into ``damaged-<time>/`` in it, where the
        user can look at them and delete them; returns that folder."""
        target = self.path / time.strftime("damaged-%Y%m%d-%H%M%S")
        target.mkdir(exist_ok=True)
        for path in paths:
            os.replace(path, target / path.name)
        return target

    def _checked(self, trust: bool = True) -> dict[str, str]:
        """The damaged collections: as this process probed them, or (when ``trust``) as recorded in
        ``.index-checked``, when the index files' contents are the ones probed or recorded; else as
        a probe finds them now (and then recorded)."""
        files = index_files(self.path)
        if not files:
            return {}
        if self._probed is not None and self._probed[0] == files:
            return dict(self._probed[1])
        recorded = self._recorded() if trust else None
        if recorded is not None and recorded["files"] == files:
            return dict(recorded["damaged"])
        damaged = probe(self.path)
        self._probed = (files, dict(damaged))
        if not damaged or self.writer() is None:  # a crash while another process writes may be its doing
            self._record(files, damaged)
        return damaged

    def _recorded(self) -> dict | None:
        try:
            recorded = json.loads((self.path / CHECKED_FILE).read_text(encoding="utf-8"))
            return recorded if isinstance(recorded, dict) and {"files", "damaged"} <= recorded.keys() else None
        except (OSError, ValueError):
            return None

    def _record(self, files: list, damaged: dict[str, str]) -> None:
        temporary = self.path / f"{CHECKED_FILE}.{os.getpid()}.tmp"
        try:
            temporary.write_text(json.dumps({"files": files, "damaged": damaged}), encoding="utf-8")
            os.replace(temporary, self.path / CHECKED_FILE)
        except OSError:  # a read-only folder: probe again next time
            temporary.unlink(missing_ok=True)


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

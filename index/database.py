"""Chroma's files in an embedded store's folder, read without Chroma: its sqlite database
(``chroma.sqlite3``: the articles' texts, the passages' metadata, the write log) and the folders of
its collections' vector indexes (one per collection, named by the uuid of its vector segment).

sqlite's own checks tell a damaged database from other failures (:func:`database_damage`), and the
index files' contents are summed up by a checksum (:func:`index_files`) so that damage which keeps
a file's size and time is still seen.
"""

from __future__ import annotations

import os
import sqlite3
import zlib
from pathlib import Path

DATABASE = "chroma.sqlite3"
#: Touched by every write (:class:`index.folder.Folder`): the store was written to.
GENERATION_FILE = ".generation"
#: A vector index's folder holds this once Chroma has written the index to disk (past 1,000
#: passages); Chroma rebuilds a smaller index from its log at every load.
PERSISTED = "index_metadata.pickle"
_BLOCK = 1 << 20


def check_database(folder: Path) -> None:
    """Refuse an empty database file in a store that was written to (:data:`GENERATION_FILE`):
    Chroma would take it for a new, empty store (the error names it as the damage it is; see
    :meth:`index.store.Store._failure`)."""
    database = folder / DATABASE
    if (folder / GENERATION_FILE).exists() and database.exists() and database.stat().st_size == 0:
        raise sqlite3.DatabaseError(f"file is not a database: {DATABASE} is empty (0 bytes), "
                                    "though articles were written to this store")


def database_damage(folder: Path, deep: bool = False) -> str:
    """What is wrong with the store's database file, in sqlite's words ("" when sqlite finds nothing
    wrong): an empty file in a store that was written to, or what sqlite's ``quick_check`` (with
    ``deep``, its slower ``integrity_check``, which also compares every index with its table)
    reports. Opened read-only: a check needs no free space and changes nothing."""
    try:
        check_database(folder)
        if not (folder / DATABASE).exists():
            return ""
        connection = sqlite3.connect(f"file:{folder / DATABASE}?mode=ro", uri=True)
        try:
            found = [row[0] for row in connection.execute(
                "PRAGMA integrity_check(20)" if deep else "PRAGMA quick_check(20)")]
        finally:
            connection.close()
        found = [" ".join(str(line).split()) for line in found if not str(line).startswith("*** in database")]
        return "" if found == ["ok"] else "; ".join(found)[:300]
    except sqlite3.OperationalError:  # locked, unreadable, or a write cut short to roll back first: no verdict
        return ""
    except sqlite3.DatabaseError as error:  # "database disk image is malformed", "file is not a database"
        return str(error)


def is_segment(entry: os.DirEntry) -> bool:
    """A vector index's folder (named by a uuid)."""
    return entry.is_dir() and len(entry.name) == 36 and entry.name.count("-") == 4


def index_files(folder: Path) -> list[list]:
    """``[name, size, crc32]`` of every file of every vector index Chroma loads from disk (the
    segment folders that hold :data:`PERSISTED`): what their contents were when their verdict was
    recorded. A checksum, not the size and time: a bad sector, a flipped bit or a copy tool that
    keeps times changes neither. CRC-32 runs at about 3 GB/s here: about 1 ms for the 1.8 MB of a
    1,600-passage store's index (measured), so every process that opens the store pays it."""
    files = []
    try:
        for segment in os.scandir(folder):
            if is_segment(segment) and os.path.exists(os.path.join(segment.path, PERSISTED)):
                for entry in os.scandir(segment.path):
                    if entry.is_file():
                        files.append([f"{segment.name}/{entry.name}", entry.stat().st_size, _crc32(entry.path)])
    except OSError:
        return []
    return sorted(files)


def _crc32(path: str) -> int:
    total = 0
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            total = zlib.crc32(block, total)
    return total


def collections(folder: Path) -> dict[str, str]:
    """The store's collections, by name: the folder of each one's vector index (its segment's uuid),
    as the database records them ({} when it cannot be read)."""
    try:
        connection = sqlite3.connect(f"file:{folder / DATABASE}?mode=ro", uri=True)
        try:
            return dict(connection.execute(
                "SELECT collections.name, segments.id FROM collections JOIN segments "
                "ON segments.collection = collections.id WHERE segments.scope = 'VECTOR'").fetchall())
        finally:
            connection.close()
    except sqlite3.Error:
        return {}

"""A full disk under an embedded store: named, checked before a write, and cleaned up after.

A full disk: Chroma cut short by one leaves its log ahead of what it applied, and then reads
nothing, not even what was committed before, until space is freed. So a write of articles is
first checked against the free space (:meth:`index.store.Store._room_for`), and a write that fails on a full
disk anyway has the log entries Chroma could not apply deleted by the writer, under its lock
(:func:`drop_unapplied_log`): it is undone as if killed. Chroma also writes a little to its
database to read a store at all (on opening it), so a writer keeps 1 MB in reserve (``.reserve``),
given back when Chroma cannot read the store for want of space (:meth:`index.folder.Folder._opened`,
:meth:`index.folder.Folder.reading_room`), or when sqlite needs room to delete the log entries.
Where no reserve is left, the message says how much to free (:func:`space_to_read`). The message
says "the disk holding the store <path> is full (N MB free)" (:func:`disk_full`).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from index.chunking import Chunk
from index.errors import StoreError

if TYPE_CHECKING:
    from index.records import ArticleRecord


#: Chroma tells of a full disk in its own words ("Error in compaction: Failed to apply logs to the
#: metadata segment"): a failure on an embedded store with less than this free is taken for one.
LOW_SPACE = 64_000_000
#: What a write costs on disk, measured (Chroma's log, its metadata segment with a full-text index
#: of every passage, the vector index): about 10 kB per 64-d passage; these bounds are above that.
_BYTES_PER_PASSAGE = 8_192
_BYTES_PER_TEXT_BYTE = 4
_BYTES_PER_WRITE = 2_000_000
#: Space a writer keeps in the store's folder for Chroma to read with on a full disk
#: (:data:`index.folder.RESERVE_FILE`), and the least a message asks to free.
RESERVE = 1_000_000


def disk_full(folder: Path, where: str, error: BaseException | None = None) -> str:
    """"the disk holding <where> is full (N MB free)" when ``error`` says no space is left (errno 28,
    sqlite's "database or disk is full") or less than :data:`LOW_SPACE` is free on the disk
    holding ``folder``; "" otherwise."""
    free = free_space(folder)
    if free is None or (free >= LOW_SPACE and not (error is not None and no_space(error))):
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


def no_space(error: BaseException) -> bool:
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


def write_failure(folder: Path, where: str, error: OSError) -> StoreError:
    """A file of our own (the lock's note, ``.generation``) could not be written."""
    full = disk_full(folder, where, error)
    if full:
        return StoreError(f"{full}: free some space there, then try again (nothing was written)")
    return StoreError(f"cannot write to the {where} ({error.strerror or error}): check that its folder is "
                      "writable, then try again")


def space_needed(items: Sequence[tuple[ArticleRecord, Sequence[Chunk], np.ndarray]]) -> int:
    """About how many bytes writing these articles takes on disk (see :data:`_BYTES_PER_PASSAGE`)."""
    need = _BYTES_PER_WRITE
    for record, passages, vectors in items:
        dimension = int(np.shape(vectors)[1]) if len(passages) and np.ndim(vectors) == 2 else 0
        need += len(record.text.encode("utf-8")) * _BYTES_PER_TEXT_BYTE
        need += len(passages) * (_BYTES_PER_PASSAGE + 3 * 4 * dimension)
    return need


def drop_unapplied_log(database: Path) -> int | None:
    """After a write cut short by a full disk: delete the entries of Chroma's log (in ``database``,
    the store's sqlite file) that its
    collection's metadata segment has not applied (it failed to), so that Chroma reads the store
    as it was, without first needing room to apply them. A write is undone this way as if killed:
    it leaves at most a pending record, which the next ingest or ``rag doctor --repair`` finishes
    or undoes. Left alone when the vector segment has applied more than the metadata segment
    (they would disagree). Returns how many entries were deleted, or None when sqlite could not
    (it needs room for its journal: the writer then gives back its reserve and tries again, see
    :meth:`index.folder.Folder.writing`)."""
    import sqlite3

    try:
        connection = sqlite3.connect(database, timeout=30)
    except sqlite3.Error:
        return None
    try:
        dropped = sum(connection.execute("DELETE FROM embeddings_queue WHERE topic LIKE ? AND seq_id > ?",
                                         (f"%/{collection}", applied)).rowcount
                      for collection, applied in _applied(connection).items())
        connection.commit()
        return dropped
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def space_to_read(database: Path) -> int:
    """About how many bytes Chroma needs free to read the store: it writes to its database on
    opening (a journal of a few pages: 12 kB measured on a tmpfs), and first applies what its log
    holds beyond what was applied (a write cut short and not undone); :data:`RESERVE` at least."""
    import sqlite3

    pending = 0
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            for collection, applied in _applied(connection).items():
                pending += connection.execute(
                    "SELECT COALESCE(SUM(LENGTH(vector) + LENGTH(COALESCE(metadata, ''))), 0) FROM embeddings_queue "
                    "WHERE topic LIKE ? AND seq_id > ?", (f"%/{collection}", applied)).fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        pass
    return RESERVE + _BYTES_PER_TEXT_BYTE * pending


def _applied(connection: Any) -> dict[str, int]:
    """Per collection id, the last log entry its metadata segment applied, for the collections whose
    log can be cut back to it (not when its vector segment has applied more)."""
    applied = dict(connection.execute("SELECT segment_id, seq_id FROM max_seq_id").fetchall())
    segments: dict[str, dict[str, Any]] = {}
    for segment, scope, collection in connection.execute("SELECT id, scope, collection FROM segments"):
        segments.setdefault(collection, {})[scope] = applied.get(segment, 0)
    found = {}
    for collection, done in segments.items():
        metadata, vector = done.get("METADATA"), done.get("VECTOR", 0)
        if isinstance(metadata, int) and isinstance(vector, int) and vector <= metadata:
            found[collection] = metadata
    return found

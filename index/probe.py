"""The probe of an embedded store's vector indexes, in a throwaway process.

Chroma loads a collection's vector index from its segment files (``<folder>/<uuid>/*.bin``) with
no check: garbage bytes in them (a disk error, a copy cut short) crash the process that loads
them with no message (SIGSEGV), or make reading its vectors fail or give back garbage, depending
on where they fall. :func:`probe` loads every collection in a child process and reads its vectors
back; whatever happens to the child, this process only reads what it printed and how it ended, so
a crash there is a verdict here, never a crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from index.database import collections, database_damage

#: Longest a probe may take before it is given up (the store is then opened without a verdict).
TIMEOUT = 600

# Loads each collection's vector index in turn, saying which one it starts with, then reads every
# stored vector back (page by page) and searches with one: Chroma reads the vectors from the index
# files, so garbage bytes there either crash this process, raise, or come back as vectors that are
# not finite numbers. Prints "!<what went wrong>" for the last two, an empty line when it is done
# with a collection, and "." when it is done with them all (no collection's name is that short).
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
print(".", flush=True)
"""


def probe(folder: Path) -> dict[str, str]:
    """Load and read every collection of the folder in a throwaway process (see ``_PROBE``): the
    collections whose vector index crashed it, raised an error or gave back vectors that are not
    numbers, with what happened. A crash where no collection was being loaded (opening the store)
    counts against every collection: none of them is loaded here then. An error while the
    database file itself is damaged is left for the caller to meet and report (see
    :meth:`index.store.Store._failure`): the vector index is not to blame then."""
    damaged: dict[str, str] = {}
    while True:
        try:
            result = subprocess.run([sys.executable, "-c", _PROBE, str(folder), *damaged], capture_output=True,
                                    text=True, timeout=TIMEOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        except (OSError, subprocess.TimeoutExpired):
            return damaged  # no verdict: open it as before
        lines = result.stdout.split("\n")[:-1]  # what it printed, line by line
        failed = {name: said[1:] for name, said in zip(lines, lines[1:])
                  if said.startswith("!") and name and not name.startswith("!")}
        if failed and not database_damage(folder):  # sqlite's check, once per run
            damaged.update((name, f"reading it failed ({said})") for name, said in failed.items())
        if result.returncode >= 0 or lines[-1:] == ["."]:
            return damaged  # finished (or failed before loading anything: the caller will meet that)
        killed = f"killed a test process with signal {-result.returncode} ({_signal_name(-result.returncode)})"
        loading = _loading(lines)
        if loading and loading not in damaged:
            damaged[loading] = f"loading it {killed}"
            continue  # the others, without it
        for name in collections(folder):
            damaged.setdefault(name, f"opening the store {killed}")
        return damaged


def _loading(lines: list[str]) -> str:
    """The collection the probe was loading when it died ("" when it was between collections)."""
    if lines and lines[-1].startswith("!"):
        lines = lines[:-1]
    return lines[-1] if lines and lines[-1] and not lines[-1].startswith("!") else ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"

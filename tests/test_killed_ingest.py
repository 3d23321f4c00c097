"""A real `rag ingest` process, killed mid-way, then run again: nothing half-written or counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from benchmarks.corpus import write_corpus
from index.store import Store
from tests.conftest import ROOT, SEEDS, VENV_BIN
from tests.test_ingest import assert_consistent


def test_killed_ingest_is_completed_by_the_next_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    files = write_corpus(corpus, 120, SEEDS)
    store_path = tmp_path / "store"
    command = [str(VENV_BIN / "rag"), "--store", str(store_path), "ingest", "--no-progress", "--verbose", str(corpus)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    committed = 0
    for line in process.stdout:  # kill once some articles are committed and others are still to come
        committed += line.startswith("added")
        if committed == 40:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"

    # The store as the kill left it: after repair, whatever is there is whole.
    store = Store.open(path=store_path)
    store.repair()
    survivors = len(store.articles())
    assert 40 <= survivors < len(files)
    assert_consistent(store)
    del store

    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    added = sum(line.startswith("added") for line in again.stdout.splitlines())
    unchanged = sum(line.startswith("unchanged") for line in again.stdout.splitlines())
    assert added + unchanged == len(files) and unchanged == survivors
    store = Store.open(path=store_path)
    assert len(store.articles()) == len(files)
    assert_consistent(store)

"""A store on a full disk (issue 18.4). Before: the ingest failed with Chroma's "Error in
compaction: Failed to apply logs to the metadata segment" (no word of disk space), after which
even the articles committed before could not be read; `rag doctor --repair` ended in a 52-line
`OSError [Errno 28]` traceback and left `.generation.<pid>.tmp` files; a page upload showed
server paths and left a 0-byte file in `uploads/`.

On real files where the test can mount a small tmpfs (root, as in CI's container), else skipped;
the same messages with a simulated ENOSPC always run. The hash embedder stands in for the model:
this is bookkeeping (tests/fakes.py)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from benchmarks.corpus import write_corpus
from index.errors import StoreError
from index.ingest import ingest
from index.folder import Folder
from index.store import Store
from rag.build import embedding_name
from rag.config import Config
from tests.conftest import ROOT, SEEDS, VENV_BIN
from tests.fakes import HashEmbedder
from tests.test_ingest import assert_consistent
from ui.app import Backend

FULL = r"the disk holding the store .* is full \([\d,.]+ MB free"
VIENNA = ("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, 2031. "
          "Both sides agreed to exchange 42 fishing boats before the summer.\n")


def run(paths: list[Path], store: Store, embedder: HashEmbedder):
    """Ingest under the default model's name, as the page's own uploads then do (its vectors are the hash's)."""
    return ingest(paths, store, lambda: embedder, embedding_name(Config()), progress=False)


@contextmanager
def small_disk(where: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted at ``where`` (skips the test where mounting is not allowed)."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill the disk until only ``leave`` bytes are free (0: until writing fails)."""
    filler = disk / "filler"
    with open(filler, "ab") as handle:
        try:
            while shutil.disk_usage(disk).free > leave:
                handle.write(b"\0" * min(1 << 16, max(4096, shutil.disk_usage(disk).free - leave)))
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def leftovers(store: Path) -> list[str]:
    """What a failed write may leave: temporary files, empty uploads."""
    return sorted(str(p.relative_to(store)) for p in store.rglob("*")
                  if p.is_file() and (p.name.endswith(".tmp") or (p.parent.name == "uploads" and p.stat().st_size == 0)))


def _rag(store: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(VENV_BIN / "rag"), "--store", str(store), *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def _interrupted_update(articles: Path, store: Store, embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """An update of one article killed before it committed (left for `doctor --repair`)."""
    victim = sorted(articles.iterdir())[0]
    victim.write_text(victim.read_text(encoding="utf-8").replace(". ", ". Officials counted 31 boats. ", 1),
                      encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(Store, "_delete_version", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt("killed")))
        with pytest.raises(KeyboardInterrupt):
            run([articles], store, embedder)


def test_a_full_disk_is_named_and_the_committed_articles_stay_readable(tmp_path: Path, seed_copy: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = HashEmbedder()
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 60, SEEDS)
    upload = tmp_path / "Talks in Vienna.txt"
    upload.write_text(VIENNA, encoding="utf-8")
    with small_disk(tmp_path / "disk", 20) as disk:
        store_path = disk / "store"
        run([seed_copy], Store.open(path=store_path), embedder)
        _interrupted_update(seed_copy, Store.open(path=store_path), embedder, monkeypatch)
        filler = fill(disk, leave=1_500_000)

        # An ingest that does not fit: refused before anything is written, saying why.
        with pytest.raises(StoreError, match=FULL) as refused:
            run([corpus], Store.open(path=store_path), embedder)
        assert "compaction" not in str(refused.value) and "articles indexed so far are kept" in str(refused.value)
        Folder._open.clear()  # as a new process sees the folder
        reader = Store.open(path=store_path)
        assert len(reader.articles()) == 5 and reader.count() > 0
        assert reader.search(embedder.embed(["prisoners exchanged in Istanbul"])[0], 3)

        # Not a byte free: Chroma cannot even open a store then (it writes on opening), so the
        # writer's reserve is given back, and the articles are still read and searched.
        fill(disk)
        assert (store_path / ".reserve").exists()
        Folder._open.clear()
        reader = Store.open(path=store_path)
        assert len(reader.articles()) == 5
        assert reader.search(embedder.embed(["prisoners exchanged in Istanbul"])[0], 3)

        # Still none (the reserve taken too): `rag doctor --repair` and `rag ingest` are one line
        # each, and leave nothing behind.
        fill(disk)
        for command in (("doctor", "--repair"), ("ingest", str(corpus))):
            result = _rag(store_path, *command)
            assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert f"the disk holding the store {store_path} is full (0.0 MB free" in result.stderr, result.stderr
        assert leftovers(store_path) == []

        # A page upload: a message without server paths, and no empty copy in uploads/.
        page = Backend(Config(store_path=store_path, llm="extractive"), embedder=embedder)
        kind, message = page.add_upload(upload, upload.name, lambda *_: None)
        assert kind == "error" and "is full" in message and str(disk) not in message and "/tmp" not in message
        assert leftovers(store_path) == [] and not any((store_path / "uploads").glob("*.txt"))

        # Once there is room again, everything works: the interrupted update is finished.
        filler.unlink()
        Folder._open.clear()
        repaired = _rag(store_path, "doctor", "--repair")
        assert repaired.returncode == 0 and "after repair: no problem found" in repaired.stdout, repaired.stdout
        added = page.add_upload(upload, upload.name, lambda *_: None)
        assert added[0] == "ok", added
        assert_consistent(Store.open(path=store_path))


def test_a_write_cut_short_by_a_full_disk_leaves_the_committed_articles_readable(tmp_path: Path, seed_copy: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """When the disk fills during a write anyway (another program writes, or the estimate was
    short), Chroma's log is left ahead of what it applied, and it refused every read until space
    was freed. The failed write's unapplied entries are dropped, as if it had been killed."""
    embedder = HashEmbedder()
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 60, SEEDS)
    with small_disk(tmp_path / "disk", 20) as disk:
        store_path = disk / "store"
        run([seed_copy], Store.open(path=store_path), embedder)
        filler = fill(disk, leave=1_500_000)
        monkeypatch.setattr(Store, "_room_for", lambda *_: None)  # the check before writing finds room
        with pytest.raises(StoreError, match=FULL) as failed:
            run([corpus], Store.open(path=store_path), embedder)
        assert "compaction" not in str(failed.value)
        Folder._open.clear()  # as another process sees the folder, with the disk still full
        reader = Store.open(path=store_path)
        assert len(reader.articles()) == 5 and reader.count() > 0
        assert reader.search(embedder.embed(["prisoners exchanged in Istanbul"])[0], 3)
        assert leftovers(store_path) == []
        filler.unlink()
        report = run([corpus, seed_copy], Store.open(path=store_path), embedder)  # with room: all of it
        assert len(report.added) == 60 and len(report.unchanged) == 5
        assert_consistent(Store.open(path=store_path))


_READ = """import sys
from index.store import Store
from tests.fakes import HashEmbedder
store = Store.open(path=sys.argv[1])
print(len(store.articles()), len(store.search(HashEmbedder().embed(["prisoners exchanged in Istanbul"])[0], 3)))
"""


def test_reading_needs_no_free_space_wherever_the_disk_fills_during_a_write(tmp_path: Path, seed_copy: Path) -> None:
    """Issue 29.5: a write that filled the disk could leave the store unreadable until space was
    freed (2 of 6 tries): Chroma failed to apply the write's log, and the writer had no room left
    to delete it either. The writer now gives back its reserve to delete it, a reader gives the
    reserve back when Chroma fails to read on a full disk, and where there is none left, the message
    says that Chroma writes even to read, and how much to free. Each write here fills the disk at
    another point; every read, in a new process, sees the committed articles."""
    embedder = HashEmbedder()
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 60, SEEDS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with small_disk(tmp_path / "disk", 20) as disk:
        store_path = disk / "store"
        for leave in (300_000, 450_000, 600_000, 750_000, 900_000):
            shutil.rmtree(store_path, ignore_errors=True)
            (disk / "filler").unlink(missing_ok=True)
            Folder._open.clear()
            run([seed_copy], Store.open(path=store_path), embedder)
            fill(disk, leave=leave)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(Store, "_room_for", lambda *_: None)  # the check before writing finds room
                with pytest.raises(StoreError, match=FULL):
                    run([corpus], Store.open(path=store_path), embedder)
            read = subprocess.run([str(VENV_BIN / "python"), "-c", _READ, str(store_path)], capture_output=True,
                                  text=True, cwd=ROOT, env=env, timeout=300)
            assert read.returncode == 0 and read.stdout.split() == ["5", "3"], (leave, read.stdout, read.stderr)

        fill(disk)  # not a byte free, and no reserve left: Chroma cannot read; the message says so
        (store_path / ".reserve").unlink(missing_ok=True)
        fill(disk)
        checked = _rag(store_path, "doctor")
        assert checked.returncode == 1 and len(checked.stderr.splitlines()) == 1, checked.stderr
        assert (f"the disk holding the store {store_path} is full (0.0 MB free): free at least 1.0 MB there (Chroma "
                "writes to the store's database even to read it), then try again; no committed article is lost"
                in checked.stderr), checked.stderr


def _no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_simulated_full_disk_is_named_and_leaves_nothing_behind(tmp_path: Path, seed_copy: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The same messages where the disk cannot be filled for real: every write fails with ENOSPC."""
    from index.doctor import doctor

    embedder = HashEmbedder()
    store_path = tmp_path / "store"
    store = Store.open(path=store_path)
    run([seed_copy], store, embedder)
    _interrupted_update(seed_copy, store, embedder, monkeypatch)
    (seed_copy / "vienna.txt").write_text(VIENNA, encoding="utf-8")

    with monkeypatch.context() as patch:  # Chroma fails to write
        patch.setattr(Store, "_put_records", _no_space)
        with pytest.raises(StoreError, match=FULL):
            run([seed_copy], store, embedder)

    real_write = Path.write_text

    def full_disk(path: Path, *args, **kwargs):  # our own files: the temporary file is made, then the write fails
        if path.name.endswith(".tmp"):
            real_write(path, "")
            _no_space()
        return real_write(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_text", full_disk)
        with pytest.raises(StoreError, match=FULL):
            doctor(Store.open(path=store_path), lambda: embedder, embedding_name(Config()), repair=True)
    assert leftovers(store_path) == []

    page = Backend(Config(store_path=store_path, llm="extractive"), embedder=embedder)
    with monkeypatch.context() as patch:
        patch.setattr(shutil, "copyfile", lambda source, target: (Path(target).write_bytes(b""), _no_space()))
        kind, message = page.add_upload(seed_copy / "vienna.txt", "vienna.txt", lambda *_: None)
    assert kind == "error" and "the disk holding the uploads folder <store>/uploads is full" in message, message
    assert str(tmp_path) not in message and "'vienna.txt' was not saved" in message
    assert leftovers(store_path) == [] and not any((store_path / "uploads").glob("*.txt"))

    assert len(Store.open(path=store_path).articles()) == 5  # nothing lost meanwhile
    report = doctor(Store.open(path=store_path), lambda: embedder, embedding_name(Config()), repair=True)
    assert report.ok and report.after.articles == 5

"""Rebuild and prune cannot destroy the store by accident (issue 12): a ``--rebuild`` racing a
running ``rag ingest`` changes nothing, and ``--prune`` from another working directory, or with
every file out of sight, removes nothing unless asked twice.

The race runs two real ``rag ingest`` processes with the real model on real Chroma; the prune
tests are bookkeeping, so the hash embedder stands in for the model (tests/fakes.py)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from benchmarks.corpus import write_corpus
from index.errors import StoreError
from index.ingest import ingest
from index.store import Store
from tests.conftest import ROOT, SEEDS, VENV_BIN
from tests.fakes import HashEmbedder
from tests.test_ingest import assert_consistent


def run(paths, store: Store, embedder: HashEmbedder, **options):
    return ingest(paths, store, lambda: embedder, embedder.name, progress=False, **options)


@pytest.mark.slow
def test_a_rebuild_racing_an_ingest_is_refused_and_deletes_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    files = write_corpus(corpus, 120, SEEDS)
    store_path = tmp_path / "store"
    rag = [str(VENV_BIN / "rag"), "--store", str(store_path), "ingest", "--no-progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    first = subprocess.Popen([*rag, "--verbose", str(corpus)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, cwd=ROOT, env=env)
    for line in first.stdout:  # the first ingest is writing: it holds the lock
        if line.startswith("added"):
            break
    rebuild = subprocess.run([*rag, "--rebuild", str(SEEDS)], capture_output=True, text=True, cwd=ROOT, env=env,
                             timeout=300)
    rest = first.stdout.read()
    assert first.wait(timeout=600) == 0, rest
    assert rebuild.returncode == 1 and "is writing to the store" in rebuild.stderr, rebuild.stderr
    store = Store.open(path=store_path)
    assert len(store.articles()) == len(files)  # the rebuild deleted nothing
    assert_consistent(store)


@pytest.fixture()
def ingested_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Store]:
    """The seeds indexed from the folder that holds them, by relative path ("seeds/..."), as
    ``cd project && rag ingest seeds/`` does."""
    project = tmp_path / "project"
    shutil.copytree(SEEDS, project / "seeds")
    store = Store.open(path=tmp_path / "store")
    monkeypatch.chdir(project)
    report = run([Path("seeds")], store, HashEmbedder())
    assert len(report.added) == 5 and all(not source.startswith("/") for source in report.added)
    return project, store


def test_prune_from_another_directory_removes_nothing(ingested_from, monkeypatch: pytest.MonkeyPatch) -> None:
    project, store = ingested_from
    monkeypatch.chdir("/")
    report = run([project / "seeds"], store, HashEmbedder(), prune=True)
    assert report.removed == [] and len(store.articles()) == 5
    assert all(r.location() == project / r.source for r in store.articles().values())


def test_a_prune_of_every_article_must_be_asked_twice(ingested_from) -> None:
    project, store = ingested_from
    gone = project / "gone"
    (project / "seeds").rename(gone)
    gone.mkdir(exist_ok=True)
    with pytest.raises(StoreError, match="would remove all 5 indexed articles.*Nothing was removed.*--prune twice"):
        run([gone], store, HashEmbedder(), prune=True)
    assert len(store.articles()) == 5
    report = run([gone], store, HashEmbedder(), prune=2)
    assert len(report.removed) == 5 and store.articles() == {}


def test_prune_still_removes_what_is_really_gone(ingested_from) -> None:
    project, store = ingested_from
    victim = sorted((project / "seeds").iterdir())[0]
    victim.unlink()
    report = run([project / "seeds"], store, HashEmbedder(), prune=True)
    assert report.removed == [f"seeds/{victim.name}"] and len(store.articles()) == 4
    assert_consistent(store)


def test_an_update_cut_short_leaves_the_old_version_readable(seed_copy: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A process dies after writing an article's new passages, before committing them (issue 12:
    articles answered nothing until the next ingest). Readers keep the old version; the next
    ingest rolls the update forward."""
    from rag.retrieval import Filters, Retriever

    embedder = HashEmbedder()
    store = Store.open(path=tmp_path / "store")
    run([seed_copy], store, embedder)
    target = sorted(seed_copy.iterdir())[0]
    (record,) = [r for r in store.articles(with_text=True).values() if r.source.endswith(target.name)]
    paragraph = max(record.text.split("\n\n"), key=len)  # an article paragraph, found as is in the file
    raw = target.read_text(encoding="utf-8")
    assert paragraph in raw
    target.write_text(raw.replace(paragraph, paragraph + " A late sentence about the harbour of Arden.", 1),
                      encoding="utf-8")

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt("killed between writing the new passages and committing them")

    with monkeypatch.context() as patch:
        patch.setattr(Store, "_delete_version", killed)
        with pytest.raises(KeyboardInterrupt):
            run([seed_copy], store, embedder)
    reader = Store.open(path=tmp_path / "store")
    assert reader.articles()[record.id].version == record.version  # the old version, not nothing
    assert reader.article(record.id).text == record.text
    hits = Retriever(reader, embedder, keyword_folder=tmp_path / "keyword").retrieve(
        paragraph[:200], top_k=5, filters=Filters(sources=(record.source,)))
    assert hits and all(h.article_id == record.id and h.text in record.text for h in hits)

    report = run([seed_copy], store, embedder)  # the next ingest finishes the update
    assert report.repaired == [record.source]
    assert store.articles()[record.id].version != record.version and "harbour of Arden" in store.article(record.id).text
    assert_consistent(store)


def _damage_vector_index(store: Path, part: str = "links") -> Path:
    """Garbage bytes in the passages' vector index file, as a disk error or a copy cut short
    leaves them (Chroma writes the index to disk past 1,000 passages), in one ``part`` of the
    record of the middle passage: its list of neighbours ("links": loading the index then kills
    the process with SIGSEGV), its label ("label": reading its vector raises) or its vector
    ("vector": it reads back as not-a-number). Where random damage falls decides which, so the
    store must turn each into the same message. The record layout is read from hnswlib's header
    (``header.bin``: Chroma's format version as an int, then offsetLevel0, max_elements,
    cur_element_count, size_data_per_element, label_offset and offsetData as size_t)."""
    (segment,) = [p.parent for p in store.glob("*/index_metadata.pickle")]
    _, _, _, count, size, label, vector = struct.unpack("<i6Q", (segment / "header.bin").read_bytes()[:52])
    record = count // 2 * size
    offset, length = {"links": (record, 8), "label": (record + label, 8), "vector": (record + vector, 64)}[part]
    data = segment / "data_level0.bin"
    with open(data, "r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xff" * length)
    return data


def _rag(store: Path, *args: str) -> subprocess.CompletedProcess:
    # PYTHONPATH: this checkout's code, also where the venv's `rag` was installed from another one
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(VENV_BIN / "rag"), "--store", str(store), *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)


@pytest.mark.slow
def test_a_damaged_vector_index_file_is_a_message_and_doctor_rebuilds_it(tmp_path: Path, real_embedder) -> None:
    """Issue 18.1: before, `rag ask`, `rag doctor` and `rag doctor --repair` all died with SIGSEGV
    (exit 139) and no output. Now questions are answered from keyword search meanwhile, saying so,
    and doctor repairs it. Real model, real Chroma, real files; every command a real process."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 120, SEEDS)
    (corpus / "norland.txt").write_text(
        "Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, 2031. "
        "Both sides agreed to exchange 42 fishing boats before the summer.\n", encoding="utf-8")
    store = tmp_path / "store"
    ingest([corpus], Store.open(path=store), lambda: real_embedder, real_embedder.name, progress=False)
    _damage_vector_index(store, "label")  # what a CI machine met with the damage that crashes here
    question = "How many fishing boats did Norland and Sudmark agree to exchange?"
    repair = f"rag --store {store} doctor --repair"

    asked = _rag(store, "ask", question)  # answered meanwhile, from keyword search, saying so
    assert asked.returncode == 0, (asked.returncode, asked.stdout, asked.stderr)
    said = " ".join(asked.stdout.split())
    assert "42" in said and "vector index is damaged" in said and "keyword search only" in said, said
    assert f"`{repair}`" in said, said
    checked = _rag(store, "doctor")
    assert checked.returncode == 1, (checked.returncode, checked.stdout, checked.stderr)
    assert "the vector index is damaged" in checked.stdout and repair in checked.stdout + checked.stderr
    repaired = _rag(store, "doctor", "--repair")
    assert repaired.returncode == 0, (repaired.returncode, repaired.stdout, repaired.stderr)
    assert "embedded all 121 articles from the registry" in repaired.stdout
    assert "after repair: no problem found" in repaired.stdout
    asked = _rag(store, "ask", question)
    assert asked.returncode == 0 and "42" in asked.stdout, asked.stdout + asked.stderr
    assert_consistent(Store.open(path=store))


def test_the_probe_of_the_vector_index_runs_once_per_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The throwaway process that loads the vector index first (about 2 s) runs when its files
    changed since they were last checked, not at every open; a writer records its own files."""
    import index.folder as module

    store_path = tmp_path / "store"
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 120, SEEDS)
    run([corpus], Store.open(path=store_path), HashEmbedder())  # past 1,000 passages: the index is on disk
    probes = []
    real = module.probe
    monkeypatch.setattr(module, "probe", lambda folder: probes.append(folder) or real(folder))
    module.Folder._open.clear()
    assert Store.open(path=store_path).count() > 1000 and probes == []  # the ingest recorded what it wrote
    (store_path / module.CHECKED_FILE).unlink()
    module.Folder._open.clear()
    assert Store.open(path=store_path).count() > 1000 and len(probes) == 1
    module.Folder._open.clear()
    assert Store.open(path=store_path).count() > 1000 and len(probes) == 1
    _damage_vector_index(store_path)
    module.Folder._open.clear()
    damaged = Store.open(path=store_path)
    assert len(probes) == 2 and damaged.damage()
    with pytest.raises(StoreError, match=f"vector index of the store {store_path} is damaged.*"
                                         f"`rag --store {store_path} doctor --repair`"):
        damaged.search([0.0] * 64, 5)
    module.Folder._open.clear()
    assert Store.open(path=store_path).damage() and len(probes) == 2  # the verdict is kept too


@pytest.mark.parametrize("part, verdict", [("links", "killed a test process with signal"),
                                           ("label", "reading it failed"),
                                           ("vector", "reading it failed (some stored vectors are not numbers)")])
def test_damage_anywhere_in_the_vector_index_is_found_before_it_is_loaded(tmp_path: Path, part: str,
                                                                          verdict: str) -> None:
    """Before, the probe caught only the damage that crashes the loading process; on another
    machine the same garbage bytes fell where reading a vector raises instead, and `rag ask` failed
    with "check it with doctor" (CI, 2026-12-02). Each outcome is now the same damage verdict,
    and the undamaged store gets none."""
    import index.folder as module

    store_path = tmp_path / "store"
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 120, SEEDS)
    run([corpus], Store.open(path=store_path), HashEmbedder())
    assert module.probe(store_path) == {}
    _damage_vector_index(store_path, part)
    found = module.probe(store_path)
    assert list(found) == [Store.open(path=store_path).name] and verdict in found[Store.open(path=store_path).name]
    module.Folder._open.clear()
    with pytest.raises(StoreError, match="vector index of the store .* is damaged"):
        Store.open(path=store_path).search([0.0] * 64, 5)


def _change(path: Path, boats: int) -> None:
    """A new sentence in the article (in its first paragraph: a paragraph added at the end of some
    seeds is taken as site furniture)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(". ", f". Officials in Arden counted {boats} boats. ", 1), encoding="utf-8")


def test_a_file_is_the_same_article_from_any_working_directory(ingested_from, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18.5: indexed as "seeds/..." from the project, then changed and ingested with --prune
    from `/`: before, it was "added" (6 articles for 5 files), the other four were "duplicate of"
    themselves (and a prune that changed nothing exited 1: "no article was indexed")."""
    project, store = ingested_from
    monkeypatch.chdir("/")
    report = run([project / "seeds"], store, HashEmbedder(), prune=True)
    assert (report.added, report.skipped, report.removed, len(report.unchanged)) == ([], [], [], 5)
    victim = sorted((project / "seeds").iterdir())[-1]
    _change(victim, 31)
    report = run([project / "seeds"], store, HashEmbedder(), prune=True)
    assert (report.added, report.skipped, report.removed, len(report.unchanged)) == ([], [], [], 4)
    assert report.updated == [victim.as_posix().lstrip("/")] and len(store.articles()) == 5
    monkeypatch.chdir(project)
    _change(victim, 32)
    report = run([Path("seeds")], store, HashEmbedder())
    assert report.updated == [f"seeds/{victim.name}"] and len(report.unchanged) == 4 and len(store.articles()) == 5
    assert_consistent(store)


def test_articles_indexed_by_relative_path_before_keep_their_ids(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Stores written when an article's id was the hash of its path relative to the working
    directory: the same file, named from anywhere, is still that article."""
    import index.ingest as module
    from index.loading import source_key

    project = tmp_path / "project"
    shutil.copytree(SEEDS, project / "seeds")
    store = Store.open(path=tmp_path / "store")
    monkeypatch.chdir(project)
    with monkeypatch.context() as old:
        old.setattr(module, "article_key", source_key)  # ids as they were made before
        run([Path("seeds")], store, HashEmbedder())
    before = store.articles()
    assert {r.id for r in before.values()} == {module.article_id(f"seeds/{p.name}") for p in (project / "seeds").iterdir()}
    victim = sorted((project / "seeds").iterdir())[-1]
    _change(victim, 31)
    monkeypatch.chdir("/")
    report = run([project / "seeds"], store, HashEmbedder(), prune=True)
    assert (report.added, report.skipped, report.removed) == ([], [], []) and report.updated == [victim.as_posix().lstrip("/")]
    assert store.articles().keys() == before.keys()
    assert_consistent(store)


def test_a_rebuild_keeps_the_articles_uploaded_in_the_page(seed_copy: Path, tmp_path: Path) -> None:
    """Issue 18.6: `rag ingest --rebuild <folders>` dropped the page's uploads (their only copy is
    in <store>/uploads/), and the message for a store built with other settings recommends it."""
    from rag.build import ingest_paths
    from rag.config import Config
    from ui.uploads import Uploads

    embedder = HashEmbedder()
    config = Config(store_path=tmp_path / "store")
    ingest_paths(config, [seed_copy], embedder=lambda: embedder, progress=False)
    upload = tmp_path / "upload.txt"
    upload.write_text("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, "
                      "2031. Both sides agreed to exchange 42 fishing boats before the summer.\n", encoding="utf-8")
    saved = Uploads(tmp_path / "store" / "uploads", 10).save(upload, "Talks in Vienna.txt")  # as the page does
    ingest_paths(config, [saved], embedder=lambda: embedder, progress=False)
    before = Store.open(path=tmp_path / "store").articles()
    assert len(before) == 6

    report = ingest_paths(config, [seed_copy], rebuild=True, embedder=lambda: embedder, progress=False)
    after = Store.open(path=tmp_path / "store").articles()
    assert after.keys() == before.keys() and len(report.added) == 6
    assert any(r.title == "Envoys meet in Vienna" for r in after.values())
    report = ingest_paths(config, [seed_copy, tmp_path / "store" / "uploads"], rebuild=True,
                          embedder=lambda: embedder, progress=False)
    assert len(report.added) == 6 and not report.skipped  # named as well: indexed once


def test_an_empty_database_file_is_damage_and_a_rebuild_sets_it_aside(seed_copy: Path, tmp_path: Path) -> None:
    """Issue 18.3: a zero-length chroma.sqlite3 was taken for a healthy, empty store ("0 articles,
    no problem found", exit 0); damage inside the file sent `ask` to `doctor` and `doctor` to
    itself. Both now name the one command that gets out, for this store, and that command works."""
    from index.doctor import doctor
    from rag.build import ingest_paths
    from rag.config import Config

    embedder = HashEmbedder()
    store_path = tmp_path / "my store"
    config = Config(store_path=store_path)
    ingest_paths(config, [seed_copy], embedder=lambda: embedder, progress=False)
    database = store_path / "chroma.sqlite3"
    shutil.copy(database, tmp_path / "sound.sqlite3")
    rebuild = f"`rag --store '{store_path}' ingest --rebuild <folders>`"

    database.write_bytes(b"")
    from index.folder import Folder

    Folder._open.clear()  # as a new process sees the folder
    with pytest.raises(StoreError, match="is damaged.*chroma.sqlite3 is empty") as error:
        doctor(Store.open(path=store_path), lambda: embedder, embedder.name)
    assert rebuild in str(error.value)
    report = ingest_paths(config, [seed_copy], rebuild=True, embedder=lambda: embedder, progress=False)
    assert len(report.added) == 5 and "the damaged database was moved to" in report.summary()

    Folder._open.clear()
    raw = (tmp_path / "sound.sqlite3").read_bytes()
    database.write_bytes(raw[:len(raw) // 2] + b"\xff" * 8192 + raw[len(raw) // 2 + 8192:])  # inside the file
    for attempt in (lambda: doctor(Store.open(path=store_path), lambda: embedder, embedder.name, repair=True),
                    lambda: doctor(Store.open(path=store_path), lambda: embedder, embedder.name)):
        with pytest.raises(StoreError) as error:
            attempt()
        assert "is damaged" in str(error.value) and rebuild in str(error.value) and "doctor" not in str(error.value)
    report = ingest_paths(config, [seed_copy], rebuild=True, embedder=lambda: embedder, progress=False)
    assert len(report.added) == 5 and len(list(store_path.glob("damaged-*"))) >= 1
    assert_consistent(Store.open(path=store_path))


def test_doctor_counts_the_readable_articles_after_a_killed_update(seed_copy: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18.8: after an update killed before it committed, `rag doctor` counted only the
    committed records (47 articles while 150 were readable). It counts what readers see, and
    names the interrupted updates apart, as readable at their previous version."""
    from index.doctor import doctor

    embedder = HashEmbedder()
    store = Store.open(path=tmp_path / "store")
    run([seed_copy], store, embedder)
    changed = sorted(seed_copy.iterdir())[:3]
    for number, path in enumerate(changed):
        _change(path, 40 + number)
    with monkeypatch.context() as patch:
        patch.setattr(Store, "_delete_version", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt("killed")))
        with pytest.raises(KeyboardInterrupt):
            run([seed_copy], store, embedder)
    assert len(Store.open(path=tmp_path / "store").articles()) == 5  # all readable, 3 at their old version

    report = doctor(Store.open(path=tmp_path / "store"), lambda: embedder, embedder.name)
    assert report.before.articles == 5 and len(report.before.pending) == 3
    summary = report.summary()
    assert summary.splitlines()[0].startswith(f"store {tmp_path / 'store'}: 5 articles,"), summary
    assert "3 article(s) with an unfinished update (read at their previous version until it is finished)" in summary
    repaired = doctor(Store.open(path=tmp_path / "store"), lambda: embedder, embedder.name, repair=True)
    assert repaired.ok and repaired.after.articles == 5 and repaired.after.pending == []
    assert_consistent(store)

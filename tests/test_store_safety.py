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
import time
from pathlib import Path

import pytest

from benchmarks.corpus import write_corpus
from index.errors import StoreError
from index.ingest import ingest
from index.store import Store, StoreReader
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
    from rag.corpus import Corpus
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
    reader = StoreReader.open(path=tmp_path / "store")
    assert reader.articles()[record.id].version == record.version  # the old version, not nothing
    assert reader.article(record.id).text == record.text
    hits = Retriever(Corpus(reader, keyword_folder=tmp_path / "keyword"), embedder).retrieve(
        paragraph[:200], top_k=5, filters=Filters(sources=(record.source,)))
    assert hits and all(h.article_id == record.id and h.text in record.text for h in hits)

    report = run([seed_copy], store, embedder)  # the next ingest finishes the update, and says so (issue 29.7)
    assert [(r.source, r.finished) for r in report.repaired] == [(record.source, True)]
    assert report.updated == [record.source] and len(report.unchanged) == 4 and report.passages_embedded == 0
    assert "finished the write of 1 article(s) that an interrupted run left" in report.summary()
    assert store.articles()[record.id].version != record.version and "harbour of Arden" in store.article(record.id).text
    assert_consistent(store)


def _damage_vector_index(store: Path, part: str = "links") -> Path:
    """Garbage bytes in the passages' vector index file, as a disk error or a copy cut short
    leaves them (Chroma writes the index to disk past 1,000 passages), in one ``part`` of the
    record of the middle passage: its list of neighbours ("links": loading the index then kills
    the process with SIGSEGV, or on some machines a read raises), its label ("label": reading its
    vector raises) or its vector ("vector": it reads back as not-a-number). Where random damage
    falls decides which, so the store must turn each into the same message. The record layout is read from hnswlib's header
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


BOATS = "How many fishing boats did Norland and Sudmark agree to exchange?"


@pytest.fixture(scope="module")
def model_store(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    """120 synthetic articles and one about Norland's fishing boats (:data:`BOATS`), indexed with the
    real model: past 1,000 passages, so Chroma has written the vector index to disk. Built once;
    each test damages a copy (see :func:`_copy`)."""
    folder = tmp_path_factory.mktemp("model-store")
    corpus = folder / "corpus"
    write_corpus(corpus, 120, SEEDS)
    (corpus / "norland.txt").write_text(
        "Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, 2031. "
        "Both sides agreed to exchange 42 fishing boats before the summer.\n", encoding="utf-8")
    ingest([corpus], Store.open(path=folder / "store"), lambda: real_embedder, real_embedder.name, progress=False)
    assert list((folder / "store").glob("*/index_metadata.pickle"))  # the vector index is on disk
    return folder / "store"


def _copy(store: Path, tmp_path: Path) -> Path:
    """A copy of ``store`` with its files' modification times (``copytree`` copies them), so the
    ingest's record of the index files it wrote still holds for the copy."""
    target = tmp_path / "store"
    shutil.copytree(store, target)
    return target


def _finished(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """``result`` of a command that ended by itself (no signal) and printed no traceback."""
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.mark.slow
def test_a_damaged_vector_index_file_is_a_message_and_doctor_rebuilds_it(model_store: Path, tmp_path: Path) -> None:
    """Issue 18.1: before, `rag ask`, `rag doctor` and `rag doctor --repair` all died with SIGSEGV
    (exit 139) and no output. Now questions are answered from keyword search meanwhile, saying so,
    and doctor repairs it. Real model, real Chroma, real files; every command a real process."""
    store = _copy(model_store, tmp_path)
    _damage_vector_index(store, "label")  # what a CI machine met with the damage that crashes here
    question = BOATS
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


def _damage_in_place(store: Path) -> Path:
    """4,096 bytes of 0xff in the middle of the passages' vector index file (``data_level0.bin``),
    written in place with its modification time put back: what a bad sector, a flipped bit or a
    copy tool that keeps times leaves (issue 29.1). Returns the file."""
    (segment,) = [p.parent for p in store.glob("*/index_metadata.pickle")]
    data = segment / "data_level0.bin"
    before = data.stat()
    with open(data, "r+b") as handle:
        handle.seek(before.st_size // 2)
        handle.write(b"\xff" * 4096)
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (data.stat().st_size, data.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    return data


@pytest.mark.slow
def test_damage_that_keeps_an_index_files_size_and_time_is_a_message_never_a_crash(model_store: Path,
                                                                                     tmp_path: Path) -> None:
    """Issue 29.1: the record of checked index files kept their sizes and modification times, so
    garbage written in place with the time put back was never probed: `rag ask`, `rag doctor` and
    `doctor --repair` died with SIGSEGV and printed nothing. The files' contents decide now (a
    checksum), and doctor trusts no record at all, not even one that calls these very files sound.
    Repair moves the damaged index's folder out of the way, into damaged-<time>/, and says so."""
    from index.database import index_files
    from index.folder import Folder

    store = _copy(model_store, tmp_path)
    data = _damage_in_place(store)
    repair = f"rag --store {store} doctor --repair"

    def doctor_finds_the_damage() -> None:
        checked = _finished(_rag(store, "doctor"))
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert "the passages cannot be read at all (the vector index is damaged: " in checked.stdout, checked.stdout
        assert repair in checked.stdout + checked.stderr

    doctor_finds_the_damage()  # before: SIGSEGV, nothing printed
    asked = _finished(_rag(store, "ask", BOATS))
    said = " ".join(asked.stdout.split())
    assert asked.returncode == 0 and "42" in said and "keyword search only" in said and f"`{repair}`" in said, said
    Folder(store)._record(index_files(store), {})  # a record that calls the damaged files sound
    doctor_finds_the_damage()

    repaired = _finished(_rag(store, "doctor", "--repair"))
    assert repaired.returncode == 0 and "after repair: no problem found" in repaired.stdout, repaired.stdout
    (aside,) = store.glob("damaged-*")
    assert f"moved the damaged vector index to {aside} (delete it when all is well)" in repaired.stdout
    assert not data.parent.exists() and (aside / data.parent.name / data.name).read_bytes().count(b"\xff" * 4096)
    asked = _finished(_rag(store, "ask", BOATS))
    assert "42" in asked.stdout and "keyword search only" not in asked.stdout, asked.stdout


@pytest.mark.slow
def test_rag_serve_over_an_index_damaged_in_place_answers_with_a_note_naming_no_server_path(
        model_store: Path, tmp_path: Path) -> None:
    """Issue 29.1 and 29.3: `rag serve` died with SIGSEGV over an index damaged in place (size and
    time kept), and an answer's notes named the store's full path. It answers from keyword search
    now, and the note says so with the store as `<store>`, as the page says it."""
    import httpx

    from tests.conftest import free_port, serve

    store = _copy(model_store, tmp_path / "private-folder")
    _damage_in_place(store)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    command = [str(VENV_BIN / "rag"), "--store", str(store), "serve", "--port", str(port)]
    with serve(command, lambda: httpx.get(f"{url}/models").raise_for_status(), tmp_path / "serve.log",
               timeout=300) as server:
        reply = httpx.post(f"{url}/chat/completions", json={"messages": [{"role": "user", "content": BOATS}]},
                           timeout=300)
        assert reply.status_code == 200, reply.text
        message = reply.json()["choices"][0]["message"]
        assert "42" in message["content"] and "private-folder" not in reply.text, reply.text
        assert any("keyword search only" in note and "`rag --store <store> doctor --repair`" in note
                   for note in message["notes"]), message["notes"]
        assert server.poll() is None
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def test_a_probe_that_dies_opening_the_store_counts_against_every_collection(seed_copy: Path, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 29.1: a probe killed before it named the collection it was loading let the store be
    opened as sound. Now every collection is damaged then (none is loaded in the real process), and
    a probe that dies after it finished (at exit) is no verdict against any."""
    import index.probe as module

    store_path = tmp_path / "store"
    run([seed_copy], Store.open(path=store_path), HashEmbedder())
    name = Store.open(path=store_path).name
    monkeypatch.setattr(module, "_PROBE", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    found = module.probe(store_path)
    assert found == {name: "opening the store killed a test process with signal 11 (SIGSEGV)",
                     f"{name}_registry": "opening the store killed a test process with signal 11 (SIGSEGV)"}
    monkeypatch.setattr(module, "_PROBE", "import os, signal; print('.', flush=True); os.kill(os.getpid(), 11)")
    assert module.probe(store_path) == {}


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


@pytest.mark.parametrize("part, verdicts", [
    # broken links kill the loading process on some machines and make a read raise on others
    # (CI, 2026-12-06: "Error getting embedding"): either is the damage found, so either passes
    ("links", ("killed a test process with signal", "reading it failed (")),
    ("label", ("reading it failed",)),
    ("vector", ("reading it failed (some stored vectors are not numbers)",))])
def test_damage_anywhere_in_the_vector_index_is_found_before_it_is_loaded(tmp_path: Path, part: str,
                                                                          verdicts: tuple[str, ...]) -> None:
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
    name = Store.open(path=store_path).name
    assert list(found) == [name] and any(verdict in found[name] for verdict in verdicts), found
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


def test_an_ingest_that_finishes_an_interrupted_write_counts_and_names_it(seed_copy: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 29.7: an ingest killed after writing new articles' passages, before committing them,
    was finished by the next ingest, which reported "added 0" (and 5 unchanged). They count as
    added now, and the summary says the run finished what the interrupted one left."""
    store = Store.open(path=tmp_path / "store")
    registry = type(store._registry_collection())

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt("killed before the commit")

    with monkeypatch.context() as patch:
        patch.setattr(registry, "update", killed)  # the commit: the pending records become committed
        with pytest.raises(KeyboardInterrupt):
            run([seed_copy], store, HashEmbedder())
    report = run([seed_copy], Store.open(path=tmp_path / "store"), HashEmbedder())
    assert len(report.added) == 5 and report.unchanged == [] and report.passages_embedded == 0, report.summary()
    assert "added          5" in report.summary()
    assert ("finished the write of 5 article(s) that an interrupted run left (counted above as added or updated)"
            in report.summary()), report.summary()
    assert_consistent(store)


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


def _zero_a_page(database: Path, at: float, kind: str = "table") -> None:
    """The page of ``database`` in use by a ``kind`` ("table" or "index": a free page is no damage)
    nearest to the fraction ``at`` of the file, overwritten with zeros."""
    import sqlite3

    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        size = connection.execute("PRAGMA page_size").fetchone()[0]
        used = [n for (n,) in connection.execute(
            "SELECT pageno FROM dbstat JOIN sqlite_master USING (name) WHERE pagetype IN ('internal', 'leaf') "
            "AND sqlite_master.type = ?", (kind,))]
    connection.close()
    page = min(used, key=lambda n: abs(n - database.stat().st_size / size * at))
    with open(database, "r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\0" * size)


def test_doctor_finds_damage_in_the_middle_of_the_database(tmp_path: Path) -> None:
    """Issue 29.4: with one zeroed 4 KB page at 85% of chroma.sqlite3, doctor said "no problem found"
    while sqlite's quick check called the file malformed, and a later write failed in Chroma's
    words ("backfill request to compactor"). Doctor runs sqlite's own check first, names the damage
    in sqlite's words with the rebuild that gets out, and that rebuild works. The quick check reads
    every table's pages; damage in an index's is for `--deep` (sqlite's integrity check)."""
    from index.doctor import doctor
    from index.folder import Folder
    from rag.build import ingest_paths
    from rag.config import Config

    embedder = HashEmbedder()
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 150, SEEDS)
    store_path = tmp_path / "store"
    config = Config(store_path=store_path)
    ingest_paths(config, [corpus], embedder=lambda: embedder, progress=False)
    _zero_a_page(store_path / "chroma.sqlite3", 0.85)
    Folder._open.clear()  # as a new process sees the folder
    rebuild = f"`rag --store {store_path} ingest --rebuild <folders>`"
    for deep in (False, True):
        with pytest.raises(StoreError) as error:
            doctor(Store.open(path=store_path), lambda: embedder, embedder.name, deep=deep)
        said = str(error.value)  # sqlite's words: "database disk image is malformed", or where quick_check failed
        assert f"the store {store_path} is damaged (chroma.sqlite3 fails sqlite's check: " in said, said
        assert rebuild in said and "compactor" not in said and "backfill" not in said
    checked = _finished(_rag(store_path, "doctor"))
    assert checked.returncode == 1 and checked.stdout == "" and len(checked.stderr.splitlines()) == 1, checked
    assert rebuild in checked.stderr

    report = ingest_paths(config, [corpus], rebuild=True, embedder=lambda: embedder, progress=False)
    assert len(report.added) == 150 and "the damaged database was moved to" in report.summary()
    assert doctor(Store.open(path=store_path), lambda: embedder, embedder.name, deep=True).ok

    _zero_a_page(store_path / "chroma.sqlite3", 0.85, kind="index")
    Folder._open.clear()
    deep = _finished(_rag(store_path, "doctor", "--deep"))
    assert deep.returncode == 1 and len(deep.stderr.splitlines()) == 1 and rebuild in deep.stderr, deep
    assert f"the store {store_path} is damaged (chroma.sqlite3 fails sqlite's check: " in deep.stderr


@pytest.mark.slow
def test_a_writer_is_named_by_its_command_not_its_first_option(seed_copy: Path, tmp_path: Path) -> None:
    """Issue 29.7: a second writer was told "process 1270 (rag --store) is writing": the first
    argument, an option. It names the command now, whatever options come before it."""
    store = tmp_path / "store"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([str(VENV_BIN / "rag"), "--store", str(store), "--collection", "news", "ingest",
                               "--no-progress", str(seed_copy)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=ROOT, env=env)
    try:
        lock = store / ".ingest.lock"
        while writer.poll() is None and not (lock.exists() and f"process {writer.pid}" in lock.read_text()):
            time.sleep(0.01)
        with pytest.raises(StoreError) as refused:  # the lock is held while the model loads and embeds
            run([seed_copy], Store.open(path=store, collection="news"), HashEmbedder())
    finally:
        assert writer.wait(timeout=300) == 0, writer.stdout.read()
    assert f"process {writer.pid} (rag ingest) is writing to the store {store}" in str(refused.value)

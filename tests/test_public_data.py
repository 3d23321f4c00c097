"""Public data stays out of the repository (issue 27): it is read from ``../shared/data`` (or
``$RAG_DATA``, or ``--data``) through ``rag.public_data``, and a command that needs what is not there
says so, with the source and how to point at a copy, instead of a traceback."""

from __future__ import annotations

import subprocess

from click.testing import CliRunner

from tests.conftest import ROOT

#: Folders that held copies of other repositories' files, deleted from the repository.
REMOVED = ("benchmarks/data/bbc", "evals/data/bbc", "evals/data/bbc_dev", "rag/reader/data", "tests/fixtures/pages")


def _rag(*args: str):
    from rag.cli import main

    return CliRunner().invoke(main, list(args))


def test_rag_eval_of_a_suite_without_its_data_says_what_to_get(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_DATA", str(tmp_path))  # an empty data folder
    result = _rag("eval", "--suite", "squad")
    assert result.exit_code != 0
    assert "squad2-dev-normans.json" in result.output and "rajpurkar.github.io/SQuAD-explorer" in result.output
    assert "CC BY-SA 4.0" in result.output and "RAG_DATA" in result.output and str(tmp_path) in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output  # an error line, no crash


def test_rag_eval_data_option_is_where_the_data_is_looked_for(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_DATA", str(tmp_path / "not-this"))  # --data wins (it sets RAG_DATA, restored after)
    result = _rag("eval", "--suite", "news", "--data", str(tmp_path / "copy"))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert str(tmp_path / "copy" / "bbc") in result.output and "mlg.ucd.ie" in result.output


def test_rag_eval_of_every_suite_runs_those_whose_data_is_here(tmp_path, monkeypatch) -> None:
    """With no suite named, the seeds (which need nothing outside the repository) run; squad and
    news are left out, each with what it lacks."""
    import evals.report
    import evals.suite

    ran = []
    monkeypatch.setattr(evals.suite, "run_suites", lambda config, suites, **_: ran.extend(s.name for s in suites) or [])
    monkeypatch.setattr(evals.report, "console_summary", lambda reports: "")
    monkeypatch.setenv("RAG_DATA", str(tmp_path))
    result = _rag("eval", "--out", str(tmp_path / "results"))
    assert result.exit_code == 0, result.output
    assert ran == ["seeds"]
    left_out = [line for line in result.output.splitlines() if ": left out: " in line]
    assert [line.split(":")[0] for line in left_out] == ["squad", "news"]
    assert "squad2-dev-normans.json" in left_out[0] and "bbc" in left_out[1]


def test_the_news_suites_article_names_ship_with_the_package() -> None:
    import fnmatch
    import tomllib

    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    assert any(fnmatch.fnmatch("data/bbc_articles.json", pattern) for pattern in shipped["evals"])


def test_the_repository_holds_no_copy_of_public_data() -> None:
    tracked = subprocess.run(["git", "ls-files", "--", *REMOVED, "*squad*.json"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert not tracked, f"copies of public data are in the repository again: {tracked[:5]}"


def test_rag_data_is_not_taken_for_a_setting(tmp_path, monkeypatch) -> None:
    """``RAG_*`` variables are settings, and unknown ones are errors; ``RAG_DATA`` is the exception."""
    from rag.config import Config, load_config

    monkeypatch.setenv("RAG_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no rag.toml
    assert load_config(store_path=tmp_path / "store") == Config(store_path=tmp_path / "store")
